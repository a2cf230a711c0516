package ticketstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/triage"
)

const summaryColumns = `t.ref, t.state, t.category, t.urgency, t.department, t.building, t.unit, t.room, t.area,
	t.problem, t.assignee, t.escalate, t.vulnerable, (t.repeat_of IS NOT NULL OR 'repeat' = ANY (t.risks)),
	coalesce(i.ref, ''), t.first_response_by, t.resolution_by, t.first_responded_at, t.resolved_at, t.created_at`

const summaryFrom = ` FROM tickets t LEFT JOIN incidents i ON i.id = t.incident_id `

// scanSummary reads summaryColumns, then any columns after them into
// extra, and derives the state's name and whether a deadline has passed.
func (s *Store) scanSummary(row pgx.Row, extra ...any) (ticket.Summary, error) {
	var t ticket.Summary
	var state string
	err := row.Scan(append([]any{&t.Ref, &state, &t.Category, &t.Urgency, &t.Department, &t.Building, &t.Unit, &t.Room, &t.Area,
		&t.Problem, &t.Assignee, &t.Escalate, &t.Vulnerable, &t.Repeat, &t.Incident,
		&t.FirstResponseBy, &t.ResolutionBy, &t.FirstRespondedAt, &t.ResolvedAt, &t.CreatedAt}, extra...)...)
	t.State = ticket.State(state)
	t.StateName = t.State.Name()
	now := s.now()
	t.Overdue = (t.FirstRespondedAt == nil && now.After(t.FirstResponseBy)) || (t.ResolvedAt == nil && now.After(t.ResolutionBy))
	return t, err
}

func (s *Store) collectSummaries(rows pgx.Rows, err error) ([]ticket.Summary, error) {
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.Summary, error) { return s.scanSummary(r) })
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return out, nil
}

// The work queue: $1 department, $2 state, $3 category, $4 building,
// $5 assignee (each empty for any), $6 open tickets only, $7 limit,
// $8 offset.
// Open tickets come by their next deadline, finished ones after, newest
// first. The ORDER BY is indexed expression for expression, and the open
// count has a partial index (tickets_queue_order and tickets_open,
// migration 00005; TestQueueUsesIndexes): change them together.
const (
	queueWhere = `WHERE ($1 = '' OR t.department = $1) AND ($2 = '' OR t.state = $2) AND ($3 = '' OR t.category = $3)
		AND ($4 = '' OR t.building = $4) AND ($5 = '' OR t.assignee = $5)
		AND (NOT $6 OR t.state NOT IN ('resolved', 'followed_up', 'closed'))`
	// Counts up to $7 matches: ticket.QueueCountCap+1.
	queueCountSQL = `SELECT count(*) FROM (SELECT 1 FROM tickets t ` + queueWhere + ` LIMIT $7) matches`
	queueListSQL  = `SELECT ` + summaryColumns + summaryFrom + queueWhere + `
		ORDER BY (t.resolved_at IS NOT NULL),
			CASE WHEN t.first_responded_at IS NULL THEN least(t.first_response_by, t.resolution_by) ELSE t.resolution_by END,
			t.created_at DESC
		LIMIT $7 OFFSET $8`
)

// Queue returns the work queue, most pressing deadline first, and how
// many tickets match in all, up to ticket.QueueCountCap+1 ("more").
func (s *Store) Queue(ctx context.Context, f ticket.QueueFilter) ([]ticket.Summary, int, error) {
	f, err := f.Check()
	if err != nil {
		return nil, 0, err
	}
	args := []any{f.Department, string(f.State), f.Category, f.Building, f.Assignee, f.Open}
	var total int
	if err := s.pool.QueryRow(ctx, queueCountSQL, append(args, ticket.QueueCountCap+1)...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count tickets: %w", err)
	}
	rows, err := s.pool.Query(ctx, queueListSQL, append(args, f.Limit, f.Offset)...)
	list, err := s.collectSummaries(rows, err)
	return list, total, err
}

