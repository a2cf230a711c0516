package ticketstore_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/db/dbtest"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/ticket/ticketjobs"
	"github.com/huiyin/huiyin/ticket/ticketstore"
	"github.com/huiyin/huiyin/triage"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func result(now time.Time) triage.Result {
	r := triage.Result{Category: triage.Repair, Intent: triage.RepairRequest, Urgency: triage.Normal, Sentiment: triage.Neutral,
		Risks: []triage.Risk{}, Location: triage.Location{Building: "5", Unit: "2"}}
	r.Routing = triage.DefaultPolicy().Route(r.Category, r.Urgency, nil, now)
	return r
}

func TestOpenMoveHistory(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	jobs, err := ticketjobs.NewInserter(pool)
	if err != nil {
		t.Fatal(err)
	}
	s := ticketstore.New(pool, jobs)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	m := ticket.Message{Channel: ticket.App, ChannelMsgID: "a1", OwnerRef: "user-7", Text: "5栋2单元楼道灯坏了", Received: now}

	tk, dup, err := s.Open(ctx, m, m.Text, result(now), ticket.Links{})
	if err != nil || dup {
		t.Fatalf("open: %v %v", dup, err)
	}
	if tk.Ref != "HY20261123-000001" || tk.State != ticket.New || tk.OwnerID == 0 || tk.Triage.Department != "engineering" {
		t.Fatalf("opened %+v", tk)
	}
	again, dup, err := s.Open(ctx, m, m.Text, result(now), ticket.Links{})
	if err != nil || !dup || again.Ref != tk.Ref {
		t.Fatalf("same message again: %+v %v %v", again, dup, err)
	}
	// The same owner on the same channel is the same owner.
	m2 := m
	m2.ChannelMsgID = "a2"
	tk2, _, err := s.Open(ctx, m2, "又坏了", result(now), ticket.Links{})
	if err != nil || tk2.OwnerID != tk.OwnerID || tk2.Ref == tk.Ref {
		t.Fatalf("second message: %+v %v", tk2, err)
	}

	for _, to := range []ticket.State{ticket.Assigned, ticket.InProgress, ticket.Resolved, ticket.FollowedUp} {
		if _, err := s.Move(ctx, tk.Ref, to, "staff:zhang", ""); err != nil {
			t.Fatalf("move to %s: %v", to, err)
		}
	}
	if _, err := s.Move(ctx, tk.Ref, ticket.Assigned, "staff:zhang", ""); !errors.Is(err, huiyin.ErrConflict) {
		t.Errorf("followed_up → assigned: %v, want ErrConflict", err)
	}
	if _, err := s.Move(ctx, "HY-nope", ticket.Closed, "staff:zhang", ""); !errors.Is(err, huiyin.ErrNotFound) {
		t.Errorf("unknown ticket: %v, want ErrNotFound", err)
	}
	moved, err := s.Move(ctx, tk.Ref, ticket.Closed, "staff:li", "业主满意")
	if err != nil || moved.State != ticket.Closed {
		t.Fatalf("close: %+v %v", moved, err)
	}
	// Each ticket's draft and two deadline checks were enqueued with it,
	// and the resolution scheduled the follow-up reminder.
	var kinds []string
	rows, err := pool.Query(ctx, `SELECT kind FROM river_job ORDER BY id`)
	if err == nil {
		kinds, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	want := []string{"ticket.draft", "ticket.deadline", "ticket.deadline", "ticket.draft", "ticket.deadline", "ticket.deadline", "ticket.follow_up"}
	if err != nil || !slices.Equal(kinds, want) {
		t.Errorf("jobs %v %v, want %v", kinds, err, want)
	}
	got, err := s.Get(ctx, tk.Ref)
	if err != nil || got.State != ticket.Closed {
		t.Errorf("get: %+v %v", got, err)
	}
	h, err := s.History(ctx, tk.Ref)
	if err != nil || len(h) != 6 {
		t.Fatalf("history: %d events, %v", len(h), err)
	}
	last := h[len(h)-1]
	if last.From != ticket.FollowedUp || last.To != ticket.Closed || last.Actor != "staff:li" || last.Note != "业主满意" {
		t.Errorf("last event %+v", last)
	}
}

// TestQueueUsesIndexes: the work queue's first page is read in index order
// and its open count from the partial index, not by sorting or counting
// every ticket ever opened (migration 00005). Sequential scans are turned
// off so that the planner shows what it can use on a small table.
func TestQueueUsesIndexes(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	tests := []struct {
		name       string
		sql        string
		args       []any
		index      string
		mustNotUse string
	}{
		{"all tickets", ticketstore.QueueListSQL, []any{"", "", "", "", "", false, 50, 0}, "tickets_queue_order", "Sort"},
		{"open tickets", ticketstore.QueueListSQL, []any{"", "", "", "", "", true, 50, 0}, "tickets_queue_order", "Sort"},
		{"one department", ticketstore.QueueListSQL, []any{"engineering", "", "", "", "", true, 50, 0}, "tickets_", ""},
		{"open count", ticketstore.QueueCountSQL, []any{"", "", "", "", "", true, 10001}, "tickets_open", ""},
		{"open count of a department", ticketstore.QueueCountSQL, []any{"engineering", "", "", "", "", true, 10001}, "tickets_open", ""},
	}
	// The count stops at its limit ($7): the store asks for one more than
	// ticket.QueueCountCap, so that "more" can be told from "exactly".
	s := ticketstore.New(pool, nil)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		m := ticket.Message{Channel: ticket.App, ChannelMsgID: "cap-" + strconv.Itoa(i), OwnerRef: "user-" + strconv.Itoa(i), Text: strconv.Itoa(i+1) + "栋楼道灯坏了", Received: now}
		if _, _, err := s.Open(ctx, m, m.Text, result(now), ticket.Links{}); err != nil {
			t.Fatal(err)
		}
	}
	for limit, want := range map[int]int{2: 2, 3: 3, 10: 3} {
		var n int
		if err := pool.QueryRow(ctx, ticketstore.QueueCountSQL, "", "", "", "", "", false, limit).Scan(&n); err != nil || n != want {
			t.Errorf("count up to %d: %d %v, want %d", limit, n, err, want)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := dbtest.Explain(t, pool, tt.sql, tt.args...)
			if !strings.Contains(plan, tt.index) || tt.mustNotUse != "" && strings.Contains(plan, tt.mustNotUse) {
				t.Errorf("plan does not use %s (or has a %s):\n%s", tt.index, tt.mustNotUse, plan)
			}
		})
	}
}
