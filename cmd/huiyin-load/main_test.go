package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testConfig is a fast run: high rate, no warm-up, bounded by n. Concurrency
// exceeds any n used, so a test machine too busy to keep the schedule (the
// generator then catches up in a burst) cannot cause drops.
func testConfig(url string, n int) config {
	return config{
		URL: url, Scenario: "intake", Rate: 2000, Duration: 5 * time.Second, N: n,
		Concurrency: 1000, Timeout: time.Second, Messages: builtinMessages, MessagesFrom: "built-in",
		Seed: 1, RunID: "t", MaxErrorRate: -1,
	}
}

// indexOf returns i from an intake body's message_id "t-<i>".
func indexOf(t *testing.T, r *http.Request) int {
	var m struct {
		MessageID string `json:"message_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Errorf("bad body: %v", err)
		return -1
	}
	i, err := strconv.Atoi(strings.TrimPrefix(m.MessageID, "t-"))
	if err != nil {
		t.Errorf("bad message_id %q", m.MessageID)
		return -1
	}
	return i
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		handler func(t *testing.T) http.HandlerFunc
		cfg     func(c config) config
		check   func(t *testing.T, r report, elapsed time.Duration)
	}{{
		name: "all 200",
		handler: func(*testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) }
		},
		cfg: func(c config) config { c.N = 200; return c },
		check: func(t *testing.T, r report, _ time.Duration) {
			if r.Scheduled != 200 || r.Sent != 200 || r.Completed != 200 || r.Errors.Total != 0 || r.ErrorRate != 0 {
				t.Errorf("scheduled %d sent %d completed %d errors %+v", r.Scheduled, r.Sent, r.Completed, r.Errors)
			}
			if r.Status[201] != 200 || len(r.Status) != 1 {
				t.Errorf("status %v", r.Status)
			}
			if r.Latency.Max <= 0 || r.Latency.P50 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
				t.Errorf("latency %+v", r.Latency)
			}
			// Sending on schedule gives exactly the target; lagging, less.
			if r.AchievedRate <= 0 || r.AchievedRate > 2000*1.001 || r.Throughput <= 0 {
				t.Errorf("achieved rate %.1f, throughput %.1f, target 2000", r.AchievedRate, r.Throughput)
			}
		},
	}, {
		name: "some 500 and 429",
		handler: func(t *testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				switch i := indexOf(t, r); {
				case i%4 == 0:
					w.WriteHeader(500)
				case i%10 == 1:
					w.WriteHeader(429)
				default:
					w.WriteHeader(200)
				}
			}
		},
		cfg: func(c config) config { c.N = 100; return c },
		check: func(t *testing.T, r report, _ time.Duration) {
			// i in 0..99: 25 multiples of 4; i%10==1 gives 10, none a multiple of 4.
			if r.Completed != 100 || r.Errors.Status[500] != 25 || r.Errors.Status[429] != 10 || r.Errors.Total != 35 {
				t.Errorf("completed %d errors %+v", r.Completed, r.Errors)
			}
			if r.Status[200] != 65 || r.ErrorRate != 0.35 {
				t.Errorf("status %v error rate %v", r.Status, r.ErrorRate)
			}
		},
	}, {
		name: "slow server beyond timeout",
		handler: func(*testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				// Read the body so that the server notices the client hanging up.
				io.Copy(io.Discard, r.Body)
				select {
				case <-time.After(2 * time.Second):
				case <-r.Context().Done():
				}
			}
		},
		cfg: func(c config) config { c.N, c.Timeout = 20, 30*time.Millisecond; return c },
		check: func(t *testing.T, r report, elapsed time.Duration) {
			if r.Sent != 20 || r.Errors.Timeout != 20 || r.Completed != 0 || r.ErrorRate != 1 {
				t.Errorf("sent %d completed %d errors %+v", r.Sent, r.Completed, r.Errors)
			}
			if r.Latency != (latencies{}) {
				t.Errorf("latency from no completed request: %+v", r.Latency)
			}
			if elapsed > time.Second {
				t.Errorf("took %s: timeout not applied", elapsed)
			}
		},
	}, {
		name: "over concurrency is dropped, not queued",
		handler: func(*testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { time.Sleep(50 * time.Millisecond) }
		},
		cfg: func(c config) config { c.N, c.Concurrency = 20, 2; return c },
		check: func(t *testing.T, r report, _ time.Duration) {
			// 20 due within 10 ms, each held 50 ms: only the first 2 fit.
			if r.Scheduled != 20 || r.Errors.Dropped < 15 || r.Sent+r.Errors.Dropped != 20 || r.Completed != r.Sent {
				t.Errorf("scheduled %d sent %d completed %d errors %+v", r.Scheduled, r.Sent, r.Completed, r.Errors)
			}
		},
	}, {
		name:    "n stops early",
		handler: func(*testing.T) http.HandlerFunc { return func(http.ResponseWriter, *http.Request) {} },
		cfg:     func(c config) config { c.N, c.Rate, c.Duration = 10, 1000, time.Hour; return c },
		check: func(t *testing.T, r report, elapsed time.Duration) {
			if r.Scheduled != 10 || r.Completed != 10 {
				t.Errorf("scheduled %d completed %d", r.Scheduled, r.Completed)
			}
			if elapsed > time.Second {
				t.Errorf("took %s for 10 requests at 1000/s", elapsed)
			}
		},
	}, {
		name:    "duration stops, n defaults to rate*duration",
		handler: func(*testing.T) http.HandlerFunc { return func(http.ResponseWriter, *http.Request) {} },
		cfg:     func(c config) config { c.N, c.Rate, c.Duration = 0, 1000, 50*time.Millisecond; return c },
		check: func(t *testing.T, r report, _ time.Duration) {
			if r.Scheduled != 50 || r.Completed != 50 {
				t.Errorf("scheduled %d completed %d, want 50", r.Scheduled, r.Completed)
			}
		},
	}, {
		name:    "warm-up excluded",
		handler: func(*testing.T) http.HandlerFunc { return func(http.ResponseWriter, *http.Request) {} },
		cfg:     func(c config) config { c.N, c.Rate, c.Warmup = 10, 1000, 20*time.Millisecond; return c },
		check: func(t *testing.T, r report, _ time.Duration) {
			if r.Warmup != 20 || r.Scheduled != 10 || r.Completed != 10 || r.Status[200] != 10 {
				t.Errorf("warmup %d scheduled %d completed %d", r.Warmup, r.Scheduled, r.Completed)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler(t))
			defer srv.Close()
			cfg := tt.cfg(testConfig(srv.URL, 0))
			client := newClient(cfg)
			defer client.CloseIdleConnections()
			start := time.Now()
			r, err := run(context.Background(), cfg, client)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r, time.Since(start))
		})
	}
}

func TestRunTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens now: connection refused
	cfg := testConfig(url, 5)
	r, err := run(context.Background(), cfg, newClient(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors.Transport != 5 || r.Completed != 0 || r.ErrorRate != 1 {
		t.Errorf("completed %d errors %+v", r.Completed, r.Errors)
	}
}

func TestRunInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	cfg := testConfig(srv.URL, 0)
	cfg.Rate, cfg.Duration = 100, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r, err := run(ctx, cfg, newClient(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Interrupted || r.Scheduled == 0 || r.Completed != r.Scheduled {
		t.Errorf("interrupted %v scheduled %d completed %d", r.Interrupted, r.Scheduled, r.Completed)
	}
}

// TestRequests checks what each scenario sends.
func TestRequests(t *testing.T) {
	tests := []struct {
		scenario, method, uri, auth string
		body                        func(i int) map[string]any // nil: no body
	}{
		{"intake", "POST", "/api/v1/messages", "", func(i int) map[string]any {
			return map[string]any{"channel": "app", "message_id": "run7-" + strconv.Itoa(i), "owner": "load-owner-" + strconv.Itoa(i), "text": "电梯坏了"}
		}},
		{"chat", "POST", "/api/v1/chat", "", func(i int) map[string]any {
			return map[string]any{"owner": "load-owner-" + strconv.Itoa(i), "text": "电梯坏了"}
		}},
		{"queue", "GET", "/api/v1/tickets?limit=50", "Bearer secret", nil},
		{"health", "GET", "/healthz", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			var mu sync.Mutex
			var bodies []map[string]any
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != tt.method || r.URL.RequestURI() != tt.uri || r.Header.Get("Authorization") != tt.auth {
					t.Errorf("got %s %s auth %q", r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"))
				}
				b, _ := io.ReadAll(r.Body)
				if tt.body == nil {
					if len(b) != 0 {
						t.Errorf("unexpected body %q", b)
					}
					return
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Errorf("body %q: %v", b, err)
				}
				mu.Lock()
				bodies = append(bodies, m)
				mu.Unlock()
			}))
			defer srv.Close()
			cfg := testConfig(srv.URL+"/", 3) // a trailing slash must not double
			cfg.Scenario, cfg.Token, cfg.RunID = tt.scenario, "secret", "run7"
			cfg.Messages = []string{"电梯坏了"}
			r, err := run(context.Background(), cfg, newClient(cfg))
			if err != nil || r.Completed != 3 {
				t.Fatalf("completed %d, err %v", r.Completed, err)
			}
			if tt.body == nil {
				return
			}
			slices.SortFunc(bodies, func(a, b map[string]any) int { return strings.Compare(a["owner"].(string), b["owner"].(string)) })
			for i, b := range bodies {
				if want := tt.body(i); !reflect.DeepEqual(b, want) {
					t.Errorf("body %d = %v, want %v", i, b, want)
				}
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- { // 1..100 ms, unsorted: summarize sorts
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	l := summarize(s)
	if want := (latencies{P50: 50, P90: 90, P95: 95, P99: 99, Max: 100}); l != want {
		t.Errorf("summarize(1..100ms) = %+v, want %+v", l, want)
	}
	if s[0] != 100*time.Millisecond {
		t.Error("summarize sorted its argument in place")
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{7}, 99, 7},
		{[]time.Duration{1, 2, 3, 4}, 50, 2},
		{[]time.Duration{1, 2, 3, 4}, 51, 3},
		{[]time.Duration{1, 2, 3, 4}, 100, 4},
		{[]time.Duration{1, 2, 3, 4}, 0, 1},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
	// Two decimals, in JSON as in text.
	b, _ := json.Marshal(latencies{P50: ms(1.23456), Max: toMS(1500 * time.Microsecond)})
	if want := `{"p50":1.23,"p90":0.00,"p95":0.00,"p99":0.00,"max":1.50}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

func TestViolations(t *testing.T) {
	r := report{Completed: 10, ErrorRate: 0.05, Latency: latencies{P99: 120}}
	tests := []struct {
		maxP99  time.Duration
		maxRate float64
		want    int
	}{
		{0, -1, 0},
		{100 * time.Millisecond, -1, 1},
		{120 * time.Millisecond, -1, 0},
		{0, 0.01, 1},
		{0, 0.05, 0},
		{100 * time.Millisecond, 0, 2},
	}
	for _, tt := range tests {
		if got := violations(config{MaxP99: tt.maxP99, MaxErrorRate: tt.maxRate}, r); len(got) != tt.want {
			t.Errorf("max-p99 %s max-error-rate %v: %q, want %d violations", tt.maxP99, tt.maxRate, got, tt.want)
		}
	}
	if got := violations(config{MaxP99: time.Second, MaxErrorRate: -1}, report{}); len(got) != 1 {
		t.Errorf("no samples under -max-p99 passed: %q", got)
	}
}

func TestMessages(t *testing.T) {
	in := `{"id":"a","text":"电梯坏了","category":"repair"}

{"id":"b"}
{"id":"c","text":"楼上太吵"}
`
	got, err := readMessages(strings.NewReader(in))
	if err != nil || !slices.Equal(got, []string{"电梯坏了", "楼上太吵"}) {
		t.Errorf("readMessages = %q, %v", got, err)
	}
	if _, err := readMessages(strings.NewReader("not json\n")); err == nil {
		t.Error("bad line accepted")
	}
	if _, err := readMessages(strings.NewReader(`{"id":"x"}`)); err == nil {
		t.Error("file without texts accepted")
	}
	a, b := order(builtinMessages, 1), order(builtinMessages, 1)
	if !slices.Equal(a, b) || slices.Equal(a, order(builtinMessages, 2)) || slices.Equal(a, builtinMessages) {
		t.Error("order is not a deterministic, seed-dependent shuffle")
	}
	// The default file is the labelled held-out set, relative to the repository root.
	if _, err := os.Stat(filepath.Join("..", "..", defaultMessages)); err != nil {
		t.Errorf("default messages file: %v", err)
	}
}

func TestFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.jsonl")
	if err := os.WriteFile(file, []byte(`{"text":"漏水了"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseFlags([]string{"-messages", file, "-n", "7", "-max-error-rate", "0.1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URL != "http://127.0.0.1:8080" || cfg.Scenario != "intake" || cfg.Rate != 200 || cfg.Duration != 20*time.Second ||
		cfg.Concurrency != 256 || cfg.Timeout != 5*time.Second || cfg.Warmup != 2*time.Second || cfg.Seed != 1 ||
		cfg.N != 7 || cfg.MaxErrorRate != 0.1 || cfg.RunID == "" || !slices.Equal(cfg.Messages, []string{"漏水了"}) {
		t.Errorf("config %+v", cfg)
	}
	// From this directory the default file is absent: the built-in list is used.
	if cfg, err := parseFlags(nil, io.Discard); err != nil || cfg.MessagesFrom != "built-in" || cfg.MaxErrorRate != -1 {
		t.Errorf("defaults: %v from %q", err, cfg.MessagesFrom)
	}
	for _, args := range [][]string{
		{"-scenario", "nope"},
		{"-scenario", "queue"},
		{"-rate", "0"},
		{"-concurrency", "0"},
		{"-url", "127.0.0.1:8080"},
		{"-messages", filepath.Join(dir, "missing.jsonl")},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// TestMainExit runs the whole command: report formats and CI exit status.
func TestMainExit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/chat" {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	base := []string{"-url", srv.URL, "-rate", "1000", "-n", "20", "-warmup", "0", "-run-id", "x"}
	var out, errOut bytes.Buffer
	code := realMain(context.Background(), append(base, "-scenario", "health", "-max-error-rate", "0", "-max-p99", "1s"), &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"health  GET " + srv.URL + "/healthz", "scheduled 20  sent 20  completed 20", "errors      0 (0.00%)", "status      200:20", "latency ms  p50 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	errOut.Reset()
	code = realMain(context.Background(), append(base, "-scenario", "chat", "-json", "-max-error-rate", "0.5"), &out, &errOut)
	if code != exitGate || !strings.Contains(errOut.String(), "error rate 1.0000 exceeds") {
		t.Errorf("exit %d, stderr %s", code, errOut.String())
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, out.String())
	}
	if r.Errors.Status[503] != 20 || r.Status[503] != 20 || r.ErrorRate != 1 || r.RunID != "x" {
		t.Errorf("JSON report %+v", r)
	}

	if code := realMain(context.Background(), []string{"-scenario", "nope"}, io.Discard, io.Discard); code != exitConfig {
		t.Errorf("bad flag: exit %d", code)
	}
}
