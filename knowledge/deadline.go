package knowledge

import (
	"fmt"

	"github.com/huiyin/huiyin/triage"
)

// DurationWords writes minutes as a Chinese time limit: 30分钟内, 4小时内,
// 3天内.
func DurationWords(minutes int) string {
	switch {
	case minutes <= 0:
		return "尽快"
	case minutes < 60 || minutes%60 != 0:
		return fmt.Sprintf("%d分钟内", minutes)
	case minutes%(24*60) == 0 && minutes > 48*60:
		return fmt.Sprintf("%d天内", minutes/(24*60))
	default:
		return fmt.Sprintf("%d小时内", minutes/60)
	}
}

// Promise is what the owner is told will happen and by when, from the
// SLA policy: 30分钟内到场, 24小时内给您答复.
type Promise struct {
	FirstResponse string // 15分钟内
	Within        string // the resolution limit alone: 30分钟内
	Action        string // what happens by then: 到场处理
}

// Clause is the promise as a clause: 30分钟内到场处理.
func (p Promise) Clause() string { return p.Within + p.Action }

// PromiseFor reads the deadlines of a triage result.
func PromiseFor(d triage.Deadlines) Promise {
	p := Promise{FirstResponse: DurationWords(d.FirstResponseMinutes), Within: DurationWords(d.ResolutionMinutes)}
	switch d.ResolutionKind {
	case triage.OnSite:
		p.Action = "到场处理"
	case triage.OnSiteOrAnswer:
		p.Action = "到场处理或给您明确答复"
	default:
		p.Action = "给您明确答复"
	}
	return p
}
