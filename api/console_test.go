package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/huiyin/huiyin/api"
	"github.com/huiyin/huiyin/staff"
)

// TestCorrectLabels corrects a ticket's labels: it is routed again with
// the corrected urgency's deadlines, the change is in its history, and the
// correction is exported as training feedback with the owner's phone
// number masked.
func TestCorrectLabels(t *testing.T) {
	s := newServer(t, api.Config{})
	s.login(t, "lead", staff.Lead, "")
	rec := s.post(t, "/api/v1/messages", `{"channel":"app","message_id":"c1","owner":"o1","text":"楼道的灯坏了好几天了，晚上很黑，我电话13812345678"}`, http.StatusCreated)
	ref := rec["ticket"].(string)
	before := rec["triage"].(map[string]any)

	tests := []struct {
		name    string
		body    string
		status  int
		changed []string
		errText string
	}{
		{"urgency and category", `{"category":"security","urgency":"emergency"}`, 200, []string{"category", "urgency"}, ""},
		{"the same again changes nothing", `{"category":"security","urgency":"emergency"}`, 200, []string{}, ""},
		{"risks", `{"risks":["safety","safety"]}`, 200, []string{"risks"}, ""},
		{"a value outside the taxonomy", `{"urgency":"urgent"}`, 400, nil, "不在分类标准中"},
		{"an unknown field", `{"priority":"p1"}`, 400, nil, "未知字段"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, raw := s.do(t, http.MethodPost, "/api/v1/tickets/"+ref+"/labels", tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, raw)
			}
			if tt.errText != "" {
				if !strings.Contains(out["error"].(string), tt.errText) {
					t.Fatalf("error %q lacks %q", out["error"], tt.errText)
				}
				return
			}
			got, _ := json.Marshal(out["changed"])
			want, _ := json.Marshal(tt.changed)
			if string(got) != string(want) {
				t.Fatalf("changed %s, want %s", got, want)
			}
		})
	}
	status, _, raw := s.do(t, http.MethodPost, "/api/v1/tickets/HY20000101-999999/labels", `{"urgency":"low"}`)
	if status != http.StatusNotFound {
		t.Fatalf("missing ticket: %d %s", status, raw)
	}

	_, d, _ := s.do(t, http.MethodGet, "/api/v1/tickets/"+ref, "")
	tr := d["triage"].(map[string]any)
	if tr["category"] != "security" || tr["urgency"] != "emergency" || tr["department"] != "security" {
		t.Fatalf("after correction: %v", tr)
	}
	if tr["deadlines"].(map[string]any)["first_response_by"] == before["deadlines"].(map[string]any)["first_response_by"] {
		t.Fatal("an emergency kept the deadline of its first urgency")
	}
	if !strings.Contains(mustJSON(t, d["history"]), "人工修正分类") {
		t.Fatalf("history lacks the correction: %v", d["history"])
	}

	body := s.get(t, "/api/v1/feedback.jsonl", http.StatusOK)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 feedback lines, got %d:\n%s", len(lines), body)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["category"] != "security" || first["urgency"] != "emergency" || first["ticket"] != ref {
		t.Fatalf("feedback line: %v", first)
	}
	if strings.Contains(first["text"].(string), "13812345678") || !strings.Contains(first["text"].(string), "楼道的灯") {
		t.Fatalf("feedback text not masked or missing: %q", first["text"])
	}
	if p := first["predicted"].(map[string]any); p["category"] != before["category"] {
		t.Fatalf("predicted %v, triaged %v", p["category"], before["category"])
	}

	// A message merged into the ticket later keeps staff's labels.
	merged := s.post(t, "/api/v1/messages", `{"channel":"app","message_id":"c2","owner":"o1","text":"快点来修吧"}`, http.StatusOK)
	if merged["ticket"] != ref || merged["merged"] != true {
		t.Fatalf("not merged: %v", merged)
	}
	if tr := merged["triage"].(map[string]any); tr["category"] != "security" || tr["urgency"] != "emergency" {
		t.Fatalf("the merge undid the correction: %v %v", tr["category"], tr["urgency"])
	}

	s.login(t, "agent", staff.Agent, "")
	if status, _, _ := s.do(t, http.MethodGet, "/api/v1/feedback.jsonl", ""); status != http.StatusForbidden {
		t.Fatalf("an agent read the feedback: %d", status)
	}
	if status, _, _ := s.do(t, http.MethodPost, "/api/v1/tickets/"+ref+"/labels", `{"urgency":"low"}`); status != http.StatusForbidden {
		t.Fatalf("an agent corrected labels: %d", status)
	}
}

