package dbtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The PGlite server, as scripts/devdb runs it.
const (
	serverScript    = "@electric-sql/pglite-socket/dist/scripts/server.js"
	vectorExtension = "@electric-sql/pglite-pgvector:vector"
	// maxConnections is above any pgxpool default (max(4, CPUs)): PGlite
	// resets connections beyond its limit, and they cost it little (all
	// share one session and a queue).
	maxConnections = 100
	readyLine      = "PGLiteSocketServer listening on "
	stopGrace      = 5 * time.Second
)

// setupPGlite starts a PGlite server in memory on a port the system
// chooses and migrates it.
func setupPGlite(ctx context.Context, log *slog.Logger) testDB {
	nodeModules, err := findNodeModules()
	if err != nil {
		return testDB{err: err, missing: true}
	}
	if _, err := os.Stat(filepath.Join(nodeModules, filepath.FromSlash(serverScript))); err != nil {
		return testDB{err: fmt.Errorf("PGlite is not installed (%w); run scripts/devdb install", err), missing: true}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return testDB{err: fmt.Errorf("node is not on PATH (%w); run scripts/devdb install", err), missing: true}
	}
	start := time.Now()
	srv, err := startServer(ctx, node, nodeModules)
	if err != nil {
		return testDB{err: err}
	}
	d := testDB{
		kind: "PGlite",
		url:  fmt.Sprintf("postgresql://postgres:postgres@127.0.0.1:%d/postgres?sslmode=disable&default_query_exec_mode=exec", srv.port),
		stop: srv.stop,

		startTime: time.Since(start),
	}
	return migrate(ctx, d, log)
}

// findNodeModules returns EnvNodeModules, or node_modules beside the
// go.mod above the working directory.
func findNodeModules() (string, error) {
	if dir := os.Getenv(EnvNodeModules); dir != "" {
		return dir, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "node_modules"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory, so no node_modules with PGlite")
		}
		dir = parent
	}
}

// server is a running PGlite server process.
type server struct {
	port   int
	pid    int
	exited chan struct{} // closed when the process has ended
	log    *tailBuffer
	once   sync.Once
}

// startServer starts the PGlite of nodeModules on a free port (port 0: the
// system picks one, and the server reports it) and waits until it listens.
//
// The process runs in its own process group (so that stop reaches anything
// it starts) and, on Linux, gets SIGKILL when the test binary dies. That
// signal follows the OS thread that started the process, so the start and
// the wait happen on one goroutine locked to its thread for the process's
// whole life.
func startServer(ctx context.Context, node, nodeModules string) (*server, error) {
	cmd := exec.Command(node, filepath.Join(nodeModules, filepath.FromSlash(serverScript)),
		"-d", "memory://",
		"-h", "127.0.0.1",
		"-p", "0",
		"-e", vectorExtension,
		"-m", strconv.Itoa(maxConnections))
	cmd.Dir = filepath.Dir(nodeModules)
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	configureProcess(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout // one pipe for both

	s := &server{exited: make(chan struct{}), log: &tailBuffer{max: 40}}
	started := make(chan error, 1)
	ready := make(chan int, 1) // the port
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			close(s.exited)
			return
		}
		s.pid = cmd.Process.Pid
		started <- nil
		scan := bufio.NewScanner(out)
		seen := false
		for scan.Scan() {
			line := scan.Text()
			s.log.add(line)
			if !seen {
				if port, ok := listeningPort(line); ok {
					seen = true
					ready <- port
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start PGlite (%s): %w", node, err)
	}
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	select {
	case s.port = <-ready:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("PGlite exited before listening:\n%s", s.log.String())
	case <-timeout.C:
		_ = s.stop()
		return nil, fmt.Errorf("PGlite did not listen within 60s:\n%s", s.log.String())
	case <-ctx.Done():
		_ = s.stop()
		return nil, fmt.Errorf("start PGlite: %w", ctx.Err())
	}
}

// listeningPort reads the port from the server's ready line,
// PGLiteSocketServer listening on {"port":40123,"host":"127.0.0.1"}.
func listeningPort(line string) (int, bool) {
	_, addr, ok := strings.Cut(line, readyLine)
	if !ok {
		return 0, false
	}
	var a struct{ Port int }
	if err := json.Unmarshal([]byte(addr), &a); err != nil || a.Port <= 0 {
		return 0, false
	}
	return a.Port, true
}

// stop ends the server's process group: SIGTERM, then SIGKILL after
// stopGrace.
func (s *server) stop() error {
	var err error
	s.once.Do(func() {
		select {
		case <-s.exited:
			return
		default:
		}
		if err = terminate(s.pid, false); err != nil {
			return
		}
		select {
		case <-s.exited:
		case <-time.After(stopGrace):
			err = terminate(s.pid, true)
			<-s.exited
		}
	})
	return err
}

// tailBuffer keeps the last lines of the server's output for messages.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (b *tailBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	if len(b.lines) > b.max {
		b.lines = b.lines[len(b.lines)-b.max:]
	}
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
