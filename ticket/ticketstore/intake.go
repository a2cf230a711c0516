package ticketstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/triage"
)

// Owner returns the owner a channel identity belongs to.
func (s *Store) Owner(ctx context.Context, ch ticket.Channel, ownerRef string) (int64, bool, error) {
	var id int64
	var vulnerable bool
	err := s.pool.QueryRow(ctx, `
		SELECT o.id, o.vulnerable FROM owner_channels c JOIN owners o ON o.id = c.owner_id
		WHERE c.channel = $1 AND c.channel_user = $2`, string(ch), ownerRef).Scan(&id, &vulnerable)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("look up owner: %w", err)
	}
	return id, vulnerable, nil
}

const priorColumns = `t.id, t.ref, t.state, coalesce(t.owner_id, 0), t.category, t.problem,
	t.building, t.unit, t.room, t.area, coalesce(t.received_at, t.created_at), coalesce(t.last_message_at, t.created_at),
	coalesce(t.repeat_of, 0), coalesce(t.incident_id, 0),
	coalesce((SELECT string_agg(m.body, E'\n' ORDER BY m.received_at, m.id) FROM messages m WHERE m.ticket_id = t.id), ''),
	(SELECT f.corrected FROM triage_feedback f WHERE f.ticket_id = t.id ORDER BY f.id DESC LIMIT 1)`

func scanPriors(rows pgx.Rows) ([]ticket.Prior, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.Prior, error) {
		var p ticket.Prior
		var state, category string
		var corrected []byte
		err := r.Scan(&p.ID, &p.Ref, &state, &p.OwnerID, &category, &p.Problem,
			&p.Location.Building, &p.Location.Unit, &p.Location.Room, &p.Location.Area,
			&p.Received, &p.LastMessage, &p.RepeatOf, &p.IncidentID, &p.Text, &corrected)
		if err == nil && corrected != nil {
			p.Corrected = new(triage.Correction)
			err = json.Unmarshal(corrected, p.Corrected)
		}
		p.State, p.Category = ticket.State(state), triage.Category(category)
		return p, err
	})
}

// Priors returns the owner's tickets since since, and those of the home
// loc names.
func (s *Store) Priors(ctx context.Context, ownerID int64, loc triage.Location, since time.Time) ([]ticket.Prior, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+priorColumns+` FROM tickets t
		WHERE t.created_at >= $1
		  AND (t.owner_id = $2 OR ($5 <> '' AND t.building = $3 AND t.unit = $4 AND t.room = $5))
		ORDER BY t.created_at DESC LIMIT 50`, since, ownerID, loc.Building, loc.Unit, loc.Room)
	if err != nil {
		return nil, fmt.Errorf("earlier tickets: %w", err)
	}
	return scanPriors(rows)
}

// Nearby returns the tickets of a category since since in loc's building,
// or its area when it names no building.
func (s *Store) Nearby(ctx context.Context, c triage.Category, loc triage.Location, since time.Time) ([]ticket.Prior, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+priorColumns+` FROM tickets t
		WHERE t.category = $1 AND t.created_at >= $2
		  AND t.state NOT IN ('resolved', 'followed_up', 'closed')
		  AND (($3 <> '' AND t.building = $3) OR ($3 = '' AND $4 <> '' AND t.area = $4))
		ORDER BY t.created_at DESC LIMIT 50`, string(c), since, loc.Building, loc.Area)
	if err != nil {
		return nil, fmt.Errorf("nearby tickets: %w", err)
	}
	return scanPriors(rows)
}

