package ticketstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/ticket"
)

// Analytics sums up the tickets opened in [from, to).
func (s *Store) Analytics(ctx context.Context, from, to time.Time) (ticket.Analytics, error) {
	a := ticket.Analytics{From: from, To: to}
	if !from.Before(to) {
		return a, fmt.Errorf("%w: 起始时间须早于结束时间", huiyin.ErrInvalid)
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT count(*), count(*) FILTER (WHERE repeat_of IS NOT NULL OR 'repeat' = ANY (risks)),
				count(*) FILTER (WHERE escalated_at IS NOT NULL)
			FROM tickets WHERE created_at >= $1 AND created_at < $2`, from, to).Scan(&a.Tickets, &a.Repeats, &a.Escalated)
		if err != nil {
			return fmt.Errorf("count tickets: %w", err)
		}
		counts := []struct {
			dst *[]ticket.Count
			sql string
		}{
			{&a.ByCategory, `SELECT category, count(*) FROM tickets WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 2 DESC, 1`},
			{&a.ByBuilding, `SELECT building, count(*) FROM tickets WHERE created_at >= $1 AND created_at < $2 AND building <> ''
				GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20`},
			{&a.ByWeek, `SELECT to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-"W"IW'), count(*)
				FROM tickets WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1`},
		}
		for _, c := range counts {
			rows, err := tx.Query(ctx, c.sql, from, to)
			if err != nil {
				return fmt.Errorf("ticket counts: %w", err)
			}
			if *c.dst, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ticket.Count]); err != nil {
				return fmt.Errorf("ticket counts: %w", err)
			}
		}
		timings := []struct {
			dst       *ticket.Timing
			done, due string
		}{
			{&a.FirstResponse, "first_responded_at", "first_response_by"},
			{&a.Resolution, "resolved_at", "resolution_by"},
		}
		for _, t := range timings {
			d, by := t.done, t.due
			err := tx.QueryRow(ctx, `
				SELECT count(*) FILTER (WHERE `+d+` IS NOT NULL OR `+by+` < now()),
					count(*) FILTER (WHERE `+d+` IS NOT NULL AND `+d+` <= `+by+`),
					count(*) FILTER (WHERE (`+d+` IS NOT NULL AND `+d+` > `+by+`) OR (`+d+` IS NULL AND `+by+` < now())),
					coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM `+d+` - coalesce(received_at, created_at)) / 60), 0),
					coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM `+d+` - coalesce(received_at, created_at)) / 60), 0)
				FROM tickets WHERE created_at >= $1 AND created_at < $2`, from, to).
				Scan(&t.dst.Due, &t.dst.Met, &t.dst.Late, &t.dst.MedianMinutes, &t.dst.P90Minutes)
			if err != nil {
				return fmt.Errorf("deadline compliance: %w", err)
			}
			if t.dst.Due > 0 {
				t.dst.Compliance = float64(t.dst.Met) / float64(t.dst.Due)
			}
		}
		rows, err := tx.Query(ctx, `
			SELECT category, problem, count(*) FROM tickets
			WHERE created_at >= $1 AND created_at < $2 AND problem <> ''
			GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 3 DESC, 1, 2 LIMIT 10`, from, to)
		if err != nil {
			return fmt.Errorf("top problems: %w", err)
		}
		if a.TopProblems, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ticket.ProblemCount]); err != nil {
			return fmt.Errorf("top problems: %w", err)
		}
		rows, err = tx.Query(ctx, `
			SELECT f.score, count(*) FROM follow_ups f JOIN tickets t ON t.id = f.ticket_id
			WHERE t.created_at >= $1 AND t.created_at < $2 AND f.score IS NOT NULL GROUP BY 1`, from, to)
		if err != nil {
			return fmt.Errorf("satisfaction: %w", err)
		}
		sum := 0
		var score int16
		var n int
		_, err = pgx.ForEachRow(rows, []any{&score, &n}, func() error {
			a.Satisfaction.Distribution[score-1] = n
			a.Satisfaction.Responses += n
			sum += int(score) * n
			return nil
		})
		if err != nil {
			return fmt.Errorf("satisfaction: %w", err)
		}
		if a.Satisfaction.Responses > 0 {
			a.Satisfaction.Average = float64(sum) / float64(a.Satisfaction.Responses)
		}
		rows, err = tx.Query(ctx, `
			SELECT to_char(f.done_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-"W"IW'), avg(f.score)::float8, count(*)
			FROM follow_ups f JOIN tickets t ON t.id = f.ticket_id
			WHERE t.created_at >= $1 AND t.created_at < $2 AND f.score IS NOT NULL GROUP BY 1 ORDER BY 1`, from, to)
		if err != nil {
			return fmt.Errorf("satisfaction by week: %w", err)
		}
		if a.Satisfaction.ByWeek, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ticket.Score]); err != nil {
			return fmt.Errorf("satisfaction by week: %w", err)
		}
		return nil
	})
	return a, err
}

// Export returns the tickets opened in [from, to) for the CSV export,
// oldest first, at most limit.
func (s *Store) Export(ctx context.Context, from, to time.Time, limit int) ([]ticket.ExportRow, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT t.ref, t.created_at, t.state, t.category, t.urgency, t.department, t.building, t.unit, t.room, t.problem,
			t.assignee, t.first_response_by, t.first_responded_at, t.resolution_by, t.resolved_at,
			(t.repeat_of IS NOT NULL OR 'repeat' = ANY (t.risks)), t.escalated_at IS NOT NULL, coalesce(i.ref, ''),
			(SELECT f.score::int FROM follow_ups f WHERE f.ticket_id = t.id AND f.score IS NOT NULL ORDER BY f.id DESC LIMIT 1)
		FROM tickets t LEFT JOIN incidents i ON i.id = t.incident_id
		WHERE t.created_at >= $1 AND t.created_at < $2 ORDER BY t.created_at, t.id LIMIT $3`, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("export tickets: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.ExportRow, error) {
		var e ticket.ExportRow
		var state string
		err := r.Scan(&e.Ref, &e.CreatedAt, &state, &e.Category, &e.Urgency, &e.Department, &e.Building, &e.Unit, &e.Room,
			&e.Problem, &e.Assignee, &e.FirstResponseBy, &e.FirstRespondedAt, &e.ResolutionBy, &e.ResolvedAt,
			&e.Repeat, &e.Escalated, &e.Incident, &e.Score)
		e.State = ticket.State(state)
		return e, err
	})
}
