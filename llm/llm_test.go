package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
)

// request is what the fake endpoint saw of one call.
type request struct {
	Path string
	Auth string
	Body map[string]any
}

// fakeAPI speaks the OpenAI protocol: each call is answered by respond,
// which gets the call's number (from 0) and its decoded body. The handler
// only records and answers; every assertion runs on the test goroutine.
type fakeAPI struct {
	t       *testing.T
	srv     *httptest.Server
	respond func(n int, w http.ResponseWriter, r *http.Request, body map[string]any)

	mu   sync.Mutex
	reqs []request
}

func newFakeAPI(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request, body map[string]any)) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, respond: respond}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &body)
		f.mu.Lock()
		n := len(f.reqs)
		f.reqs = append(f.reqs, request{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body})
		f.mu.Unlock()
		f.respond(n, w, r, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func (f *fakeAPI) config() Config {
	return Config{
		BaseURL: f.srv.URL + "/v1", APIKey: "test-key", ChatModel: "qwen-plus",
		EmbedModel: "text-embedding-v3", Dimensions: 4, Timeout: 2 * time.Second, MaxRetries: 2,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func chatOK(content string) func(int, http.ResponseWriter, *http.Request, map[string]any) {
	return func(_ int, w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "qwen-plus",
			"choices": []any{map[string]any{
				"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": content},
			}},
		})
	}
}

func apiError(status int) func(int, http.ResponseWriter, *http.Request, map[string]any) {
	return func(_ int, w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		writeJSON(w, status, map[string]any{"error": map[string]any{"message": http.StatusText(status), "type": "error"}})
	}
}

