// Package dbtest gives each database test a migrated, empty database.
//
// Every package with database tests calls [Main] from TestMain and [New] at
// the start of each test:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		pool := dbtest.New(t)
//		...
//	}
//
// # Where the database comes from
//
// With HUIYIN_TEST_DATABASE_URL set (a real PostgreSQL with pgvector, for
// example the one docker-compose.yml starts), the test binary creates a
// database named huiyin_test_<random> on that server, migrates it once and
// drops it when [Main] returns. The role needs CREATEDB.
//
// Otherwise the binary starts its own throw-away PGlite server (PostgreSQL
// in WASM with pgvector, in memory) with Node from the repository's
// node_modules (installed by `scripts/devdb install`; override the folder
// with HUIYIN_TEST_NODE_MODULES) on a free local port, and migrates it once.
// Start-up takes a few seconds per test binary; [Main] stops the server. A
// package that forgot TestMain still works: the server is killed with the
// test binary (Linux parent-death signal), though a real PostgreSQL test
// database is then left behind.
//
// When neither can be had (no Node or node_modules, an unreachable URL),
// [New] skips the test with the reason, except in CI (CI=true), where it
// fails it: a database test must not pass silently there. Any other
// trouble (a migration that fails, a server that crashes) fails the test
// everywhere.
//
// # Isolation
//
// All tests of a package share one database. [New] empties it first:
// every table in schema public except the migration bookkeeping is
// emptied (TRUNCATE ... CASCADE of those holding rows) and every sequence
// restarted, so a test sees no rows and identities start at 1. Hence database tests must not call t.Parallel.
// Only rows are reset: indexes, tables or session settings a test creates
// stay for the next test, so a test that changes the schema undoes it. On
// PGlite every connection shares one backend session, so one transaction
// left open blocks every other connection; [New] then fails after
// [ResetTimeout] instead of hanging.
//
// The pool belongs to the package: tests must not close it.
package dbtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/huiyin/huiyin/db"
)

// Environment variables read by the package.
const (
	// EnvDatabaseURL names a PostgreSQL server (with pgvector) to create the
	// test databases on, instead of starting PGlite.
	EnvDatabaseURL = "HUIYIN_TEST_DATABASE_URL"
	// EnvNodeModules overrides the node_modules folder holding PGlite
	// (default: node_modules beside go.mod).
	EnvNodeModules = "HUIYIN_TEST_NODE_MODULES"
)

// ResetTimeout bounds the emptying of the database at the start of a test.
const ResetTimeout = 30 * time.Second

// setupTimeout bounds starting the server (or creating the database) and
// migrating it.
const setupTimeout = 2 * time.Minute

// keepTables are the tables in schema public that New does not empty: the
// migration bookkeeping (goose's, and river's once the job queue lands).
var keepTables = []string{db.VersionTable, "river_migration"}

// testDB is the package's database, set up on first use.
type testDB struct {
	pool *pgxpool.Pool
	url  string
	kind string       // "PGlite" or "PostgreSQL"
	stop func() error // stops the server or drops the database; may be nil
	err  error        // why there is no database
	// missing: err is a missing prerequisite (no Node or PGlite, an
	// unreachable server), which skips tests outside CI; any other err
	// (a failing migration, a crashing server) fails them everywhere.
	missing bool

	startTime, migrateTime time.Duration // for the record: see TestTimings
}

var (
	once       sync.Once
	shared     testDB
	mainCalled bool // set by Main before the tests run
	warnOnce   sync.Once
)

// Main runs the package's tests and then releases the test database (stops
// the PGlite server or drops the PostgreSQL database). Call it from
// TestMain:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
func Main(m *testing.M) {
	mainCalled = true
	code := m.Run()
	once.Do(func() {}) // no test asked for a database: nothing to release
	if shared.pool != nil {
		shared.pool.Close()
	}
	if shared.stop != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "dbtest: release the %s test database: %v\n", shared.kind, err)
		}
	}
	os.Exit(code)
}

