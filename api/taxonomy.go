package api

import (
	"slices"
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/triage"
)

// label is a wire value with the name staff see.
type label struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

func labelsOf[T ~string](values []T, name func(T) string) []label {
	out := make([]label, len(values))
	for i, v := range values {
		out[i] = label{Value: string(v), Name: name(v)}
	}
	return out
}

// taxonomy is what the console shows labels with: every wire value of the
// label contract with its Chinese name, the departments, the ticket
// states and the moves each allows.
type taxonomy struct {
	Categories  []label             `json:"categories"`
	Intents     []label             `json:"intents"`
	Urgencies   []label             `json:"urgencies"`
	Sentiments  []label             `json:"sentiments"`
	Risks       []label             `json:"risks"`
	Departments []label             `json:"departments"`
	States      []label             `json:"states"`
	Moves       map[string][]string `json:"moves"`
}

func newTaxonomy(departments map[string]string) taxonomy {
	t := taxonomy{
		Categories: labelsOf(triage.Categories, triage.Category.Name),
		Intents:    labelsOf(triage.Intents, triage.Intent.Name),
		Urgencies:  labelsOf(triage.Urgencies, triage.Urgency.Name),
		Sentiments: labelsOf(triage.Sentiments, triage.Sentiment.Name),
		Risks:      labelsOf(triage.Risks, triage.Risk.Name),
		States:     labelsOf(ticket.States, ticket.State.Name),
		Moves:      map[string][]string{},
	}
	for id, name := range departments {
		t.Departments = append(t.Departments, label{Value: id, Name: name})
	}
	sort.Slice(t.Departments, func(i, j int) bool { return t.Departments[i].Value < t.Departments[j].Value })
	for _, from := range ticket.States {
		for _, to := range ticket.States {
			if ticket.CanMove(from, to) && !slices.Contains([]ticket.State{ticket.Assigned, ticket.FollowedUp}, to) {
				t.Moves[string(from)] = append(t.Moves[string(from)], string(to))
			}
		}
	}
	return t
}

func (s *server) taxonomy(c *fiber.Ctx) error { return c.JSON(s.tax) }
