package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huiyin/huiyin/api"
	"github.com/huiyin/huiyin/staff"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/wechat"
)

// waitDraft polls a ticket until its draft is ready.
func (s *server) waitDraft(t *testing.T, ref string) map[string]any {
	t.Helper()
	return s.waitDraftWithin(t, ref, 20*time.Second)
}

func (s *server) waitDraftWithin(t *testing.T, ref string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		_, d, _ := s.do(t, http.MethodGet, "/api/v1/tickets/"+ref, "")
		if drafts, _ := d["drafts"].([]any); len(drafts) > 0 {
			if first := drafts[0].(map[string]any); first["status"] == "pending" {
				return first
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no draft for %s within %s", ref, within)
	return nil
}

func (s *server) post(t *testing.T, path, body string, want int) map[string]any {
	t.Helper()
	status, out, raw := s.do(t, http.MethodPost, path, body)
	if status != want {
		t.Fatalf("POST %s: %d, want %d: %s", path, status, want, raw)
	}
	return out
}

// TestWholeLoop follows one message from intake to the follow-up visit:
// the draft made in the background, approval with an edit, assignment,
// resolution, an unhappy visit that reopens the ticket, a happy one that
// lets it close, then the analytics, the CSV export and the audit log.
func TestWholeLoop(t *testing.T) {
	s := newServer(t, api.Config{})
	s.ingestKB(t)
	s.startJobs(t)
	out := s.post(t, "/api/v1/messages", `{"channel":"app","message_id":"loop-1","owner":"owner-1","text":"5栋2单元1201卫生间水龙头一直滴水，麻烦派人修一下"}`, 201)
	ref := out["ticket"].(string)

	s.login(t, "admin", staff.Admin, "")
	admin := s.token
	s.post(t, "/api/v1/staff", `{"username":"lead.wang","name":"王主管","role":"lead","department":"engineering","password":"a-long-password-1"}`, 201)
	s.post(t, "/api/v1/staff", `{"username":"agent.li","name":"李师傅","role":"agent","department":"engineering","password":"a-long-password-2"}`, 201)
	s.token = s.post(t, "/api/v1/auth/login", `{"username":"lead.wang","password":"a-long-password-1"}`, 200)["token"].(string)

	_, q, _ := s.do(t, http.MethodGet, "/api/v1/tickets?department=engineering&open=true", "")
	if q["total"] != float64(1) {
		t.Fatalf("queue %v", q)
	}
	draft := s.waitDraft(t, ref)
	body := draft["body"].(string)
	if !strings.Contains(body, ref) || strings.Contains(body, "{工单号}") {
		t.Errorf("draft does not name the ticket: %s", body)
	}
	if cites, _ := draft["citations"].([]any); len(cites) == 0 {
		t.Errorf("draft has no sources")
	}
	edited := body + "师傅上门前会先电话联系您。"
	reply := s.post(t, fmt.Sprintf("/api/v1/tickets/%s/drafts/%v/approve", ref, draft["id"]), `{"text":`+strconv.Quote(edited)+`}`, 200)
	if reply["edit_distance"] != float64(len([]rune("师傅上门前会先电话联系您。"))) || reply["approved_by"] != "lead.wang" {
		t.Errorf("reply %v", reply)
	}
	// A draft is sent once.
	s.post(t, fmt.Sprintf("/api/v1/tickets/%s/drafts/%v/approve", ref, draft["id"]), ``, 409)
	s.post(t, "/api/v1/tickets/"+ref+"/assign", `{"assignee":"agent.li"}`, 200)
	s.post(t, "/api/v1/tickets/"+ref+"/state", `{"state":"in_progress"}`, 200)
	s.post(t, "/api/v1/tickets/"+ref+"/state", `{"state":"resolved","note":"已更换阀芯"}`, 200)
	// The visit is due within three days of the resolution.
	s.post(t, "/api/v1/tickets/"+ref+"/follow-up", `{"due_at":"`+time.Now().Add(100*time.Hour).Format(time.RFC3339)+`"}`, 400)
	s.post(t, "/api/v1/tickets/"+ref+"/follow-up", `{"due_at":"`+time.Now().Add(48*time.Hour).Format(time.RFC3339)+`"}`, 200)
	got := s.post(t, "/api/v1/tickets/"+ref+"/follow-up", `{"score":2,"comment":"还在滴"}`, 200)
	if got["state"] != "reopened" || got["reopened"] != true {
		t.Fatalf("unhappy visit: %v", got)
	}
	s.post(t, "/api/v1/tickets/"+ref+"/state", `{"state":"resolved"}`, 200)
	got = s.post(t, "/api/v1/tickets/"+ref+"/follow-up", `{"score":5,"comment":"修好了，谢谢"}`, 200)
	if got["state"] != "followed_up" {
		t.Fatalf("happy visit: %v", got)
	}
	s.post(t, "/api/v1/tickets/"+ref+"/state", `{"state":"closed"}`, 200)
	s.post(t, "/api/v1/tickets/"+ref+"/state", `{"state":"in_progress"}`, 409)

	_, d, _ := s.do(t, http.MethodGet, "/api/v1/tickets/"+ref, "")
	if d["state"] != "closed" || d["first_responded_at"] == nil || d["assignee"] != "agent.li" {
		t.Errorf("detail %v", d)
	}
	if f := d["follow_up"].(map[string]any); f["score"] != float64(5) {
		t.Errorf("follow-up %v", f)
	}
	if h := d["history"].([]any); len(h) < 10 {
		t.Errorf("history has %d events", len(h))
	}

	// Promoting the approved reply needs a lead.
	s.post(t, fmt.Sprintf("/api/v1/replies/%v/promote", reply["id"]), `{"situation":"水龙头滴水维修"}`, 201)
	s.post(t, fmt.Sprintf("/api/v1/replies/%v/promote", reply["id"]), ``, 409)

	_, a, raw := s.do(t, http.MethodGet, "/api/v1/analytics/summary", "")
	sat := a["satisfaction"].(map[string]any)
	if a["tickets"] != float64(1) || sat["responses"] != float64(2) || sat["average"] != 3.5 {
		t.Errorf("analytics %s", raw)
	}
	if fr := a["first_response"].(map[string]any); fr["met"] != float64(1) || fr["compliance"] != float64(1) {
		t.Errorf("first response %v", fr)
	}
	status, _, csvText := s.do(t, http.MethodGet, "/api/v1/analytics/tickets.csv", "")
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvText, "\uFEFF"))).ReadAll()
	if status != 200 || err != nil || len(records) != 2 || records[1][0] != ref || records[1][18] != "5" {
		t.Errorf("csv %d %v %q", status, err, csvText)
	}

	s.token = admin
	_, audit, _ := s.do(t, http.MethodGet, "/api/v1/audit", "")
	var actions []string
	for _, e := range audit["entries"].([]any) {
		e := e.(map[string]any)
		actions = append(actions, e["actor"].(string)+" "+e["action"].(string))
	}
	for _, want := range []string{"lead.wang POST /api/v1/tickets/:ref/drafts/:id/approve", "lead.wang POST /api/v1/tickets/:ref/assign",
		"admin POST /api/v1/staff", "login:lead.wang POST /api/v1/auth/login"} {
		if !strings.Contains(strings.Join(actions, "\n"), want) {
			t.Errorf("audit log lacks %q:\n%s", want, strings.Join(actions, "\n"))
		}
	}
}