// TestKnowledgeConsole searches the knowledge base as the chatbot would,
// edits an FAQ entry (the chatbot answers with the edit at once), uploads
// a document and refuses bad uploads.
func TestKnowledgeConsole(t *testing.T) {
	s := newServer(t, api.Config{})
	s.ingestKB(t)
	s.login(t, "lead", staff.Lead, "")

	var search struct {
		Answer struct {
			Answer string `json:"answer"`
			Source string `json:"source"`
		} `json:"answer"`
		Hits []struct {
			ID     int64  `json:"id"`
			Kind   string `json:"kind"`
			Source string `json:"source"`
		} `json:"hits"`
	}
	s.getJSON(t, "/api/v1/knowledge/search?q="+url.QueryEscape("物业费可以用微信交吗"), &search)
	if len(search.Hits) == 0 || search.Answer.Source != "faq" {
		t.Fatalf("search: %+v", search)
	}
	faqID := int64(0)
	for _, h := range search.Hits {
		if h.Kind == "faq" {
			faqID = h.ID
			break
		}
	}
	if faqID == 0 {
		t.Fatal("no FAQ hit")
	}
	edited := "可以。物业费支持微信、支付宝和银行转账缴纳（控制台编辑测试）。"
	out := s.put(t, "/api/v1/knowledge/faq/"+itoa(faqID), `{"question":"物业费可以用微信交吗？","answer":"`+edited+`"}`, http.StatusOK)
	if out["answer"] != edited {
		t.Fatalf("edit: %v", out)
	}
	s.getJSON(t, "/api/v1/knowledge/search?q="+url.QueryEscape("物业费可以用微信交吗"), &search)
	if search.Answer.Answer != edited {
		t.Fatalf("the chatbot still answers %q", search.Answer.Answer)
	}
	var faq struct {
		Entries []map[string]any `json:"entries"`
	}
	s.getJSON(t, "/api/v1/knowledge/faq?q="+url.QueryEscape("控制台编辑测试"), &faq)
	if len(faq.Entries) != 1 {
		t.Fatalf("FAQ filter found %d entries", len(faq.Entries))
	}
	// Edited again, question and all: still one edit, keyed by the
	// question the entry shipped with.
	id2 := int64(faq.Entries[0]["id"].(float64))
	s.put(t, "/api/v1/knowledge/faq/"+itoa(id2), `{"question":"物业费能用微信付吗？","answer":"`+edited+`"}`, http.StatusOK)
	edits, err := s.kb.FAQEdits(t.Context())
	if err != nil || len(edits) != 1 || edits[0].NewQuestion != "物业费能用微信付吗？" || edits[0].Question == "物业费可以用微信交吗？" {
		t.Fatalf("stored edits %+v, %v", edits, err)
	}
	for _, body := range []string{`{"question":"","answer":"a"}`, `{"question":"q\u0000","answer":"a"}`, `{"question":"q","answer":"` + strings.Repeat("长", 4001) + `"}`} {
		if status, _, raw := s.do(t, http.MethodPut, "/api/v1/knowledge/faq/"+itoa(id2), body); status != http.StatusBadRequest {
			t.Fatalf("FAQ edit %.40s: %d %s", body, status, raw)
		}
	}
	if status, _, _ := s.do(t, http.MethodPut, "/api/v1/knowledge/faq/999999", `{"question":"q","answer":"a"}`); status != http.StatusNotFound {
		t.Fatalf("editing a missing entry: %d", status)
	}

	for _, tt := range []struct {
		name, file, kind string
		data             []byte
		status           int
	}{
		{"markdown", "停水通知.md", "", []byte("# 停水通知\n\n## 周六停水\n\n周六上午9点至12点二次供水设备检修，全小区停水。\n"), 201},
		{"above the JSON limit", "长文档.txt", "standard", []byte(strings.Repeat("小区公共区域保洁每日两次。\n", 5000)), 201},
		{"an unsupported format", "scan.pdf", "", []byte("%PDF-1.7"), 400},
		{"empty", "empty.md", "", nil, 400},
		{"not UTF-8", "gbk.txt", "", []byte{0xb9, 0xdc, 0xc0, 0xed}, 400},
		{"an unknown kind", "a.md", "novel", []byte("# a\n\ntext\n"), 400},
		{"an FAQ without questions", "faq.txt", "faq", []byte("只是一段话。"), 400},
		{"a control character in the name", "a\x01b.md", "", []byte("# a\n\ntext\n"), 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := s.upload(t, tt.file, tt.kind, tt.data)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, raw)
			}
		})
	}
	var docs struct {
		Documents []map[string]any `json:"documents"`
	}
	s.getJSON(t, "/api/v1/knowledge/documents", &docs)
	if !strings.Contains(mustJSON(t, docs), "uploads/停水通知.md") {
		t.Fatal("the upload is not listed")
	}
	if status, _, _ := s.do(t, http.MethodPost, "/api/v1/messages", `{"channel":"app","message_id":"big","owner":"o","text":"`+strings.Repeat("吵", 30000)+`"}`); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 90 KB message: %d, want 413", status)
	}

	s.login(t, "agent", staff.Agent, "")
	if status, _ := s.upload(t, "x.md", "", []byte("# x\n\ny\n")); status != http.StatusForbidden {
		t.Fatalf("an agent uploaded: %d", status)
	}
	if status, _, _ := s.do(t, http.MethodPut, "/api/v1/knowledge/faq/"+itoa(faqID), `{"question":"q","answer":"a"}`); status != http.StatusForbidden {
		t.Fatalf("an agent edited the FAQ: %d", status)
	}
}

