package ticketstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/triage"
)

// Store keeps tickets, their messages, drafts, replies and follow-ups,
// owners, incidents and the web chat.
type Store struct {
	pool *pgxpool.Pool
	jobs JobQueue
	now  func() time.Time
}

var _ ticket.Store = (*Store)(nil)

// JobQueue enqueues background jobs inside the caller's transaction, so a
// job exists exactly when the change it follows was committed.
type JobQueue interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

var _ JobQueue = (*river.Client[pgx.Tx])(nil)

// New returns a store over a migrated database. jobs may be nil in tests
// of the store alone: then no background work is enqueued.
func New(pool *pgxpool.Pool, jobs JobQueue) *Store {
	return &Store{pool: pool, jobs: jobs, now: time.Now}
}

// SetClock replaces the store's clock, for tests of deadlines.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// enqueue inserts jobs in tx.
func (s *Store) enqueue(ctx context.Context, tx pgx.Tx, params ...river.InsertManyParams) error {
	if s.jobs == nil || len(params) == 0 {
		return nil
	}
	if _, err := s.jobs.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue jobs: %w", err)
	}
	return nil
}

// deadlineJobs are the checks of a ticket's two deadlines.
func deadlineJobs(id int64, d triage.Deadlines) []river.InsertManyParams {
	return []river.InsertManyParams{
		{Args: ticket.DeadlineJob{TicketID: id, Deadline: ticket.DeadlineFirstResponse}, InsertOpts: &river.InsertOpts{ScheduledAt: d.FirstResponseBy}},
		{Args: ticket.DeadlineJob{TicketID: id, Deadline: ticket.DeadlineResolution}, InsertOpts: &river.InsertOpts{ScheduledAt: d.ResolutionBy}},
	}
}

const ticketColumns = `t.id, t.ref, t.state, coalesce(t.owner_id, 0), t.triage, t.created_at`

func scanTicket(row pgx.Row) (ticket.Ticket, error) {
	var t ticket.Ticket
	var state string
	var raw []byte
	if err := row.Scan(&t.ID, &t.Ref, &state, &t.OwnerID, &raw, &t.CreatedAt); err != nil {
		return t, err
	}
	t.State = ticket.State(state)
	if err := json.Unmarshal(raw, &t.Triage); err != nil {
		return t, fmt.Errorf("decode the triage of %s: %w", t.Ref, err)
	}
	return t, nil
}

// Find returns the ticket a channel message opened.
func (s *Store) Find(ctx context.Context, ch ticket.Channel, channelMsgID string) (ticket.Ticket, error) {
	return find(ctx, s.pool, ch, channelMsgID)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func find(ctx context.Context, q querier, ch ticket.Channel, channelMsgID string) (ticket.Ticket, error) {
	t, err := scanTicket(q.QueryRow(ctx, `
		SELECT `+ticketColumns+`
		FROM messages m JOIN tickets t ON t.id = m.ticket_id
		WHERE m.channel = $1 AND m.channel_msg_id = $2`, string(ch), channelMsgID))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("%w: 没有这条消息", huiyin.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("find message %s/%s: %w", ch, channelMsgID, err)
	}
	return t, nil
}

// Get returns a ticket by its reference.
func (s *Store) Get(ctx context.Context, ref string) (ticket.Ticket, error) {
	return ticketByRef(ctx, s.pool, ref, "")
}

// ticketByRef reads a ticket by its reference; lock is "" or a locking
// clause such as " FOR UPDATE".
func ticketByRef(ctx context.Context, q querier, ref, lock string) (ticket.Ticket, error) {
	t, err := scanTicket(q.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets t WHERE t.ref = $1`+lock, ref))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("%w: 没有工单 %s", huiyin.ErrNotFound, ref)
	}
	if err != nil {
		return t, fmt.Errorf("get ticket %s: %w", ref, err)
	}
	return t, nil
}

// History returns a ticket's events, oldest first.
func (s *Store) History(ctx context.Context, ref string) ([]ticket.Event, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT e.at, e.actor, e.kind, e.from_state, e.to_state, e.note
		FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
		WHERE t.ref = $1 ORDER BY e.at, e.id`, ref)
	if err != nil {
		return nil, fmt.Errorf("ticket history: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.Event, error) {
		var e ticket.Event
		var from, to string
		err := r.Scan(&e.At, &e.Actor, &e.Kind, &from, &to, &e.Note)
		e.From, e.To = ticket.State(from), ticket.State(to)
		return e, err
	})
}

// loadEach collects the keys a listing query returns and loads the record
// of each with load, in the query's order. (One query per record: the
// listings are short, and the loaders assemble nested records.)
func loadEach[K, V any](ctx context.Context, what string, rows pgx.Rows, err error, load func(context.Context, K) (V, error)) ([]V, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[K])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make([]V, 0, len(keys))
	for _, k := range keys {
		v, err := load(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
