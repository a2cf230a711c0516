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
	"strings"
	"time"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/triage"
)

func cmdTriage(ctx context.Context, e env, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("triage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonl := fs.Bool("jsonl", false, "read JSON Lines ({\"id\",\"text\"}) from stdin and write one result per line")
	asJSON := fs.Bool("json", false, "print the result of one message as JSON")
	policy := fs.String("policy", e.policy, "routing and SLA policy file (YAML); empty for the built-in one")
	embedder := fs.String("embedder", e.embedder, "embedding vote: offline or none")
	modelPath := fs.String("model", "", "model file; empty for the built-in one")
	voteWeight := fs.Float64("vote-weight", 0, "weight of the embedding vote in [0,1]; 0 keeps the model's")
	explain := fs.Bool("explain", false, "print the words, signals and strongest features behind the result (JSON)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huiyin triage [flags] \"业主消息\"\n       huiyin triage --jsonl < in.jsonl > out.jsonl")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *jsonl == (fs.NArg() > 0) {
		fs.Usage()
		return errUsage
	}
	eng, deps, err := newTriageEngine(ctx, e, *policy, *embedder, *modelPath, *voteWeight, stderr)
	if err != nil {
		return err
	}
	defer deps.close()
	loc, err := e.location()
	if err != nil {
		return err
	}
	now := func() time.Time { return time.Now().In(loc) }
	if *jsonl {
		return triageJSONL(ctx, eng, stdin, stdout, now)
	}
	msg := triage.Message{Text: strings.Join(fs.Args(), " "), Received: now()}
	if *explain {
		ex, err := eng.Explain(ctx, msg)
		if err != nil {
			return err
		}
		return writeJSON(stdout, ex)
	}
	res, err := eng.Triage(ctx, msg)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	return writeReadable(stdout, &res)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type jsonlOutput struct {
	ID string `json:"id"`
	triage.Result
}

type jsonlError struct {
	ID        string `json:"id"`
	Line      int    `json:"line"`
	Error     string `json:"error"`
	ErrorCode string `json:"error_code"`
}

// maxLineBytes bounds one input line; a longer line is answered with an
// error and skipped, and the rest of the input still runs.
const maxLineBytes = 1 << 20

// triageJSONL triages each line. A bad line yields an error line for its id
// and the run goes on; only a failure to read or write stops it.
func triageJSONL(ctx context.Context, eng *triage.Engine, stdin io.Reader, stdout io.Writer, now func() time.Time) error {
	return eachJSONL(ctx, stdin, stdout, func(raw []byte, tooLong bool, line int) any {
		return triageLine(ctx, eng, raw, tooLong, line, now)
	})
}

// eachJSONL runs handle on every input line and writes what it returns (nil:
// nothing) as an output line.
func eachJSONL(ctx context.Context, stdin io.Reader, stdout io.Writer, handle func(raw []byte, tooLong bool, line int) any) error {
	in := bufio.NewReaderSize(stdin, 64*1024)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for line := 1; ; line++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, tooLong, err := readLine(in)
		if err == io.EOF && len(raw) == 0 && !tooLong {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read input line %d: %w", line, err)
		}
		if v := handle(raw, tooLong, line); v != nil {
			if err := enc.Encode(v); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads up to a newline, keeping at most maxLineBytes.
func readLine(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > maxLineBytes {
			tooLong = true
		} else {
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), tooLong, err
	}
}

func triageLine(ctx context.Context, eng *triage.Engine, raw []byte, tooLong bool, line int, now func() time.Time) any {
	id, text, received, bad := parseQALine(raw, tooLong, line, "text")
	if bad != nil || id == "" {
		return bad
	}
	if received.IsZero() {
		received = now()
	}
	res, err := eng.Triage(ctx, triage.Message{Text: text, Received: received})
	if err != nil {
		code := "triage_failed"
		msg := "分诊失败，请稍后重试"
		if errors.Is(err, huiyin.ErrInvalid) {
			code, msg = "invalid_text", strings.TrimPrefix(err.Error(), huiyin.ErrInvalid.Error()+": ")
		}
		return jsonlError{ID: id, Line: line, Error: msg, ErrorCode: code}
	}
	return jsonlOutput{ID: id, Result: res}
}

func parseID(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, s != ""
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), true
	}
	return "", false
}

// idFromBrokenLine recovers the id of a line that is not valid JSON as a
// whole, when its id field still reads, so the error can be matched up.
func idFromBrokenLine(raw []byte) string {
	i := bytes.Index(raw, []byte(`"id"`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(raw[i+4:], " \t:")
	dec := json.NewDecoder(bytes.NewReader(rest))
	var v json.RawMessage
	if dec.Decode(&v) != nil {
		return ""
	}
	id, _ := parseID(v)
	return id
}

// writeReadable prints one result for people, in Chinese.
func writeReadable(w io.Writer, r *triage.Result) error {
	var b strings.Builder
	row := func(label, value string) { fmt.Fprintf(&b, "%s\t%s\n", label, value) }
	row("类别", fmt.Sprintf("%s（%s） 置信度 %.2f", r.Category.Name(), r.Category, r.Confidence.Category))
	row("意图", fmt.Sprintf("%s（%s） 置信度 %.2f", r.Intent.Name(), r.Intent, r.Confidence.Intent))
	row("紧急度", fmt.Sprintf("%s（%s） 置信度 %.2f", r.Urgency.Name(), r.Urgency, r.Confidence.Urgency))
	row("情绪", fmt.Sprintf("%s（%s） 置信度 %.2f", r.Sentiment.Name(), r.Sentiment, r.Confidence.Sentiment))
	if len(r.Risks) == 0 {
		row("风险", "无")
	} else {
		var parts []string
		for _, risk := range r.Risks {
			parts = append(parts, fmt.Sprintf("%s（%s %.2f）", risk.Name(), risk, r.Confidence.Risks[risk]))
		}
		row("风险", strings.Join(parts, "、"))
	}
	if r.Location.IsZero() {
		row("位置", "未提及")
	} else {
		row("位置", r.Location.String())
	}
	if len(r.Secondary) > 0 {
		var parts []string
		for _, c := range r.Secondary {
			parts = append(parts, fmt.Sprintf("%s（%s）", c.Name(), c))
		}
		row("其他问题", strings.Join(parts, "、"))
	}
	dept := r.DepartmentName
	if r.Escalate {
		dept += "；升级至项目经理（" + escalationWords(r.EscalateReason) + "）"
	}
	row("派单", dept)
	d := r.Deadlines
	row("时限", fmt.Sprintf("%s（首次响应 %s 前，处理 %s 前）", d.Promise(),
		d.FirstResponseBy.Format("01-02 15:04"), d.ResolutionBy.Format("01-02 15:04")))
	if len(r.Signals) > 0 {
		row("规则", strings.Join(r.Signals, " "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func escalationWords(reasons []string) string {
	var out []string
	for _, r := range reasons {
		if u, err := triage.ParseUrgency(r); err == nil {
			out = append(out, u.Name()+"事件")
			continue
		}
		if risk, err := triage.ParseRisk(r); err == nil {
			out = append(out, risk.Name())
		}
	}
	return strings.Join(out, "、")
}
