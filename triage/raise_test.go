package triage

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestRaise(t *testing.T) {
	eng, err := New(context.Background(), Config{Segmenter: testSegmenter(t)})
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		from, want Urgency
		raised     bool
	}{
		{Low, Normal, true},
		{Normal, High, true},
		{High, High, false},
		{Emergency, Emergency, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.from), func(t *testing.T) {
			res := Result{Category: Repair, Urgency: tt.from, Risks: []Risk{RiskSafety}, Signals: []string{}}
			got := eng.Raise(res, RiskRepeat, received)
			if got.Urgency != tt.want {
				t.Errorf("urgency %s, want %s", got.Urgency, tt.want)
			}
			if !slices.Equal(got.Risks, []Risk{RiskRepeat, RiskSafety}) {
				t.Errorf("risks %v", got.Risks)
			}
			if slices.Contains(got.Signals, "raised_by:repeat") != tt.raised {
				t.Errorf("signals %v", got.Signals)
			}
			if !slices.Equal(res.Risks, []Risk{RiskSafety}) {
				t.Errorf("the input's risks changed: %v", res.Risks)
			}
			want := eng.Policy().Route(Repair, tt.want, got.Risks, received)
			if got.Deadlines != want.Deadlines || got.Department != want.Department {
				t.Errorf("routing %+v, want %+v", got.Routing, want)
			}
			again := eng.Raise(got, RiskRepeat, received)
			if len(again.Risks) != 2 {
				t.Errorf("risk added twice: %v", again.Risks)
			}
		})
	}
}