// TestPages serves the console and the owners' page with a strict content
// security policy, and answers unknown API paths 404 before any sign-in.
func TestPages(t *testing.T) {
	s := newServer(t, api.Config{})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		path     string
		status   int
		contains string
	}{
		{"/", http.StatusFound, ""},
		{"/h5?owner=o-1", http.StatusMovedPermanently, ""},
		{"/console", http.StatusMovedPermanently, ""},
		{"/console/", http.StatusOK, "物业工单工作台"},
		{"/console/app.js", http.StatusOK, "textContent"},
		{"/console/vendor/chart.umd.min.js", http.StatusOK, "Chart.js v4"},
		{"/h5/", http.StatusOK, "在线咨询"},
		{"/h5/h5.js", http.StatusOK, "textContent"},
		{"/console/missing.js", http.StatusNotFound, ""},
		{"/api/v1/no-such-route", http.StatusNotFound, "接口不存在"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := client.Get(s.url + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusMovedPermanently && !strings.HasSuffix(strings.SplitN(loc, "?", 2)[0], "/") {
				t.Fatalf("redirected to %q", loc)
			}
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.contains) {
				t.Fatalf("%d (want %d), body %.200q", resp.StatusCode, tt.status, body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Fatalf("content security policy %q", csp)
			}
		})
	}
	s.login(t, "agent", staff.Agent, "")
	var tax struct {
		Categories []struct{ Value, Name string } `json:"categories"`
		Moves      map[string][]string            `json:"moves"`
	}
	s.getJSON(t, "/api/v1/taxonomy", &tax)
	if len(tax.Categories) != 10 || tax.Categories[0].Value != "repair" || tax.Categories[0].Name != "工程维修" ||
		strings.Join(tax.Moves["in_progress"], ",") != "resolved" || strings.Join(tax.Moves["new"], ",") != "in_progress,resolved" {
		t.Fatalf("taxonomy: %+v", tax)
	}
}

func (s *server) get(t *testing.T, path string, want int) string {
	t.Helper()
	status, _, raw := s.do(t, http.MethodGet, path, "")
	if status != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, status, want, raw)
	}
	return raw
}

func (s *server) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s.get(t, path, http.StatusOK)), v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func (s *server) put(t *testing.T, path, body string, want int) map[string]any {
	t.Helper()
	status, out, raw := s.do(t, http.MethodPut, path, body)
	if status != want {
		t.Fatalf("PUT %s: %d, want %d: %s", path, status, want, raw)
	}
	return out
}

func (s *server) upload(t *testing.T, name, kind string, data []byte) (int, string) {
	t.Helper()
	body, ctype := multipartBody(t, "file", name, kind, data)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/knowledge/documents", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestDeskInputErrors gives malformed paging a clear 400, a missing draft
// 404 and a decided one 409, whichever way staff decide.
func TestDeskInputErrors(t *testing.T) {
	s := newServer(t, api.Config{})
	s.ingestKB(t)
	s.startJobs(t)
	s.login(t, "admin", staff.Admin, "")
	ref := s.post(t, "/api/v1/messages", `{"channel":"app","message_id":"e1","owner":"o1","text":"2栋电梯按钮失灵了"}`, http.StatusCreated)["ticket"].(string)
	draft := s.waitDraft(t, ref)
	id := itoa(int64(draft["id"].(float64)))
	s.post(t, "/api/v1/tickets/"+ref+"/drafts/"+id+"/approve", `{}`, http.StatusOK)
	// A cross-site form post carries no JSON content type.
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/tickets/"+ref+"/state", strings.NewReader(`{"state":"resolved"}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a text/plain post: %d, want 400", resp.StatusCode)
	}
	for _, tt := range []struct {
		method, path, body string
		status             int
		errText            string
	}{
		{http.MethodGet, "/api/v1/tickets?limit=abc", "", 400, "limit 须为整数"},
		{http.MethodGet, "/api/v1/tickets?offset=1.5", "", 400, "offset 须为整数"},
		{http.MethodGet, "/api/v1/tickets?limit=5000", "", 400, "1–500"},
		{http.MethodGet, "/api/v1/audit?limit=x", "", 400, "limit 须为整数"},
		{http.MethodPost, "/api/v1/tickets/" + ref + "/drafts/999999/reject", `{"reason":"不对"}`, 404, "没有草稿"},
		{http.MethodPost, "/api/v1/tickets/" + ref + "/drafts/999999/approve", `{}`, 404, ""},
		{http.MethodPost, "/api/v1/tickets/" + ref + "/drafts/" + id + "/reject", `{"reason":"不对"}`, 409, "已处理"},
		{http.MethodPost, "/api/v1/tickets/" + ref + "/drafts/" + id + "/approve", `{}`, 409, ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, out, raw := s.do(t, tt.method, tt.path, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, raw)
			}
			if msg, _ := out["error"].(string); !strings.Contains(msg, tt.errText) {
				t.Fatalf("error %q lacks %q", msg, tt.errText)
			}
		})
	}
}