// New returns the package's test database, migrated and emptied of every
// row. It skips the test when no database can be had, or fails it when the
// environment variable CI is "true". Tests must not close the pool nor run
// in parallel with other database tests.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return acquire(t).pool
}

// URL is [New] for code that opens the database itself (a command run by
// the test): it empties the test database and returns its connection
// string.
func URL(t testing.TB) string {
	t.Helper()
	return acquire(t).url
}

func acquire(t testing.TB) *testDB {
	t.Helper()
	once.Do(func() { shared = setup() })
	switch {
	case shared.err != nil && !shared.missing:
		t.Fatalf("dbtest: %v", shared.err)
	case shared.err != nil && os.Getenv("CI") == "true":
		t.Fatalf("dbtest: no test database (CI=true, so this fails instead of skipping): %v", shared.err)
	case shared.err != nil:
		t.Skipf("dbtest: no test database, skipping: %v", shared.err)
	}
	if !mainCalled && shared.kind == "PostgreSQL" {
		warnOnce.Do(func() {
			t.Logf("dbtest: this package's TestMain does not call dbtest.Main; the test database will be left on the server")
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), ResetTimeout)
	defer cancel()
	if err := reset(ctx, shared.pool); err != nil {
		t.Fatalf("dbtest: empty the %s test database: %v (did an earlier test leave a transaction open?)", shared.kind, err)
	}
	return &shared
}

// setup provides the package's database: on the server of EnvDatabaseURL,
// else on a PGlite server of its own.
func setup() testDB {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	if url := os.Getenv(EnvDatabaseURL); url != "" {
		return setupPostgres(ctx, url, log)
	}
	return setupPGlite(ctx, log)
}

// migrate opens url and applies the migrations; stop is called on failure.
func migrate(ctx context.Context, d testDB, log *slog.Logger) testDB {
	start := time.Now()
	pool, err := db.Open(ctx, d.url, log)
	if err == nil {
		err = db.Migrate(ctx, pool, log)
		if err != nil {
			pool.Close()
		}
	}
	if err != nil {
		if d.stop != nil {
			_ = d.stop()
		}
		return testDB{err: fmt.Errorf("%s test database: %w", d.kind, err)}
	}
	d.pool = pool
	d.migrateTime = time.Since(start)
	return d
}

// resetSQL empties the database in one round trip: it truncates (with
// CASCADE) the tables in schema public that hold rows, except keepTables,
// and restarts every sequence that was used. Skipping the empty tables
// matters on PGlite, where each TRUNCATE costs a few milliseconds (new
// files for the table and its indexes) while an emptiness check is cheap.
var resetSQL = `
DO $$
DECLARE
	t text;
	has_rows boolean;
	full_tables text[] := '{}';
BEGIN
	FOR t IN SELECT format('%I.%I', schemaname, tablename)
	           FROM pg_tables
	          WHERE schemaname = 'public' AND tablename NOT IN (` + quoteList(keepTables) + `)
	LOOP
		EXECUTE 'SELECT EXISTS (SELECT FROM ' || t || ')' INTO has_rows;
		IF has_rows THEN
			full_tables := full_tables || t;
		END IF;
	END LOOP;
	IF cardinality(full_tables) > 0 THEN
		EXECUTE 'TRUNCATE TABLE ' || array_to_string(full_tables, ', ') || ' CASCADE';
	END IF;
	-- last_value is NULL for a sequence never used since its last restart.
	PERFORM setval(format('%I.%I', schemaname, sequencename), start_value, false)
	   FROM pg_sequences
	  WHERE schemaname = 'public' AND last_value IS NOT NULL;
END
$$`

func reset(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, resetSQL)
	return err
}

// quoteList renders names as a list of SQL string literals.
func quoteList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + strings.ReplaceAll(n, "'", "''") + "'"
	}
	return strings.Join(quoted, ", ")
}

// Explain returns the plan PostgreSQL chooses for sql with args when
// sequential scans are ruled out, so that a test on a small table sees
// which index the query can use.
func Explain(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN `+sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