// Detail returns everything about a ticket.
func (s *Store) Detail(ctx context.Context, ref string) (ticket.Detail, error) {
	var d ticket.Detail
	var id, ownerID int64
	var raw []byte
	var repeatOf string
	var frBreach, resBreach bool
	row := s.pool.QueryRow(ctx, `SELECT `+summaryColumns+`, t.id, coalesce(t.owner_id, 0), t.triage,
			coalesce((SELECT r.ref FROM tickets r WHERE r.id = t.repeat_of), ''),
			t.first_response_breached, t.resolution_breached, t.escalated_at`+summaryFrom+`WHERE t.ref = $1`, ref)
	var err error
	d.Summary, err = s.scanSummary(row, &id, &ownerID, &raw, &repeatOf, &frBreach, &resBreach, &d.Escalated)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("%w: 没有工单 %s", huiyin.ErrNotFound, ref)
	}
	if err != nil {
		return d, fmt.Errorf("get ticket %s: %w", ref, err)
	}
	d.RepeatOf = repeatOf
	d.Breaches = []string{}
	if frBreach {
		d.Breaches = append(d.Breaches, ticket.DeadlineFirstResponse)
	}
	if resBreach {
		d.Breaches = append(d.Breaches, ticket.DeadlineResolution)
	}
	if err := json.Unmarshal(raw, &d.Triage); err != nil {
		return d, fmt.Errorf("decode the triage of %s: %w", ref, err)
	}
	if ownerID != 0 {
		if d.Owner, err = s.owner(ctx, ownerID); err != nil {
			return d, err
		}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT channel, body, location_text, contact, received_at FROM messages WHERE ticket_id = $1 ORDER BY received_at, id`, id)
	if err != nil {
		return d, fmt.Errorf("messages of %s: %w", ref, err)
	}
	d.Messages, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.StoredMessage, error) {
		var m ticket.StoredMessage
		var ch string
		err := r.Scan(&ch, &m.Body, &m.Location, &m.Contact, &m.ReceivedAt)
		m.Channel = ticket.Channel(ch)
		return m, err
	})
	if err != nil {
		return d, fmt.Errorf("messages of %s: %w", ref, err)
	}
	if d.Drafts, err = s.drafts(ctx, id); err != nil {
		return d, err
	}
	if d.Replies, err = s.replies(ctx, `WHERE r.ticket_id = $1`, id); err != nil {
		return d, err
	}
	if d.History, err = s.History(ctx, ref); err != nil {
		return d, err
	}
	var f ticket.FollowUp
	var score *int16
	err = s.pool.QueryRow(ctx, `
		SELECT due_at, done_at, score, comment, recorded_by FROM follow_ups WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1`, id).
		Scan(&f.DueAt, &f.DoneAt, &score, &f.Comment, &f.RecordedBy)
	switch {
	case err == nil:
		if score != nil {
			f.Score = int(*score)
		}
		d.FollowUp = &f
	case !errors.Is(err, pgx.ErrNoRows):
		return d, fmt.Errorf("follow-up of %s: %w", ref, err)
	}
	return d, nil
}

func (s *Store) drafts(ctx context.Context, ticketID int64) ([]ticket.Draft, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, body, citations, script, source, fallback, status, decided_by, decided_at, reject_reason, created_at
		FROM drafts WHERE ticket_id = $1 ORDER BY id DESC`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("drafts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.Draft, error) {
		var d ticket.Draft
		var cites []byte
		err := r.Scan(&d.ID, &d.Body, &cites, &d.Script, &d.Source, &d.Fallback, &d.Status, &d.DecidedBy, &d.DecidedAt, &d.RejectReason, &d.CreatedAt)
		if err == nil {
			err = json.Unmarshal(cites, &d.Citations)
		}
		return d, err
	})
}

func (s *Store) replies(ctx context.Context, where string, args ...any) ([]ticket.Reply, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT r.id, t.ref, r.body, coalesce(r.draft_id, 0), r.edit_distance, r.approved_by, r.source,
			EXISTS (SELECT FROM promoted_scripts p WHERE p.reply_id = r.id), r.created_at
		FROM replies r JOIN tickets t ON t.id = r.ticket_id `+where+` ORDER BY r.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("replies: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.Reply, error) {
		var x ticket.Reply
		err := r.Scan(&x.ID, &x.Ticket, &x.Body, &x.DraftID, &x.EditDistance, &x.ApprovedBy, &x.Source, &x.Promoted, &x.CreatedAt)
		return x, err
	})
}

