package ticket

import (
	"errors"
	"testing"

	"github.com/huiyin/huiyin"
)

func TestMoves(t *testing.T) {
	tests := []struct {
		from, to State
		ok       bool
	}{
		{New, Assigned, true},
		{New, Closed, false},
		{Assigned, InProgress, true},
		{InProgress, Resolved, true},
		{Resolved, FollowedUp, true},
		{Resolved, Closed, false}, // no closing without the follow-up visit
		{FollowedUp, Closed, true},
		{FollowedUp, Reopened, true},
		{Closed, Reopened, true},
		{Closed, InProgress, false},
		{Reopened, InProgress, true},
		{New, New, false},
	}
	for _, tt := range tests {
		err := CheckMove(tt.from, tt.to)
		if tt.ok != (err == nil) {
			t.Errorf("%s → %s: %v, want allowed %v", tt.from, tt.to, err, tt.ok)
		}
		if !tt.ok && !errors.Is(err, huiyin.ErrConflict) {
			t.Errorf("%s → %s: %v, want ErrConflict", tt.from, tt.to, err)
		}
	}
	if err := CheckMove(New, "done"); !errors.Is(err, huiyin.ErrInvalid) {
		t.Errorf("unknown state: %v, want ErrInvalid", err)
	}
	// Every state can be left, and every state but New can be reached.
	reached := map[State]bool{}
	for _, s := range States {
		if len(transitions[s]) == 0 {
			t.Errorf("%s is a dead end", s)
		}
		for _, to := range transitions[s] {
			reached[to] = true
		}
	}
	for _, s := range States[1:] {
		if !reached[s] {
			t.Errorf("%s cannot be reached", s)
		}
	}
}
