package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/huiyin/huiyin"
)

// PingTimeout bounds the connectivity check of [Open] and [Ready].
const PingTimeout = 5 * time.Second

// Open connects to the database at url and checks that it answers. The
// caller closes the pool. A nil log discards the log.
//
// It returns an error wrapping huiyin.ErrInvalid for an empty or malformed
// url, or a PGlite server without default_query_exec_mode=exec, and
// huiyin.ErrUnavailable when the server cannot be reached within
// [PingTimeout] (or ctx ends first).
func Open(ctx context.Context, url string, log *slog.Logger) (*pgxpool.Pool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if url == "" {
		return nil, fmt.Errorf("%w: the database URL is empty (set DATABASE_URL)", huiyin.ErrInvalid)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, fmt.Errorf("%w: parse the database URL: %v", huiyin.ErrInvalid, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: create the connection pool for %s: %w", huiyin.ErrUnavailable, target(cfg), err)
	}
	if err := ping(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: the database at %s does not answer: %w", huiyin.ErrUnavailable, target(cfg), err)
	}
	// The simple protocol prepares nothing, so this works on PGlite in any mode.
	var version string
	if err := pool.QueryRow(ctx, `SELECT version()`, pgx.QueryExecModeSimpleProtocol).Scan(&version); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: the database at %s: read its version: %w", huiyin.ErrUnavailable, target(cfg), err)
	}
	// pgx's default mode prepares statements under names derived from their
	// SQL; on PGlite's one shared session two connections then collide
	// ("prepared statement already exists") at random. Refuse at once.
	if strings.Contains(version, "PGlite") && cfg.ConnConfig.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement {
		pool.Close()
		return nil, fmt.Errorf("%w: the database at %s is PGlite, whose connections share one session: "+
			"add default_query_exec_mode=exec to the URL (scripts/devdb url prints one)", huiyin.ErrInvalid, target(cfg))
	}
	// For the same reason two connections interleaving the extended
	// protocol lose each other's unnamed statements ("unnamed prepared
	// statement does not exist"). One connection serialises them; PGlite
	// runs one statement at a time anyway.
	if strings.Contains(version, "PGlite") && cfg.MaxConns > 1 {
		pool.Close()
		cfg.MaxConns = 1
		if pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
			return nil, fmt.Errorf("%w: create the connection pool for %s: %w", huiyin.ErrUnavailable, target(cfg), err)
		}
	}
	log.Info("database connected",
		"target", target(cfg),
		"server", version,
		"exec_mode", cfg.ConnConfig.DefaultQueryExecMode.String(),
		"max_conns", cfg.MaxConns)
	return pool, nil
}

// Ready reports whether the database answers and its schema is current: it
// returns nil, an error wrapping huiyin.ErrUnavailable when the server does
// not answer, or one wrapping [ErrMigrationsPending] (itself an
// ErrUnavailable) when migrations remain to be applied. A database ahead of
// this binary (a newer release migrated it) counts as ready, so that a
// rolling deployment can run both. It writes nothing.
func Ready(ctx context.Context, pool *pgxpool.Pool) error {
	if err := ping(ctx, pool); err != nil {
		return fmt.Errorf("%w: the database does not answer: %w", huiyin.ErrUnavailable, err)
	}
	current, latest, err := MigrationStatus(ctx, pool)
	if err != nil {
		return err
	}
	if current < latest {
		return fmt.Errorf("%w: schema version %d, this build needs %d (run huiyin migrate)", ErrMigrationsPending, current, latest)
	}
	var jobQueue bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('river_job') IS NOT NULL`).Scan(&jobQueue); err != nil {
		return fmt.Errorf("%w: look for the job queue: %w", huiyin.ErrUnavailable, err)
	}
	if !jobQueue {
		return fmt.Errorf("%w: the job queue tables are missing (run huiyin migrate)", ErrMigrationsPending)
	}
	return nil
}

func ping(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	err := pool.Ping(ctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s: %w", PingTimeout, err)
	}
	return err
}

// target names the server and database of cfg for messages, without
// credentials.
func target(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s/%s", hostPort(c.Host, c.Port), c.Database)
}

func hostPort(host string, port uint16) string {
	if len(host) > 0 && host[0] == '/' { // a Unix socket directory
		return host + ":" + strconv.Itoa(int(port))
	}
	return fmt.Sprintf("%s:%d", host, port)
}
