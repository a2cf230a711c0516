package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	exitOK     = 0
	exitGate   = 1 // a -max-p99 or -max-error-rate threshold was exceeded
	exitConfig = 2 // bad flags or input, as the flag package does
)

// defaultMessages is the labelled held-out set of owner messages; relative,
// so it is found when run from the repository root (as `make load` does).
const defaultMessages = "eval/testdata/triage_heldout.jsonl"

// builtinMessages are used when no messages file is given or found, so the
// tool also works from any directory.
var builtinMessages = []string{
	"3栋2单元电梯又坏了，困了人，快来！",
	"楼上每天半夜拖椅子，说了三次了还是这样",
	"管理费可以用微信交吗",
	"5号楼地下车库入口的灯坏了一个星期了，晚上黑漆漆的",
	"卫生间天花板漏水，应该是楼上1802的管子破了",
	"小区门口的快递堆得到处都是，老人根本过不去",
	"物业费为什么又涨了？什么服务都没变",
	"12栋楼道里有人堆了好多纸箱，着火了怎么办",
	"垃圾站好几天没清了，臭得受不了",
	"我家门口的监控是不是坏了，昨晚有人撬锁",
	"地下室积水了，车都泡了，谁来赔？",
	"请问装修需要提前多久报备",
	"楼下烧烤店油烟直接往我家窗户里灌",
	"7栋1单元1203停水了，什么时候能来水",
	"保安态度很差，进门还要骂人",
	"小孩在电梯里乱按，能不能管一管",
	"燃气管道那边有很大的煤气味，赶紧派人来看看！",
	"车位被别人占了好几天了，打电话也没人管",
	"绿化带里的树枝快砸到人了，刮风很危险",
	"谢谢物业师傅昨天帮忙修好了水管，很及时",
}

// scenario describes one kind of request.
type scenario struct {
	method string
	path   string
	body   func(runID string, i int, text string) []byte // nil for GET
}

var scenarios = map[string]scenario{
	"intake": {http.MethodPost, "/api/v1/messages", func(runID string, i int, text string) []byte {
		return mustJSON(struct {
			Channel   string `json:"channel"`
			MessageID string `json:"message_id"`
			Owner     string `json:"owner"`
			Text      string `json:"text"`
		}{"app", runID + "-" + strconv.Itoa(i), owner(i), text})
	}},
	"chat": {http.MethodPost, "/api/v1/chat", func(_ string, i int, text string) []byte {
		return mustJSON(struct {
			Owner string `json:"owner"`
			Text  string `json:"text"`
		}{owner(i), text})
	}},
	"queue":  {http.MethodGet, "/api/v1/tickets?limit=50", nil},
	"health": {http.MethodGet, "/healthz", nil},
}

// owner spreads requests over 500 owners: enough to avoid one hot owner,
// few enough that per-owner history builds up as in production.
func owner(i int) string { return "load-owner-" + strconv.Itoa(i%500) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain strings are marshalled
	}
	return b
}

// config is a run's settings; parseFlags fills it.
type config struct {
	URL          string
	Scenario     string
	Token        string
	Rate         float64       // requests per second
	Duration     time.Duration // measured window
	N            int           // max measured requests; 0: Rate*Duration
	Concurrency  int           // max in flight; beyond it requests are dropped
	Timeout      time.Duration // per request, body included
	Warmup       time.Duration // before the measured window, not in stats
	Messages     []string
	MessagesFrom string // where Messages came from, for the report
	Seed         uint64
	RunID        string
	JSON         bool
	MaxP99       time.Duration // 0: off
	MaxErrorRate float64       // < 0: off
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("huiyin-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "base URL of the huiyin server")
	fs.StringVar(&c.Scenario, "scenario", "intake", "intake, chat, queue or health")
	fs.StringVar(&c.Token, "token", "", "bearer token for the queue scenario")
	fs.Float64Var(&c.Rate, "rate", 200, "requests per second, sent on schedule whatever the answers")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "length of the measured window")
	fs.IntVar(&c.N, "n", 0, "max measured requests (0: rate*duration)")
	fs.IntVar(&c.Concurrency, "concurrency", 256, "max requests in flight; more are counted as dropped")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Second, "per-request timeout, reading the body included")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "load sent before the measured window and left out of the stats")
	messages := fs.String("messages", "", "JSON Lines file of {\"text\":…} (default "+defaultMessages+" if present, else built-in)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the message order")
	fs.StringVar(&c.RunID, "run-id", "", "prefix of intake message ids (default: a timestamp)")
	fs.BoolVar(&c.JSON, "json", false, "print the report as JSON")
	fs.DurationVar(&c.MaxP99, "max-p99", 0, "exit 1 if p99 latency exceeds this (0: off)")
	fs.Float64Var(&c.MaxErrorRate, "max-error-rate", -1, "exit 1 if errors/scheduled exceeds this fraction (<0: off)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.RunID == "" {
		c.RunID = time.Now().UTC().Format("20060102T150405.000Z")
	}
	path := *messages
	if path == "" {
		if _, err := os.Stat(defaultMessages); err == nil {
			path = defaultMessages
		}
	}
	if path == "" {
		c.Messages, c.MessagesFrom = builtinMessages, "built-in"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return c, err
		}
		defer f.Close()
		if c.Messages, err = readMessages(f); err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
		c.MessagesFrom = path
	}
	return c, c.validate()
}