func TestStaffAccess(t *testing.T) {
	s := newServer(t, api.Config{})
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"no token", http.MethodGet, "/api/v1/tickets", "", 401},
		{"forged token", http.MethodGet, "/api/v1/tickets", "", 401},
		{"agent reads the queue", http.MethodGet, "/api/v1/tickets", "", 200},
		{"agent cannot assign", http.MethodPost, "/api/v1/tickets/HY1/assign", `{"assignee":"x"}`, 403},
		{"agent cannot list staff", http.MethodGet, "/api/v1/staff", "", 403},
		{"agent cannot see analytics", http.MethodGet, "/api/v1/analytics/summary", "", 403},
		{"unknown ticket", http.MethodGet, "/api/v1/tickets/HY-nope", "", 404},
		{"unknown field", http.MethodPost, "/api/v1/tickets/HY1/state", `{"stat":"closed"}`, 400},
		{"bad state", http.MethodPost, "/api/v1/tickets/HY1/state", `{"state":"done"}`, 400},
		{"follow-up needs its score", http.MethodPost, "/api/v1/tickets/HY1/state", `{"state":"followed_up"}`, 400},
		{"assignment needs its assignee", http.MethodPost, "/api/v1/tickets/HY1/state", `{"state":"assigned"}`, 400},
	}
	s.login(t, "agent.zhao", staff.Agent, "customer_service")
	agent := s.token
	for _, tt := range tests {
		switch tt.name {
		case "no token":
			s.token = ""
		case "forged token":
			s.token = "hys_forged"
		default:
			s.token = agent
		}
		status, out, raw := s.do(t, tt.method, tt.path, tt.body)
		if status != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.name, status, tt.status, raw)
		}
		if status >= 400 && (out["error"] == "" || out["error"] == nil) {
			t.Errorf("%s: no error message: %s", tt.name, raw)
		}
	}
	// A wrong password and an unknown user read the same.
	s.token = ""
	_, wrong, _ := s.do(t, http.MethodPost, "/api/v1/auth/login", `{"username":"agent.zhao","password":"nope-nope-nope"}`)
	_, unknown, _ := s.do(t, http.MethodPost, "/api/v1/auth/login", `{"username":"nobody","password":"nope-nope-nope"}`)
	if wrong["error"] != "用户名或密码错误" || unknown["error"] != wrong["error"] {
		t.Errorf("login errors %v / %v", wrong, unknown)
	}
	// API keys: made by an admin, shown once, revocable.
	s.login(t, "root", staff.Admin, "")
	created := s.post(t, "/api/v1/api-keys", `{"name":"业主APP","role":"agent"}`, 201)
	key := created["key"].(string)
	s.token = key
	if status, _, raw := s.do(t, http.MethodGet, "/api/v1/tickets", ""); status != 200 {
		t.Fatalf("API key: %d %s", status, raw)
	}
	s.login(t, "root2", staff.Admin, "")
	s.post(t, fmt.Sprintf("/api/v1/api-keys/%v", created["api_key"].(map[string]any)["id"]), "", 405)
	if status, _, raw := s.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/api-keys/%v", created["api_key"].(map[string]any)["id"]), ""); status != 204 {
		t.Fatalf("revoke: %d %s", status, raw)
	}
	s.token = key
	if status, _, _ := s.do(t, http.MethodGet, "/api/v1/tickets", ""); status != 401 {
		t.Errorf("revoked key still works: %d", status)
	}
	// Logging out ends the session.
	s.token = agent
	s.post(t, "/api/v1/auth/logout", "", 204)
	if status, _, _ := s.do(t, http.MethodGet, "/api/v1/me", ""); status != 401 {
		t.Errorf("session alive after logout: %d", status)
	}
}