// Open stores the owner (provisional when new), the ticket, the message,
// its links and events, and enqueues its draft and deadline checks, in one
// transaction.
func (s *Store) Open(ctx context.Context, m ticket.Message, text string, res triage.Result, l ticket.Links) (t ticket.Ticket, duplicate bool, err error) {
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
		unitID, err := unitFor(ctx, tx, res.Location)
		if err != nil {
			return err
		}
		var incidentID *int64
		if l.IncidentWith != 0 {
			id, err := s.joinIncident(ctx, tx, l.IncidentWith, res, m.Received)
			if err != nil {
				return err
			}
			incidentID = &id
		}
		var repeatOf, escalatedAt any
		if l.RepeatOf != 0 {
			repeatOf = l.RepeatOf
		}
		if res.Escalate {
			escalatedAt = s.now()
		}
		// The reference is the date and the ticket's number: HY20261123-000042.
		t, err = scanTicket(tx.QueryRow(ctx, `
			WITH n AS (SELECT nextval(pg_get_serial_sequence('tickets', 'id')) AS id)
			INSERT INTO tickets AS t (id, ref, owner_id, category, intent, urgency, sentiment, risks,
				building, unit, room, area, department, escalate, escalate_to,
				first_response_by, resolution_by, resolution_kind, triage,
				problem, unit_id, incident_id, repeat_of, vulnerable, received_at, last_message_at, escalated_at)
			SELECT n.id, 'HY' || to_char($1::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(n.id::text, 6, '0'),
				$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
				$19, $20, $21, $22, $23, $1, $1, $24
			FROM n
			RETURNING `+ticketColumns,
			m.Received, ownerID, string(res.Category), string(res.Intent), string(res.Urgency), string(res.Sentiment), riskStrings(res.Risks),
			res.Location.Building, res.Location.Unit, res.Location.Room, res.Location.Area,
			res.Department, res.Escalate, res.EscalateTo,
			res.Deadlines.FirstResponseBy, res.Deadlines.ResolutionBy, string(res.Deadlines.ResolutionKind), string(raw),
			res.Problem, unitID, incidentID, repeatOf, l.Vulnerable, escalatedAt))
		if err != nil {
			return fmt.Errorf("insert ticket: %w", err)
		}
		if err := insertMessage(ctx, tx, m, ownerID, text, t.ID); err != nil {
			return err
		}
		events := []event{{kind: "created", to: ticket.New, note: "由" + channelName(m.Channel) + "消息创建"}}
		if l.RepeatOf != 0 {
			events = append(events, event{kind: "repeat", note: "30天内同一问题再次反映，已提高紧急程度"})
		}
		if l.Vulnerable {
			events = append(events, event{kind: "vulnerable", note: "业主在特殊关怀名单中，已提高紧急程度"})
		}
		if incidentID != nil {
			events = append(events, event{kind: "incident", note: "与其他业主反映的同一故障合并为一个事件"})
		}
		if res.Escalate {
			why := strings.Join(res.EscalateReason, "、")
			events = append(events, event{kind: "escalated", note: "已上报" + res.EscalateTo + "（" + why + "）"})
			if err := notifyEscalation(ctx, tx, t, res); err != nil {
				return err
			}
		}
		if err := recordEvents(ctx, tx, t.ID, "system", events...); err != nil {
			return err
		}
		jobs := append([]river.InsertManyParams{{Args: ticket.DraftJob{TicketID: t.ID}}}, deadlineJobs(t.ID, res.Deadlines)...)
		return s.enqueue(ctx, tx, jobs...)
	})
	return t, duplicate, err
}

// Append adds a message to an open ticket, replaces its labels with the
// triage of all its messages, and asks for a new draft; a deadline brought
// forward gets its own check.
func (s *Store) Append(ctx context.Context, ticketID int64, m ticket.Message, text string, res triage.Result) (t ticket.Ticket, duplicate bool, err error) {
	raw, err := json.Marshal(res)
	if err != nil {
		return t, false, fmt.Errorf("encode triage: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := scanTicket(tx.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets t WHERE t.id = $1 FOR UPDATE`, ticketID))
		if err != nil {
			return fmt.Errorf("lock ticket %d: %w", ticketID, err)
		}
		if found, err := find(ctx, tx, m.Channel, m.ChannelMsgID); err == nil {
			t, duplicate = found, true
			return nil
		} else if !errors.Is(err, huiyin.ErrNotFound) {
			return err
		}
		unitID, err := unitFor(ctx, tx, res.Location)
		if err != nil {
			return err
		}
		t, err = scanTicket(tx.QueryRow(ctx, `
			UPDATE tickets AS t SET category = $2, intent = $3, urgency = $4, sentiment = $5, risks = $6,
				building = $7, unit = $8, room = $9, area = $10, department = $11,
				escalate = escalate OR $12, escalate_to = CASE WHEN $12 THEN $13 ELSE escalate_to END,
				first_response_by = $14, resolution_by = $15, resolution_kind = $16, triage = $17,
				problem = $18, unit_id = coalesce($19, unit_id), last_message_at = $20, updated_at = now(),
				escalated_at = CASE WHEN $12 THEN coalesce(escalated_at, now()) ELSE escalated_at END
			WHERE t.id = $1
			RETURNING `+ticketColumns,
			ticketID, string(res.Category), string(res.Intent), string(res.Urgency), string(res.Sentiment), riskStrings(res.Risks),
			res.Location.Building, res.Location.Unit, res.Location.Room, res.Location.Area, res.Department,
			res.Escalate, res.EscalateTo, res.Deadlines.FirstResponseBy, res.Deadlines.ResolutionBy,
			string(res.Deadlines.ResolutionKind), string(raw), res.Problem, unitID, m.Received))
		if err != nil {
			return fmt.Errorf("update ticket %d: %w", ticketID, err)
		}
		if err := insertMessage(ctx, tx, m, t.OwnerID, text, t.ID); err != nil {
			return err
		}
		if err := recordEvents(ctx, tx, t.ID, "system", event{kind: "merged", note: "业主补充了信息，已重新分类"}); err != nil {
			return err
		}
		if res.Escalate && !before.Triage.Escalate {
			if err := notifyEscalation(ctx, tx, t, res); err != nil {
				return err
			}
		}
		jobs := []river.InsertManyParams{{Args: ticket.DraftJob{TicketID: t.ID}}}
		if res.Deadlines.FirstResponseBy.Before(before.Triage.Deadlines.FirstResponseBy) ||
			res.Deadlines.ResolutionBy.Before(before.Triage.Deadlines.ResolutionBy) {
			jobs = append(jobs, deadlineJobs(t.ID, res.Deadlines)...)
		}
		return s.enqueue(ctx, tx, jobs...)
	})
	return t, duplicate, err
}