func (c config) validate() error {
	sc, ok := scenarios[c.Scenario]
	switch {
	case !ok:
		return fmt.Errorf("unknown scenario %q (want intake, chat, queue or health)", c.Scenario)
	case c.Scenario == "queue" && c.Token == "":
		return errors.New("the queue scenario needs -token")
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return errors.New("-rate must be positive")
	case c.Duration <= 0:
		return errors.New("-duration must be positive")
	case c.N < 0 || c.Concurrency < 1 || c.Timeout <= 0 || c.Warmup < 0:
		return errors.New("-n and -warmup must not be negative, -concurrency and -timeout must be positive")
	case sc.body != nil && len(c.Messages) == 0:
		return errors.New("no messages to send")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-url %q is not an http(s) URL", c.URL)
	}
	return nil
}

// readMessages reads the "text" of each JSON line, skipping blank lines and
// lines without text; other fields (labels) are ignored.
func readMessages(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if m.Text != "" {
			out = append(out, m.Text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no lines with a \"text\" field")
	}
	return out, nil
}

// order returns the texts shuffled by seed: the same seed gives the same
// sequence, so runs are comparable.
func order(texts []string, seed uint64) []string {
	out := slices.Clone(texts)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// newClient is tuned for load: keep-alive connections, as many idle ones
// kept per host as can be in flight (else each burst reopens connections and
// measures TCP set-up), no proxy from the environment, and no client-wide
// timeout (each request carries its own deadline).
func newClient(cfg config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.Timeout,
		ForceAttemptHTTP2:   true,
	}}
}

// ms is a duration in milliseconds, printed with 2 decimals in JSON too.
type ms float64

func toMS(d time.Duration) ms { return ms(float64(d) / float64(time.Millisecond)) }

func (m ms) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(m), 'f', 2, 64), nil
}

type latencies struct {
	P50 ms `json:"p50"`
	P90 ms `json:"p90"`
	P95 ms `json:"p95"`
	P99 ms `json:"p99"`
	Max ms `json:"max"`
}

type errorCounts struct {
	Total     int         `json:"total"`
	Status    map[int]int `json:"status"` // HTTP status >= 400, by code
	Transport int         `json:"transport"`
	Timeout   int         `json:"timeout"`
	Dropped   int         `json:"dropped"`
}

// report is a run's result; only measured requests count, warm-up ones are
// just tallied.
type report struct {
	Scenario     string      `json:"scenario"`
	Target       string      `json:"target"` // method and URL
	Rate         float64     `json:"rate"`   // target requests/s
	Duration     string      `json:"duration"`
	Concurrency  int         `json:"concurrency"`
	Messages     string      `json:"messages"`
	Seed         uint64      `json:"seed"`
	RunID        string      `json:"run_id"`
	Warmup       int         `json:"warmup_requests"`
	Scheduled    int         `json:"scheduled"`
	Sent         int         `json:"sent"`
	Completed    int         `json:"completed"`
	Errors       errorCounts `json:"errors"`
	ErrorRate    float64     `json:"error_rate"`    // errors / scheduled
	AchievedRate float64     `json:"achieved_rate"` // sent / send window
	Throughput   float64     `json:"throughput"`    // completed / time to last answer
	Latency      latencies   `json:"latency_ms"`    // of completed requests, from scheduled send
	Status       map[int]int `json:"status"`        // all completed, by code
	Interrupted  bool        `json:"interrupted,omitempty"`
}

type outcome int

const (
	completed outcome = iota
	timedOut
	transportErr
	dropped
)

