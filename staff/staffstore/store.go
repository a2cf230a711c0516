package staffstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/staff"
)

// Store is the staff store.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// New returns a store over a migrated database.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool, now: time.Now} }

const memberColumns = `id, username, name, role, department, active, created_at`

func scanMember(row pgx.Row) (staff.Member, error) {
	var m staff.Member
	var role string
	err := row.Scan(&m.ID, &m.Username, &m.Name, &role, &m.Department, &m.Active, &m.CreatedAt)
	m.Role = staff.Role(role)
	return m, err
}

// Create adds an account; a taken username is ErrConflict.
func (s *Store) Create(ctx context.Context, n staff.NewMember) (staff.Member, error) {
	if err := n.Validate(); err != nil {
		return staff.Member{}, err
	}
	hash, err := staff.HashPassword(n.Password)
	if err != nil {
		return staff.Member{}, err
	}
	m, err := scanMember(s.pool.QueryRow(ctx, `
		INSERT INTO staff (username, name, role, department, password_hash)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+memberColumns,
		n.Username, n.Name, string(n.Role), n.Department, hash))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return m, fmt.Errorf("%w: 用户名 %s 已存在", huiyin.ErrConflict, n.Username)
	}
	if err != nil {
		return m, fmt.Errorf("create staff %s: %w", n.Username, err)
	}
	return m, nil
}

// List returns every account.
func (s *Store) List(ctx context.Context) ([]staff.Member, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+memberColumns+` FROM staff ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (staff.Member, error) { return scanMember(r) })
}

// Count returns how many accounts exist.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM staff`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count staff: %w", err)
	}
	return n, nil
}

// Login checks a password and opens a session; it returns the session
// token (shown once) and when it expires. Any failure is
// staff.ErrBadCredentials wrapped in huiyin.ErrUnauthorized.
func (s *Store) Login(ctx context.Context, username, password string) (string, time.Time, staff.Member, error) {
	var hash string
	var m staff.Member
	var role string
	err := s.pool.QueryRow(ctx, `SELECT `+memberColumns+`, password_hash FROM staff WHERE username = $1`, username).
		Scan(&m.ID, &m.Username, &m.Name, &role, &m.Department, &m.Active, &m.CreatedAt, &hash)
	m.Role = staff.Role(role)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, m, fmt.Errorf("look up %s: %w", username, err)
	}
	if err := staff.CheckPassword(hash, password); err != nil || !m.Active {
		return "", time.Time{}, staff.Member{}, fmt.Errorf("%w: %w", huiyin.ErrUnauthorized, staff.ErrBadCredentials)
	}
	token, tokenHash, err := staff.NewSecret(staff.SessionPrefix)
	if err != nil {
		return "", time.Time{}, m, err
	}
	expires := s.now().Add(staff.SessionTTL)
	_, err = s.pool.Exec(ctx, `
		WITH gone AS (DELETE FROM staff_sessions WHERE expires_at < now())
		INSERT INTO staff_sessions (token_hash, staff_id, expires_at) VALUES ($1, $2, $3)`, tokenHash, m.ID, expires)
	if err != nil {
		return "", time.Time{}, m, fmt.Errorf("open session: %w", err)
	}
	return token, expires, m, nil
}

// Logout ends a session.
func (s *Store) Logout(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM staff_sessions WHERE token_hash = $1`, staff.HashSecret(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// Authenticate returns who a session token or API key belongs to; an
// unknown, expired or revoked one is huiyin.ErrUnauthorized.
func (s *Store) Authenticate(ctx context.Context, secret string) (staff.Principal, error) {
	h := staff.HashSecret(secret)
	var p staff.Principal
	var role string
	var err error
	switch {
	case strings.HasPrefix(secret, staff.SessionPrefix):
		err = s.pool.QueryRow(ctx, `
			SELECT s.id, s.username, s.role, s.department
			FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
			WHERE x.token_hash = $1 AND x.expires_at > now() AND s.active`, h).
			Scan(&p.StaffID, &p.Actor, &role, &p.Department)
	case strings.HasPrefix(secret, staff.APIKeyPrefix):
		err = s.pool.QueryRow(ctx, `
			UPDATE api_keys SET last_used_at = now()
			WHERE key_hash = $1 AND revoked_at IS NULL
			RETURNING 'key:' || name, role`, h).Scan(&p.Actor, &role)
	default:
		err = pgx.ErrNoRows
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("%w: 登录已失效或凭证无效，请重新登录", huiyin.ErrUnauthorized)
	}
	if err != nil {
		return p, fmt.Errorf("authenticate: %w", err)
	}
	p.Role = staff.Role(role)
	return p, nil
}

// CreateAPIKey makes a key for an integration; the key is returned once.
func (s *Store) CreateAPIKey(ctx context.Context, name string, role staff.Role, createdBy string) (string, staff.APIKey, error) {
	var k staff.APIKey
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 50 {
		return "", k, fmt.Errorf("%w: 密钥名称不能为空，最多 50 个字符", huiyin.ErrInvalid)
	}
	if _, err := staff.ParseRole(string(role)); err != nil {
		return "", k, err
	}
	secret, hash, err := staff.NewSecret(staff.APIKeyPrefix)
	if err != nil {
		return "", k, err
	}
	k, err = scanKey(s.pool.QueryRow(ctx, `
		INSERT INTO api_keys (name, key_hash, prefix, role, created_by) VALUES ($1, $2, $3, $4, $5)
		RETURNING `+keyColumns, name, hash, secret[:len(staff.APIKeyPrefix)+6], string(role), createdBy))
	if err != nil {
		return "", k, fmt.Errorf("create API key: %w", err)
	}
	return secret, k, nil
}

const keyColumns = `id, name, prefix, role, created_by, created_at, last_used_at, revoked_at`

func scanKey(row pgx.Row) (staff.APIKey, error) {
	var k staff.APIKey
	var role string
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &role, &k.CreatedBy, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
	k.Role = staff.Role(role)
	return k, err
}

// APIKeys lists the keys, newest first.
func (s *Store) APIKeys(ctx context.Context) ([]staff.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (staff.APIKey, error) { return scanKey(r) })
}

// RevokeAPIKey stops a key from working.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("revoke API key %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: 没有编号为 %d 的密钥", huiyin.ErrNotFound, id)
	}
	return nil
}

// Audit records a staff action.
func (s *Store) Audit(ctx context.Context, e staff.AuditEntry) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO audit_log (actor, action, target, status, ip, request_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.Actor, e.Action, e.Target, e.Status, e.IP, e.RequestID)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditLog returns the latest entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]staff.AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT at, actor, action, target, status, ip, request_id FROM audit_log ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (staff.AuditEntry, error) {
		var e staff.AuditEntry
		err := r.Scan(&e.At, &e.Actor, &e.Action, &e.Target, &e.Status, &e.IP, &e.RequestID)
		return e, err
	})
}