// TestRelatedMessages covers merging an owner's pieces of one message,
// repeats within 30 days, a vulnerable owner, and one fault reported by
// two owners becoming one incident answered once.
func TestRelatedMessages(t *testing.T) {
	s := newServer(t, api.Config{})
	s.login(t, "lead", staff.Lead, "engineering")
	now := time.Now()
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	msg := func(id, owner, text string, when time.Duration) map[string]any {
		return s.post(t, "/api/v1/messages", fmt.Sprintf(`{"channel":"wechat","message_id":%q,"owner":%q,"text":%q,"received_at":%q}`,
			id, owner, text, at(when)), map[bool]int{true: 200, false: 201}[strings.HasSuffix(id, "-merge")])
	}
	first := msg("a-1", "openid-a", "电梯坏了", -40*24*time.Hour)
	piece := msg("a-2-merge", "openid-a", "3栋的", -40*24*time.Hour+time.Minute)
	if piece["merged"] != true || piece["ticket"] != first["ticket"] {
		t.Fatalf("a short follow-up within minutes joins the ticket: %v", piece)
	}
	// 40 days later it is no repeat; within 30 days it is.
	second := msg("a-3", "openid-a", "3栋电梯又坏了，上周刚修过", -10*24*time.Hour)
	if second["repeat"] != false {
		t.Errorf("a report 40 days after is not a repeat: %v", second)
	}
	third := msg("a-4", "openid-a", "3栋电梯又坏了，怎么老是坏", 0)
	if third["repeat"] != true {
		t.Errorf("a report 10 days after is a repeat: %v", third)
	}
	_, d, _ := s.do(t, http.MethodGet, "/api/v1/tickets/"+third["ticket"].(string), "")
	if d["repeat_of"] != second["ticket"] || d["urgency"] == "low" || d["urgency"] == "normal" {
		t.Errorf("repeat ticket %v urgency %v", d["repeat_of"], d["urgency"])
	}
	// Another owner's report of the same lift joins an incident.
	other := msg("b-1", "openid-b", "3栋的电梯停了，走不了", time.Minute)
	if other["incident"] != true {
		t.Fatalf("second owner's report: %v", other)
	}
	_, list, _ := s.do(t, http.MethodGet, "/api/v1/incidents", "")
	incidents := list["incidents"].([]any)
	if len(incidents) != 1 || len(incidents[0].(map[string]any)["tickets"].([]any)) != 2 {
		t.Fatalf("incidents %v", list)
	}
	inRef := incidents[0].(map[string]any)["ref"].(string)
	out := s.post(t, "/api/v1/incidents/"+inRef+"/reply", `{"text":"各位业主好，3栋电梯故障已报修，维保人员正在赶来，工单号{工单号}。"}`, 200)
	replies := out["replies"].([]any)
	if len(replies) != 2 {
		t.Fatalf("replies %v", replies)
	}
	for _, r := range replies {
		r := r.(map[string]any)
		if !strings.Contains(r["body"].(string), r["ticket"].(string)) {
			t.Errorf("each reporter gets their own reference: %v", r)
		}
	}
	// A vulnerable owner raises urgency.
	owner := msg("c-1", "openid-c", "想问下小区快递柜在哪", 0)
	_, od, _ := s.do(t, http.MethodGet, "/api/v1/tickets/"+owner["ticket"].(string), "")
	ownerID := od["owner"].(map[string]any)["id"]
	status, o, raw := s.do(t, http.MethodPut, fmt.Sprintf("/api/v1/owners/%v", ownerID),
		`{"name":"陈奶奶","notes":"独居老人，听力不好","vulnerable":true,"confirmed":true,"units":[{"building":"7栋","unit":"1单元","room":"302"}]}`)
	if status != 200 || o["provisional"] != false || len(o["units"].([]any)) != 1 {
		t.Fatalf("update owner: %d %s", status, raw)
	}
	again := msg("c-2", "openid-c", "7栋楼道灯不亮了，晚上看不见", 2*time.Hour)
	_, vd, _ := s.do(t, http.MethodGet, "/api/v1/tickets/"+again["ticket"].(string), "")
	if vd["vulnerable"] != true || !strings.Contains(fmt.Sprint(vd["triage"].(map[string]any)["risks"]), "vulnerable") {
		t.Errorf("vulnerable owner's ticket: %v %v", vd["vulnerable"], vd["triage"])
	}
	_, found, _ := s.do(t, http.MethodGet, "/api/v1/owners?q="+url.QueryEscape("陈奶奶"), "")
	if len(found["owners"].([]any)) != 1 {
		t.Errorf("owner search %v", found)
	}
}

