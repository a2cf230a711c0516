package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/huiyin/huiyin/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestKnowledgeCommands runs migrate, ingest, ask and draft as a user
// would, against a fresh dev database.
func TestKnowledgeCommands(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.URL(t)}

	if code, out, errOut := runCmd(t, "", env, "migrate"); code != exitOK || !strings.Contains(out, "迁移完成") {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	code, out, errOut := runCmd(t, "", env, "ingest")
	if code != exitOK || !strings.Contains(out, "已导入 41 个文档") {
		t.Fatalf("ingest: %d %q %q", code, out, errOut)
	}
	if code, out, _ := runCmd(t, "", env, "ingest"); code != exitOK || !strings.Contains(out, "更新 0") {
		t.Errorf("second ingest should change nothing: %d %q", code, out)
	}

	code, out, errOut = runCmd(t, "", env, "ask", "管理费能用微信交吗")
	if code != exitOK || !strings.Contains(out, "来源：") {
		t.Errorf("ask: %d %q %q", code, out, errOut)
	}

	in := `{"id":"a","question":"物业费能用支付宝交吗"}
{"id":"b","question":"3栋电梯困人了"}
{"id":"c"}
not json
{"id":"d","question":""}
`
	code, out, errOut = runCmd(t, in, env, "ask", "--jsonl")
	if code != exitOK {
		t.Fatalf("ask --jsonl: %d %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("ask --jsonl gave %d lines, want 5:\n%s", len(lines), out)
	}
	var b struct {
		ID       string `json:"id"`
		Handoff  bool   `json:"handoff"`
		Escalate bool   `json:"escalate"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &b); err != nil || b.ID != "b" || !b.Handoff || !b.Escalate {
		t.Errorf("emergency line: %s (%v)", lines[1], err)
	}
	for i, want := range map[int]string{2: "missing_question", 3: "invalid_json", 4: "invalid_text"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %s, want %s", i+1, lines[i], want)
		}
	}

	code, out, errOut = runCmd(t, "", env, "draft", "3栋2单元1502电梯困人了，快来！")
	if code != exitOK || !strings.Contains(out, "{工单号}") || !strings.Contains(out, "30分钟内") {
		t.Errorf("draft: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCmd(t, `{"id":1,"text":"楼道灯坏了"}`+"\n", env, "draft", "--jsonl")
	if code != exitOK || !strings.Contains(out, `"id":"1"`) || !strings.Contains(out, `"reply"`) {
		t.Errorf("draft --jsonl: %d %q", code, out)
	}
}

func TestKnowledgeCommandsWithoutDatabase(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgresql://postgres:secret@127.0.0.1:1/postgres?sslmode=disable"}
	code, _, errOut := runCmd(t, "", env, "ask", "物业费怎么交")
	if code == exitOK || !strings.Contains(errOut, "scripts/devdb start") || strings.Contains(errOut, "secret") {
		t.Errorf("no database: %d %q (want a failure naming scripts/devdb and no password)", code, errOut)
	}
}
