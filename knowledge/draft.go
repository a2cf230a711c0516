package knowledge

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/huiyin/huiyin/prompts"
	"github.com/huiyin/huiyin/triage"
)

// TicketPlaceholder stands for the ticket reference in a draft; the
// service fills it in when the ticket exists.
const TicketPlaceholder = prompts.TicketPlaceholder

// Draft is a suggested reply for staff to approve, edit or reject.
type Draft struct {
	Reply     string        `json:"reply"`
	Citations []Citation    `json:"citations"`
	Triage    triage.Result `json:"triage"`
	// Script names the situation of the script library the draft follows.
	Script string `json:"script"`
	// Promise is the deadline the draft states, from the SLA policy.
	Promise string `json:"promise"`
	// Source is offline or llm; Fallback says why the chat model's draft
	// was not used, when one is configured.
	Source   string `json:"source"`
	Fallback string `json:"fallback,omitempty"`
}

// scriptEntry is one situation of the script library with what selecting
// it needs.
type scriptEntry struct {
	Script
	chunk StoredChunk
	terms map[string]float32
}

// ForgetScripts drops the loaded script library, so that the next draft
// reads it again: call it after scripts were added or changed.
func (a *Assistant) ForgetScripts() {
	a.scriptsMu.Lock()
	a.scripts = nil
	a.scriptsMu.Unlock()
}

func (a *Assistant) loadScripts(ctx context.Context) ([]scriptEntry, error) {
	a.scriptsMu.Lock()
	defer a.scriptsMu.Unlock()
	if a.scripts != nil {
		return a.scripts, nil
	}
	chunks, err := a.index.ChunksOfKind(ctx, KindScript)
	if err != nil {
		return nil, err
	}
	var out []scriptEntry
	for _, c := range chunks {
		s, err := ParseScript(c.Chunk)
		if err != nil {
			a.log.Warn("script skipped", "source", c.Source, "section", c.Section, "err", err)
			continue
		}
		if s.Category == "" {
			s.Category = scriptCategory(c.Source)
		}
		t, _ := Terms(a.tok, s.Situation+"\n"+s.AppliesTo)
		out = append(out, scriptEntry{Script: s, chunk: c, terms: t})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("话术库为空：请先运行 huiyin ingest 导入知识库")
	}
	a.scripts = out
	return out, nil
}

// scriptCategory reads the category from a script file's name
// (scripts/repair.md); general.md and unknown names give "".
func scriptCategory(source string) string {
	stem := strings.TrimSuffix(path.Base(source), path.Ext(source))
	for _, c := range triage.Categories {
		if string(c) == stem {
			return stem
		}
	}
	return ""
}

// situation words that say which script fits a message beyond its topic.
var (
	emergencyWords = []string{"紧急", "抢修", "困人", "燃气", "火情", "冒烟", "锁车内", "晕倒", "受伤"}
	praiseWords    = []string{"表扬", "答谢"}
	repeatWords    = []string{"多次", "未修好", "不满意"}
	inquiryWords   = []string{"咨询", "疑问", "办理", "时间"}
)

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// pickScript chooses the situation of the message's category that fits
// it best: shared words with the situation and where it applies, and the
// message's urgency, intent and risks.
func pickScript(scripts []scriptEntry, res triage.Result, msgTerms map[string]float32) scriptEntry {
	var best scriptEntry
	bestScore := -1e9
	repeat := slices.Contains(res.Risks, triage.RiskRepeat)
	feeRefusal := slices.Contains(res.Risks, triage.RiskFeeRefusal)
	for _, s := range scripts {
		if s.Category != string(res.Category) {
			continue
		}
		score := 0.0
		for t, f := range s.terms {
			if msgTerms[t] > 0 {
				score += float64(min(f, 2))
			}
		}
		name := s.Situation + s.AppliesTo
		emergencyScript := containsAny(s.Situation, emergencyWords)
		switch {
		case res.Urgency == triage.Emergency && emergencyScript:
			score += 6
		case res.Urgency != triage.Emergency && emergencyScript:
			score -= 6
		}
		if praise := containsAny(s.Situation, praiseWords); praise == (res.Intent == triage.Praise) {
			score += 3
		} else if praise {
			score -= 10
		}
		if repeat && containsAny(s.Situation, repeatWords) {
			score += 4
		}
		if feeRefusal && strings.Contains(name, "拒缴") {
			score += 6
		}
		if res.Intent == triage.Inquiry && containsAny(s.Situation, inquiryWords) {
			score += 2
		}
		if score > bestScore {
			best, bestScore = s, score
		}
	}
	return best
}

