package knowledge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/huiyin/huiyin/prompts"
	"github.com/huiyin/huiyin/triage"
)

// Assistant answers owners' questions from the knowledge base and drafts
// replies to their messages for staff. It works fully offline; with a chat
// model configured it phrases grounded answers and drafts with it, and
// falls back to the offline path whenever the model fails.
type Assistant struct {
	triage *triage.Engine
	retr   *Retriever
	index  Index
	tok    Tokenizer
	chat   Completer // nil: offline only
	log    *slog.Logger
	cfg    AssistantConfig

	scriptsMu sync.Mutex
	scripts   []scriptEntry // the script library, loaded on first use

	refusalOnce sync.Once
	refusal     *refusal // nil when the examples could not be loaded
}

// AssistantConfig tunes answering. The zero value takes the defaults,
// tuned on eval/testdata/retrieval_dev.jsonl only.
type AssistantConfig struct {
	// AnswerThreshold is the confidence at or above which the chatbot
	// answers; below it, it hands off to staff (default 0.55).
	AnswerThreshold float64
	// ChatTimeout bounds one call to the chat model (default 8s); past it
	// the offline answer or draft is used.
	ChatTimeout time.Duration
}

func (c AssistantConfig) withDefaults() AssistantConfig {
	if c.AnswerThreshold <= 0 {
		c.AnswerThreshold = 0.55
	}
	if c.ChatTimeout <= 0 {
		c.ChatTimeout = 8 * time.Second
	}
	return c
}

// NewAssistant assembles an assistant; chat may be nil.
func NewAssistant(cfg AssistantConfig, eng *triage.Engine, retr *Retriever, index Index, tok Tokenizer, chat Completer, log *slog.Logger) *Assistant {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Assistant{triage: eng, retr: retr, index: index, tok: tok, chat: chat, log: log, cfg: cfg.withDefaults()}
}

// Answer is the chatbot's reply to a question.
type Answer struct {
	Answer     string     `json:"answer"`
	Citations  []Citation `json:"citations"`
	Handoff    bool       `json:"handoff"`
	Escalate   bool       `json:"escalate"`
	Confidence float64    `json:"confidence"`
	// Source says how the answer was made: faq (a curated answer as
	// written), grounded (sentences of a standard or law), llm, or handoff.
	Source     string `json:"source"`
	Department string `json:"department,omitempty"`
	// Reason says why the question was handed off: emergency, report (a
	// complaint or repair, not a question), unsupported (retrieval found
	// nothing strong enough).
	Reason string `json:"reason,omitempty"`
	// Report is set when the message reports a problem (a complaint or a
	// repair) that an FAQ entry answers with advice: the advice is sound,
	// but the problem still needs a ticket.
	Report bool `json:"report,omitempty"`
	// Fallback says why a configured chat model's answer was not used
	// (down, too slow, malformed output) and the offline answer was given.
	Fallback string `json:"fallback,omitempty"`
}

// Kinds the chatbot answers from: never the script library, which is for
// staff.
var answerKinds = []Kind{KindFAQ, KindStandard, KindLaw}

// Ask answers a question, or hands it off with a message saying who will
// answer and by when. An emergency is never answered: it is handed off and
// escalated.
func (a *Assistant) Ask(ctx context.Context, question string, received time.Time) (Answer, error) {
	if received.IsZero() {
		received = time.Now()
	}
	res, err := a.triage.Triage(ctx, triage.Message{Text: question, Received: received})
	if err != nil {
		return Answer{}, err
	}
	if res.Urgency == triage.Emergency {
		return a.emergencyHandoff(res), nil
	}
	if privacyQuestion.MatchString(question) && aboutSomeoneElse.MatchString(question) {
		return a.privacyHandoff(res), nil
	}
	if accountQuestion.MatchString(question) {
		return a.handoff(res, 0, "account"), nil
	}
	hits, err := a.retr.Search(ctx, Query{Text: question, K: 5, Kinds: answerKinds, Category: string(res.Category)})
	if err != nil {
		return Answer{}, err
	}
	conf := 0.0
	if len(hits) > 0 {
		conf = answerConfidence(hits[0])
	}
	report := res.Intent == triage.Complaint || res.Intent == triage.RepairRequest
	if len(hits) > 0 && conf >= a.cfg.AnswerThreshold && a.looksOutOfScope(question, hits[0]) {
		conf = 0
	}
	if len(hits) == 0 || conf < a.cfg.AnswerThreshold || report && hits[0].Kind != KindFAQ {
		reason := "unsupported"
		if report {
			reason = "report"
		}
		if reason == "unsupported" {
			// A question the knowledge base cannot answer goes to the front
			// desk (the department of "other"), not to whichever department
			// its words resemble.
			res.Routing = a.triage.Policy().Route(triage.Other, res.Urgency, nil, received)
		}
		return a.handoff(res, conf, reason), nil
	}
	top := hits[0]
	ans := Answer{Confidence: round3(conf), Department: res.Department, Report: report}
	if top.Kind == KindFAQ {
		// A curated answer is returned exactly as written.
		ans.Answer, ans.Source = top.Text, "faq"
		ans.Citations = []Citation{top.Citation()}
		return ans, nil
	}
	if a.chat != nil {
		if out, cites, err := a.askModel(ctx, question, hits); err == nil {
			ans.Answer, ans.Source, ans.Citations = out, "llm", cites
			return ans, nil
		} else {
			ans.Fallback = err.Error()
			a.log.Warn("chat model answer failed; answering offline", "model", a.chat.Name(), "err", err)
		}
	}
	ans.Answer, ans.Source = groundedAnswer(a.tok, question, top), "grounded"
	ans.Citations = []Citation{top.Citation()}
	return ans, nil
}

