package ticketstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/ticket"
)

// Incidents lists incidents, open ones first, newest first.
func (s *Store) Incidents(ctx context.Context, limit int) ([]ticket.Incident, error) {
	rows, err := s.pool.Query(ctx, `SELECT ref FROM incidents ORDER BY state = 'open' DESC, updated_at DESC LIMIT $1`, limit)
	return loadEach(ctx, "list incidents", rows, err, s.Incident)
}

// Incident returns an incident with its tickets.
func (s *Store) Incident(ctx context.Context, ref string) (ticket.Incident, error) {
	var in ticket.Incident
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id, ref, category, building, area, summary, state, created_at FROM incidents WHERE ref = $1`, ref).
		Scan(&id, &in.Ref, &in.Category, &in.Building, &in.Area, &in.Summary, &in.State, &in.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return in, fmt.Errorf("%w: 没有事件 %s", huiyin.ErrNotFound, ref)
	}
	if err != nil {
		return in, fmt.Errorf("get incident %s: %w", ref, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+summaryColumns+summaryFrom+`WHERE t.incident_id = $1 ORDER BY t.created_at`, id)
	in.Tickets, err = s.collectSummaries(rows, err)
	return in, err
}

// ReplyIncident sends one reply, written by staff, to every reporter of an
// incident: each ticket gets it as its reply, and drafts still waiting are
// superseded.
func (s *Store) ReplyIncident(ctx context.Context, ref, text, actor string) ([]ticket.Reply, error) {
	text, err := ticket.CleanReply(text)
	if err != nil {
		return nil, err
	}
	var out []ticket.Reply
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM incidents WHERE ref = $1 FOR UPDATE`, ref).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: 没有事件 %s", huiyin.ErrNotFound, ref)
		}
		if err != nil {
			return fmt.Errorf("lock incident %s: %w", ref, err)
		}
		rows, err := tx.Query(ctx, `SELECT ref FROM tickets WHERE incident_id = $1 ORDER BY id`, id)
		if err != nil {
			return fmt.Errorf("tickets of incident %s: %w", ref, err)
		}
		refs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("tickets of incident %s: %w", ref, err)
		}
		for _, tref := range refs {
			t, err := lockTicket(ctx, tx, tref)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE drafts SET status = 'superseded' WHERE ticket_id = $1 AND status = 'pending'`, t.ID); err != nil {
				return fmt.Errorf("supersede drafts: %w", err)
			}
			// The reply names each owner's own ticket.
			body := strings.ReplaceAll(text, "{工单号}", t.Ref)
			r, err := s.sendReply(ctx, tx, t, body, "", 0, nil, &id, "incident", actor, "事件 "+ref+" 统一回复")
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		_, err = tx.Exec(ctx, `UPDATE incidents SET state = 'answered', updated_at = now() WHERE id = $1`, id)
		return err
	})
	return out, err
}

// Promote keeps an approved reply as an example of the script library,
// under a situation staff name (the ticket's problem by default). The
// reply's ticket reference becomes the placeholder again. Promoting a
// reply twice is ErrConflict.
func (s *Store) Promote(ctx context.Context, replyID int64, situation, actor string) (ticket.PromotedScript, error) {
	var p ticket.PromotedScript
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var problem string
		err := tx.QueryRow(ctx, `
			SELECT r.id, t.ref, t.category, t.problem, r.body FROM replies r JOIN tickets t ON t.id = r.ticket_id WHERE r.id = $1`, replyID).
			Scan(&p.ReplyID, &p.Ticket, &p.Category, &problem, &p.Body)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: 没有编号为 %d 的回复", huiyin.ErrNotFound, replyID)
		}
		if err != nil {
			return fmt.Errorf("read reply %d: %w", replyID, err)
		}
		p.Situation = strings.TrimSpace(situation)
		if p.Situation == "" {
			p.Situation = firstNonEmpty(problem, "已批准回复")
		}
		if len([]rune(p.Situation)) > 40 {
			return fmt.Errorf("%w: 情形名称最多 40 个字符", huiyin.ErrInvalid)
		}
		p.Body = strings.ReplaceAll(p.Body, p.Ticket, "{工单号}")
		p.PromotedBy = actor
		tag, err := tx.Exec(ctx, `
			INSERT INTO promoted_scripts (reply_id, category, situation, body, promoted_by) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (reply_id) DO NOTHING`, replyID, p.Category, p.Situation, p.Body, actor)
		if err != nil {
			return fmt.Errorf("promote reply %d: %w", replyID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: 这条回复已经加入话术库", huiyin.ErrConflict)
		}
		return nil
	})
	return p, err
}

// PromotedScripts returns the promoted replies, oldest first.
func (s *Store) PromotedScripts(ctx context.Context) ([]ticket.PromotedScript, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT p.reply_id, t.ref, p.category, p.situation, p.body, p.promoted_by
		FROM promoted_scripts p JOIN replies r ON r.id = p.reply_id JOIN tickets t ON t.id = r.ticket_id ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("promoted scripts: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ticket.PromotedScript])
}
