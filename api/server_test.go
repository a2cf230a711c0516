package api_test

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/huiyin/huiyin/api"
	"github.com/huiyin/huiyin/db"
	"github.com/huiyin/huiyin/db/dbtest"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/knowledge/kbstore"
	"github.com/huiyin/huiyin/staff"
	"github.com/huiyin/huiyin/staff/staffstore"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/ticket/ticketjobs"
	"github.com/huiyin/huiyin/ticket/ticketstore"
	"github.com/huiyin/huiyin/triage"
	"github.com/huiyin/huiyin/web"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(drafterChildEnv); url != "" {
		os.Exit(drafterChild(url)) // TestKilledMidDraft's process to kill
	}
	dbtest.Main(m)
}

var (
	engOnce sync.Once
	seg     *triage.Segmenter
	eng     *triage.Engine
	engErr  error
)

func engine(t *testing.T) (*triage.Segmenter, *triage.Engine) {
	t.Helper()
	seg, eng, err := loadEngine()
	if err != nil {
		t.Fatal(err)
	}
	return seg, eng
}

func loadEngine() (*triage.Segmenter, *triage.Engine, error) {
	engOnce.Do(func() {
		dir, err := os.MkdirTemp("", "huiyin-api-test-")
		if err != nil {
			engErr = err
			return
		}
		seg, engErr = triage.NewSegmenter(filepath.Join(dir, "cache"))
		if engErr != nil {
			return
		}
		eng, engErr = triage.New(context.Background(), triage.Config{Segmenter: seg})
	})
	return seg, eng, engErr
}

// server is the whole service over the test database: intake, the desk,
// staff accounts, the web chat, the WeChat callback and the job queue.
type server struct {
	app       *fiber.App
	pool      *pgxpool.Pool
	store     *ticketstore.Store
	staff     *staffstore.Store
	kb        *kbstore.Store
	assistant *knowledge.Assistant
	ingester  *knowledge.Ingester
	jobs      *river.Client[pgx.Tx]
	url       string
	token     string // a session token set by login
}

// wechatToken is the test official account's token.
const wechatToken = "huiyin-test-token"

func newServer(t *testing.T, cfg api.Config) *server {
	t.Helper()
	return newServerOn(t, cfg, dbtest.New(t))
}

// newServerOn is newServer over a given pool of the test database.
func newServerOn(t *testing.T, cfg api.Config, pool *pgxpool.Pool) *server {
	t.Helper()
	return newServerWith(t, cfg, serverParts{pool: pool})
}

// serverParts are what a test may put in place of the defaults.
type serverParts struct {
	pool      *pgxpool.Pool             // nil: a fresh test database
	chat      knowledge.Completer       // nil: offline drafts and answers
	assistant knowledge.AssistantConfig // the chat timeout, thresholds
	jobs      ticketjobs.Config         // zero: polling every 50 ms
}

func newServerWith(t *testing.T, cfg api.Config, parts serverParts) *server {
	t.Helper()
	pool := parts.pool
	if pool == nil {
		pool = dbtest.New(t)
	}
	seg, eng := engine(t)
	kb := kbstore.New(pool)
	emb, err := knowledge.NewOfflineEmbedder(seg, knowledge.DefaultOfflineDim)
	if err != nil {
		t.Fatal(err)
	}
	retr := knowledge.NewRetriever(kb, emb, seg, eng, knowledge.RetrieverConfig{})
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	assistant := knowledge.NewAssistant(parts.assistant, eng, retr, kb, seg, parts.chat, log)
	// One registry for the API and the jobs, as serve has, so /metrics
	// shows both.
	registry := prometheus.NewRegistry()
	jobs, err := ticketjobs.NewClient(pool, ticketstore.New(pool, nil), assistant, ticketjobs.NewMetrics(registry),
		cmp.Or(parts.jobs, ticketjobs.Config{PollInterval: 50 * time.Millisecond}), log)
	if err != nil {
		t.Fatal(err)
	}
	store := ticketstore.New(pool, jobs)
	staffStore := staffstore.New(pool)
	s := &server{pool: pool, store: store, staff: staffStore, kb: kb, assistant: assistant,
		ingester: knowledge.NewIngester(kb, emb, seg, nil), jobs: jobs}
	service := ticket.NewService(eng, store, nil)
	app, err := api.New(cfg, api.Deps{
		Intake:      service,
		Labels:      service,
		Knowledge:   kbDesk{retr, kb, knowledge.NewCurator(kb, s.ingester, kb)},
		Assets:      web.Assets(),
		Departments: eng.Policy().Departments(),
		Auth:        staffStore,
		Desk:        store,
		Chat:        store,
		Answerer:    assistant,
		Scripts: scriptsFunc(func(ctx context.Context, id int64, situation, actor string) (ticket.PromotedScript, error) {
			return store.Promote(ctx, id, situation, actor)
		}),
		WeChat:   api.WeChatConfig{Token: wechatToken},
		Ready:    func(ctx context.Context) error { return db.Ready(ctx, pool) },
		Registry: registry,
		Log:      log,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.app = app
	// A real listener, so that limits apply as they do in production.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() {
		_ = app.Shutdown()
		s.stopJobs(t)
	})
	s.url = "http://" + ln.Addr().String()
	return s
}

