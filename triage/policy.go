package triage

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed policy.yaml
var defaultPolicyYAML []byte

// ResolutionKind says what must happen by the resolution deadline.
type ResolutionKind string

const (
	OnSite         ResolutionKind = "on_site"           // staff on site
	OnSiteOrAnswer ResolutionKind = "on_site_or_answer" // on site, or a substantive answer
	Answer         ResolutionKind = "answer"            // a substantive answer
)

// SLA is the pair of deadlines for one urgency.
type SLA struct {
	FirstResponse  time.Duration
	Resolution     time.Duration
	ResolutionKind ResolutionKind
}

// Policy routes a triaged message to a department, decides escalation and
// sets the deadlines. It is loaded from YAML that a property company can
// edit; DefaultPolicy holds the label contract's values.
type Policy struct {
	departments map[string]string // id → name staff see
	routes      map[Category]string
	escalateTo  string
	escRisks    []Risk
	escUrgency  []Urgency
	sla         map[Urgency]SLA
}

type policyFile struct {
	Departments map[string]string `yaml:"departments"`
	Routes      map[string]string `yaml:"routes"`
	Escalation  struct {
		To        string   `yaml:"to"`
		Risks     []string `yaml:"risks"`
		Urgencies []string `yaml:"urgencies"`
	} `yaml:"escalation"`
	SLA map[string]struct {
		FirstResponse  string `yaml:"first_response"`
		Resolution     string `yaml:"resolution"`
		ResolutionKind string `yaml:"resolution_kind"`
	} `yaml:"sla"`
}

// DefaultPolicy is the policy built into the binary.
func DefaultPolicy() *Policy {
	p, err := ParsePolicy(bytes.NewReader(defaultPolicyYAML))
	if err != nil {
		panic(fmt.Sprintf("built-in policy: %v", err)) // caught by the tests
	}
	return p
}

// ParsePolicy reads a policy file. Every category must be routed to a
// declared department and every urgency must have deadlines; anything else
// is ErrInvalid with a message that names the problem.
func ParsePolicy(r io.Reader) (*Policy, error) {
	var f policyFile
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: policy: %v", ErrInvalid, err)
	}
	p := &Policy{departments: f.Departments, routes: map[Category]string{}, sla: map[Urgency]SLA{}}
	if len(p.departments) == 0 {
		return nil, fmt.Errorf("%w: policy: no departments", ErrInvalid)
	}
	for id, name := range p.departments {
		if strings.TrimSpace(id) == "" || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%w: policy: department %q needs an id and a name", ErrInvalid, id)
		}
	}
	for c, dept := range f.Routes {
		cat, err := ParseCategory(c)
		if err != nil {
			return nil, fmt.Errorf("policy routes: %w", err)
		}
		if _, ok := p.departments[dept]; !ok {
			return nil, fmt.Errorf("%w: policy routes %s to unknown department %q", ErrInvalid, c, dept)
		}
		p.routes[cat] = dept
	}
	for _, c := range Categories {
		if _, ok := p.routes[c]; !ok {
			return nil, fmt.Errorf("%w: policy does not route category %s", ErrInvalid, c)
		}
	}
	p.escalateTo = f.Escalation.To
	if _, ok := p.departments[p.escalateTo]; !ok {
		return nil, fmt.Errorf("%w: policy escalates to unknown department %q", ErrInvalid, p.escalateTo)
	}
	for _, r := range f.Escalation.Risks {
		risk, err := ParseRisk(r)
		if err != nil {
			return nil, fmt.Errorf("policy escalation: %w", err)
		}
		p.escRisks = append(p.escRisks, risk)
	}
	for _, u := range f.Escalation.Urgencies {
		urg, err := ParseUrgency(u)
		if err != nil {
			return nil, fmt.Errorf("policy escalation: %w", err)
		}
		p.escUrgency = append(p.escUrgency, urg)
	}
	for u, s := range f.SLA {
		urg, err := ParseUrgency(u)
		if err != nil {
			return nil, fmt.Errorf("policy sla: %w", err)
		}
		first, err1 := time.ParseDuration(s.FirstResponse)
		res, err2 := time.ParseDuration(s.Resolution)
		if err1 != nil || err2 != nil || first <= 0 || res <= 0 {
			return nil, fmt.Errorf("%w: policy sla %s: durations must be positive, like 15m or 24h", ErrInvalid, u)
		}
		if first > res {
			return nil, fmt.Errorf("%w: policy sla %s: first response after resolution", ErrInvalid, u)
		}
		kind := ResolutionKind(s.ResolutionKind)
		if !slices.Contains([]ResolutionKind{OnSite, OnSiteOrAnswer, Answer}, kind) {
			return nil, fmt.Errorf("%w: policy sla %s: resolution_kind %q is not on_site, on_site_or_answer or answer", ErrInvalid, u, s.ResolutionKind)
		}
		p.sla[urg] = SLA{FirstResponse: first, Resolution: res, ResolutionKind: kind}
	}
	for _, u := range Urgencies {
		if _, ok := p.sla[u]; !ok {
			return nil, fmt.Errorf("%w: policy has no sla for urgency %s", ErrInvalid, u)
		}
	}
	return p, nil
}