// lockTicket reads a ticket for change inside tx.
func lockTicket(ctx context.Context, tx pgx.Tx, ref string) (ticket.Ticket, error) {
	return ticketByRef(ctx, tx, ref, " FOR UPDATE")
}

// Assign gives a ticket to a member of staff; a new or reopened ticket
// becomes assigned.
func (s *Store) Assign(ctx context.Context, ref, assignee, actor string) (ticket.Ticket, error) {
	var t ticket.Ticket
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if t, err = lockTicket(ctx, tx, ref); err != nil {
			return err
		}
		var name string
		err = tx.QueryRow(ctx, `SELECT name FROM staff WHERE username = $1 AND active`, assignee).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: 没有在职员工 %s", huiyin.ErrInvalid, assignee)
		}
		if err != nil {
			return fmt.Errorf("look up %s: %w", assignee, err)
		}
		to := t.State
		if ticket.CanMove(t.State, ticket.Assigned) && (t.State == ticket.New || t.State == ticket.Reopened) {
			to = ticket.Assigned
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET assignee = $2, state = $3, updated_at = now() WHERE id = $1`, t.ID, assignee, string(to)); err != nil {
			return fmt.Errorf("assign %s: %w", ref, err)
		}
		e := event{kind: "assigned", note: "派给 " + firstNonEmpty(name, assignee) + "（" + assignee + "）"}
		if to != t.State {
			e.from, e.to = t.State, to
		}
		t.State = to
		return recordEvents(ctx, tx, t.ID, actor, e)
	})
	return t, err
}

// Move changes a ticket's state and records who did it, in one
// transaction; a move the current state does not allow is ErrConflict.
// Taking a ticket up counts as the first response; resolving it schedules
// the follow-up visit; reopening clears the resolution.
func (s *Store) Move(ctx context.Context, ref string, to ticket.State, actor, note string) (ticket.Ticket, error) {
	var t ticket.Ticket
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if t, err = lockTicket(ctx, tx, ref); err != nil {
			return err
		}
		if err := ticket.CheckMove(t.State, to); err != nil {
			return err
		}
		if err := s.move(ctx, tx, t, to, actor, note); err != nil {
			return err
		}
		t.State = to
		return nil
	})
	return t, err
}

func (s *Store) move(ctx context.Context, tx pgx.Tx, t ticket.Ticket, to ticket.State, actor, note string) error {
	now := s.now()
	_, err := tx.Exec(ctx, `
		UPDATE tickets SET state = $2, updated_at = now(),
			first_responded_at = CASE WHEN $2 IN ('in_progress', 'resolved') THEN coalesce(first_responded_at, $3) ELSE first_responded_at END,
			resolved_at = CASE WHEN $2 = 'resolved' THEN $3 WHEN $2 = 'reopened' THEN NULL ELSE resolved_at END,
			closed_at = CASE WHEN $2 = 'closed' THEN $3 WHEN $2 = 'reopened' THEN NULL ELSE closed_at END
		WHERE id = $1`, t.ID, string(to), now)
	if err != nil {
		return fmt.Errorf("move ticket %s: %w", t.Ref, err)
	}
	if err := recordEvents(ctx, tx, t.ID, actor, event{kind: "state", from: t.State, to: to, note: note}); err != nil {
		return err
	}
	if to == ticket.Resolved {
		due := now.Add(ticket.FollowUpDefault)
		if _, err := tx.Exec(ctx, `INSERT INTO follow_ups (ticket_id, due_at) VALUES ($1, $2)`, t.ID, due); err != nil {
			return fmt.Errorf("schedule follow-up of %s: %w", t.Ref, err)
		}
		return s.enqueue(ctx, tx, river.InsertManyParams{Args: ticket.FollowUpJob{TicketID: t.ID}, InsertOpts: &river.InsertOpts{ScheduledAt: due}})
	}
	return nil
}

// DraftInput is what drafting a ticket's reply needs.
type DraftInput struct {
	Ref    string
	Text   string // the owner's messages, in order
	Triage triage.Result
	State  ticket.State
}

// DraftInput reads a ticket for drafting.
func (s *Store) DraftInput(ctx context.Context, ticketID int64) (DraftInput, error) {
	var in DraftInput
	var raw []byte
	var state string
	err := s.pool.QueryRow(ctx, `
		SELECT t.ref, t.state, t.triage,
			coalesce((SELECT string_agg(m.body, E'\n' ORDER BY m.received_at, m.id) FROM messages m WHERE m.ticket_id = t.id), '')
		FROM tickets t WHERE t.id = $1`, ticketID).Scan(&in.Ref, &state, &raw, &in.Text)
	if errors.Is(err, pgx.ErrNoRows) {
		return in, fmt.Errorf("%w: 没有编号为 %d 的工单", huiyin.ErrNotFound, ticketID)
	}
	if err != nil {
		return in, fmt.Errorf("read ticket %d for drafting: %w", ticketID, err)
	}
	in.State = ticket.State(state)
	if err := json.Unmarshal(raw, &in.Triage); err != nil {
		return in, fmt.Errorf("decode the triage of %s: %w", in.Ref, err)
	}
	return in, nil
}

// SaveDraft stores a new draft for a ticket; a draft still waiting is
// superseded by it.
func (s *Store) SaveDraft(ctx context.Context, ticketID int64, d knowledge.Draft) (int64, error) {
	cites, err := json.Marshal(d.Citations)
	if err != nil {
		return 0, fmt.Errorf("encode citations: %w", err)
	}
	var id int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE drafts SET status = 'superseded' WHERE ticket_id = $1 AND status = 'pending'`, ticketID); err != nil {
			return fmt.Errorf("supersede drafts: %w", err)
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO drafts (ticket_id, body, citations, script, source, fallback) VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING id`, ticketID, d.Reply, string(cites), d.Script, d.Source, d.Fallback).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert draft: %w", err)
		}
		return recordEvents(ctx, tx, ticketID, "system", event{kind: "draft", note: "已生成回复草稿，等待审核"})
	})
	return id, err
}

// RequestDraft asks for a new draft of a ticket's reply.
func (s *Store) RequestDraft(ctx context.Context, ref, actor string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := lockTicket(ctx, tx, ref)
		if err != nil {
			return err
		}
		if err := recordEvents(ctx, tx, t.ID, actor, event{kind: "draft_requested", note: "重新生成回复草稿"}); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, river.InsertManyParams{Args: ticket.DraftJob{TicketID: t.ID}})
	})
}

// Approve sends a draft, as written or as edited by staff: the sent text,
// the edit distance from the draft and the approver are kept. A draft that
// is no longer waiting is ErrConflict.
func (s *Store) Approve(ctx context.Context, ref string, draftID int64, text, actor string) (ticket.Reply, error) {
	var reply ticket.Reply
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := lockTicket(ctx, tx, ref)
		if err != nil {
			return err
		}
		var body, status string
		err = tx.QueryRow(ctx, `SELECT body, status FROM drafts WHERE id = $1 AND ticket_id = $2 FOR UPDATE`, draftID, t.ID).Scan(&body, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: 工单 %s 没有编号为 %d 的草稿", huiyin.ErrNotFound, ref, draftID)
		}
		if err != nil {
			return fmt.Errorf("read draft %d: %w", draftID, err)
		}
		if status != ticket.DraftPending {
			return fmt.Errorf("%w: 该草稿已处理（%s），请刷新后查看最新草稿", huiyin.ErrConflict, status)
		}
		if strings.TrimSpace(text) == "" {
			text = body
		}
		if text, err = ticket.CleanReply(text); err != nil {
			return err
		}
		dist := levenshtein.ComputeDistance(body, text)
		if _, err := tx.Exec(ctx, `UPDATE drafts SET status = 'approved', decided_by = $2, decided_at = now() WHERE id = $1`, draftID, actor); err != nil {
			return fmt.Errorf("approve draft %d: %w", draftID, err)
		}
		note := "审核通过并发送回复"
		if dist > 0 {
			note = fmt.Sprintf("修改后发送回复（改动 %d 字）", dist)
		}
		reply, err = s.sendReply(ctx, tx, t, text, body, dist, &draftID, nil, "draft", actor, note)
		return err
	})
	return reply, err
}

// sendReply records a reply sent to the ticket's owner; the first one is
// the ticket's first response.
func (s *Store) sendReply(ctx context.Context, tx pgx.Tx, t ticket.Ticket, text, draft string, dist int, draftID, incidentID *int64, source, actor, note string) (ticket.Reply, error) {
	r := ticket.Reply{Ticket: t.Ref, Body: text, EditDistance: dist, ApprovedBy: actor, Source: source}
	if draftID != nil {
		r.DraftID = *draftID
	}
	err := tx.QueryRow(ctx, `
		INSERT INTO replies (ticket_id, draft_id, incident_id, body, draft_body, edit_distance, approved_by, source, channel, owner_ref)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, coalesce(m.channel, ''), coalesce(m.owner_ref, '')
		FROM (SELECT 1) one LEFT JOIN LATERAL (
			SELECT channel, owner_ref FROM messages WHERE ticket_id = $1 ORDER BY received_at DESC, id DESC LIMIT 1) m ON true
		RETURNING id, created_at`, t.ID, draftID, incidentID, text, draft, dist, actor, source).Scan(&r.ID, &r.CreatedAt)
	if err != nil {
		return r, fmt.Errorf("record reply: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE tickets SET first_responded_at = coalesce(first_responded_at, $2), updated_at = now() WHERE id = $1`, t.ID, s.now()); err != nil {
		return r, fmt.Errorf("record first response: %w", err)
	}
	return r, recordEvents(ctx, tx, t.ID, actor, event{kind: "reply", note: note})
}