// generalScript finds a situation of the general scripts by name.
func generalScript(scripts []scriptEntry, name string) (scriptEntry, bool) {
	for _, s := range scripts {
		if s.Category == "" && strings.Contains(s.Situation, name) {
			return s, true
		}
	}
	return scriptEntry{}, false
}

// Draft triages an owner's message and drafts a reply for staff.
func (a *Assistant) Draft(ctx context.Context, message string, received time.Time) (Draft, error) {
	if received.IsZero() {
		received = time.Now()
	}
	res, err := a.triage.Triage(ctx, triage.Message{Text: message, Received: received})
	if err != nil {
		return Draft{}, err
	}
	return a.DraftFor(ctx, message, res)
}

// DraftFor drafts a reply to a message already triaged: the service keeps
// the labels its ticket carries, which may have been raised since (a
// repeat, a vulnerable owner) or corrected by staff.
func (a *Assistant) DraftFor(ctx context.Context, message string, res triage.Result) (Draft, error) {
	scripts, err := a.loadScripts(ctx)
	if err != nil {
		return Draft{}, err
	}
	text, _ := triage.Clean(message)
	msgTerms, _ := Terms(a.tok, res.Problem+"\n"+text)
	script := pickScript(scripts, res, msgTerms)
	if script.Situation == "" {
		script, _ = generalScript(scripts, "开场问候")
	}
	facts, err := a.retr.Search(ctx, Query{Text: text, K: 3, Kinds: []Kind{KindStandard, KindFAQ}, Category: string(res.Category)})
	if err != nil {
		return Draft{}, err
	}
	d := Draft{Triage: res, Script: script.Situation, Promise: PromiseFor(res.Deadlines).Clause(), Source: "offline"}
	d.Reply = composeDraft(res, script)
	d.Citations = []Citation{{Doc: script.chunk.Doc, Section: script.Situation, Score: 1, Source: script.chunk.Source}}
	for _, h := range facts {
		if h.Category == string(res.Category) {
			d.Citations = append(d.Citations, h.Citation())
			break
		}
	}
	if a.chat != nil {
		reply, cites, err := a.draftModel(ctx, text, res, script, facts)
		if err == nil {
			d.Reply, d.Source = reply, "llm"
			d.Citations = append([]Citation{{Doc: script.chunk.Doc, Section: script.Situation, Score: 1, Source: script.chunk.Source}}, cites...)
		} else {
			d.Fallback = err.Error()
			a.log.Warn("chat model draft failed; using the offline draft", "model", a.chat.Name(), "err", err)
		}
	}
	return d, nil
}

// composeDraft fills the script's example with the message's details and
// adds what the service standards require of every reply that the example
// lacks: the problem in the owner's words, an apology for a complaint, the
// deadline from the policy, the ticket reference and the follow-up visit.
func composeDraft(res triage.Result, script scriptEntry) string {
	p := PromiseFor(res.Deadlines)
	problem := ownerWords(res.Problem)
	place := locationText(res.Location)
	if mentionsPlace(problem, res.Location) {
		place = ""
	}
	quoted := "问题"
	if problem != "" {
		quoted = "“" + problem + "”"
	}
	body := script.Example
	if body == "" {
		body = "{称呼}您好，您反映的{位置}{问题}我们已经收到，工单号{工单号}。"
	}
	body = fillTimeLimit(body, p)
	body = strings.NewReplacer(
		"{称呼}", "尊敬的业主",
		"{位置}", place,
		"{问题}", quoted,
		"{部门}", res.DepartmentName,
	).Replace(body)
	praise := res.Intent == triage.Praise
	var extra []string
	if problem != "" && !strings.Contains(body, problem) {
		body = insertAfterGreeting(body, "您反映的"+place+quoted+"我们已经收到。")
	}
	if !praise && (res.Intent == triage.Complaint || res.Sentiment == triage.Angry || res.Sentiment == triage.Negative) &&
		!containsAny(body, []string{"抱歉", "歉意", "对不起", "不好意思"}) {
		body = insertAfterGreeting(body, apologyFor(res))
	}
	if !praise && !strings.Contains(body, p.Within) {
		extra = append(extra, fmt.Sprintf("%s会在%s%s。", res.DepartmentName, p.Within, p.Action))
	}
	if res.Escalate && !strings.Contains(body, "项目经理") {
		extra = append(extra, "此事已同步报告项目经理，由项目经理亲自督办。")
	}
	if !strings.Contains(body, TicketPlaceholder) {
		extra = append(extra, "工单号"+TicketPlaceholder+"，处理进度可以在业主APP中随时查看。")
	}
	if !praise && !strings.Contains(body, "回访") {
		extra = append(extra, "处理完成后我们会回访，听取您的意见。")
	}
	return body + strings.Join(extra, "")
}