// tally collects results from the request goroutines.
type tally struct {
	mu       sync.Mutex
	rep      report
	samples  []time.Duration
	lastSend time.Time
	lastDone time.Time
}

func (t *tally) add(warm bool, o outcome, status int, latency time.Duration, sent, done time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if warm {
		t.rep.Warmup++
		return
	}
	r := &t.rep
	r.Scheduled++
	if o == dropped {
		r.Errors.Dropped++
		return
	}
	r.Sent++
	if sent.After(t.lastSend) {
		t.lastSend = sent
	}
	switch o {
	case timedOut:
		r.Errors.Timeout++
	case transportErr:
		r.Errors.Transport++
	case completed:
		r.Completed++
		r.Status[status]++
		if status >= 400 {
			r.Errors.Status[status]++
		}
		t.samples = append(t.samples, latency)
		if done.After(t.lastDone) {
			t.lastDone = done
		}
	}
}

// run sends the load described by cfg through client and reports on it.
// Cancelling ctx stops the sending; requests in flight still finish (within
// cfg.Timeout) so the report covers everything sent.
func run(ctx context.Context, cfg config, client *http.Client) (report, error) {
	if err := cfg.validate(); err != nil {
		return report{}, err
	}
	sc := scenarios[cfg.Scenario]
	target := strings.TrimRight(cfg.URL, "/") + sc.path
	texts := order(cfg.Messages, cfg.Seed)
	limit := cfg.N
	if limit == 0 {
		limit = int(math.Round(cfg.Rate * cfg.Duration.Seconds()))
	}
	interval := float64(time.Second) / cfg.Rate

	t := &tally{rep: report{
		Scenario: cfg.Scenario, Target: sc.method + " " + target, Rate: cfg.Rate,
		Duration: cfg.Duration.String(), Concurrency: cfg.Concurrency, Messages: cfg.MessagesFrom,
		Seed: cfg.Seed, RunID: cfg.RunID,
		Errors: errorCounts{Status: map[int]int{}}, Status: map[int]int{},
	}}
	// In-flight requests outlive ctx so that Ctrl-C still yields their results.
	reqBase := context.WithoutCancel(ctx)
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	start := time.Now()
	measureStart := start.Add(cfg.Warmup)
	end := measureStart.Add(cfg.Duration)
	measured := 0
	for i := 0; ; i++ {
		// The schedule is computed from i, never from the previous send, so a
		// late loop catches up instead of silently lowering the rate.
		due := start.Add(time.Duration(float64(i) * interval))
		warm := due.Before(measureStart)
		if !warm && (measured >= limit || !due.Before(end)) {
			break
		}
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			t.rep.Interrupted = true
			break
		}
		if !warm {
			measured++
		}
		select {
		case sem <- struct{}{}:
		default:
			t.add(warm, dropped, 0, 0, time.Time{}, time.Time{})
			continue
		}
		var text string
		if len(texts) > 0 {
			text = texts[i%len(texts)]
		}
		var body []byte
		if sc.body != nil {
			body = sc.body(cfg.RunID, i, text)
		}
		wg.Go(func() {
			defer func() { <-sem }()
			sent := time.Now()
			o, status := do(reqBase, client, cfg, sc.method, target, body)
			done := time.Now()
			t.add(warm, o, status, done.Sub(due), sent, done)
		})
	}
	wg.Wait()
	return t.finish(measureStart, interval), nil
}