func TestChat(t *testing.T) {
	s := newServer(t, api.Config{})
	s.ingestKB(t)
	out := s.post(t, "/api/v1/chat", `{"owner":"visitor-1","text":"物业费可以用微信交吗"}`, 200)
	conv := out["conversation"].(string)
	if out["handoff"] != false || out["source"] != "faq" || len(out["citations"].([]any)) == 0 {
		t.Errorf("an FAQ question is answered with its source: %v", out)
	}
	out = s.post(t, "/api/v1/chat", `{"conversation":"`+conv+`","text":"2栋3单元1102家里天花板漏水了，一直在滴"}`, 200)
	ref, _ := out["ticket"].(string)
	if out["handoff"] != true || !strings.HasPrefix(ref, "HY") || !strings.Contains(out["answer"].(string), ref) {
		t.Fatalf("a report becomes a ticket: %v", out)
	}
	// The ticket a chat opens is counted with those from intake.
	if m := s.metrics(t); !strings.Contains(m, `huiyin_tickets_opened_total{category="repair",urgency=`) {
		t.Errorf("the chat's ticket is not counted as opened:\n%s", m)
	}
	status, c, raw := s.do(t, http.MethodGet, "/api/v1/chat/"+conv, "")
	if status != 200 || len(c["turns"].([]any)) != 4 || len(c["tickets"].([]any)) != 1 {
		t.Errorf("conversation %d %s", status, raw)
	}
	if status, _, _ := s.do(t, http.MethodGet, "/api/v1/chat/hyc_unknown", ""); status != 404 {
		t.Errorf("unknown conversation: %d", status)
	}
	s.post(t, "/api/v1/chat", `{"text":""}`, 400)
}