// testChat returns a Chat for cfg with retries a millisecond apart.
func testChat(t *testing.T, cfg Config) *Chat {
	t.Helper()
	ch, err := NewChat(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch.c.backoff = time.Millisecond
	return ch
}

var jsonReq = knowledge.CompletionRequest{
	Messages: []knowledge.ChatMessage{
		{Role: "system", Content: "只输出 JSON。"},
		{Role: "user", Content: "物业费可以微信交吗？"},
	},
	JSON: true, MaxTokens: 800, Temperature: 0.2,
}

func TestChatComplete(t *testing.T) {
	f := newFakeAPI(t, chatOK(`{"answer": "可以。", "citations": [1], "handoff": false}`))
	ch := testChat(t, f.config())
	got, err := ch.Complete(context.Background(), jsonReq)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"answer": "可以。", "citations": [1], "handoff": false}`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if ch.Name() != "openai:qwen-plus" {
		t.Errorf("Name() = %q", ch.Name())
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/v1/chat/completions" {
		t.Errorf("path %q", r.Path)
	}
	if r.Auth != "Bearer test-key" {
		t.Errorf("Authorization %q", r.Auth)
	}
	body, _ := json.Marshal(r.Body)
	for _, want := range []string{
		`"model":"qwen-plus"`, `"max_tokens":800`, `"temperature":0.2`,
		`"response_format":{"type":"json_object"}`,
		`"messages":[{"content":"只输出 JSON。","role":"system"},{"content":"物业费可以微信交吗？","role":"user"}]`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("request body %s lacks %s", body, want)
		}
	}
}

func TestChatPlainText(t *testing.T) {
	f := newFakeAPI(t, chatOK("您好"))
	ch := testChat(t, f.config())
	req := jsonReq
	req.JSON = false
	if _, err := ch.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.requests()[0].Body["response_format"]; ok {
		t.Error("response_format sent without JSON")
	}
}

func TestChatErrors(t *testing.T) {
	garbage := func(_ int, w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>502 Bad Gateway</html>")
	}
	tests := []struct {
		name        string
		respond     func(int, http.ResponseWriter, *http.Request, map[string]any)
		maxRetries  int
		wantErr     bool
		unavailable bool
		calls       int
	}{
		{name: "500 then success", maxRetries: 2, calls: 2,
			respond: func(n int, w http.ResponseWriter, r *http.Request, b map[string]any) {
				if n == 0 {
					apiError(http.StatusInternalServerError)(n, w, r, b)
					return
				}
				chatOK("{}")(n, w, r, b)
			}},
		{name: "500 always", maxRetries: 2, calls: 3, wantErr: true, unavailable: true, respond: apiError(http.StatusInternalServerError)},
		{name: "503 plain body", maxRetries: 1, calls: 2, wantErr: true, unavailable: true,
			respond: func(_ int, w http.ResponseWriter, _ *http.Request, _ map[string]any) {
				http.Error(w, "upstream down", http.StatusServiceUnavailable)
			}},
		{name: "429", maxRetries: 1, calls: 2, wantErr: true, unavailable: true, respond: apiError(http.StatusTooManyRequests)},
		{name: "429 no retries", maxRetries: 0, calls: 1, wantErr: true, unavailable: true, respond: apiError(http.StatusTooManyRequests)},
		{name: "429 then success", maxRetries: 2, calls: 2,
			respond: func(n int, w http.ResponseWriter, r *http.Request, b map[string]any) {
				if n == 0 {
					apiError(http.StatusTooManyRequests)(n, w, r, b)
					return
				}
				chatOK("{}")(n, w, r, b)
			}},
		{name: "401", maxRetries: 2, calls: 1, wantErr: true, respond: apiError(http.StatusUnauthorized)},
		{name: "404 unknown model", maxRetries: 2, calls: 1, wantErr: true, respond: apiError(http.StatusNotFound)},
		{name: "garbage body", maxRetries: 2, calls: 1, wantErr: true, unavailable: true, respond: garbage},
		{name: "no choices", maxRetries: 2, calls: 1, wantErr: true, unavailable: true,
			respond: func(_ int, w http.ResponseWriter, _ *http.Request, _ map[string]any) {
				writeJSON(w, http.StatusOK, map[string]any{"id": "x", "choices": []any{}})
			}},
		{name: "empty content", maxRetries: 2, calls: 1, wantErr: true, unavailable: true, respond: chatOK("  ")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.respond)
			cfg := f.config()
			cfg.MaxRetries = tc.maxRetries
			_, err := testChat(t, cfg).Complete(context.Background(), jsonReq)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if err != nil && errors.Is(err, huiyin.ErrUnavailable) != tc.unavailable {
				t.Errorf("err = %v; ErrUnavailable: %v, want %v", err, errors.Is(err, huiyin.ErrUnavailable), tc.unavailable)
			}
			if n := len(f.requests()); n != tc.calls {
				t.Errorf("%d calls, want %d", n, tc.calls)
			}
		})
	}
}

func TestChatTimeout(t *testing.T) {
	f := newFakeAPI(t, func(_ int, w http.ResponseWriter, r *http.Request, _ map[string]any) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})
	cfg := f.config()
	cfg.Timeout = 50 * time.Millisecond
	start := time.Now()
	_, err := testChat(t, cfg).Complete(context.Background(), jsonReq)
	if !errors.Is(err, huiyin.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v with a 50ms timeout", d)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("a timeout was retried: %d calls", n)
	}
}

func TestChatRetryStopsAtDeadline(t *testing.T) {
	f := newFakeAPI(t, apiError(http.StatusInternalServerError))
	ch := testChat(t, f.config())
	ch.c.backoff = time.Second // longer than the context has left
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ch.Complete(ctx, jsonReq)
	if !errors.Is(err, huiyin.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("waited %v for a retry the deadline does not allow", d)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestChatUnreachable(t *testing.T) {
	f := newFakeAPI(t, chatOK("{}"))
	cfg := f.config()
	f.srv.Close()
	_, err := testChat(t, cfg).Complete(context.Background(), jsonReq)
	if !errors.Is(err, huiyin.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestChatCancelled(t *testing.T) {
	f := newFakeAPI(t, chatOK("{}"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := testChat(t, f.config()).Complete(ctx, jsonReq)
	if !errors.Is(err, huiyin.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrUnavailable and context.Canceled", err)
	}
}

func TestNewInvalid(t *testing.T) {
	base := Config{BaseURL: "http://localhost:8000/v1", ChatModel: "m", EmbedModel: "e", Dimensions: 8}
	tests := []struct {
		name  string
		chat  bool
		alter func(*Config)
	}{
		{"no chat model", true, func(c *Config) { c.ChatModel = " " }},
		{"bad url", true, func(c *Config) { c.BaseURL = "localhost:8000" }},
		{"ftp url", true, func(c *Config) { c.BaseURL = "ftp://x/v1" }},
		{"negative retries", true, func(c *Config) { c.MaxRetries = -1 }},
		{"negative timeout", true, func(c *Config) { c.Timeout = -time.Second }},
		{"no embed model", false, func(c *Config) { c.EmbedModel = "" }},
		{"no dimensions", false, func(c *Config) { c.Dimensions = 0 }},
	}
	for _, tc := range tests {
		cfg := base
		tc.alter(&cfg)
		var err error
		if tc.chat {
			_, err = NewChat(cfg, nil)
		} else {
			_, err = NewEmbedder(cfg, nil)
		}
		if !errors.Is(err, huiyin.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, err := NewChat(Config{ChatModel: "gpt-4o-mini"}, nil); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// embedOK answers each text "tN" with the vector [N, N, …] of dim
// numbers, listing the vectors in reverse order to check that Embed
// places them by index.
func embedOK(dim int) func(int, http.ResponseWriter, *http.Request, map[string]any) {
	return func(_ int, w http.ResponseWriter, _ *http.Request, body map[string]any) {
		input, _ := body["input"].([]any)
		var data []any
		for i := len(input) - 1; i >= 0; i-- {
			s, _ := input[i].(string)
			n, _ := strconv.Atoi(strings.TrimPrefix(s, "t"))
			vec := make([]float32, dim)
			for k := range vec {
				vec[k] = float32(n)
			}
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": vec})
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "model": "text-embedding-v3", "data": data})
	}
}

func testEmbedder(t *testing.T, cfg Config) *Embedder {
	t.Helper()
	e, err := NewEmbedder(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.c.backoff = time.Millisecond
	return e
}

func TestEmbedBatches(t *testing.T) {
	f := newFakeAPI(t, embedOK(4))
	e := testEmbedder(t, f.config())
	if e.Name() != "openai:text-embedding-v3" || e.Dim() != 4 {
		t.Errorf("Name() = %q, Dim() = %d", e.Name(), e.Dim())
	}
	texts := make([]string, 2*EmbedBatch+22)
	for i := range texts {
		texts[i] = fmt.Sprintf("t%d", i)
	}
	vecs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		if len(v) != 4 || v[0] != float32(i) {
			t.Fatalf("vector %d is %v", i, v)
		}
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, want := range []int{EmbedBatch, EmbedBatch, 22} {
		r := reqs[i]
		if r.Path != "/v1/embeddings" || r.Auth != "Bearer test-key" {
			t.Errorf("request %d: path %q, auth %q", i, r.Path, r.Auth)
		}
		if in, _ := r.Body["input"].([]any); len(in) != want {
			t.Errorf("request %d has %d inputs, want %d", i, len(in), want)
		}
		if r.Body["model"] != "text-embedding-v3" || r.Body["dimensions"] != float64(4) {
			t.Errorf("request %d: model %v, dimensions %v", i, r.Body["model"], r.Body["dimensions"])
		}
	}
}

func TestEmbedEmpty(t *testing.T) {
	f := newFakeAPI(t, embedOK(4))
	vecs, err := testEmbedder(t, f.config()).Embed(context.Background(), nil)
	if err != nil || len(vecs) != 0 || len(f.requests()) != 0 {
		t.Errorf("got %v, %v after %d requests", vecs, err, len(f.requests()))
	}
}

func TestEmbedErrors(t *testing.T) {
	tests := []struct {
		name        string
		respond     func(int, http.ResponseWriter, *http.Request, map[string]any)
		unavailable bool
		mention     string
	}{
		{name: "wrong length", respond: embedOK(3), mention: "3 dimensions"},
		{name: "missing vector", unavailable: true, mention: "vectors for",
			respond: func(_ int, w http.ResponseWriter, _ *http.Request, _ map[string]any) {
				writeJSON(w, http.StatusOK, map[string]any{"data": []any{map[string]any{"index": 0, "embedding": []float32{1, 2, 3, 4}}}})
			}},
		{name: "repeated index", unavailable: true, mention: "index",
			respond: func(_ int, w http.ResponseWriter, _ *http.Request, _ map[string]any) {
				v := map[string]any{"index": 1, "embedding": []float32{1, 2, 3, 4}}
				writeJSON(w, http.StatusOK, map[string]any{"data": []any{v, v}})
			}},
		{name: "garbage", unavailable: true,
			respond: func(_ int, w http.ResponseWriter, _ *http.Request, _ map[string]any) {
				_, _ = io.WriteString(w, `{"data": [{"embedding": "oops"`)
			}},
		{name: "500", unavailable: true, respond: apiError(http.StatusInternalServerError)},
		{name: "400", respond: apiError(http.StatusBadRequest)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.respond)
			_, err := testEmbedder(t, f.config()).Embed(context.Background(), []string{"t0", "t1"})
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, huiyin.ErrUnavailable) != tc.unavailable {
				t.Errorf("err = %v; ErrUnavailable: %v, want %v", err, !tc.unavailable, tc.unavailable)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("err = %v, want it to mention %q", err, tc.mention)
			}
		})
	}
}