// DepartmentName is the name staff see for a department id.
func (p *Policy) DepartmentName(id string) string { return p.departments[id] }

// Departments returns the departments' ids and the names staff see.
func (p *Policy) Departments() map[string]string { return maps.Clone(p.departments) }

// SLA returns the deadlines for an urgency.
func (p *Policy) SLA(u Urgency) SLA { return p.sla[u] }

// Routing is where a ticket goes and by when it must be handled.
type Routing struct {
	Department     string    `json:"department"`
	DepartmentName string    `json:"department_name"`
	Escalate       bool      `json:"escalate"`
	EscalateTo     string    `json:"escalate_to,omitempty"`
	EscalateReason []string  `json:"escalate_reasons,omitempty"`
	Deadlines      Deadlines `json:"deadlines"`
}

// Deadlines are the SLA deadlines counted from when the message arrived.
type Deadlines struct {
	FirstResponseMinutes int            `json:"first_response_minutes"`
	FirstResponseBy      time.Time      `json:"first_response_by"`
	ResolutionMinutes    int            `json:"resolution_minutes"`
	ResolutionBy         time.Time      `json:"resolution_by"`
	ResolutionKind       ResolutionKind `json:"resolution_kind"`
}

// Route applies the policy to labels of a message received at t.
func (p *Policy) Route(c Category, u Urgency, risks []Risk, received time.Time) Routing {
	dept := p.routes[c]
	r := Routing{Department: dept, DepartmentName: p.departments[dept]}
	for _, risk := range risks {
		if slices.Contains(p.escRisks, risk) {
			r.EscalateReason = append(r.EscalateReason, string(risk))
		}
	}
	if slices.Contains(p.escUrgency, u) {
		r.EscalateReason = append(r.EscalateReason, string(u))
	}
	if len(r.EscalateReason) > 0 {
		r.Escalate = true
		r.EscalateTo = p.escalateTo
	}
	s := p.sla[u]
	r.Deadlines = Deadlines{
		FirstResponseMinutes: int(s.FirstResponse / time.Minute),
		FirstResponseBy:      received.Add(s.FirstResponse),
		ResolutionMinutes:    int(s.Resolution / time.Minute),
		ResolutionBy:         received.Add(s.Resolution),
		ResolutionKind:       s.ResolutionKind,
	}
	return r
}

// Promise words the deadlines as the owner is told them:
// "5分钟内响应，30分钟内到场处理".
func (d Deadlines) Promise() string {
	first := durationWords(time.Duration(d.FirstResponseMinutes) * time.Minute)
	res := durationWords(time.Duration(d.ResolutionMinutes) * time.Minute)
	switch d.ResolutionKind {
	case OnSite:
		return first + "内响应，" + res + "内到场处理"
	case OnSiteOrAnswer:
		return first + "内响应，" + res + "内到场或给您答复"
	}
	return first + "内响应，" + res + "内给您答复"
}

// durationWords writes a duration in Chinese: 5分钟, 4小时, 48小时,
// 3天, 1小时30分钟. Up to two days owners are told hours, as the service
// standards count them.
func durationWords(d time.Duration) string {
	if d > 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d天", d/(24*time.Hour))
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%d小时%d分钟", h, m)
	case h > 0:
		return fmt.Sprintf("%d小时", h)
	}
	return fmt.Sprintf("%d分钟", m)
}
