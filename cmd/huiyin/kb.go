package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/db"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/knowledge/kbstore"
	"github.com/huiyin/huiyin/llm"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/ticket/ticketstore"
	"github.com/huiyin/huiyin/triage"
)

// kb is everything the knowledge commands need, wired from the
// environment.
type kb struct {
	pool      *pgxpool.Pool
	store     *kbstore.Store
	emb       knowledge.Embedder
	engine    *triage.Engine
	deps      triageDeps
	retriever *knowledge.Retriever
	assistant *knowledge.Assistant
}

func (k *kb) close() {
	if k.pool != nil {
		k.pool.Close()
	}
	if k.deps.seg != nil {
		k.deps.close()
	}
}

// openKB connects to the database (migrating it when migrate is set),
// loads triage and the embedder, and assembles the assistant.
func openKB(ctx context.Context, e env, migrate bool, logTo io.Writer) (*kb, error) {
	log := e.logger(logTo)
	pool, err := openDatabase(ctx, e, log)
	if err != nil {
		return nil, err
	}
	k := &kb{pool: pool, store: kbstore.New(pool)}
	if migrate {
		if err := db.Migrate(ctx, pool, log); err != nil {
			k.close()
			return nil, err
		}
	}
	eng, deps, err := newTriageEngine(ctx, e, e.policy, e.embedder, "", 0, logTo)
	if err != nil {
		k.close()
		return nil, err
	}
	k.engine, k.deps = eng, deps
	k.emb, err = kbEmbedder(e, deps.seg, log)
	if err != nil {
		k.close()
		return nil, err
	}
	var chat knowledge.Completer
	if e.chatModel != "" {
		c, err := llm.NewChat(e.llmConfig(), log)
		if err != nil {
			k.close()
			return nil, err
		}
		chat = c
	}
	k.retriever = knowledge.NewRetriever(k.store, k.emb, deps.seg, eng, knowledge.RetrieverConfig{})
	k.assistant = knowledge.NewAssistant(knowledge.AssistantConfig{ChatTimeout: e.llmTimeout}, eng, k.retriever, k.store, deps.seg, chat, log)
	return k, nil
}

// kbEmbedder is the knowledge base's embedder: offline by default, the
// OpenAI-compatible one when HUIYIN_KB_EMBEDDER=openai.
func kbEmbedder(e env, seg *triage.Segmenter, log *slog.Logger) (knowledge.Embedder, error) {
	switch e.kbEmbedder {
	case "", "offline":
		return knowledge.NewOfflineEmbedder(seg, knowledge.DefaultOfflineDim)
	case "openai":
		return llm.NewEmbedder(e.llmConfig(), log)
	}
	return nil, fmt.Errorf("%w: HUIYIN_KB_EMBEDDER %q（可选 offline、openai）", huiyin.ErrInvalid, e.kbEmbedder)
}

// openDatabase connects to DATABASE_URL; a failure says which database
// (password hidden) and how to start the development one.
func openDatabase(ctx context.Context, e env, log *slog.Logger) (*pgxpool.Pool, error) {
	pool, err := db.Open(ctx, e.databaseURL, log)
	if err != nil {
		return nil, fmt.Errorf("%w（DATABASE_URL=%s；开发环境请先运行 scripts/devdb start）", err, redactURL(e.databaseURL))
	}
	return pool, nil
}

// redactURL hides the password of a connection string in messages.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	cred := u[scheme+3 : at]
	if i := strings.Index(cred, ":"); i >= 0 {
		cred = cred[:i] + ":***"
	}
	return u[:scheme+3] + cred + u[at:]
}

func cmdMigrate(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huiyin migrate   (applies the embedded migrations to DATABASE_URL)")
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	log := e.logger(stderr)
	pool, err := db.Open(ctx, e.databaseURL, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool, log); err != nil {
		return err
	}
	cur, latest, err := db.MigrationStatus(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "数据库迁移完成：当前版本 %d（最新 %d）\n", cur, latest)
	return nil
}

