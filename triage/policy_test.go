package triage

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultPolicyFollowsContract(t *testing.T) {
	p := DefaultPolicy()
	wantDept := map[Category]string{
		Repair: "工程部", Cleaning: "环境部", Security: "秩序部", Greening: "环境部", Parking: "秩序部",
		Fees: "财务部", Neighbor: "客服中心", Renovation: "工程部", Staff: "客服中心", Other: "客服中心",
	}
	received := time.Date(2026, 11, 22, 22, 0, 0, 0, time.UTC)
	for c, name := range wantDept {
		r := p.Route(c, Normal, nil, received)
		if r.DepartmentName != name {
			t.Errorf("%s routed to %s, want %s", c, r.DepartmentName, name)
		}
	}
	sla := []struct {
		u          Urgency
		first, res time.Duration
		kind       ResolutionKind
	}{
		{Emergency, 5 * time.Minute, 30 * time.Minute, OnSite},
		{High, 15 * time.Minute, 4 * time.Hour, OnSiteOrAnswer},
		{Normal, 15 * time.Minute, 24 * time.Hour, Answer},
		{Low, 2 * time.Hour, 48 * time.Hour, Answer},
	}
	for _, s := range sla {
		r := p.Route(Repair, s.u, nil, received)
		if !r.Deadlines.FirstResponseBy.Equal(received.Add(s.first)) || !r.Deadlines.ResolutionBy.Equal(received.Add(s.res)) || r.Deadlines.ResolutionKind != s.kind {
			t.Errorf("%s deadlines = %+v", s.u, r.Deadlines)
		}
	}
}

func TestRouteEscalation(t *testing.T) {
	p := DefaultPolicy()
	now := time.Now()
	tests := []struct {
		name    string
		u       Urgency
		risks   []Risk
		want    bool
		reasons []string
	}{
		{"ordinary", Normal, nil, false, nil},
		{"media", High, []Risk{RiskMedia}, true, []string{"media"}},
		{"regulator and legal", High, []Risk{RiskLegal, RiskRegulator}, true, []string{"legal", "regulator"}},
		{"collective", Normal, []Risk{RiskCollective}, true, []string{"collective"}},
		{"repeat alone", High, []Risk{RiskRepeat}, false, nil},
		{"safety alone", Normal, []Risk{RiskSafety}, false, nil},
		{"emergency", Emergency, nil, true, []string{"emergency"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := p.Route(Repair, tc.u, tc.risks, now)
			if r.Escalate != tc.want || strings.Join(r.EscalateReason, ",") != strings.Join(tc.reasons, ",") {
				t.Fatalf("escalate = %v %v, want %v %v", r.Escalate, r.EscalateReason, tc.want, tc.reasons)
			}
			if tc.want && r.EscalateTo != "manager" {
				t.Fatalf("escalate to %q", r.EscalateTo)
			}
		})
	}
}

func TestParsePolicyRejects(t *testing.T) {
	base := string(defaultPolicyYAML)
	tests := []struct {
		name, from, to string
	}{
		{"unknown department in route", "repair: engineering", "repair: plumbing"},
		{"unknown category", "other: service", "misc: service"},
		{"missing route", "  other: service\n", "\n"},
		{"bad duration", "first_response: 5m", "first_response: soon"},
		{"first after resolution", "{first_response: 2h, resolution: 48h", "{first_response: 50h, resolution: 48h"},
		{"bad resolution kind", "resolution_kind: on_site}", "resolution_kind: someday}"},
		{"unknown escalation target", "to: manager", "to: ceo"},
		{"unknown risk", "risks: [media,", "risks: [gossip,"},
		{"unknown field", "departments:", "department:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.from) {
				t.Fatalf("test broken: %q not in the default policy", tc.from)
			}
			_, err := ParsePolicy(strings.NewReader(strings.Replace(base, tc.from, tc.to, 1)))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParsePolicy error = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestPromise(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		u    Urgency
		want string
	}{
		{Emergency, "5分钟内响应，30分钟内到场处理"},
		{High, "15分钟内响应，4小时内到场或给您答复"},
		{Normal, "15分钟内响应，24小时内给您答复"},
		{Low, "2小时内响应，48小时内给您答复"},
	}
	for _, tc := range tests {
		if got := p.Route(Repair, tc.u, nil, time.Now()).Deadlines.Promise(); got != tc.want {
			t.Errorf("%s: Promise() = %q, want %q", tc.u, got, tc.want)
		}
	}
}