// fillTimeLimit writes the policy's deadline into {时限}: after 在 as a
// time (在24小时内给您答复), elsewhere as the whole promise (30分钟内到场处理).
func fillTimeLimit(s string, p Promise) string {
	s = strings.ReplaceAll(s, "在{时限}", "在"+p.Within)
	return strings.ReplaceAll(s, "{时限}", p.Clause())
}

func apologyFor(res triage.Result) string {
	if res.Sentiment == triage.Angry || slices.Contains(res.Risks, triage.RiskRepeat) {
		return "这件事让您反复操心，非常抱歉，是我们的工作没有做到位。"
	}
	return "给您带来不便，我们深表歉意。"
}

// insertAfterGreeting puts a sentence right after the opening 您好，.
func insertAfterGreeting(body, sentence string) string {
	if i := strings.Index(body, "您好，"); i >= 0 {
		i += len("您好，")
		return body[:i] + sentence + body[i:]
	}
	return sentence + body
}

// maskedToken matches the tokens Mask puts in for personal data.
var maskedToken = regexp.MustCompile(`【[^【】]{1,8}】`)

// markupTag matches a tag, whole or cut: <x>, </x>, <x, x>.
var markupTag = regexp.MustCompile(`[<＜]/?[A-Za-z_][\w-]*\s*/?[>＞]?|/?[A-Za-z_][\w-]*\s*/?[>＞]`)

// ownerWords is the problem phrase safe to quote back: other people's
// phone numbers, plates and ID numbers are taken out, and trailing
// particles trimmed.
func ownerWords(problem string) string {
	masked, m := Mask(problem)
	if m.Len() > 0 {
		problem = maskedToken.ReplaceAllString(masked, "")
	}
	// An injected tag (</owner_message>, or its tail when the problem
	// was cut from inside it) is not the owner's words.
	problem = markupTag.ReplaceAllString(problem, "")
	problem = strings.TrimRight(strings.TrimSpace(problem), "了啊呀吧吗呢的，,。!！?？~～")
	// Words that dictate the reply, quote something or carry markup
	// (an injected </owner_message>) are not the problem: a reply never
	// repeats them.
	if strings.ContainsAny(problem, "“”\"'「」<>＜＞{}") || containsAny(problem, forbiddenPhrases) || containsAny(strings.ToLower(problem), []string{"回复", "写上", "指令", "提示词", "ai", "扮演", "角色", "系统", "限制", "忽略"}) {
		return ""
	}
	if utf8.RuneCountInString(problem) < 2 {
		return ""
	}
	return problem
}

func locationText(l triage.Location) string { return l.String() }

// mentionsPlace says whether the owner's words already say where.
func mentionsPlace(problem string, l triage.Location) bool {
	for _, part := range []string{l.Room, l.Area} {
		if part != "" && strings.Contains(problem, part) {
			return true
		}
	}
	return l.Room == "" && l.Area == "" && l.Building != "" && strings.Contains(problem, l.Building)
}

// draftModel has the chat model write the draft from the masked message,
// the script and the facts; its output is checked against the same rules
// as the offline draft before it is used.
func (a *Assistant) draftModel(ctx context.Context, text string, res triage.Result, script scriptEntry, facts []Hit) (string, []Citation, error) {
	masked, m := Mask(text)
	p := PromiseFor(res.Deadlines)
	in := prompts.DraftInput{
		Message:       masked,
		Category:      string(res.Category),
		CategoryName:  res.Category.Name(),
		Urgency:       string(res.Urgency),
		UrgencyName:   res.Urgency.Name(),
		Department:    res.DepartmentName,
		FirstResponse: p.FirstResponse + "回复",
		Resolution:    p.Clause(),
		Escalate:      res.Escalate,
		Apologise:     res.Intent == triage.Complaint || res.Sentiment == triage.Angry || res.Sentiment == triage.Negative,
		Script:        script.Example,
	}
	for i, h := range facts {
		in.Sources = append(in.Sources, prompts.Source{N: i + 1, Doc: h.Doc, Section: h.Section, Text: h.Text})
	}
	msgs, err := prompts.RenderDraft(in)
	if err != nil {
		return "", nil, err
	}
	raw, err := a.complete(ctx, msgs)
	if err != nil {
		return "", nil, err
	}
	out, err := prompts.ParseDraft(raw, len(facts))
	if err != nil {
		return "", nil, err
	}
	reply := m.Restore(out.Reply)
	if problems := CheckReply(reply, res, ReplyCheck{}); len(problems) > 0 {
		return "", nil, fmt.Errorf("model draft failed the reply rules: %s", strings.Join(problems, "; "))
	}
	var cites []Citation
	for _, c := range out.Citations {
		cites = append(cites, facts[c-1].Citation())
	}
	return reply, cites, nil
}