func cmdIngest(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reindex := fs.Bool("reindex", false, "empty the index and load everything again (needed after changing the embedder)")
	kind := fs.String("kind", "", "kind of the documents given as paths: standard, faq, script or law (default: from each file's front matter)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huiyin ingest [--reindex] [--kind K] [PATH ...]\n  with no PATH, loads the knowledge base shipped with huiyin")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	var docs []knowledge.Document
	var err error
	if fs.NArg() == 0 {
		docs, err = knowledge.ShippedDocuments()
	} else {
		docs, err = knowledge.LoadDocuments(fs.Args()...)
	}
	if err != nil {
		return err
	}
	if *kind != "" {
		k, err := knowledge.ParseKind(*kind)
		if err != nil {
			return err
		}
		for i := range docs {
			docs[i].Kind = k
		}
	}
	k, err := openKB(ctx, e, true, stderr)
	if err != nil {
		return err
	}
	defer k.close()
	// What staff changed from the console belongs to the knowledge base as
	// much as what shipped: FAQ edits apply to whatever is loaded, and the
	// uploads and promoted replies come back whenever the index is rebuilt
	// or the shipped base is loaded.
	if docs, err = withConsoleChanges(ctx, k, docs, fs.NArg() == 0 || *reindex, e.logger(stderr)); err != nil {
		return err
	}
	rep, err := knowledge.NewIngester(k.store, k.emb, k.deps.seg, e.logger(stderr)).Ingest(ctx, docs, *reindex)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "已导入 %d 个文档（更新 %d，未变 %d），共 %d 段；嵌入模型 %s（%d 维），用时 %s\n",
		rep.Documents, rep.Changed, rep.Unchanged, rep.Chunks, rep.Embedder, rep.Dim, rep.Took.Round(time.Millisecond))
	return nil
}

// qaInput is one line of triage, ask or draft JSON Lines input; id may be
// a string or a number.
type qaInput struct {
	ID         json.RawMessage `json:"id"`
	Question   *string         `json:"question"`
	Text       *string         `json:"text"`
	ReceivedAt *time.Time      `json:"received_at"`
}

// parseQALine reads one input line of ask (field question), or triage and
// draft (field text). It returns the error line to write when the line is
// bad, and nothing at all for a blank line (id is then empty).
func parseQALine(raw []byte, tooLong bool, line int, field string) (id, text string, received time.Time, bad any) {
	if tooLong {
		return "", "", received, jsonlError{Line: line, Error: fmt.Sprintf("该行超过 %d 字节，已跳过", maxLineBytes), ErrorCode: "line_too_long"}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return "", "", received, nil
	}
	var in qaInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return "", "", received, jsonlError{ID: idFromBrokenLine(raw), Line: line, Error: "不是有效的 JSON：" + err.Error(), ErrorCode: "invalid_json"}
	}
	id, ok := parseID(in.ID)
	if !ok {
		return "", "", received, jsonlError{Line: line, Error: "缺少 id（字符串或数字）", ErrorCode: "missing_id"}
	}
	p := in.Text
	if field == "question" {
		p = in.Question
	}
	if p == nil {
		return id, "", received, jsonlError{ID: id, Line: line, Error: "缺少 " + field + " 字段", ErrorCode: "missing_" + field}
	}
	if in.ReceivedAt != nil {
		received = *in.ReceivedAt
	}
	return id, *p, received, nil
}

// lineError turns a failure into an error line: the message of an invalid
// input is shown, anything else is logged and reported in general words.
func lineError(id string, line int, err error, log func(string, ...any)) jsonlError {
	if errors.Is(err, huiyin.ErrInvalid) {
		return jsonlError{ID: id, Line: line, Error: strings.TrimPrefix(err.Error(), huiyin.ErrInvalid.Error()+": "), ErrorCode: "invalid_text"}
	}
	log("line failed", "id", id, "line", line, "err", err)
	return jsonlError{ID: id, Line: line, Error: "处理失败，请稍后重试", ErrorCode: "failed"}
}

// qaCommand describes ask or draft: one text in, one result out, for a
// single text or JSON Lines.
type qaCommand struct {
	name, usage, jsonlHelp string
	field                  string // the input line's text field
	// do answers one text; line wraps a result with its id for JSON Lines;
	// print writes a result for people.
	do    func(ctx context.Context, a *knowledge.Assistant, text string, received time.Time) (any, error)
	line  func(id string, result any) any
	print func(w io.Writer, result any)
}

func runQA(ctx context.Context, e env, c qaCommand, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonl := fs.Bool("jsonl", false, c.jsonlHelp)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, c.usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if !*jsonl && fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	loc, err := e.location()
	if err != nil {
		return err
	}
	now := func() time.Time { return time.Now().In(loc) }
	k, err := openKB(ctx, e, false, stderr)
	if err != nil {
		return err
	}
	defer k.close()
	if *jsonl {
		log := e.logger(stderr)
		return eachJSONL(ctx, stdin, stdout, func(raw []byte, tooLong bool, line int) any {
			id, text, received, bad := parseQALine(raw, tooLong, line, c.field)
			if bad != nil || id == "" {
				return bad
			}
			if received.IsZero() {
				received = now()
			}
			res, err := c.do(ctx, k.assistant, text, received)
			if err != nil {
				return lineError(id, line, err, log.Error)
			}
			return c.line(id, res)
		})
	}
	res, err := c.do(ctx, k.assistant, fs.Arg(0), now())
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	c.print(stdout, res)
	return nil
}