// do sends one request and reads the whole answer, so that latency covers
// the body too.
func do(base context.Context, client *http.Client, cfg config, method, target string, body []byte) (outcome, int) {
	ctx, cancel := context.WithTimeout(base, cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return transportErr, 0
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cfg.Scenario == "queue" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	req.Header.Set("User-Agent", "huiyin-load")
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	switch {
	case err == nil:
		return completed, resp.StatusCode
	case isTimeout(err):
		return timedOut, 0
	default:
		return transportErr, 0
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func (t *tally) finish(measureStart time.Time, interval float64) report {
	r := t.rep
	r.Errors.Total = r.Errors.Transport + r.Errors.Timeout + r.Errors.Dropped
	for _, n := range r.Errors.Status {
		r.Errors.Total += n
	}
	if r.Scheduled > 0 {
		r.ErrorRate = float64(r.Errors.Total) / float64(r.Scheduled)
	}
	// One interval is added because n sends on schedule span n-1 intervals.
	sendWindow := t.lastSend.Sub(measureStart) + time.Duration(interval)
	if r.Sent > 0 {
		r.AchievedRate = round2(float64(r.Sent) / sendWindow.Seconds())
	}
	if r.Completed > 0 {
		// At least the send window: answers faster than one interval must not
		// make throughput look higher than the load offered.
		r.Throughput = round2(float64(r.Completed) / max(t.lastDone.Sub(measureStart), sendWindow).Seconds())
	}
	r.Latency = summarize(t.samples)
	return r
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// percentile is the nearest-rank percentile of sorted samples: the smallest
// sample with at least p% of the samples at or below it. Exact, no
// interpolation or histogram buckets.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(k, 1), len(sorted))-1]
}

func summarize(samples []time.Duration) latencies {
	s := slices.Clone(samples)
	slices.Sort(s)
	var l latencies
	if len(s) == 0 {
		return l
	}
	l.P50, l.P90, l.P95, l.P99 = toMS(percentile(s, 50)), toMS(percentile(s, 90)), toMS(percentile(s, 95)), toMS(percentile(s, 99))
	l.Max = toMS(s[len(s)-1])
	return l
}

// writeText prints the report for people.
func writeText(w io.Writer, r report) {
	fmt.Fprintf(w, "huiyin-load  %s  %s\n", r.Scenario, r.Target)
	fmt.Fprintf(w, "  target      %g req/s for %s, concurrency %d, %d warm-up requests excluded\n", r.Rate, r.Duration, r.Concurrency, r.Warmup)
	fmt.Fprintf(w, "  messages    %s, seed %d, run id %s\n", r.Messages, r.Seed, r.RunID)
	if r.Interrupted {
		fmt.Fprintln(w, "  interrupted before the end of the run")
	}
	fmt.Fprintf(w, "  requests    scheduled %d  sent %d  completed %d\n", r.Scheduled, r.Sent, r.Completed)
	fmt.Fprintf(w, "  rate        achieved %.2f req/s  throughput %.2f req/s\n", r.AchievedRate, r.Throughput)
	fmt.Fprintf(w, "  errors      %d (%.2f%%)  status %s  transport %d  timeout %d  dropped %d\n",
		r.Errors.Total, 100*r.ErrorRate, histogram(r.Errors.Status), r.Errors.Transport, r.Errors.Timeout, r.Errors.Dropped)
	l := r.Latency
	fmt.Fprintf(w, "  latency ms  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  max %.2f\n", l.P50, l.P90, l.P95, l.P99, l.Max)
	fmt.Fprintf(w, "  status      %s\n", histogram(r.Status))
}

// histogram prints counts by status code in code order, e.g. "200:98 500:2".
func histogram(m map[int]int) string {
	if len(m) == 0 {
		return "-"
	}
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d:%d", c, m[c])
	}
	return strings.Join(parts, " ")
}

// violations lists the CI thresholds the report exceeds.
func violations(cfg config, r report) []string {
	var out []string
	if cfg.MaxP99 > 0 {
		if r.Completed == 0 {
			out = append(out, "no completed requests to take p99 from")
		} else if p99 := float64(r.Latency.P99); p99 > float64(toMS(cfg.MaxP99)) {
			out = append(out, fmt.Sprintf("p99 %.2f ms exceeds -max-p99 %s", p99, cfg.MaxP99))
		}
	}
	if cfg.MaxErrorRate >= 0 && r.ErrorRate > cfg.MaxErrorRate {
		out = append(out, fmt.Sprintf("error rate %.4f exceeds -max-error-rate %g", r.ErrorRate, cfg.MaxErrorRate))
	}
	return out
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "huiyin-load:", err)
		return exitConfig
	}
	if !cfg.JSON {
		fmt.Fprintf(stderr, "huiyin-load: %s at %g req/s for %s (+%s warm-up) against %s\n", cfg.Scenario, cfg.Rate, cfg.Duration, cfg.Warmup, cfg.URL)
	}
	client := newClient(cfg)
	defer client.CloseIdleConnections()
	rep, err := run(ctx, cfg, client)
	if err != nil {
		fmt.Fprintln(stderr, "huiyin-load:", err)
		return exitConfig
	}
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "huiyin-load:", err)
			return exitConfig
		}
	} else {
		writeText(stdout, rep)
	}
	if v := violations(cfg, rep); len(v) > 0 {
		for _, s := range v {
			fmt.Fprintln(stderr, "huiyin-load: FAIL:", s)
		}
		return exitGate
	}
	return exitOK
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal stops sending, restore the default so a second
	// one kills the process without waiting for requests in flight.
	go func() { <-ctx.Done(); stop() }()
	os.Exit(realMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
