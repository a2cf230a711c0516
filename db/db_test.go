package db_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/pgvector/pgvector-go"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/db"
	"github.com/huiyin/huiyin/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

func TestMigrateIsIdempotent(t *testing.T) {
	pool := dbtest.New(t) // migrated once already
	ctx := context.Background()
	for range 2 {
		if err := db.Migrate(ctx, pool, quiet); err != nil {
			t.Fatalf("Migrate on a current database: %v", err)
		}
	}
	current, latest, err := db.MigrationStatus(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if current != latest || latest < 1 {
		t.Errorf("MigrationStatus = %d, %d; want equal and at least 1", current, latest)
	}
	if err := db.Ready(ctx, pool); err != nil {
		t.Errorf("Ready: %v", err)
	}
}

func TestMigrationsPending(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	_, latest, err := db.MigrationStatus(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	// Pretend the last migration was never applied, and put the record
	// back afterwards (dbtest keeps goose's table across tests).
	var id int64
	var applied bool
	err = pool.QueryRow(ctx, `DELETE FROM `+db.VersionTable+` WHERE version_id = $1 RETURNING id, is_applied`, latest).Scan(&id, &applied)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), `INSERT INTO `+db.VersionTable+` (id, version_id, is_applied) VALUES ($1, $2, $3)`, id, latest, applied)
		if err != nil {
			t.Errorf("restore the migration record: %v", err)
		}
	})
	current, _, err := db.MigrationStatus(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if current >= latest {
		t.Fatalf("current = %d after removing version %d", current, latest)
	}
	err = db.Ready(ctx, pool)
	if !errors.Is(err, db.ErrMigrationsPending) || !errors.Is(err, huiyin.ErrUnavailable) {
		t.Errorf("Ready = %v, want ErrMigrationsPending (an ErrUnavailable)", err)
	}
}

func TestVectorExtension(t *testing.T) {
	pool := dbtest.New(t)
	var version string
	err := pool.QueryRow(context.Background(), `SELECT extversion FROM pg_extension WHERE extname = 'vector'`).Scan(&version)
	if err != nil {
		t.Fatalf("the vector extension is not installed: %v", err)
	}
	t.Logf("pgvector %s", version)
}

// TestHNSWExpressionIndex: the untyped embedding column takes an HNSW
// index on a cast to a fixed dimension, and nearest-neighbour queries on
// the same expression use it; vectors travel as text (no registered codec).
func TestHNSWExpressionIndex(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `CREATE INDEX kb_chunks_embedding_test ON kb_chunks USING hnsw ((embedding::vector(3)) vector_cosine_ops)`)
	if err != nil {
		t.Fatalf("create the HNSW index: %v", err)
	}
	t.Cleanup(func() { // schema outlives dbtest's reset
		if _, err := pool.Exec(context.Background(), `DROP INDEX kb_chunks_embedding_test`); err != nil {
			t.Errorf("drop the index: %v", err)
		}
	})
	var docID int64
	err = pool.QueryRow(ctx, `INSERT INTO kb_documents (source, title, kind, checksum) VALUES ('t.md', 't', 'faq', 'x') RETURNING id`).Scan(&docID)
	if err != nil {
		t.Fatal(err)
	}
	vectors := [][]float32{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}}
	for i, v := range vectors {
		_, err := pool.Exec(ctx, `INSERT INTO kb_chunks (document_id, ordinal, kind, section, body, embedding)
			VALUES ($1, $2, 'faq', 's', $3, $4::vector)`, docID, i, "chunk "+strconv.Itoa(i), pgvector.NewVector(v))
		if err != nil {
			t.Fatalf("insert chunk %d: %v", i, err)
		}
	}

	const nearest = `SELECT ordinal, embedding FROM kb_chunks
		ORDER BY embedding::vector(3) <=> $1::vector(3) LIMIT 2`
	query := pgvector.NewVector([]float32{0.9, 0.1, 0})
	rows, err := pool.Query(ctx, nearest, query)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	var first pgvector.Vector
	for rows.Next() {
		var ord int
		var v pgvector.Vector
		if err := rows.Scan(&ord, &v); err != nil {
			t.Fatal(err)
		}
		if got == nil {
			first = v
		}
		got = append(got, ord)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 0 || got[1] != 3 {
		t.Errorf("nearest = %v, want [0 3]", got)
	}
	if s := first.Slice(); len(s) != 3 || s[0] != 1 || s[1] != 0 || s[2] != 0 {
		t.Errorf("read back %v, want [1 0 0]", s)
	}

	// The planner takes the index when a sequential scan is ruled out.
	if plan := dbtest.Explain(t, pool, nearest, query); !strings.Contains(plan, "kb_chunks_embedding_test") {
		t.Errorf("the query does not use the HNSW index:\n%s", plan)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	tests := []struct {
		name, url string
		want      error
	}{
		{"empty", "", huiyin.ErrInvalid},
		{"malformed", "postgres://%zz", huiyin.ErrInvalid},
		{"bad option", "postgres://u@127.0.0.1/db?default_query_exec_mode=fast", huiyin.ErrInvalid},
		{"nobody listening", "postgres://u:secret@127.0.0.1:" + strconv.Itoa(closedPort) + "/db?sslmode=disable", huiyin.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, err := db.Open(ctx, tt.url, quiet)
			if err == nil {
				pool.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestMigrationsAreNumbered(t *testing.T) {
	names, err := fs.Glob(db.Migrations(), "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded migrations: %v", err)
	}
	for i, name := range names {
		want := i + 1
		if prefix := fmt.Sprintf("%05d_", want); !strings.HasPrefix(name, prefix) {
			t.Errorf("migration %q: want the prefix %s (consecutive five-digit versions)", name, prefix)
		}
	}
}

// TestOpenRefusesPreparedStatementsOnPGlite: pgx's default mode would make
// PGlite's connections collide, so Open says what to fix instead.
func TestOpenRefusesPreparedStatementsOnPGlite(t *testing.T) {
	url := dbtest.URL(t)
	if !strings.Contains(url, "default_query_exec_mode=exec") {
		t.Skip("the test database is not PGlite")
	}
	ctx := context.Background()
	for mode, want := range map[string]error{"cache_statement": huiyin.ErrInvalid, "cache_describe": nil} {
		pool, err := db.Open(ctx, strings.Replace(url, "default_query_exec_mode=exec", "default_query_exec_mode="+mode, 1), quiet)
		if err == nil {
			pool.Close()
		}
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("Open with %s = %v, want %v", mode, err, want)
		}
	}
	// Without the parameter pgx defaults to cache_statement.
	pool, err := db.Open(ctx, strings.Replace(url, "&default_query_exec_mode=exec", "", 1), quiet)
	if err == nil {
		pool.Close()
	}
	if !errors.Is(err, huiyin.ErrInvalid) || !strings.Contains(fmt.Sprint(err), "default_query_exec_mode=exec") {
		t.Errorf("Open without the mode = %v, want ErrInvalid naming the fix", err)
	}
}
