package ticketstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/staff"
	"github.com/huiyin/huiyin/ticket"
)

// StartConversation opens a web chat for an owner; the token, returned
// once, is how the owner's page finds it again.
func (s *Store) StartConversation(ctx context.Context, ownerRef string) (string, int64, error) {
	token, hash, err := staff.NewSecret("hyc_")
	if err != nil {
		return "", 0, err
	}
	var id int64
	err = s.pool.QueryRow(ctx, `INSERT INTO conversations (token_hash, owner_ref) VALUES ($1, $2) RETURNING id`, hash, ownerRef).Scan(&id)
	if err != nil {
		return "", 0, fmt.Errorf("start conversation: %w", err)
	}
	return token, id, nil
}

// Conversation returns the conversation a token opens, with its turns
// (the latest 100) and its tickets' progress.
func (s *Store) Conversation(ctx context.Context, token string) (ticket.Conversation, error) {
	var c ticket.Conversation
	err := s.pool.QueryRow(ctx, `SELECT id, owner_ref FROM conversations WHERE token_hash = $1`, staff.HashSecret(token)).Scan(&c.ID, &c.OwnerRef)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("%w: 会话不存在或已失效，请重新开始咨询", huiyin.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("find conversation: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT * FROM (
			SELECT x.id, x.role, x.body, x.citations, coalesce(t.ref, ''), x.created_at
			FROM conversation_turns x LEFT JOIN tickets t ON t.id = x.ticket_id
			WHERE x.conversation_id = $1 ORDER BY x.id DESC LIMIT 100) last
		ORDER BY id`, c.ID)
	if err != nil {
		return c, fmt.Errorf("conversation turns: %w", err)
	}
	c.Turns, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.Turn, error) {
		var t ticket.Turn
		var id int64
		var cites []byte
		err := r.Scan(&id, &t.Role, &t.Body, &cites, &t.Ticket, &t.CreatedAt)
		if err == nil {
			err = json.Unmarshal(cites, &t.Citations)
		}
		return t, err
	})
	if err != nil {
		return c, fmt.Errorf("conversation turns: %w", err)
	}
	rows, err = s.pool.Query(ctx, `
		SELECT t.ref, t.state, t.problem, t.department, t.resolution_by, t.created_at,
			coalesce((SELECT array_agg(r.body ORDER BY r.id) FROM replies r WHERE r.ticket_id = t.id), '{}')
		FROM tickets t WHERE t.id IN (SELECT ticket_id FROM conversation_turns WHERE conversation_id = $1)
		ORDER BY t.created_at DESC`, c.ID)
	if err != nil {
		return c, fmt.Errorf("conversation tickets: %w", err)
	}
	c.Tickets, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.Progress, error) {
		var p ticket.Progress
		var state string
		err := r.Scan(&p.Ref, &state, &p.Problem, &p.Department, &p.ResolutionBy, &p.CreatedAt, &p.Replies)
		p.State = ticket.State(state)
		p.StateName = p.State.Name()
		return p, err
	})
	if err != nil {
		return c, fmt.Errorf("conversation tickets: %w", err)
	}
	return c, nil
}

// AddTurns appends turns to a conversation; a turn naming a ticket links
// the ticket to the conversation.
func (s *Store) AddTurns(ctx context.Context, conversationID int64, turns ...ticket.Turn) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, t := range turns {
			cites, err := json.Marshal(t.Citations)
			if err != nil {
				return fmt.Errorf("encode citations: %w", err)
			}
			_, err = tx.Exec(ctx, `
				INSERT INTO conversation_turns (conversation_id, role, body, citations, ticket_id)
				VALUES ($1, $2, $3, $4, (SELECT id FROM tickets WHERE ref = $5))`, conversationID, t.Role, t.Body, string(cites), t.Ticket)
			if err != nil {
				return fmt.Errorf("add conversation turn: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `UPDATE conversations SET updated_at = now() WHERE id = $1`, conversationID)
		return err
	})
}
