package ticketstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/triage"
)

// Relabel changes a ticket's labels with correct, which gets the labels
// as they stand and when the ticket was received and returns the new ones
// with the fields that changed. The ticket takes the new routing and
// deadlines (with checks for them), and the correction is kept as
// training feedback with the owner's words masked; all in one transaction.
func (s *Store) Relabel(ctx context.Context, ref, actor string, correct ticket.Corrector) (ticket.Ticket, []string, error) {
	var t ticket.Ticket
	var fields []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if t, err = lockTicket(ctx, tx, ref); err != nil {
			return err
		}
		var received time.Time
		var text string
		err = tx.QueryRow(ctx, `
			SELECT coalesce(received_at, created_at),
				coalesce((SELECT string_agg(m.body, E'\n' ORDER BY m.received_at, m.id) FROM messages m WHERE m.ticket_id = $1), '')
			FROM tickets WHERE id = $1`, t.ID).Scan(&received, &text)
		if err != nil {
			return fmt.Errorf("read ticket %s: %w", ref, err)
		}
		before := t.Triage
		after, changed, err := correct(before, received)
		if err != nil || len(changed) == 0 {
			return err
		}
		fields = changed
		raw, err := json.Marshal(after)
		if err != nil {
			return fmt.Errorf("encode triage: %w", err)
		}
		_, err = tx.Exec(ctx, `
			UPDATE tickets SET category = $2, intent = $3, urgency = $4, sentiment = $5, risks = $6, department = $7,
				escalate = $8, escalate_to = $9, first_response_by = $10, resolution_by = $11, resolution_kind = $12,
				triage = $13, updated_at = now(),
				escalated_at = CASE WHEN $8 THEN coalesce(escalated_at, now()) ELSE escalated_at END
			WHERE id = $1`, t.ID, string(after.Category), string(after.Intent), string(after.Urgency), string(after.Sentiment),
			riskStrings(after.Risks), after.Department, after.Escalate, after.EscalateTo,
			after.Deadlines.FirstResponseBy, after.Deadlines.ResolutionBy, string(after.Deadlines.ResolutionKind), string(raw))
		if err != nil {
			return fmt.Errorf("relabel %s: %w", ref, err)
		}
		masked, _ := knowledge.Mask(text)
		_, err = tx.Exec(ctx, `
			INSERT INTO triage_feedback (ticket_id, body, predicted, corrected, fields, actor) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, masked, labelsJSON(before), labelsJSON(after), changed, actor)
		if err != nil {
			return fmt.Errorf("record feedback on %s: %w", ref, err)
		}
		if err := recordEvents(ctx, tx, t.ID, actor, event{kind: "relabeled", note: "人工修正分类：" + describeChanges(before, after, changed)}); err != nil {
			return err
		}
		t.Triage = after
		switch t.State {
		case ticket.Resolved, ticket.FollowedUp, ticket.Closed:
			// Done: the correction is kept for training and analytics,
			// but nobody is to be chased about it now.
			return nil
		}
		if after.Escalate && !before.Escalate {
			if err := notifyEscalation(ctx, tx, t, after); err != nil {
				return err
			}
		}
		if after.Deadlines.FirstResponseBy.Equal(before.Deadlines.FirstResponseBy) && after.Deadlines.ResolutionBy.Equal(before.Deadlines.ResolutionBy) {
			return nil
		}
		// The checks at the old deadlines find them moved and snooze or
		// stand down; these cover deadlines brought forward.
		return s.enqueue(ctx, tx, deadlineJobs(t.ID, after.Deadlines)...)
	})
	return t, fields, err
}

// labelsJSON is the label contract's fields of res, as the evaluation data
// writes them.
func labelsJSON(res triage.Result) string {
	b, _ := json.Marshal(map[string]any{
		"category": res.Category, "intent": res.Intent, "urgency": res.Urgency,
		"sentiment": res.Sentiment, "risks": riskStrings(res.Risks),
	})
	return string(b)
}

func describeChanges(before, after triage.Result, fields []string) string {
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		switch f {
		case "category":
			parts = append(parts, "类别 "+before.Category.Name()+" → "+after.Category.Name())
		case "intent":
			parts = append(parts, "诉求 "+before.Intent.Name()+" → "+after.Intent.Name())
		case "urgency":
			parts = append(parts, "紧急程度 "+before.Urgency.Name()+" → "+after.Urgency.Name())
		case "sentiment":
			parts = append(parts, "情绪 "+before.Sentiment.Name()+" → "+after.Sentiment.Name())
		case "risks":
			parts = append(parts, "风险 "+riskNames(before.Risks)+" → "+riskNames(after.Risks))
		}
	}
	if after.Department != before.Department {
		parts = append(parts, "转派 "+after.DepartmentName)
	}
	return strings.Join(parts, "；")
}

// Feedback returns the label corrections made since since, oldest first,
// at most limit.
func (s *Store) Feedback(ctx context.Context, since time.Time, limit int) ([]ticket.Feedback, error) {
	if limit <= 0 || limit > 50000 {
		limit = 50000
	}
	rows, err := s.pool.Query(ctx, `
		SELECT f.id, t.ref, f.body, f.predicted, f.corrected, f.fields, f.actor, f.created_at
		FROM triage_feedback f JOIN tickets t ON t.id = f.ticket_id
		WHERE f.created_at >= $1 ORDER BY f.id LIMIT $2`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("list feedback: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.Feedback, error) {
		var f ticket.Feedback
		var predicted, corrected []byte
		err := r.Scan(&f.ID, &f.Ticket, &f.Text, &predicted, &corrected, &f.Fields, &f.Actor, &f.CreatedAt)
		if err == nil {
			err = json.Unmarshal(predicted, &f.Predicted)
		}
		if err == nil {
			err = json.Unmarshal(corrected, &f.Corrected)
		}
		return f, err
	})
}

func riskNames(risks []triage.Risk) string {
	names := make([]string, len(risks))
	for i, r := range risks {
		names[i] = r.Name()
	}
	return orDash(strings.Join(names, "、"))
}