// Reject turns a draft down with a reason, which is kept for improving
// the drafts.
func (s *Store) Reject(ctx context.Context, ref string, draftID int64, reason, actor string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return fmt.Errorf("%w: 请填写驳回原因（最多 500 个字符）", huiyin.ErrInvalid)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := lockTicket(ctx, tx, ref)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE drafts SET status = 'rejected', decided_by = $3, decided_at = now(), reject_reason = $4
			WHERE id = $1 AND ticket_id = $2 AND status = 'pending'`, draftID, t.ID, actor, reason)
		if err != nil {
			return fmt.Errorf("reject draft %d: %w", draftID, err)
		}
		if tag.RowsAffected() == 0 {
			var status string
			err := tx.QueryRow(ctx, `SELECT status FROM drafts WHERE id = $1 AND ticket_id = $2`, draftID, t.ID).Scan(&status)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: 工单 %s 没有草稿 %d", huiyin.ErrNotFound, ref, draftID)
			}
			if err != nil {
				return fmt.Errorf("read draft %d: %w", draftID, err)
			}
			return fmt.Errorf("%w: 草稿 %d 已处理（%s），不能再驳回", huiyin.ErrConflict, draftID, status)
		}
		return recordEvents(ctx, tx, t.ID, actor, event{kind: "draft_rejected", note: "驳回草稿：" + reason})
	})
}

// ScheduleFollowUp sets when the follow-up visit of a resolved ticket
// happens: within ticket.FollowUpWindow of the resolution.
func (s *Store) ScheduleFollowUp(ctx context.Context, ref string, due time.Time, actor string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := lockTicket(ctx, tx, ref)
		if err != nil {
			return err
		}
		var resolved *time.Time
		if err := tx.QueryRow(ctx, `SELECT resolved_at FROM tickets WHERE id = $1`, t.ID).Scan(&resolved); err != nil {
			return fmt.Errorf("read %s: %w", ref, err)
		}
		if t.State != ticket.Resolved || resolved == nil {
			return fmt.Errorf("%w: 工单解决后才能安排回访（当前为%s）", huiyin.ErrConflict, t.State.Name())
		}
		if due.Before(*resolved) || due.After(resolved.Add(ticket.FollowUpWindow)) {
			return fmt.Errorf("%w: 回访须安排在解决后 3 天内（%s 之前）", huiyin.ErrInvalid,
				resolved.Add(ticket.FollowUpWindow).In(shanghai).Format("2006-01-02 15:04"))
		}
		tag, err := tx.Exec(ctx, `
			UPDATE follow_ups SET due_at = $2 WHERE id = (
				SELECT id FROM follow_ups WHERE ticket_id = $1 AND done_at IS NULL ORDER BY id DESC LIMIT 1)`, t.ID, due)
		if err != nil {
			return fmt.Errorf("schedule follow-up: %w", err)
		}
		if tag.RowsAffected() == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO follow_ups (ticket_id, due_at) VALUES ($1, $2)`, t.ID, due); err != nil {
				return fmt.Errorf("schedule follow-up: %w", err)
			}
		}
		if err := recordEvents(ctx, tx, t.ID, actor, event{kind: "follow_up_scheduled", note: "回访安排在 " + due.In(shanghai).Format("01-02 15:04")}); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, river.InsertManyParams{Args: ticket.FollowUpJob{TicketID: t.ID}, InsertOpts: &river.InsertOpts{ScheduledAt: due}})
	})
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// RecordFollowUp records the visit's satisfaction score and comment and
// moves the ticket to followed_up; an unhappy owner (score ≤
// ticket.UnhappyScore) reopens it. It reports whether it reopened.
func (s *Store) RecordFollowUp(ctx context.Context, ref string, score int, comment, actor string) (ticket.Ticket, bool, error) {
	if err := ticket.CheckScore(score); err != nil {
		return ticket.Ticket{}, false, err
	}
	comment = strings.TrimSpace(comment)
	if len([]rune(comment)) > 1000 {
		return ticket.Ticket{}, false, fmt.Errorf("%w: 回访意见最多 1000 个字符", huiyin.ErrInvalid)
	}
	var t ticket.Ticket
	reopened := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if t, err = lockTicket(ctx, tx, ref); err != nil {
			return err
		}
		if err := ticket.CheckMove(t.State, ticket.FollowedUp); err != nil {
			return fmt.Errorf("%w（回访须在工单解决后记录）", err)
		}
		tag, err := tx.Exec(ctx, `
			UPDATE follow_ups SET done_at = now(), score = $2, comment = $3, recorded_by = $4 WHERE id = (
				SELECT id FROM follow_ups WHERE ticket_id = $1 AND done_at IS NULL ORDER BY id DESC LIMIT 1)`, t.ID, score, comment, actor)
		if err != nil {
			return fmt.Errorf("record follow-up: %w", err)
		}
		if tag.RowsAffected() == 0 {
			_, err = tx.Exec(ctx, `INSERT INTO follow_ups (ticket_id, due_at, done_at, score, comment, recorded_by) VALUES ($1, now(), now(), $2, $3, $4)`,
				t.ID, score, comment, actor)
			if err != nil {
				return fmt.Errorf("record follow-up: %w", err)
			}
		}
		if err := s.move(ctx, tx, t, ticket.FollowedUp, actor, fmt.Sprintf("回访满意度 %d 分", score)); err != nil {
			return err
		}
		t.State = ticket.FollowedUp
		if score <= ticket.UnhappyScore {
			if err := s.move(ctx, tx, t, ticket.Reopened, actor, "回访不满意，工单重新打开"); err != nil {
				return err
			}
			t.State, reopened = ticket.Reopened, true
			return notify(ctx, tx, t.ID, t.Triage.Department, "reopened", fmt.Sprintf("工单 %s 回访不满意（%d 分），已重新打开", t.Ref, score))
		}
		return nil
	})
	return t, reopened, err
}