// kbDesk is the console's knowledge base as serve wires it.
type kbDesk struct {
	*knowledge.Retriever
	*kbstore.Store
	*knowledge.Curator
}

type scriptsFunc func(ctx context.Context, id int64, situation, actor string) (ticket.PromotedScript, error)

func (f scriptsFunc) Promote(ctx context.Context, id int64, situation, actor string) (ticket.PromotedScript, error) {
	return f(ctx, id, situation, actor)
}

// startJobs starts working the job queue.
func (s *server) startJobs(t *testing.T) {
	t.Helper()
	if err := s.jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (s *server) stopJobs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.jobs.Stop(ctx); err != nil && !strings.Contains(err.Error(), "not started") {
		t.Logf("stop jobs: %v", err)
	}
}

// ingestKB loads the shipped knowledge base, for drafts and answers.
func (s *server) ingestKB(t *testing.T) {
	t.Helper()
	docs, err := knowledge.ShippedDocuments()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ingester.Ingest(context.Background(), docs, false); err != nil {
		t.Fatal(err)
	}
	s.assistant.ForgetScripts()
}

// login makes a member of staff with role and signs in as them.
func (s *server) login(t *testing.T, username string, role staff.Role, dept string) string {
	t.Helper()
	const password = "correct-horse-9"
	if _, err := s.staff.Create(context.Background(), staff.NewMember{Username: username, Name: username, Role: role, Department: dept, Password: password}); err != nil {
		t.Fatal(err)
	}
	status, out, raw := s.do(t, http.MethodPost, "/api/v1/auth/login", `{"username":"`+username+`","password":"`+password+`"}`)
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, status, raw)
	}
	s.token = out["token"].(string)
	return s.token
}

func (s *server) do(t *testing.T, method, path, body string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, string(raw)
}

func TestIntake(t *testing.T) {
	s := newServer(t, api.Config{})
	body := `{"channel":"wechat","message_id":"m-1","owner":"openid-abc","text":"3栋2单元1502电梯困人了，快来！","contact":"13812345678"}`
	status, out, raw := s.do(t, http.MethodPost, "/api/v1/messages", body)
	if status != http.StatusCreated {
		t.Fatalf("first delivery: %d %s", status, raw)
	}
	ref, _ := out["ticket"].(string)
	if !strings.HasPrefix(ref, "HY") || out["duplicate"] != false {
		t.Fatalf("ticket ref %q, duplicate %v", ref, out["duplicate"])
	}
	ack, _ := out["ack"].(string)
	for _, want := range []string{ref, "工程部", "5分钟内", "30分钟内到场处理", "项目经理"} {
		if !strings.Contains(ack, want) {
			t.Errorf("ack %q lacks %q", ack, want)
		}
	}
	// A retried delivery of the same message opens no second ticket.
	status, out, raw = s.do(t, http.MethodPost, "/api/v1/messages", body)
	if status != http.StatusOK || out["ticket"] != ref || out["duplicate"] != true {
		t.Fatalf("retry: %d %s", status, raw)
	}
	events, err := s.store.History(context.Background(), ref)
	if err != nil || len(events) != 2 || events[0].Kind != "created" || events[0].To != ticket.New || events[1].Kind != "escalated" {
		t.Errorf("history %v %v, want the creation and the escalation", events, err)
	}
	// The same message id on another channel is another message.
	other := strings.Replace(body, `"wechat"`, `"app"`, 1)
	if status, out, _ := s.do(t, http.MethodPost, "/api/v1/messages", other); status != http.StatusCreated || out["ticket"] == ref {
		t.Errorf("another channel: %d %v", status, out["ticket"])
	}
}

