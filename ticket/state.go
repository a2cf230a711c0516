package ticket

import (
	"fmt"
	"slices"
	"time"

	"github.com/huiyin/huiyin"
)

// transitions are the moves a ticket may make. A resolved ticket is
// visited (回访) and then closed; an owner unhappy at the visit, or a
// problem that comes back, reopens it.
var transitions = map[State][]State{
	New:        {Assigned, InProgress, Resolved},
	Assigned:   {InProgress, Resolved},
	InProgress: {Resolved},
	Resolved:   {FollowedUp, Reopened},
	FollowedUp: {Closed, Reopened},
	Closed:     {Reopened},
	Reopened:   {Assigned, InProgress, Resolved},
}

// States lists every state in lifecycle order.
var States = []State{New, Assigned, InProgress, Resolved, FollowedUp, Closed, Reopened}

// ParseState checks a state's wire value.
func ParseState(s string) (State, error) {
	if slices.Contains(States, State(s)) {
		return State(s), nil
	}
	return "", fmt.Errorf("%w: 未知的工单状态 %q", huiyin.ErrInvalid, s)
}

// CanMove reports whether a ticket in state from may move to state to.
func CanMove(from, to State) bool { return slices.Contains(transitions[from], to) }

// CheckMove explains why a move is not allowed: ErrConflict, since the
// ticket's current state is what forbids it.
func CheckMove(from, to State) error {
	if _, err := ParseState(string(to)); err != nil {
		return err
	}
	if !CanMove(from, to) {
		return fmt.Errorf("%w: 工单当前为%s，不能改为%s", huiyin.ErrConflict, from.Name(), to.Name())
	}
	return nil
}

var stateNames = map[State]string{
	New: "新建", Assigned: "已派单", InProgress: "处理中", Resolved: "已解决",
	FollowedUp: "已回访", Closed: "已关闭", Reopened: "已重开",
}

// Name is the state's name for staff.
func (s State) Name() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return string(s)
}

// Event is one entry of a ticket's history.
type Event struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	From  State     `json:"from,omitempty"`
	To    State     `json:"to,omitempty"`
	Note  string    `json:"note,omitempty"`
}