func insertMessage(ctx context.Context, tx pgx.Tx, m ticket.Message, ownerID int64, text string, ticketID int64) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO messages (channel, channel_msg_id, owner_ref, owner_id, body, location_text, contact, received_at, ticket_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		string(m.Channel), m.ChannelMsgID, m.OwnerRef, ownerID, text, m.Location, m.Contact, m.Received, ticketID)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	return nil
}

// joinIncident puts a new report into the incident of the ticket it
// matched, creating the incident when that ticket had none.
func (s *Store) joinIncident(ctx context.Context, tx pgx.Tx, with int64, res triage.Result, at time.Time) (int64, error) {
	var incident *int64
	var ref, problem string
	if err := tx.QueryRow(ctx, `SELECT incident_id, ref, problem FROM tickets WHERE id = $1 FOR UPDATE`, with).Scan(&incident, &ref, &problem); err != nil {
		return 0, fmt.Errorf("lock ticket %d: %w", with, err)
	}
	if incident != nil {
		_, err := tx.Exec(ctx, `UPDATE incidents SET updated_at = now(), state = 'open' WHERE id = $1`, *incident)
		return *incident, err
	}
	var id int64
	err := tx.QueryRow(ctx, `
		WITH n AS (SELECT nextval(pg_get_serial_sequence('incidents', 'id')) AS id)
		INSERT INTO incidents (id, ref, category, building, area, summary)
		SELECT n.id, 'IN' || to_char($1::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(n.id::text, 4, '0'),
			$2, $3, $4, $5 FROM n
		RETURNING id`, at, string(res.Category), res.Location.Building, res.Location.Area, firstNonEmpty(problem, res.Problem)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create incident: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE tickets SET incident_id = $2, updated_at = now() WHERE id = $1`, with, id); err != nil {
		return 0, fmt.Errorf("link ticket %s to incident: %w", ref, err)
	}
	err = recordEvents(ctx, tx, with, "system", event{kind: "incident", note: "其他业主反映了同一故障，已合并为一个事件"})
	return id, err
}

// unitFor returns the id of the home loc names, adding it to the register
// of units when new; nil when loc names no room.
func unitFor(ctx context.Context, tx pgx.Tx, loc triage.Location) (*int64, error) {
	if loc.Building == "" || loc.Room == "" {
		return nil, nil
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO units (building, unit, room) VALUES ($1, $2, $3)
		ON CONFLICT (building, unit, room) DO UPDATE SET building = EXCLUDED.building
		RETURNING id`, loc.Building, loc.Unit, loc.Room).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("register unit: %w", err)
	}
	return &id, nil
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

// event is one history entry to record.
type event struct {
	kind     string
	from, to ticket.State
	note     string
}

func recordEvents(ctx context.Context, tx pgx.Tx, ticketID int64, actor string, events ...event) error {
	for _, e := range events {
		_, err := tx.Exec(ctx, `
			INSERT INTO ticket_events (ticket_id, actor, kind, from_state, to_state, note)
			VALUES ($1, $2, $3, $4, $5, $6)`, ticketID, actor, e.kind, string(e.from), string(e.to), e.note)
		if err != nil {
			return fmt.Errorf("record ticket event: %w", err)
		}
	}
	return nil
}

func notify(ctx context.Context, tx pgx.Tx, ticketID int64, recipient, kind, body string) error {
	_, err := tx.Exec(ctx, `INSERT INTO notifications (ticket_id, recipient, kind, body) VALUES ($1, $2, $3, $4)`,
		ticketID, recipient, kind, body)
	if err != nil {
		return fmt.Errorf("notify %s: %w", recipient, err)
	}
	return nil
}

// notifyEscalation tells the project manager of a ticket escalated at
// intake, and why.
func notifyEscalation(ctx context.Context, tx pgx.Tx, t ticket.Ticket, res triage.Result) error {
	return notify(ctx, tx, t.ID, "manager", "escalated",
		fmt.Sprintf("工单 %s 需要项目经理关注：%s（%s）", t.Ref, orDash(res.Problem), strings.Join(res.EscalateReason, "、")))
}

func riskStrings(risks []triage.Risk) []string {
	out := make([]string, len(risks))
	for i, r := range risks {
		out[i] = string(r)
	}
	return out
}

var channelNames = map[ticket.Channel]string{ticket.WeChat: "微信", ticket.App: "业主APP", ticket.Web: "网页", ticket.Phone: "电话"}

func channelName(c ticket.Channel) string {
	if n, ok := channelNames[c]; ok {
		return n
	}
	return string(c)
}

func orDash(s string) string { return firstNonEmpty(s, "—") }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
