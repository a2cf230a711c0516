package knowledge

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/huiyin/huiyin/triage"
)

// ReplyCheck holds what a reply must contain beyond the rules every reply
// follows.
type ReplyCheck struct {
	// MustMention are words of the owner's message that show the reply
	// acknowledged the specific problem; one of them must appear.
	MustMention []string
	// Message is the owner's message, to tell personal data the owner gave
	// from data the reply must not reveal.
	Message string
	// Citations are the reply's sources; nil skips the citation rule.
	Citations []Citation
}

// Reply length bounds, in characters.
const (
	MinReplyRunes = 40
	MaxReplyRunes = 400
)

// forbiddenPhrases blame the owner, push the matter away or promise what
// the policy does not allow (compensation, fee waivers). The standards
// forbid them in any reply.
var forbiddenPhrases = []string{
	"您自己的问题", "您自己负责", "是您的责任", "您的责任", "怪您", "您不该", "您应该早点",
	"不归我们管", "不关我们的事", "与我们无关", "我们没办法", "爱莫能助", "无能为力", "找别人去",
	"自己想办法", "没有办法处理", "按规定就是这样", "规定就是规定",
	"保证赔偿", "一定赔偿", "全额赔偿", "免除物业费", "物业费全免", "免交物业费", "减免物业费", "全免",
	"系统提示", "system prompt", "忽略以上",
}

// deadlineRe finds time limits a reply promises: 30分钟内, 4小时内.
var deadlineRe = regexp.MustCompile(`(\d+)(分钟|小时)内`)

// personalData finds numbers that identify a person: mobile and landline
// numbers, ID numbers, plates, bank cards.
var personalData = regexp.MustCompile(`1[3-9]\d{9}|\d{17}[\dXx]|0\d{2,3}-\d{7,8}|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·•]?[A-Z0-9]{5,6}|\d{16,19}`)

// CheckReply checks a reply against the rules every reply follows and
// returns the problems in plain words (none: it passes). res is the
// message's triage, whose policy deadlines the reply must state.
func CheckReply(reply string, res triage.Result, c ReplyCheck) []string {
	var problems []string
	n := utf8.RuneCountInString(reply)
	if n < MinReplyRunes || n > MaxReplyRunes {
		problems = append(problems, fmt.Sprintf("length %d outside %d–%d", n, MinReplyRunes, MaxReplyRunes))
	}
	if !strings.Contains(reply, "您好") && !strings.Contains(reply, "您") {
		problems = append(problems, "does not address the owner politely")
	}
	if len(c.MustMention) > 0 && !slices.ContainsFunc(c.MustMention, func(w string) bool { return strings.Contains(reply, w) }) {
		problems = append(problems, fmt.Sprintf("does not mention the problem (%s)", strings.Join(c.MustMention, "/")))
	}
	if !strings.Contains(reply, TicketPlaceholder) {
		problems = append(problems, "no ticket placeholder "+TicketPlaceholder)
	}
	p := PromiseFor(res.Deadlines)
	if res.Intent != triage.Praise && !strings.Contains(reply, p.Within) {
		problems = append(problems, "does not state the deadline "+p.Within)
	}
	allowed := map[string]bool{p.Within: true, p.FirstResponse: true}
	for _, m := range deadlineRe.FindAllString(reply, -1) {
		if !allowed[m] {
			problems = append(problems, "promises "+m+", which the policy does not set for this urgency")
		}
	}
	for _, f := range forbiddenPhrases {
		if strings.Contains(reply, f) {
			problems = append(problems, "forbidden phrase "+f)
		}
	}
	for _, m := range personalData.FindAllString(reply, -1) {
		problems = append(problems, "reveals personal data "+m)
	}
	if c.Citations != nil && len(c.Citations) == 0 {
		problems = append(problems, "no citation")
	}
	return problems
}
