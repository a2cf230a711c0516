package knowledge

import (
	"fmt"
	"strings"
)

// ApprovedReply is a reply staff approved and promoted into the script
// library.
type ApprovedReply struct {
	Category  string // taxonomy category of its ticket
	Situation string // the situation staff named
	Body      string // the reply as sent, its ticket reference as {工单号}
	Ticket    string // the ticket it answered, for the record
}

// ApprovedSource is the script document the promoted replies make.
const ApprovedSource = "scripts/approved.md"

// ApprovedReplies makes the script document of the promoted replies: one
// situation each, so that the drafter can pick them as it picks the
// shipped scripts. The reply itself is the example; its points remind staff
// where it came from.
func ApprovedReplies(replies []ApprovedReply) Document {
	doc := Document{Title: "已批准回复话术", Kind: KindScript, Source: ApprovedSource, Origin: "员工审核通过并推荐的回复"}
	seen := map[string]int{}
	for _, r := range replies {
		situation := r.Situation
		if seen[situation]++; seen[situation] > 1 {
			situation = fmt.Sprintf("%s（%d）", situation, seen[situation])
		}
		body := strings.Join(strings.Fields(r.Body), " ")
		doc.Chunks = append(doc.Chunks, Chunk{
			Section:  situation,
			Category: r.Category,
			Text: "适用：" + situation + "\n\n要点：\n- 来自工单 " + r.Ticket + " 中员工审核通过的回复，按实际情况调整后使用。\n\n" +
				"范例：" + body,
		})
	}
	return doc
}