// CheckDeadline is the deadline job's work: when the deadline has passed
// unmet it marks the breach, escalates to the project manager and reports
// true. A deadline moved later (the ticket was re-triaged) returns the new
// time to check again.
func (s *Store) CheckDeadline(ctx context.Context, ticketID int64, which string) (breached bool, later time.Time, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var ref, state, escalateTo string
		var frBy, resBy time.Time
		var responded, resolved *time.Time
		var frBreached, resBreached bool
		err := tx.QueryRow(ctx, `
			SELECT ref, state, escalate_to, first_response_by, resolution_by, first_responded_at, resolved_at,
				first_response_breached, resolution_breached
			FROM tickets WHERE id = $1 FOR UPDATE`, ticketID).
			Scan(&ref, &state, &escalateTo, &frBy, &resBy, &responded, &resolved, &frBreached, &resBreached)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted: nothing to check
		}
		if err != nil {
			return fmt.Errorf("read ticket %d: %w", ticketID, err)
		}
		now := s.now()
		var by time.Time
		var met, already bool
		var column, words string
		switch which {
		case ticket.DeadlineFirstResponse:
			by, met, already, column, words = frBy, responded != nil, frBreached, "first_response_breached", "首次响应"
		case ticket.DeadlineResolution:
			by, met, already, column, words = resBy, resolved != nil, resBreached, "resolution_breached", "处理完成"
		default:
			return fmt.Errorf("%w: unknown deadline %q", huiyin.ErrInvalid, which)
		}
		if met || already {
			return nil
		}
		if now.Before(by) {
			later = by
			return nil
		}
		breached = true
		if _, err := tx.Exec(ctx, `UPDATE tickets SET `+column+` = true, escalated_at = coalesce(escalated_at, $2), updated_at = now() WHERE id = $1`,
			ticketID, now); err != nil {
			return fmt.Errorf("mark breach of %s: %w", ref, err)
		}
		msg := fmt.Sprintf("工单 %s 已超过%s时限（%s），请项目经理跟进", ref, words, by.In(shanghai).Format("01-02 15:04"))
		if err := recordEvents(ctx, tx, ticketID, "system", event{kind: "sla_breach", note: msg}); err != nil {
			return err
		}
		return notify(ctx, tx, ticketID, "manager", "sla_breach", msg)
	})
	return breached, later, err
}

