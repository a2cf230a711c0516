package ticket

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/triage"
)

func TestValidate(t *testing.T) {
	ok := Message{Channel: WeChat, ChannelMsgID: "m1", OwnerRef: "openid", Text: "电梯坏了"}
	tests := []struct {
		name string
		edit func(*Message)
		want string // "" valid; otherwise a word of the error
	}{
		{"valid", func(*Message) {}, ""},
		{"unknown channel", func(m *Message) { m.Channel = "fax" }, "渠道"},
		{"no id", func(m *Message) { m.ChannelMsgID = " " }, "message_id"},
		{"long id", func(m *Message) { m.ChannelMsgID = strings.Repeat("x", MaxIDRunes+1) }, "message_id"},
		{"no owner", func(m *Message) { m.OwnerRef = "" }, "owner"},
		{"long location", func(m *Message) { m.Location = strings.Repeat("楼", MaxLocationText+1) }, "位置"},
		{"long contact", func(m *Message) { m.Contact = strings.Repeat("1", MaxContact+1) }, "联系方式"},
		{"bad utf-8", func(m *Message) { m.OwnerRef = "\xff" }, "UTF-8"},
	}
	for _, tt := range tests {
		m := ok
		tt.edit(&m)
		err := m.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, huiyin.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrInvalid mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestAck(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	p := triage.DefaultPolicy()
	emergency := Ticket{Ref: "HY20261123-000001", Triage: triage.Result{Urgency: triage.Emergency, Routing: p.Route(triage.Repair, triage.Emergency, nil, now)}}
	normal := Ticket{Ref: "HY20261123-000002", Triage: triage.Result{Urgency: triage.Normal, Routing: p.Route(triage.Cleaning, triage.Normal, nil, now)}}
	for _, tt := range []struct {
		t    Ticket
		want []string
	}{
		{emergency, []string{"HY20261123-000001", "工程部", "5分钟内", "30分钟内到场处理", "项目经理", "119"}},
		{normal, []string{"HY20261123-000002", "环境部", "15分钟内", "24小时内给您明确答复"}},
	} {
		ack := Ack(tt.t)
		for _, w := range tt.want {
			if !strings.Contains(ack, w) {
				t.Errorf("ack %q lacks %q", ack, w)
			}
		}
	}
	if strings.Contains(Ack(normal), "119") {
		t.Errorf("a normal ticket's ack speaks of emergencies")
	}
}
