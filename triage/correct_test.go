package triage

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCorrect(t *testing.T) {
	eng, err := New(context.Background(), Config{Segmenter: testSegmenter(t)})
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	base := Result{Category: Repair, Intent: RepairRequest, Urgency: Normal, Sentiment: Neutral, Risks: []Risk{},
		Confidence: Confidence{Category: 0.6, Urgency: 0.5}, Signals: []string{}}
	base.Routing = eng.policy.Route(base.Category, base.Urgency, base.Risks, received)

	tests := []struct {
		name     string
		c        Correction
		changed  []string
		wantDept string
		invalid  bool
	}{
		{"nothing", Correction{}, nil, "engineering", false},
		{"the same values", Correction{Category: "repair", Urgency: "normal"}, nil, "engineering", false},
		{"category reroutes", Correction{Category: "fees"}, []string{"category"}, "finance", false},
		{"urgency", Correction{Urgency: "emergency"}, []string{"urgency"}, "engineering", false},
		{"risks, deduplicated and sorted", Correction{Risks: []string{"safety", "media", "safety"}}, []string{"risks"}, "engineering", false},
		{"intent and sentiment", Correction{Intent: "complaint", Sentiment: "angry"}, []string{"intent", "sentiment"}, "engineering", false},
		{"unknown category", Correction{Category: "plumbing"}, nil, "", true},
		{"unknown risk", Correction{Risks: []string{"fire"}}, nil, "", true},
		{"wrong case", Correction{Urgency: "High"}, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := eng.Correct(base, tt.c, received)
			if tt.invalid {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(changed, tt.changed) {
				t.Fatalf("changed %v, want %v", changed, tt.changed)
			}
			if got.Department != tt.wantDept {
				t.Errorf("department %s, want %s", got.Department, tt.wantDept)
			}
			if len(changed) > 0 && !slices.Contains(got.Signals, "corrected_by_staff") {
				t.Errorf("signals %v", got.Signals)
			}
		})
	}

	got, _, _ := eng.Correct(base, Correction{Urgency: "emergency"}, received)
	if !got.Deadlines.FirstResponseBy.Before(base.Deadlines.FirstResponseBy) || got.Confidence.Urgency != 1 {
		t.Errorf("emergency: first response by %v (was %v), confidence %v", got.Deadlines.FirstResponseBy, base.Deadlines.FirstResponseBy, got.Confidence.Urgency)
	}
	got, _, _ = eng.Correct(base, Correction{Risks: []string{"safety", "media", "safety"}}, received)
	if !slices.Equal(got.Risks, []Risk{RiskMedia, RiskSafety}) || !got.Escalate {
		t.Errorf("risks %v, escalate %v", got.Risks, got.Escalate)
	}
	if len(base.Risks) != 0 || len(base.Signals) != 0 {
		t.Errorf("the input changed: %+v", base)
	}
}
