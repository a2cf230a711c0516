package dbtest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/huiyin/huiyin/db"
)

func TestMain(m *testing.M) { Main(m) }

// TestIsolation: rows written by one test are gone for the next, and
// identities start again at 1.
func TestIsolation(t *testing.T) {
	insert := func(t *testing.T) int64 {
		t.Helper()
		pool := New(t)
		var id int64
		err := pool.QueryRow(context.Background(), `
			INSERT INTO kb_documents (source, title, kind, checksum)
			VALUES ('faq/parking.md', '停车', 'faq', 'x') RETURNING id`).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	t.Run("first", func(t *testing.T) {
		if id := insert(t); id != 1 {
			t.Errorf("first id = %d, want 1", id)
		}
	})
	t.Run("second", func(t *testing.T) {
		pool := New(t)
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM kb_documents`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d documents left from the previous test, want 0", n)
		}
		if id := insert(t); id != 1 {
			t.Errorf("id after reset = %d, want 1 (RESTART IDENTITY)", id)
		}
	})
}

// TestResetKeepsMigrations: emptying the database leaves goose's record,
// so the schema still reads as current.
func TestResetKeepsMigrations(t *testing.T) {
	New(t)
	pool := New(t) // a second reset
	ctx := context.Background()
	current, latest, err := db.MigrationStatus(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if current != latest || current == 0 {
		t.Errorf("after reset: version %d, latest %d", current, latest)
	}
}

// TestCascade: a truncated parent takes its children with it, whatever
// order the tables are listed in.
func TestCascade(t *testing.T) {
	ctx := context.Background()
	pool := New(t)
	_, err := pool.Exec(ctx, `
		WITH d AS (INSERT INTO kb_documents (source, title, kind, checksum)
		           VALUES ('a', 'a', 'faq', 'x') RETURNING id),
		     c AS (INSERT INTO kb_chunks (document_id, ordinal, kind, section, body)
		           SELECT id, 0, 'faq', 's', 'b' FROM d RETURNING id)
		INSERT INTO kb_terms (chunk_id, term, tf, dl, kind) SELECT id, '停车', 1, 1, 'faq' FROM c`)
	if err != nil {
		t.Fatal(err)
	}
	pool = New(t)
	var n int
	err = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM kb_documents) + (SELECT count(*) FROM kb_chunks) + (SELECT count(*) FROM kb_terms)`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows left, want 0", n)
	}
}

func TestURL(t *testing.T) {
	url := URL(t)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var one int
	if err := conn.QueryRow(context.Background(), `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
}

// TestTimings records what the database costs the test suite (go test -v).
func TestTimings(t *testing.T) {
	New(t)
	const n = 20
	start := time.Now()
	for range n {
		New(t)
	}
	t.Logf("%s: start %v, open+migrate %v, reset %v per test",
		shared.kind, shared.startTime.Round(time.Millisecond), shared.migrateTime.Round(time.Millisecond),
		(time.Since(start) / n).Round(10*time.Microsecond))
}

func TestWithDatabase(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"url", "postgresql://u:p@h:5432/postgres?sslmode=disable", "postgresql://u:p@h:5432/huiyin_test_x?sslmode=disable"},
		{"url without database", "postgres://u@h", "postgres://u@h/huiyin_test_x"},
		{"url with dbname parameter", "postgres://u@h/a?dbname=b", "postgres://u@h/huiyin_test_x?dbname=huiyin_test_x"},
		{"keyword/value", "host=h user=u dbname=postgres", "host=h user=u dbname=postgres dbname=huiyin_test_x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withDatabase(tt.in, "huiyin_test_x")
			if err != nil || got != tt.want {
				t.Errorf("withDatabase(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// helperEnv marks the child test binary that TestNoDatabase runs.
const helperEnv = "HUIYIN_DBTEST_HELPER"

// TestNoDatabaseHelper is run by TestNoDatabase in a child process whose
// environment offers no database.
func TestNoDatabaseHelper(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("run by TestNoDatabase")
	}
	New(t)
	t.Log("got a database")
}

// TestNoDatabase: without a database a test skips locally and fails in CI.
func TestNoDatabase(t *testing.T) {
	cases := []struct {
		name string
		env  []string
	}{
		{"no node_modules", []string{EnvDatabaseURL + "=", EnvNodeModules + "=" + t.TempDir()}},
		{"unreachable server", []string{EnvDatabaseURL + "=postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2"}},
	}
	for _, c := range cases {
		for _, ci := range []string{"", "true"} {
			t.Run(c.name+" CI="+ci, func(t *testing.T) {
				cmd := exec.Command(os.Args[0], "-test.run=^TestNoDatabaseHelper$", "-test.v")
				cmd.Env = append(os.Environ(), helperEnv+"=1", "CI="+ci)
				cmd.Env = append(cmd.Env, c.env...)
				out, err := cmd.CombinedOutput()
				switch {
				case ci == "true" && err == nil:
					t.Errorf("CI=true: the test passed or skipped, want a failure:\n%s", out)
				case ci == "true" && !strings.Contains(string(out), "--- FAIL: TestNoDatabaseHelper"):
					t.Errorf("CI=true: no test failure in the output:\n%s", out)
				case ci != "true" && (err != nil || !strings.Contains(string(out), "--- SKIP: TestNoDatabaseHelper")):
					t.Errorf("no CI: want a skip, got %v:\n%s", err, out)
				}
				t.Logf("%s", lastLines(string(out), 4))
			})
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func BenchmarkReset(b *testing.B) {
	New(b)
	for b.Loop() {
		New(b)
	}
}

func TestListeningPort(t *testing.T) {
	tests := []struct {
		line string
		port int
		ok   bool
	}{
		{`PGLiteSocketServer listening on {"port":33665,"host":"127.0.0.1"}`, 33665, true},
		{`PGlite database initialized`, 0, false},
		{`PGLiteSocketServer listening on {"path":"/tmp/s"}`, 0, false},
		{`PGLiteSocketServer listening on {`, 0, false},
	}
	for _, tt := range tests {
		port, ok := listeningPort(tt.line)
		if port != tt.port || ok != tt.ok {
			t.Errorf("listeningPort(%q) = %d, %v; want %d, %v", tt.line, port, ok, tt.port, tt.ok)
		}
	}
}
