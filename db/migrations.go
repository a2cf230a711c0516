package db

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/huiyin/huiyin"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// VersionTable is goose's table of applied migrations. It is schema, not
// data: test helpers that empty the database leave it alone.
const VersionTable = goose.DefaultTablename

// ErrMigrationsPending means the database schema is older than this build:
// run `huiyin migrate` (or start the server with migration enabled). It
// wraps huiyin.ErrUnavailable, so a readiness probe maps it like an
// unreachable database.
var ErrMigrationsPending = fmt.Errorf("%w: database migrations pending", huiyin.ErrUnavailable)

// Migrations returns the embedded migration files (NNNNN_name.sql).
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// lockTimeout is how long Migrate waits for another process's migration.
const lockTimeout = 2 * time.Minute

// Migrate applies every pending migration, in order, each in its own
// transaction, and logs each one applied. Running it on a current database
// changes nothing. A session advisory lock keeps concurrent Migrate calls
// on one PostgreSQL database from overlapping. A nil log discards the log.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close() // does not close the pool
	const probe = 2     // seconds between attempts to take the lock
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockTimeout(probe, uint64(lockTimeout/(probe*time.Second))),
		lock.WithUnlockTimeout(probe, 5),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, Migrations(),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	start := time.Now()
	results, err := p.Up(ctx)
	var partial *goose.PartialError
	if errors.As(err, &partial) {
		results = partial.Applied
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		if partial != nil {
			return fmt.Errorf("migrate: version %d (%s): %w", partial.Failed.Source.Version, partial.Failed.Source.Path, partial.Err)
		}
		return fmt.Errorf("migrate: %w", err)
	}
	// River's job tables come from River's own migrator, run after ours
	// so that a job enqueued by a new migration's code finds its queue.
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("migrate the job queue: %w", err)
	}
	rres, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("migrate the job queue: %w", err)
	}
	for _, v := range rres.Versions {
		log.Info("job queue migration applied", "version", v.Version, "name", v.Name, "duration", v.Duration)
	}
	current, latest, err := MigrationStatus(ctx, pool)
	if err != nil {
		return err
	}
	log.Debug("migrations current", "version", current, "latest", latest, "applied", len(results), "duration", time.Since(start))
	return nil
}

// MigrationStatus returns the schema version of the database (0 before the
// first migration) and the latest version embedded in this build. It only
// reads; a database that cannot be queried wraps huiyin.ErrUnavailable.
func MigrationStatus(ctx context.Context, pool *pgxpool.Pool) (current, latest int64, err error) {
	latest, err = latestVersion()
	if err != nil {
		return 0, 0, err
	}
	// goose records every version applied (and a row for version 0); the
	// largest is the schema version. Before goose first ran there is no table.
	var exists bool
	err = pool.QueryRow(ctx, `SELECT to_regclass('`+VersionTable+`') IS NOT NULL`).Scan(&exists)
	if err == nil && exists {
		err = pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM `+VersionTable).Scan(&current)
	}
	if err != nil {
		return 0, latest, fmt.Errorf("%w: read the schema version: %w", huiyin.ErrUnavailable, err)
	}
	return current, latest, nil
}

// latestVersion is the highest version among the embedded migrations.
func latestVersion() (int64, error) {
	names, err := fs.Glob(Migrations(), "*.sql")
	if err != nil {
		return 0, fmt.Errorf("list migrations: %w", err)
	}
	var latest int64
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", name, err)
		}
		latest = max(latest, v)
	}
	return latest, nil
}
