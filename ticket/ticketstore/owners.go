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

// owner reads an owner's record with units and channel identities.
func (s *Store) owner(ctx context.Context, id int64) (ticket.Owner, error) {
	var o ticket.Owner
	err := s.pool.QueryRow(ctx, `
		SELECT id, name, phone, notes, vulnerable, provisional, created_at FROM owners WHERE id = $1`, id).
		Scan(&o.ID, &o.Name, &o.Phone, &o.Notes, &o.Vulnerable, &o.Provisional, &o.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, fmt.Errorf("%w: 没有编号为 %d 的业主", huiyin.ErrNotFound, id)
	}
	if err != nil {
		return o, fmt.Errorf("get owner %d: %w", id, err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT u.building, u.unit, u.room FROM owner_units ou JOIN units u ON u.id = ou.unit_id
		WHERE ou.owner_id = $1 ORDER BY u.building, u.unit, u.room`, id)
	if err != nil {
		return o, fmt.Errorf("units of owner %d: %w", id, err)
	}
	if o.Units, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ticket.Unit]); err != nil {
		return o, fmt.Errorf("units of owner %d: %w", id, err)
	}
	rows, err = s.pool.Query(ctx, `SELECT channel, channel_user FROM owner_channels WHERE owner_id = $1 ORDER BY channel`, id)
	if err != nil {
		return o, fmt.Errorf("channels of owner %d: %w", id, err)
	}
	o.Channels, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ticket.ChannelID, error) {
		var c ticket.ChannelID
		var ch string
		err := r.Scan(&ch, &c.User)
		c.Channel = ticket.Channel(ch)
		return c, err
	})
	if err != nil {
		return o, fmt.Errorf("channels of owner %d: %w", id, err)
	}
	return o, nil
}

// GetOwner returns an owner's record.
func (s *Store) GetOwner(ctx context.Context, id int64) (ticket.Owner, error) {
	return s.owner(ctx, id)
}

// Owners finds owners by name, phone, room or channel id; an empty query
// lists the provisional owners waiting to be confirmed first.
func (s *Store) Owners(ctx context.Context, q string, limit int) ([]ticket.Owner, error) {
	q = strings.TrimSpace(q)
	if len([]rune(q)) > 50 {
		return nil, fmt.Errorf("%w: 搜索内容最多 50 个字符", huiyin.ErrInvalid)
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
	rows, err := s.pool.Query(ctx, `
		SELECT o.id FROM owners o
		WHERE $1 = '' OR o.name LIKE $2 OR o.phone LIKE $2 OR o.notes LIKE $2
		   OR EXISTS (SELECT FROM owner_channels c WHERE c.owner_id = o.id AND c.channel_user LIKE $2)
		   OR EXISTS (SELECT FROM owner_units ou JOIN units u ON u.id = ou.unit_id
		              WHERE ou.owner_id = o.id AND (u.building || u.unit || u.room) LIKE $2)
		ORDER BY o.provisional DESC, o.id DESC LIMIT $3`, q, like, limit)
	return loadEach(ctx, "search owners", rows, err, s.owner)
}

// UpdateOwner changes an owner's record; the change is recorded in the
// audit log by the caller.
func (s *Store) UpdateOwner(ctx context.Context, id int64, u ticket.OwnerUpdate) (ticket.Owner, error) {
	if err := u.Check(); err != nil {
		return ticket.Owner{}, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE owners SET name = coalesce($2, name), phone = coalesce($3, phone), notes = coalesce($4, notes),
				vulnerable = coalesce($5, vulnerable),
				provisional = CASE WHEN $6::boolean THEN false ELSE provisional END, updated_at = now()
			WHERE id = $1`, id, u.Name, u.Phone, u.Notes, u.Vulnerable, u.Confirmed != nil && *u.Confirmed)
		if err != nil {
			return fmt.Errorf("update owner %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: 没有编号为 %d 的业主", huiyin.ErrNotFound, id)
		}
		if u.Units == nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM owner_units WHERE owner_id = $1`, id); err != nil {
			return fmt.Errorf("replace units of owner %d: %w", id, err)
		}
		for _, un := range *u.Units {
			var unitID int64
			err := tx.QueryRow(ctx, `
				INSERT INTO units (building, unit, room) VALUES ($1, $2, $3)
				ON CONFLICT (building, unit, room) DO UPDATE SET building = EXCLUDED.building RETURNING id`,
				strings.TrimSpace(un.Building), strings.TrimSpace(un.Unit), strings.TrimSpace(un.Room)).Scan(&unitID)
			if err != nil {
				return fmt.Errorf("register unit: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO owner_units (owner_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, unitID); err != nil {
				return fmt.Errorf("link unit: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return ticket.Owner{}, err
	}
	return s.owner(ctx, id)
}