type askOutput struct {
	ID string `json:"id"`
	knowledge.Answer
}

var askCommand = qaCommand{
	name:      "ask",
	usage:     `usage: huiyin ask "问题" | huiyin ask --jsonl < in.jsonl`,
	jsonlHelp: `answer JSON Lines from stdin: {"id","question"} per line`,
	field:     "question",
	do: func(ctx context.Context, a *knowledge.Assistant, text string, received time.Time) (any, error) {
		return a.Ask(ctx, text, received)
	},
	line: func(id string, res any) any { return askOutput{ID: id, Answer: res.(knowledge.Answer)} },
	print: func(w io.Writer, res any) {
		ans := res.(knowledge.Answer)
		fmt.Fprintln(w, ans.Answer)
		for _, c := range ans.Citations {
			fmt.Fprintf(w, "  来源：%s %s（%.2f）\n", c.Doc, c.Section, c.Score)
		}
		if ans.Handoff {
			fmt.Fprintf(w, "  （已转人工：%s%s）\n", handoffWords[ans.Reason], map[bool]string{true: "，并升级至项目经理"}[ans.Escalate])
		}
	},
}

func cmdAsk(ctx context.Context, e env, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runQA(ctx, e, askCommand, args, stdin, stdout, stderr)
}

var handoffWords = map[string]string{
	"emergency":   "紧急情况",
	"report":      "报修或投诉，已转工单",
	"privacy":     "涉及他人隐私",
	"account":     "需查询账户信息",
	"unsupported": "知识库中没有可靠答案",
}

type draftOutput struct {
	ID string `json:"id"`
	knowledge.Draft
}

var draftCommand = qaCommand{
	name:      "draft",
	usage:     `usage: huiyin draft "业主消息" | huiyin draft --jsonl < in.jsonl`,
	jsonlHelp: `draft replies for JSON Lines from stdin: {"id","text"} per line`,
	field:     "text",
	do: func(ctx context.Context, a *knowledge.Assistant, text string, received time.Time) (any, error) {
		return a.Draft(ctx, text, received)
	},
	line: func(id string, res any) any { return draftOutput{ID: id, Draft: res.(knowledge.Draft)} },
	print: func(w io.Writer, res any) {
		d := res.(knowledge.Draft)
		r := d.Triage
		fmt.Fprintf(w, "分诊：%s / %s / %s，%s，时限：%s\n", r.Category.Name(), r.Intent.Name(), r.Urgency.Name(), r.DepartmentName, d.Promise)
		fmt.Fprintf(w, "回复草稿（%s，话术：%s）：\n%s\n", map[string]string{"offline": "离线生成", "llm": "大模型生成"}[d.Source], d.Script, d.Reply)
		for _, c := range d.Citations {
			fmt.Fprintf(w, "  来源：%s %s\n", c.Doc, c.Section)
		}
	},
}

func cmdDraft(ctx context.Context, e env, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runQA(ctx, e, draftCommand, args, stdin, stdout, stderr)
}

// withConsoleChanges applies the console's FAQ edits to docs and, with
// additions, adds the documents uploaded from the console and the script
// library's approved replies.
func withConsoleChanges(ctx context.Context, k *kb, docs []knowledge.Document, additions bool, log *slog.Logger) ([]knowledge.Document, error) {
	var uploads []knowledge.Upload
	if additions {
		var err error
		if uploads, err = k.store.Uploads(ctx); err != nil {
			return nil, err
		}
	}
	edits, err := k.store.FAQEdits(ctx)
	if err != nil {
		return nil, err
	}
	docs, skipped := knowledge.ApplyCuration(docs, uploads, edits)
	for _, err := range skipped {
		log.Warn("an uploaded document no longer parses; left out", "err", err)
	}
	if !additions {
		return docs, nil
	}
	promoted, err := ticketstore.New(k.pool, nil).PromotedScripts(ctx)
	if err != nil {
		return nil, err
	}
	if len(promoted) > 0 {
		docs = append(docs, approvedScripts(promoted))
	}
	return docs, nil
}

// approvedScripts is the script library document of the replies staff
// promoted.
func approvedScripts(all []ticket.PromotedScript) knowledge.Document {
	replies := make([]knowledge.ApprovedReply, len(all))
	for i, a := range all {
		replies[i] = knowledge.ApprovedReply{Category: a.Category, Situation: a.Situation, Body: a.Body, Ticket: a.Ticket}
	}
	return knowledge.ApprovedReplies(replies)
}