// FollowUpDue is the follow-up job's work: when the visit is due and not
// done it tells the department; it reports whether it did.
func (s *Store) FollowUpDue(ctx context.Context, ticketID int64) (bool, time.Time, error) {
	var reminded bool
	var later time.Time
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var ref, dept string
		var due time.Time
		var done *time.Time
		err := tx.QueryRow(ctx, `
			SELECT t.ref, t.department, f.due_at, f.done_at FROM follow_ups f JOIN tickets t ON t.id = f.ticket_id
			WHERE f.ticket_id = $1 ORDER BY f.id DESC LIMIT 1`, ticketID).Scan(&ref, &dept, &due, &done)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read follow-up of %d: %w", ticketID, err)
		}
		if done != nil {
			return nil
		}
		if s.now().Before(due) {
			later = due
			return nil
		}
		reminded = true
		msg := fmt.Sprintf("工单 %s 的回访已到期，请尽快回访业主并记录满意度", ref)
		if err := recordEvents(ctx, tx, ticketID, "system", event{kind: "follow_up_due", note: msg}); err != nil {
			return err
		}
		return notify(ctx, tx, ticketID, dept, "follow_up_due", msg)
	})
	return reminded, later, err
}

// Notifications returns the latest notifications for the recipients.
func (s *Store) Notifications(ctx context.Context, recipients []string, limit int) ([]ticket.Notification, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT n.id, coalesce(t.ref, ''), n.recipient, n.kind, n.body, n.created_at
		FROM notifications n LEFT JOIN tickets t ON t.id = n.ticket_id
		WHERE n.recipient = ANY ($1) ORDER BY n.id DESC LIMIT $2`, recipients, limit)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.Notification, error) {
		var n ticket.Notification
		err := r.Scan(&n.ID, &n.Ticket, &n.Recipient, &n.Kind, &n.Body, &n.CreatedAt)
		return n, err
	})
}

// CountByState returns how many tickets are in each state.
func (s *Store) CountByState(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT state, count(*) FROM tickets GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("count tickets by state: %w", err)
	}
	out := map[string]int{}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error { out[state] = n; return nil })
	if err != nil {
		return nil, fmt.Errorf("count tickets by state: %w", err)
	}
	return out, nil
}

// RecentReplies returns the last limit replies sent, oldest first.
func (s *Store) RecentReplies(ctx context.Context, limit int) ([]ticket.Reply, error) {
	return s.replies(ctx, `WHERE r.id IN (SELECT id FROM replies ORDER BY id DESC LIMIT $1)`, limit)
}
