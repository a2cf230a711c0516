package knowledge

import (
	"strings"
	"testing"
	"time"

	"github.com/huiyin/huiyin/triage"
)

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func routed(c triage.Category, u triage.Urgency, in triage.Intent) triage.Result {
	r := triage.Result{Category: c, Urgency: u, Intent: in}
	r.Routing = triage.DefaultPolicy().Route(c, u, nil, testNow)
	return r
}

func TestCheckReply(t *testing.T) {
	good := "尊敬的业主您好，您反映的“3栋电梯困人”我们已经收到，非常抱歉。工程部会在30分钟内到场处理，工单号{工单号}，处理完成后我们会回访。"
	emergency := routed(triage.Repair, triage.Emergency, triage.RepairRequest)
	cites := []Citation{{Doc: "工程维修话术", Section: "电梯困人"}}
	tests := []struct {
		name  string
		reply string
		res   triage.Result
		check ReplyCheck
		want  string // "" passes; otherwise a word of the problem reported
	}{
		{"good", good, emergency, ReplyCheck{MustMention: []string{"电梯"}, Citations: cites}, ""},
		{"no mention", good, emergency, ReplyCheck{MustMention: []string{"燃气"}, Citations: cites}, "mention"},
		{"wrong deadline", strings.Replace(good, "30分钟内", "24小时内", 1), emergency, ReplyCheck{Citations: cites}, "deadline"},
		{"extra deadline", good + "我们会在3小时内修好。", emergency, ReplyCheck{Citations: cites}, "3小时内"},
		{"no placeholder", strings.Replace(good, "{工单号}", "123", 1), emergency, ReplyCheck{Citations: cites}, "placeholder"},
		{"blames owner", good + "这是您的责任。", emergency, ReplyCheck{Citations: cites}, "forbidden"},
		{"promises waiver", good + "物业费全免。", emergency, ReplyCheck{Citations: cites}, "forbidden"},
		{"leaks phone", good + "对方电话13812345678。", emergency, ReplyCheck{Citations: cites}, "personal"},
		{"leaks plate", good + "车牌沪A12345的车主。", emergency, ReplyCheck{Citations: cites}, "personal"},
		{"no citation", good, emergency, ReplyCheck{Citations: []Citation{}}, "citation"},
		{"too short", "您好{工单号}30分钟内", emergency, ReplyCheck{Citations: cites}, "length"},
		{"too long", good + strings.Repeat("我们会认真处理。", 60), emergency, ReplyCheck{Citations: cites}, "length"},
		{"praise needs no deadline", "尊敬的业主您好，谢谢您对保安王师傅的表扬，我们会转达给他本人，工单号{工单号}，欢迎您继续监督我们的服务。", routed(triage.Staff, triage.Low, triage.Praise), ReplyCheck{Citations: cites}, ""},
	}
	for _, tt := range tests {
		got := CheckReply(tt.reply, tt.res, tt.check)
		joined := strings.Join(got, "; ")
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%s: want a pass, got %s", tt.name, joined)
		case tt.want != "" && !strings.Contains(joined, tt.want):
			t.Errorf("%s: want a problem about %q, got %q", tt.name, tt.want, joined)
		}
	}
}
