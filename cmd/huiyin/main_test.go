package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huiyin/huiyin/triage"
)

// testEnv points the dictionary cache at a per-test directory.
func testEnv(t testing.TB, extra map[string]string) func(string) string {
	t.Helper()
	vars := map[string]string{"HUIYIN_CACHE_DIR": filepath.Join(os.TempDir(), "huiyin-cmd-test-cache")}
	for k, v := range extra {
		vars[k] = v
	}
	return func(k string) string { return vars[k] }
}

func runCmd(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, testEnv(t, env))
	return code, out.String(), errOut.String()
}

func TestTriageReadable(t *testing.T) {
	code, out, errOut := runCmd(t, "", nil, "triage", "3栋2单元1502电梯困人了，快来！")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"类别", "紧急度", "紧急（emergency）", "3栋2单元1502室", "5分钟内响应，30分钟内到场处理", "升级至项目经理"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTriageJSONL(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","text":"楼道灯坏了"}`,
		`{"id":7,"text":"请问物业费怎么交","received_at":"2026-11-22T09:00:00+08:00"}`,
		`not json`,
		`{"id":"b"}`,
		`{"text":"没有编号"}`,
		`{"id":"c","text":""}`,
		`{"id":"d","text":"电梯\ufffd坏了 <script>alert(1)</script>"}`,
		``,
		`{"id":"e","text":"` + strings.Repeat("吵", 10001) + `"}`,
		`{"id":"f","text":"最后一行没有换行也要处理"}`,
	}, "\n")
	code, out, errOut := runCmd(t, in, nil, "triage", "--jsonl")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 9 {
		t.Fatalf("got %d output lines, want 9 (blank input lines are skipped):\n%s", len(lines), out)
	}
	type line struct {
		ID        string            `json:"id"`
		Category  string            `json:"category"`
		Risks     []string          `json:"risks"`
		Escalate  *bool             `json:"escalate"`
		Deadlines map[string]any    `json:"deadlines"`
		Location  map[string]string `json:"location"`
		Conf      map[string]any    `json:"confidence"`
		Error     string            `json:"error"`
		Code      string            `json:"error_code"`
	}
	want := []struct{ id, code string }{
		{"a", ""}, {"7", ""}, {"", "invalid_json"}, {"b", "missing_text"}, {"", "missing_id"},
		{"c", "invalid_text"}, {"d", ""}, {"e", "invalid_text"}, {"f", ""},
	}
	for i, l := range lines {
		var got line
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		if got.ID != want[i].id || got.Code != want[i].code {
			t.Errorf("line %d: id %q code %q, want %q %q (%s)", i+1, got.ID, got.Code, want[i].id, want[i].code, got.Error)
		}
		if want[i].code == "" {
			if got.Category == "" || got.Risks == nil || got.Escalate == nil || got.Deadlines == nil || got.Location == nil || got.Conf == nil {
				t.Errorf("line %d misses fields: %s", i+1, l)
			}
		} else if got.Error == "" {
			t.Errorf("line %d: error without message", i+1)
		}
	}
	if !strings.Contains(lines[1], `"first_response_by":"2026-11-22T11:00:00+08:00"`) {
		t.Errorf("received_at not used for deadlines: %s", lines[1])
	}
	if !strings.Contains(lines[0], `+08:00"`) {
		t.Errorf("deadlines are not in the company's time zone (Asia/Shanghai by default): %s", lines[0])
	}
}

func TestUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no command":        nil,
		"unknown command":   {"frobnicate"},
		"triage no text":    {"triage"},
		"text and jsonl":    {"triage", "--jsonl", "电梯坏了"},
		"eval no file":      {"eval", "triage"},
		"eval unknown kind": {"eval", "poetry", "x"},
		"bad flag":          {"triage", "--nope", "x"},
	} {
		if code, _, _ := runCmd(t, "", nil, args...); code != exitUsage {
			t.Errorf("%s: exit %d, want %d", name, code, exitUsage)
		}
	}
	code, _, errOut := runCmd(t, "", nil, "triage", " ")
	if code != exitUsage || !strings.Contains(errOut, "消息为空") {
		t.Errorf("empty text: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "", map[string]string{"HUIYIN_POLICY": "/nonexistent/policy.yaml"}, "triage", "电梯坏了")
	if code != exitUsage || !strings.Contains(errOut, "policy") {
		t.Errorf("missing policy: exit %d, %q", code, errOut)
	}
	code, _, _ = runCmd(t, "", map[string]string{"HUIYIN_EMBEDDER": "telepathy"}, "triage", "电梯坏了")
	if code != exitUsage {
		t.Errorf("unknown embedder: exit %d", code)
	}
}

func TestCustomPolicy(t *testing.T) {
	policy, err := os.ReadFile("../../triage/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	custom := strings.Replace(string(policy), "engineering: 工程部", "engineering: 维修中心", 1)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "", nil, "triage", "--json", "--policy", path, "3栋电梯坏了，麻烦来修一下")
	if code != exitOK || !strings.Contains(out, `"department_name": "维修中心"`) {
		t.Fatalf("exit %d %s\n%s", code, errOut, out)
	}
}

func TestEvalAndTrain(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.jsonl")
	var b strings.Builder
	texts := map[string][2]string{
		"电梯坏了":     {"repair", "high"},
		"楼道灯不亮了":   {"repair", "normal"},
		"垃圾三天没人收":  {"cleaning", "normal"},
		"楼下垃圾桶太臭了": {"cleaning", "normal"},
		"物业费怎么交":   {"fees", "low"},
		"发票什么时候开":  {"fees", "low"},
		"楼上太吵了":    {"neighbor", "normal"},
		"隔壁狗一直叫":   {"neighbor", "normal"},
		"车位被人占了":   {"parking", "normal"},
		"门口乱停车":    {"parking", "normal"},
		"水管漏水了":    {"repair", "normal"},
		"垃圾站没人清理":  {"cleaning", "normal"},
	}
	i := 0
	for text, l := range texts {
		i++
		intent := "complaint"
		if l[1] == "low" {
			intent = "inquiry"
		}
		rec := map[string]any{"id": "t" + string(rune('a'+i)), "text": text, "category": l[0], "intent": intent, "urgency": l[1],
			"sentiment": "neutral", "risks": []string{}, "location": map[string]string{"building": "", "unit": "", "room": "", "area": ""}}
		line, _ := json.Marshal(rec)
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model.json.gz")
	code, out, errOut := runCmd(t, "", nil, "train", "--data", data, "--out", model, "--embedder", "none")
	if code != exitOK || !strings.Contains(out, "trained on 12 messages") {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "", nil, "eval", "triage", "--json", "--model", model, data)
	if code != exitOK {
		t.Fatalf("eval: exit %d %s", code, errOut)
	}
	var rep struct {
		Messages int `json:"messages"`
		Fields   map[string]struct {
			Accuracy float64 `json:"accuracy"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Messages != 12 {
		t.Fatalf("eval JSON: %v %+v", err, rep)
	}
	if rep.Fields["category"].Accuracy < 0.75 {
		t.Errorf("a model evaluated on its own tiny training set should fit it; category accuracy %.2f", rep.Fields["category"].Accuracy)
	}
	code, out, _ = runCmd(t, "", nil, "eval", "triage", "--model", model, data)
	if code != exitOK || !strings.Contains(out, "category confusion") {
		t.Errorf("eval text: exit %d\n%s", code, out)
	}
	code, _, errOut = runCmd(t, "", nil, "eval", "triage", filepath.Join(dir, "missing.jsonl"))
	if code != exitUsage {
		t.Errorf("missing eval file: exit %d %s", code, errOut)
	}
}

// TestEnvironment: every variable has its default when unset, and a
// malformed value stops the command with the variable's name instead of
// quietly becoming the default.
func TestEnvironment(t *testing.T) {
	e, err := loadEnv(testEnv(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if e.addr != ":8080" || e.llmTimeout != 8*time.Second || e.timezone != "Asia/Shanghai" || e.embedder != "offline" ||
		e.databaseURL != devDatabaseURL || e.jobWorkers != 0 || e.intakePerMin != 0 || len(e.trustedProxies) != 0 {
		t.Errorf("defaults: %+v", e)
	}
	e, err = loadEnv(testEnv(t, map[string]string{"HUIYIN_LLM_TIMEOUT": "2s", "HUIYIN_JOB_WORKERS": " 8 ",
		"HUIYIN_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,", "HUIYIN_LOG_LEVEL": "Info"}))
	if err != nil || e.llmTimeout != 2*time.Second || e.jobWorkers != 8 || len(e.trustedProxies) != 2 || e.logLevel != "info" {
		t.Errorf("set: %+v %v", e, err)
	}
	for name, value := range map[string]string{
		"HUIYIN_LLM_TIMEOUT":    "8",
		"HUIYIN_JOB_WORKERS":    "four",
		"HUIYIN_INTAKE_PER_MIN": "-5",
		"HUIYIN_EMBED_DIM":      "1.5",
		"HUIYIN_LOG_LEVEL":      "verbose",
	} {
		code, _, errOut := runCmd(t, "", map[string]string{name: value}, "triage", "电梯坏了")
		if code != exitUsage || !strings.Contains(errOut, name) || !strings.Contains(errOut, value) {
			t.Errorf("%s=%q: exit %d, %q", name, value, code, errOut)
		}
	}
}

func TestVersion(t *testing.T) {
	if code, out, _ := runCmd(t, "", nil, "version"); code != exitOK || !strings.HasPrefix(out, "huiyin ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

// FuzzTriageLine feeds arbitrary JSON Lines input to the batch mode: every
// line must produce either a result or an error object, never a panic.
func FuzzTriageLine(f *testing.F) {
	for _, s := range []string{`{"id":"a","text":"电梯坏了"}`, `{"id":1}`, `not json`, `{"id":"x","text":"\u0000"}`, `{"id":"y","text":"ok","received_at":"bad"}`, `{"id":"z","text":"` + strings.Repeat("a", 100) + `"}`, `[]`, `{"id":{"nested":true},"text":"x"}`} {
		f.Add([]byte(s))
	}
	e, err := loadEnv(testEnv(f, nil))
	if err != nil {
		f.Fatal(err)
	}
	deps, err := buildTriageDeps(e, "", "offline")
	if err != nil {
		f.Fatal(err)
	}
	eng, err := triage.New(context.Background(), triage.Config{Segmenter: deps.seg, Embedder: deps.embedder})
	if err != nil {
		f.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) }
	f.Fuzz(func(t *testing.T, line []byte) {
		v := triageLine(context.Background(), eng, line, false, 1, now)
		if v == nil {
			if len(bytes.TrimSpace(line)) != 0 {
				t.Fatalf("no output for %q", line)
			}
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("output does not encode: %v", err)
		}
	})
}