func TestWeChat(t *testing.T) {
	s := newServer(t, api.Config{})
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := wechat.Signature(wechatToken, ts, "n1")
	status, _, raw := s.do(t, http.MethodGet, "/wechat?signature="+sig+"&timestamp="+ts+"&nonce=n1&echostr=hello", "")
	if status != 200 || raw != "hello" {
		t.Errorf("URL check: %d %q", status, raw)
	}
	body := `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[openid-wx]]></FromUserName>
<CreateTime>` + ts + `</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[9栋地库入口道闸坏了，车出不去]]></Content><MsgId>1234567890</MsgId></xml>`
	query := "/wechat?signature=" + sig + "&timestamp=" + ts + "&nonce=n1&openid=openid-wx"
	var refs []string
	for range 3 { // WeChat retries a message it got no answer to in time
		status, _, raw = s.do(t, http.MethodPost, query, body)
		if status != 200 {
			t.Fatalf("callback: %d %s", status, raw)
		}
		m, err := wechat.Parse([]byte(raw))
		if err != nil || m.FromUserName != "gh_1" || m.ToUserName != "openid-wx" {
			t.Fatalf("passive reply %q: %v", raw, err)
		}
		refs = append(refs, m.Content[strings.Index(m.Content, "HY"):][:len("HY20261123-000001")])
	}
	if refs[0] != refs[1] || refs[1] != refs[2] {
		t.Errorf("retries made more tickets: %v", refs)
	}
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM tickets`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d tickets, want 1 (%v)", n, err)
	}
	stale := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	for name, q := range map[string]string{
		"forged":  "/wechat?signature=" + strings.Repeat("0", 40) + "&timestamp=" + ts + "&nonce=n1",
		"missing": "/wechat?timestamp=" + ts + "&nonce=n1",
		"replay":  "/wechat?signature=" + wechat.Signature(wechatToken, stale, "n1") + "&timestamp=" + stale + "&nonce=n1",
	} {
		if status, _, _ := s.do(t, http.MethodPost, q, body); status != 403 {
			t.Errorf("%s signature: %d, want 403", name, status)
		}
		if status, _, _ := s.do(t, http.MethodGet, q+"&echostr=x", ""); status != 403 {
			t.Errorf("%s signature on the URL check: %d, want 403", name, status)
		}
	}
	status, _, raw = s.do(t, http.MethodPost, query, `<xml><oops>`)
	if status != 400 {
		t.Errorf("malformed XML: %d %s", status, raw)
	}
}

// TestDraftAfterRestart: a ticket acknowledged by a process that died
// before drafting gets its draft when the service starts again, because
// the draft job was committed with the ticket.
func TestDraftAfterRestart(t *testing.T) {
	s := newServer(t, api.Config{})
	s.ingestKB(t)
	// The job queue is not running: the process "dies" after the ack.
	out := s.post(t, "/api/v1/messages", `{"channel":"app","message_id":"crash-1","owner":"o-9","text":"8栋1单元楼道的灯坏了好几天了"}`, 201)
	ref := out["ticket"].(string)
	var jobs int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'ticket.draft' AND state = 'available'`).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("draft jobs waiting: %d %v", jobs, err)
	}
	s.startJobs(t) // the restart
	s.login(t, "agent", staff.Agent, "")
	d := s.waitDraft(t, ref)
	if !strings.Contains(d["body"].(string), ref) {
		t.Errorf("draft %v", d["body"])
	}
}

// TestDeadlineEscalation: a deadline that passes unmet is marked breached
// and the project manager is told.
func TestDeadlineEscalation(t *testing.T) {
	s := newServer(t, api.Config{})
	s.startJobs(t)
	old := time.Now().Add(-3 * time.Hour).Format(time.RFC3339)
	out := s.post(t, "/api/v1/messages", `{"channel":"phone","message_id":"late-1","owner":"13900001111","text":"小区东门的路灯不亮了","received_at":"`+old+`"}`, 201)
	ref := out["ticket"].(string)
	s.login(t, "pm", staff.Manager, "")
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, d, _ := s.do(t, http.MethodGet, "/api/v1/tickets/"+ref, "")
		if b, _ := d["breaches"].([]any); len(b) > 0 {
			_, n, _ := s.do(t, http.MethodGet, "/api/v1/notifications", "")
			if !strings.Contains(fmt.Sprint(n["notifications"]), ref) {
				t.Errorf("manager not told: %v", n)
			}
			if d["escalated_at"] == nil {
				t.Errorf("not escalated: %v", d)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no breach recorded for %s", ref)
}

var _ = ticket.New