func TestIntakeRejectsBadInput(t *testing.T) {
	s := newServer(t, api.Config{BodyLimit: 4096})
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"not json", `{"channel":`, 400, "JSON"},
		{"wrong shape", `["wechat","m","o","x"]`, 400, "JSON"},
		{"no text", `{"channel":"web","message_id":"1","owner":"o"}`, 400, "text"},
		{"empty text", `{"channel":"web","message_id":"1","owner":"o","text":"   "}`, 400, "空"},
		{"unknown channel", `{"channel":"fax","message_id":"1","owner":"o","text":"电梯坏了"}`, 400, "渠道"},
		{"no message id", `{"channel":"web","owner":"o","text":"电梯坏了"}`, 400, "message_id"},
		{"no owner", `{"channel":"web","message_id":"1","text":"电梯坏了"}`, 400, "owner"},
		{"too large", `{"channel":"web","message_id":"1","owner":"o","text":"` + strings.Repeat("吵", 3000) + `"}`, 413, "过大"},
		{"invalid utf-8", "{\"channel\":\"web\",\"message_id\":\"1\",\"owner\":\"o\",\"text\":\"\xff\xfe\"}", 400, ""},
	}
	for _, tt := range tests {
		status, out, raw := s.do(t, http.MethodPost, "/api/v1/messages", tt.body)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, status, tt.status, raw)
			continue
		}
		msg, _ := out["error"].(string)
		if msg == "" || !strings.Contains(msg, tt.want) {
			t.Errorf("%s: error %q, want it to mention %q", tt.name, msg, tt.want)
		}
	}
	// Nothing above opened a ticket.
	status, _, _ := s.do(t, http.MethodPost, "/api/v1/messages", `{"channel":"web","message_id":"1","owner":"o","text":"<script>alert(1)</script>楼道灯坏了'); DROP TABLE tickets; --"}`)
	if status != http.StatusCreated {
		t.Errorf("HTML and SQL in the text are data: status %d", status)
	}
}

func TestHealthReadinessMetrics(t *testing.T) {
	s := newServer(t, api.Config{})
	if status, _, raw := s.do(t, http.MethodGet, "/healthz", ""); status != 200 {
		t.Errorf("healthz: %d %s", status, raw)
	}
	if status, _, raw := s.do(t, http.MethodGet, "/readyz", ""); status != 200 {
		t.Errorf("readyz: %d %s", status, raw)
	}
	s.do(t, http.MethodPost, "/api/v1/messages", `{"channel":"app","message_id":"x1","owner":"u1","text":"物业费可以微信交吗"}`)
	status, _, raw := s.do(t, http.MethodGet, "/metrics", "")
	if status != 200 || !strings.Contains(raw, "huiyin_http_requests_total") || !strings.Contains(raw, `huiyin_tickets_opened_total{category="fees"`) {
		t.Errorf("metrics: %d\n%s", status, raw)
	}
	if status, out, _ := s.do(t, http.MethodGet, "/nope", ""); status != 404 || out["code"] != "not_found" {
		t.Errorf("unknown path: %d %v", status, out)
	}
	resp, err := http.Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("security headers or request id missing: %v", resp.Header)
	}
}

func TestRateLimit(t *testing.T) {
	// Requests through one proxy on 127.0.0.1, at 2 a minute per client:
	// only a trusted proxy's X-Forwarded-For tells clients apart, and only
	// its rightmost untrusted entry, which the client cannot write.
	three := []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.2", "203.0.113.3", "203.0.113.1", "203.0.113.1"}
	forged := []string{"6.6.6.1, 203.0.113.1", "6.6.6.2, 203.0.113.1", "6.6.6.3, 203.0.113.1", "6.6.6.4,203.0.113.1"}
	tests := []struct {
		name    string
		trusted []string
		xff     []string
		limited int
	}{
		{"no trusted proxy: one bucket", nil, three, 5},
		{"trusted proxy: one bucket per client", []string{"127.0.0.1"}, three, 1},
		{"another proxy is not trusted", []string{"10.0.0.0/8"}, three, 5},
		{"forged entries on the left count for nothing", []string{"127.0.0.0/8"}, forged, 2},
		{"a chain of trusted proxies", []string{"127.0.0.1", "10.0.0.0/8"}, []string{"203.0.113.1, 10.0.0.5", "203.0.113.2, 10.0.0.6", "203.0.113.1, 10.0.0.7"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, api.Config{IntakePerMin: 2, TrustedProxies: tt.trusted})
			limited := 0
			for i, xff := range tt.xff {
				req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/messages",
					strings.NewReader(`{"channel":"web","message_id":"r`+strconv.Itoa(i)+`","owner":"o`+strconv.Itoa(i)+`","text":"路灯坏了"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", xff)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					limited++
				}
			}
			if limited != tt.limited {
				t.Errorf("limited %d of %d, want %d", limited, len(tt.xff), tt.limited)
			}
		})
	}
	if _, err := api.New(api.Config{TrustedProxies: []string{"proxy.local"}}, api.Deps{}); err == nil {
		t.Error("a host name was taken as a trusted proxy")
	}
}
