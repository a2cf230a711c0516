package knowledge

import (
	"testing"

	"github.com/huiyin/huiyin/triage"
)

func TestDurationWords(t *testing.T) {
	tests := []struct {
		minutes int
		want    string
	}{
		{5, "5分钟内"}, {30, "30分钟内"}, {60, "1小时内"}, {90, "90分钟内"}, {240, "4小时内"},
		{1440, "24小时内"}, {2880, "48小时内"}, {4320, "3天内"}, {0, "尽快"},
	}
	for _, tt := range tests {
		if got := DurationWords(tt.minutes); got != tt.want {
			t.Errorf("DurationWords(%d) = %q, want %q", tt.minutes, got, tt.want)
		}
	}
}

func TestPromiseFollowsThePolicy(t *testing.T) {
	p := triage.DefaultPolicy()
	tests := []struct {
		u          triage.Urgency
		wantClause string
		wantFirst  string
	}{
		{triage.Emergency, "30分钟内到场处理", "5分钟内"},
		{triage.High, "4小时内到场处理或给您明确答复", "15分钟内"},
		{triage.Normal, "24小时内给您明确答复", "15分钟内"},
		{triage.Low, "48小时内给您明确答复", "2小时内"},
	}
	for _, tt := range tests {
		r := p.Route(triage.Repair, tt.u, nil, testNow)
		got := PromiseFor(r.Deadlines)
		if got.Clause() != tt.wantClause || got.FirstResponse != tt.wantFirst {
			t.Errorf("%s: %q / %q, want %q / %q", tt.u, got.Clause(), got.FirstResponse, tt.wantClause, tt.wantFirst)
		}
	}
}
