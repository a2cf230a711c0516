package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huiyin/huiyin/api"
	"github.com/huiyin/huiyin/db"
	"github.com/huiyin/huiyin/db/dbtest"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/knowledge/kbstore"
	"github.com/huiyin/huiyin/llm"
	"github.com/huiyin/huiyin/staff"
	"github.com/huiyin/huiyin/ticket/ticketjobs"
	"github.com/huiyin/huiyin/ticket/ticketstore"
)

// outageProxy stands between the service and its database: cut drops
// every connection and refuses new ones, as a stopped or unreachable
// database does; restore lets them through again. The data stays.
type outageProxy struct {
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProxy{target: target, ln: ln}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *outageProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *outageProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestDatabaseOutage loses the database under load, in the middle of
// intake: requests then fail fast with 503 and a clear body, readiness
// says so, and once it is back every acknowledged message has its ticket,
// stored once, and every ticket gets its draft from the job queue, which
// carried on by itself (jobs cut off mid-run are rescued).
func TestDatabaseOutage(t *testing.T) {
	dbtest.New(t) // the package's database, emptied
	u, err := url.Parse(dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newOutageProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	pool, err := db.Open(context.Background(), u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := newServerWith(t, api.Config{IntakePerMin: 100000, RequestTimeout: 3 * time.Second}, serverParts{pool: pool,
		jobs: ticketjobs.Config{PollInterval: 50 * time.Millisecond, JobTimeout: 3 * time.Second, RescueAfter: 5 * time.Second}})
	s.ingestKB(t)
	s.startJobs(t)

	type result struct {
		id     string
		status int
		body   map[string]any
		took   time.Duration
	}
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(i int) result {
		id := "outage-" + strconv.Itoa(i)
		body := `{"channel":"app","message_id":"` + id + `","owner":"owner-` + strconv.Itoa(i) + `","text":"` + strconv.Itoa(i%30+1) + `栋的路灯不亮了，晚上很黑"}`
		start := time.Now()
		resp, err := client.Post(s.url+"/api/v1/messages", "application/json", strings.NewReader(body))
		r := result{id: id, took: time.Since(start)}
		if err != nil {
			r.body = map[string]any{"transport": err.Error()}
			return r
		}
		defer resp.Body.Close()
		r.status = resp.StatusCode
		json.NewDecoder(resp.Body).Decode(&r.body)
		return r
	}
	// load sends messages first..first+n-1 from four clients at once.
	load := func(first, n int) []result {
		out := make([]result, n)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := w; i < n; i += 4 {
					out[i] = send(first + i)
				}
			})
		}
		wg.Wait()
		return out
	}
	acknowledged := map[string]string{} // message id → ticket
	keep := func(results []result) (refused int) {
		for _, r := range results {
			switch {
			case r.status == http.StatusCreated || r.status == http.StatusOK:
				acknowledged[r.id] = r.body["ticket"].(string)
			case r.status == http.StatusServiceUnavailable && r.body["code"] == "unavailable" && strings.Contains(fmt.Sprint(r.body["error"]), "暂时不可用"):
				refused++
				if r.took > 4*time.Second {
					t.Errorf("%s took %s to fail", r.id, r.took)
				}
			default:
				t.Errorf("%s: %d %v", r.id, r.status, r.body)
			}
		}
		return refused
	}
	if refused := keep(load(0, 20)); refused != 0 || len(acknowledged) != 20 {
		t.Fatalf("before the outage: %d of 20 acknowledged", len(acknowledged))
	}

	proxy.cut()
	refused := keep(load(20, 12))
	if refused == 0 {
		t.Errorf("no request was refused during the outage")
	}
	if status, _, _ := s.do(t, http.MethodGet, "/readyz", ""); status != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: %d", status)
	}

	proxy.restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := send(100)
		if r.status == http.StatusCreated {
			acknowledged[r.id] = r.body["ticket"].(string)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("intake did not come back: %d %v", r.status, r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if refused := keep(load(40, 20)); refused != 0 {
		t.Errorf("after the outage: %d refused", refused)
	}
	if status, _, _ := s.do(t, http.MethodGet, "/readyz", ""); status != http.StatusOK {
		t.Errorf("readyz after the outage: %d", status)
	}
	for id := range acknowledged {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE channel_msg_id = $1`, id).Scan(&n); err != nil || n != 1 {
			t.Errorf("message %s: %d stored (%v)", id, n, err)
		}
	}
	// Every ticket gets its draft, including those whose draft job was
	// running when the database went away: the rescuer runs them again
	// after RescueAfter, on its next pass (every 30 s).
	s.login(t, "lead", staff.Lead, "")
	start := time.Now()
	tickets := map[string]bool{}
	for _, ref := range acknowledged {
		if !tickets[ref] {
			tickets[ref] = true
			s.waitDraftWithin(t, ref, 60*time.Second)
		}
	}
	t.Logf("%d acknowledged, %d refused during the outage; all %d tickets drafted %s after the outage", len(acknowledged), refused, len(tickets), time.Since(start).Round(time.Second))
}

// fakeModel is an OpenAI-compatible chat endpoint that misbehaves on
// request, and records what it was sent.
type fakeModel struct {
	mode string // ok, 503, garbage, prose, bad-citation, slow
	mu   sync.Mutex
	sent []string
}

// modelReply is valid for both prompts: the draft reads reply and the
// answer reads answer and handoff; each ignores the other's fields. The
// draft names the message's problem, its deadline and the ticket.
const modelReply = `{"reply":"【房号1】业主您好，您反映的卫生间天花板渗水我们已经登记，工单号{工单号}。工程部会在24小时内给您明确答复，必要时上门查看，处理完成后我们会回访。","answer":"按照规定，业主大会的决定对业主具有约束力。","handoff":false,"citations":[1]}`

func (f *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	// The test switches modes between subtests while a retried request
	// from the last one may still arrive: read the mode under the lock.
	f.mu.Lock()
	f.sent = append(f.sent, string(body))
	mode := f.mode
	f.mu.Unlock()
	content := modelReply
	switch mode {
	case "503":
		http.Error(w, `{"error":{"message":"overloaded","type":"server_error"}}`, http.StatusServiceUnavailable)
		return
	case "garbage":
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		return
	case "slow":
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
		return
	case "prose":
		content = "好的，我来帮您处理这个问题，请稍等。"
	case "bad-citation":
		content = strings.Replace(modelReply, `"citations":[1]`, `"citations":[9]`, 1)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": time.Now().Unix(), "model": "fake",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}},
	})
}

// TestChatModelFaults: with the chat model down, slow, failing or
// answering garbage, every draft and every answer is still made, offline,
// within the chat timeout, and the fallback is counted in the metrics.
// A working model is the control: its draft and answer are used.
func TestChatModelFaults(t *testing.T) {
	const chatTimeout = 1500 * time.Millisecond
	// The draft's problem: with the room and phone masked before they
	// leave, and the room restored in the model's draft.
	const message = "我是5栋1单元1202的业主，电话13812345678，卫生间天花板在渗水"
	const question = "业主大会的决定对业主有约束力吗"
	model := &fakeModel{}
	endpoint := httptest.NewServer(model)
	t.Cleanup(endpoint.Close)
	chat, err := llm.NewChat(llm.Config{BaseURL: endpoint.URL, APIKey: "test-key", ChatModel: "fake",
		Timeout: chatTimeout, MaxRetries: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// "down" is an endpoint where nothing listens.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	down, err := llm.NewChat(llm.Config{BaseURL: closed.URL, APIKey: "test-key", ChatModel: "fake", Timeout: chatTimeout, MaxRetries: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newServerWith(t, api.Config{}, serverParts{chat: switchChat{&model.mu, &model.mode, chat, down},
		assistant: knowledge.AssistantConfig{ChatTimeout: chatTimeout}})
	s.ingestKB(t)
	s.startJobs(t)
	s.login(t, "lead", staff.Lead, "")

	fallbacks := 0
	for _, mode := range []string{"ok", "down", "slow", "503", "garbage", "prose", "bad-citation"} {
		t.Run(mode, func(t *testing.T) {
			model.mu.Lock()
			model.mode, model.sent = mode, nil
			model.mu.Unlock()

			start := time.Now()
			ref := s.post(t, "/api/v1/messages", `{"channel":"app","message_id":"llm-`+mode+`","owner":"o-1","text":"`+message+`"}`, 201)["ticket"].(string)
			draft := s.waitDraftWithin(t, ref, chatTimeout+10*time.Second)
			draftTook := time.Since(start)

			start = time.Now()
			status, found, raw := s.do(t, http.MethodGet, "/api/v1/knowledge/search?q="+url.QueryEscape(question), "")
			askTook := time.Since(start)
			if status != http.StatusOK {
				t.Fatalf("search: %d %s", status, raw)
			}
			answer := found["answer"].(map[string]any)
			t.Logf("draft %s in %s, answer %s in %s", draft["source"], draftTook.Round(time.Millisecond), answer["source"], askTook.Round(time.Millisecond))

			wantDraft, wantAnswer := "offline", "grounded"
			if mode == "ok" {
				wantDraft, wantAnswer = "llm", "llm"
			} else {
				fallbacks++
			}
			if draft["source"] != wantDraft || (draft["fallback"] != nil) != (mode != "ok") {
				t.Errorf("draft source %v, fallback %v; want %s", draft["source"], draft["fallback"], wantDraft)
			}
			body := draft["body"].(string)
			if !strings.Contains(body, ref) || !strings.Contains(body, "5栋1单元1202") {
				t.Errorf("draft %q lacks the ticket or the owner's room", body)
			}
			if answer["source"] != wantAnswer || answer["answer"] == "" || len(answer["citations"].([]any)) == 0 {
				t.Errorf("answer %v, want source %s with a citation", answer, wantAnswer)
			}
			// A chat model that fails costs at most the chat timeout: the
			// answer is given within it (plus the offline work, slower under
			// the race detector), and the draft within it plus the job
			// queue's pickup. The slow model would otherwise hold on 30 s.
			if askTook > chatTimeout+2*time.Second {
				t.Errorf("the answer took %s with a chat timeout of %s", askTook, chatTimeout)
			}
			if draftTook > chatTimeout+5*time.Second {
				t.Errorf("the draft took %s with a chat timeout of %s", draftTook, chatTimeout)
			}
			model.mu.Lock()
			defer model.mu.Unlock()
			if mode != "down" && len(model.sent) == 0 {
				t.Errorf("the chat model was never asked")
			}
			for _, sent := range model.sent {
				if strings.Contains(sent, "13812345678") || strings.Contains(sent, "1202") {
					t.Errorf("personal data sent to the chat model: %s", sent)
				}
			}
		})
	}
	metrics := s.metrics(t)
	for _, want := range []string{
		`huiyin_drafts_total{fallback="false",source="llm"} 1`,
		`huiyin_drafts_total{fallback="true",source="offline"} ` + strconv.Itoa(fallbacks),
		`huiyin_assistant_answers_total{fallback="false",source="llm"} 1`,
		`huiyin_assistant_answers_total{fallback="true",source="grounded"} ` + strconv.Itoa(fallbacks),
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// switchChat sends to the fake model, or to an endpoint where nothing
// listens while the mode is "down".
type switchChat struct {
	mu       *sync.Mutex
	mode     *string
	up, down knowledge.Completer
}

func (c switchChat) Complete(ctx context.Context, req knowledge.CompletionRequest) (string, error) {
	c.mu.Lock()
	isDown := *c.mode == "down"
	c.mu.Unlock()
	if isDown {
		return c.down.Complete(ctx, req)
	}
	return c.up.Complete(ctx, req)
}

func (c switchChat) Name() string { return c.up.Name() }

// metrics is the text of /metrics.
func (s *server) metrics(t *testing.T) string {
	t.Helper()
	status, _, raw := s.do(t, http.MethodGet, "/metrics", "")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	return raw
}

// drafterChildEnv, set to a database URL, makes the test binary a
// drafting worker (drafterChild) instead of running tests.
const drafterChildEnv = "HUIYIN_TEST_DRAFTER_DATABASE"

// drafterChild works the job queue of the database at url with a chat
// model that never answers: it prints "drafting" once a draft job is
// under way and then hangs in it until killed.
func drafterChild(url string) int {
	ctx := context.Background()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "drafter:", err); return 1 }
	pool, err := db.Open(ctx, url, nil)
	if err != nil {
		return fail(err)
	}
	seg, eng, err := loadEngine()
	if err != nil {
		return fail(err)
	}
	kb := kbstore.New(pool)
	emb, err := knowledge.NewOfflineEmbedder(seg, knowledge.DefaultOfflineDim)
	if err != nil {
		return fail(err)
	}
	retr := knowledge.NewRetriever(kb, emb, seg, eng, knowledge.RetrieverConfig{})
	assistant := knowledge.NewAssistant(knowledge.AssistantConfig{ChatTimeout: time.Hour}, eng, retr, kb, seg, hangingChat{}, nil)
	jobs, err := ticketjobs.NewClient(pool, ticketstore.New(pool, nil), assistant, ticketjobs.NewMetrics(prometheus.NewRegistry()),
		ticketjobs.Config{PollInterval: 50 * time.Millisecond, JobTimeout: time.Hour, RescueAfter: time.Hour},
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return fail(err)
	}
	if err := jobs.Start(ctx); err != nil {
		return fail(err)
	}
	select {}
}

// hangingChat announces a draft under way and never answers.
type hangingChat struct{}

func (hangingChat) Complete(ctx context.Context, _ knowledge.CompletionRequest) (string, error) {
	fmt.Println("drafting")
	<-ctx.Done()
	return "", ctx.Err()
}

func (hangingChat) Name() string { return "hanging" }

// TestKilledMidDraft kills (SIGKILL) a process in the middle of drafting a
// reply. Its job is left running in the database; the restarted service
// takes it to be orphaned after RescueAfter, drafts it, and the ticket
// gets exactly one draft.
func TestKilledMidDraft(t *testing.T) {
	dbURL := dbtest.URL(t) // before the server: URL empties the database
	s := newServerWith(t, api.Config{}, serverParts{jobs: ticketjobs.Config{
		PollInterval: 50 * time.Millisecond, JobTimeout: 2 * time.Second, RescueAfter: 3 * time.Second}})
	s.ingestKB(t)
	ref := s.post(t, "/api/v1/messages", `{"channel":"app","message_id":"kill-1","owner":"o-1","text":"6栋2单元楼道的窗户玻璃碎了，小孩经过很危险"}`, 201)["ticket"].(string)

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), drafterChildEnv+"="+dbURL)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	drafting := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "drafting" {
				drafting <- true
				return
			}
		}
		drafting <- false
	}()
	select {
	case ok := <-drafting:
		if !ok {
			t.Fatal("the drafting process ended before drafting")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the drafting process never started the draft")
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killed := time.Now()
	var state string
	if err := s.pool.QueryRow(context.Background(), `SELECT state FROM river_job WHERE kind = 'ticket.draft'`).Scan(&state); err != nil || state != "running" {
		t.Fatalf("the killed process's draft job: %q %v, want running", state, err)
	}

	s.startJobs(t) // the restart
	s.login(t, "agent", staff.Agent, "")
	d := s.waitDraftWithin(t, ref, 90*time.Second)
	t.Logf("drafted %s after the kill", time.Since(killed).Round(time.Second))
	if !strings.Contains(d["body"].(string), ref) {
		t.Errorf("draft %v", d["body"])
	}
	_, detail, _ := s.do(t, http.MethodGet, "/api/v1/tickets/"+ref, "")
	if drafts := detail["drafts"].([]any); len(drafts) != 1 {
		t.Errorf("%d drafts, want 1", len(drafts))
	}
}