// looksOutOfScope says whether the question is nearer an out-of-scope
// example than any way owners ask for the entry found.
func (a *Assistant) looksOutOfScope(question string, h Hit) bool {
	a.refusalOnce.Do(func() {
		r, err := newRefusal(a.tok)
		if err != nil {
			a.log.Error("out-of-scope examples not loaded; relying on the confidence alone", "err", err)
			return
		}
		a.refusal = r
	})
	if a.refusal == nil {
		return false
	}
	out, oos, in := a.refusal.outOfScope(question, h)
	if out {
		a.log.Debug("question nearer an out-of-scope example", "oos", oos, "entry", in)
	}
	return out
}

// answerConfidence judges whether a hit answers the question: how much of
// the question's keyword weight it matches (a question about something the
// knowledge base never mentions matches little) plus how close its vector
// is, plus a bonus when both rankings put it first. Tuned with the threshold on eval/testdata/retrieval_dev.jsonl.
func answerConfidence(h Hit) float64 {
	c := h.Keyword + h.Similarity
	// Both rankings putting the same chunk first is evidence of its own.
	if h.VectorRank == 1 && h.KeyRank == 1 {
		c += 0.15
	}
	return min(max(c, 0), 1)
}

// privacyQuestion finds questions about other residents: who lives in a
// flat, their phone, ID, plate, family or work. The chatbot never answers
// them, whatever the knowledge base matches.
var privacyQuestion = regexp.MustCompile(
	`(住的是谁|住着谁|是谁住|谁住在|几口人|家里几个人|干什么工作|做什么工作|工作单位|在哪上班|(电话|手机|手机号|号码|联系方式|身份证|车牌|微信号)(是)?多少|的(电话|手机号?|号码|联系方式|身份证号?|车牌号?|微信)|查一?下.{0,12}(电话|手机|号码|身份证|车牌|住址|信息))`)

// accountQuestion finds questions about the asker's own account (what is
// owed, a balance, a deduction, a certificate number): the knowledge base
// cannot answer them, staff with the account can.
var accountQuestion = regexp.MustCompile(`(我家|我的|我们家|我名下|我这套|我这户).{0,12}(欠多少|还欠|欠了多少|余额|还剩多少|账单明细|扣款|扣掉|扣了|编号是|号码是|交了没|缴了没)`)

// aboutSomeoneElse says whether the question is about another person or
// flat rather than the asker or the property company.
var aboutSomeoneElse = regexp.MustCompile(`(\d+\s*(栋|号楼|幢|单元|室|-\d+)|\d{3,4}(的|家|住)|邻居|住户|业主|他家|她家|那家|对门|楼上|楼下|隔壁|先生|女士|小姐|阿姨|大爷|[张王李赵刘陈杨黄周吴]某?[姓]?)`)

func (a *Assistant) emergencyHandoff(res triage.Result) Answer {
	p := PromiseFor(res.Deadlines)
	dept := res.DepartmentName
	msg := fmt.Sprintf("您反映的情况紧急，我们已立即通知%s和项目经理，工作人员会在%s与您联系，%s到场处理。"+
		"如有人员受伤、起火或燃气泄漏，请先远离危险区域，并立即拨打119、120或110。", dept, p.FirstResponse, p.Within)
	return Answer{Answer: msg, Citations: []Citation{}, Handoff: true, Escalate: true, Source: "handoff",
		Department: res.Department, Reason: "emergency", Confidence: 1}
}

func (a *Assistant) privacyHandoff(res triage.Result) Answer {
	msg := "您好，为保护每位业主的隐私，我们不能提供其他业主或住户的个人信息。如果您需要联系对方（例如漏水、噪音等邻里问题），" +
		"可以告诉我们具体情况，由管家出面协调联系。"
	return Answer{Answer: msg, Citations: []Citation{}, Handoff: true, Source: "handoff",
		Department: res.Department, Reason: "privacy"}
}

