package ticketstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/triage"
)

// Store is intake's store.
type Store struct {
	pool *pgxpool.Pool
}

var _ ticket.Store = (*Store)(nil)

// New returns a store over a migrated database.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

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

// Open stores the owner (provisional when new), the ticket, the message
// and the ticket's first event in one transaction.
func (s *Store) Open(ctx context.Context, m ticket.Message, text string, res triage.Result) (t ticket.Ticket, duplicate bool, err error) {
	raw, err := json.Marshal(res)
	if err != nil {
		return t, false, fmt.Errorf("encode triage: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Checked again inside the transaction: a retry may have been
		// stored since the caller looked.
		if found, err := find(ctx, tx, m.Channel, m.ChannelMsgID); err == nil {
			t, duplicate = found, true
			return nil
		} else if !errors.Is(err, huiyin.ErrNotFound) {
			return err
		}
		ownerID, err := ownerFor(ctx, tx, m)
		if err != nil {
			return err
		}
		risks := make([]string, len(res.Risks))
		for i, r := range res.Risks {
			risks[i] = string(r)
		}
		// The reference is the date and the ticket's number: HY20261123-000042.
		t, err = scanTicket(tx.QueryRow(ctx, `
			WITH n AS (SELECT nextval(pg_get_serial_sequence('tickets', 'id')) AS id)
			INSERT INTO tickets AS t (id, ref, owner_id, category, intent, urgency, sentiment, risks,
				building, unit, room, area, department, escalate, escalate_to,
				first_response_by, resolution_by, resolution_kind, triage)
			SELECT n.id, 'HY' || to_char($1::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(n.id::text, 6, '0'),
				$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18
			FROM n
			RETURNING `+ticketColumns,
			m.Received, ownerID, string(res.Category), string(res.Intent), string(res.Urgency), string(res.Sentiment), risks,
			res.Location.Building, res.Location.Unit, res.Location.Room, res.Location.Area,
			res.Department, res.Escalate, res.EscalateTo,
			res.Deadlines.FirstResponseBy, res.Deadlines.ResolutionBy, string(res.Deadlines.ResolutionKind), string(raw)))
		if err != nil {
			return fmt.Errorf("insert ticket: %w", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO messages (channel, channel_msg_id, owner_ref, owner_id, body, location_text, contact, received_at, ticket_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			string(m.Channel), m.ChannelMsgID, m.OwnerRef, ownerID, text, m.Location, m.Contact, m.Received, t.ID)
		if err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO ticket_events (ticket_id, actor, kind, to_state, note)
			VALUES ($1, 'system', 'created', 'new', $2)`, t.ID, "由"+string(m.Channel)+"渠道消息创建")
		if err != nil {
			return fmt.Errorf("record ticket event: %w", err)
		}
		return nil
	})
	return t, duplicate, err
}

// ownerFor finds the owner a channel identity belongs to, or creates a
// provisional owner for a first message, which staff confirm later.
func ownerFor(ctx context.Context, tx pgx.Tx, m ticket.Message) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT owner_id FROM owner_channels WHERE channel = $1 AND channel_user = $2`,
		string(m.Channel), m.OwnerRef).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("look up owner: %w", err)
	}
	if err := tx.QueryRow(ctx, `INSERT INTO owners (phone) VALUES ($1) RETURNING id`, m.Contact).Scan(&id); err != nil {
		return 0, fmt.Errorf("create provisional owner: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO owner_channels (channel, channel_user, owner_id) VALUES ($1, $2, $3)`,
		string(m.Channel), m.OwnerRef, id)
	if err != nil {
		return 0, fmt.Errorf("link owner to channel: %w", err)
	}
	return id, nil
}

// Get returns a ticket by its reference.
func (s *Store) Get(ctx context.Context, ref string) (ticket.Ticket, error) {
	t, err := scanTicket(s.pool.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets t WHERE t.ref = $1`, ref))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("%w: 没有工单 %s", huiyin.ErrNotFound, ref)
	}
	if err != nil {
		return t, fmt.Errorf("get ticket %s: %w", ref, err)
	}
	return t, nil
}

// Move changes a ticket's state and records who did it, in one
// transaction; a move the current state does not allow is ErrConflict.
func (s *Store) Move(ctx context.Context, ref string, to ticket.State, actor, note string) (ticket.Ticket, error) {
	var t ticket.Ticket
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		t, err = scanTicket(tx.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets t WHERE t.ref = $1 FOR UPDATE`, ref))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: 没有工单 %s", huiyin.ErrNotFound, ref)
		}
		if err != nil {
			return fmt.Errorf("get ticket %s: %w", ref, err)
		}
		if err := ticket.CheckMove(t.State, to); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET state = $2, updated_at = now() WHERE id = $1`, t.ID, string(to)); err != nil {
			return fmt.Errorf("move ticket %s: %w", ref, err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO ticket_events (ticket_id, actor, kind, from_state, to_state, note)
			VALUES ($1, $2, 'state', $3, $4, $5)`, t.ID, actor, string(t.State), string(to), note)
		if err != nil {
			return fmt.Errorf("record ticket event: %w", err)
		}
		t.State = to
		return nil
	})
	return t, err
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