func (a *Assistant) handoff(res triage.Result, conf float64, reason string) Answer {
	p := PromiseFor(res.Deadlines)
	dept := res.DepartmentName
	var msg string
	if reason == "account" {
		msg = fmt.Sprintf("您好，这个问题需要查询您的账户信息，我们已转交%s，会在%s与您联系，%s。您也可以在业主APP中随时查看。",
			dept, p.FirstResponse, p.Clause())
	} else if reason == "report" {
		msg = fmt.Sprintf("您好，您反映的问题我们已经记录并转交%s，工作人员会在%s与您联系，%s。处理进度可以在业主APP中随时查看。",
			dept, p.FirstResponse, p.Clause())
	} else {
		msg = fmt.Sprintf("您好，这个问题需要工作人员为您核实后答复。我们已转交%s，会在%s与您联系，%s。",
			dept, p.FirstResponse, p.Clause())
	}
	return Answer{Answer: msg, Citations: []Citation{}, Handoff: true, Escalate: res.Escalate, Source: "handoff",
		Department: res.Department, Reason: reason, Confidence: round3(conf)}
}

// groundedAnswer answers offline from one chunk of a standard or law: the
// sentences that share most words with the question, in their order, with
// the source named.
func groundedAnswer(tok Tokenizer, question string, h Hit) string {
	if h.Kind == KindLaw {
		text := clip(h.Text, 220)
		return fmt.Sprintf("根据《%s》%s：%s", h.Doc, h.Section, strings.TrimPrefix(text, h.Section))
	}
	qterms, _ := Terms(tok, question)
	sentences := splitSentences(h.Text)
	type scored struct {
		i     int
		score float64
	}
	var ss []scored
	for i, s := range sentences {
		st, _ := Terms(tok, s)
		var sc float64
		for t := range qterms {
			if st[t] > 0 {
				sc++
			}
		}
		ss = append(ss, scored{i, sc})
	}
	slices.SortStableFunc(ss, func(x, y scored) int {
		switch {
		case x.score > y.score:
			return -1
		case x.score < y.score:
			return 1
		}
		return x.i - y.i
	})
	keep := []int{}
	n := 0
	for _, s := range ss {
		l := utf8.RuneCountInString(sentences[s.i])
		if len(keep) > 0 && (n+l > 160 || s.score == 0) {
			break
		}
		keep = append(keep, s.i)
		n += l
		if len(keep) == 3 {
			break
		}
	}
	slices.Sort(keep)
	var b strings.Builder
	b.WriteString("您好，")
	for _, i := range keep {
		b.WriteString(sentences[i])
	}
	fmt.Fprintf(&b, "（依据：%s“%s”）", h.Doc, h.Section)
	return b.String()
}

// splitSentences cuts Chinese text after 。！？；and line breaks, keeping
// the punctuation.
func splitSentences(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		switch r {
		case '。', '！', '？', '；', '\n':
			end := i + utf8.RuneLen(r)
			if s := strings.TrimSpace(text[start:end]); s != "" {
				out = append(out, s)
			}
			start = end
		}
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "……"
}

// askModel has the chat model phrase an answer from the top sources, with
// the question's personal data masked.
func (a *Assistant) askModel(ctx context.Context, question string, hits []Hit) (string, []Citation, error) {
	masked, m := Mask(question)
	in := prompts.AnswerInput{Question: masked}
	n := min(len(hits), 3)
	for i := range n {
		in.Sources = append(in.Sources, prompts.Source{N: i + 1, Doc: hits[i].Doc, Section: hits[i].Section, Text: hits[i].Text})
	}
	msgs, err := prompts.RenderAnswer(in)
	if err != nil {
		return "", nil, err
	}
	raw, err := a.complete(ctx, msgs)
	if err != nil {
		return "", nil, err
	}
	out, err := prompts.ParseAnswer(raw, n)
	if err != nil {
		return "", nil, err
	}
	if out.Handoff {
		return "", nil, errors.New("the model declined to answer")
	}
	var cites []Citation
	for _, c := range out.Citations {
		cites = append(cites, hits[c-1].Citation())
	}
	return m.Restore(out.Answer), cites, nil
}

func (a *Assistant) complete(ctx context.Context, msgs []prompts.Message) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ChatTimeout)
	defer cancel()
	req := CompletionRequest{JSON: true, MaxTokens: 800, Temperature: 0.2}
	for _, m := range msgs {
		req.Messages = append(req.Messages, ChatMessage{Role: m.Role, Content: m.Content})
	}
	raw, err := a.chat.Complete(ctx, req)
	if err != nil {
		return "", fmt.Errorf("chat model %s: %w", a.chat.Name(), err)
	}
	return raw, nil
}
