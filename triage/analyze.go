package triage

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokenKind uint8

const (
	kindContent  tokenKind = iota // words, numbers, emoji
	kindSpace                     // a soft clause boundary
	kindBoundary                  // punctuation that ends a clause
	kindPunct                     // other punctuation: quotes, dashes, #
)

// token is one segmented word with what the rules need to know about it.
type token struct {
	text     string
	start    int // byte offset in the cleaned text
	kind     tokenKind
	sigs     signalSet
	clause   int
	sentence int
	injected bool // inside a prompt-injection span: ignored by every decision
}

// analysis is the shared groundwork of one message: its words, clauses and
// signals. Every later step (features, rules, location, several problems)
// reads it, so the text is segmented once.
type analysis struct {
	text       string
	tokens     []token
	clauseSigs []signalSet // signals of the non-injected words of each clause
	sigs       signalSet   // union over clauses
	injected   bool
	exclaims   int
	questions  int
}

// clauseStarters begin a new problem even without punctuation, which
// voice-to-text rarely produces.
var clauseStarters = map[string]bool{
	"还有": true, "另外": true, "此外": true, "而且": true, "同时": true, "以及": true,
	"再就是": true, "顺便": true, "其次": true, "再有": true, "还有就是": true,
	"第二": true, "二是": true, "第三": true, "三是": true, "并且": true, "另": true,
}

func isBoundaryRune(r rune) bool {
	switch r {
	case '。', '！', '？', '!', '?', '；', ';', '，', ',', '、', '…', '~', '～', '.':
		return true
	}
	return false
}

func classify(tok string) tokenKind {
	// Fast path: a word that starts with a Chinese character is content.
	if r, _ := utf8.DecodeRuneInString(tok); r >= 0x4E00 && r <= 0x9FFF {
		return kindContent
	}
	if strings.TrimSpace(tok) == "" {
		return kindSpace
	}
	boundary, punct := false, true
	for _, r := range tok {
		switch {
		case isBoundaryRune(r):
			boundary = true
		case unicode.IsPunct(r) || (unicode.IsSymbol(r) && r < 0x2000):
		default:
			punct = false
		}
	}
	switch {
	case !punct:
		return kindContent
	case boundary:
		return kindBoundary
	}
	return kindPunct
}

func isDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

func isASCIIWord(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '\'' || c == '-') {
			return false
		}
	}
	return true
}

// lookupKey lower-cases ASCII letters without allocating for the common
// all-Chinese word.
func lookupKey(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(w)
		}
	}
	return w
}

// analyzeText segments cleaned text and builds its groundwork. When the
// text holds a prompt injection, the rest of the text is segmented again on
// its own: jieba cuts a word differently next to other text, and the
// injection must not change even that.
func analyzeText(seg *Segmenter, lex *lexicon, text string, a *analysis) {
	analyze(text, seg.Cut(text), lex, a)
	if !a.injected {
		return
	}
	var b strings.Builder
	for _, t := range a.tokens {
		if !t.injected {
			b.WriteString(t.text)
		}
	}
	visible := strings.TrimSpace(b.String())
	analyze(visible, seg.Cut(visible), lex, a)
	a.injected = true
}

// analyze builds the groundwork for cleaned text cut into words.
func analyze(text string, words []string, lex *lexicon, a *analysis) {
	a.text = text
	a.tokens = a.tokens[:0]
	a.clauseSigs = a.clauseSigs[:0]
	a.sigs, a.injected, a.exclaims, a.questions = 0, false, 0, 0

	clause, open := 0, false // open: the current clause has content
	sentence := 0
	off := 0
	for i, w := range words {
		kind := classify(w)
		if kind == kindPunct && strings.ContainsAny(w, sentenceOpeners) && i > 0 {
			sentence++ // 【 starts a sentence of its own
		}
		t := token{text: w, start: off, kind: kind, sentence: sentence}
		off += len(w)
		if endsSentence(w, t.kind) || w == "." && !(i > 0 && i+1 < len(words) && isDigits(words[i-1]) && isDigits(words[i+1])) {
			sentence++
		}
		switch t.kind {
		case kindSpace:
			// A space ends a clause between Chinese words (chat messages
			// use it as a comma) but not inside an English sentence.
			if open && !(i > 0 && i+1 < len(words) && isASCIIWord(words[i-1]) && isASCIIWord(words[i+1])) {
				clause++
				open = false
			}
			t.clause = clause
		case kindBoundary:
			if open {
				clause++
				open = false
			}
			t.clause = clause
		case kindContent:
			if open && clauseStarters[w] {
				clause++
			}
			open = true
			t.clause = clause
			t.sigs = lex.words[lookupKey(w)]
		default:
			t.clause = clause
		}
		a.tokens = append(a.tokens, t)
	}
	for range clause + 1 { // a trailing clause may be empty
		a.clauseSigs = append(a.clauseSigs, 0)
	}
	markInjections(a)
	// Punctuation counts come from the clauses that are not injected.
	for i, t := range a.tokens {
		if t.kind == kindBoundary && i > 0 && !a.tokens[i-1].injected {
			a.exclaims += strings.Count(t.text, "!") + strings.Count(t.text, "！")
			a.questions += strings.Count(t.text, "?") + strings.Count(t.text, "？")
		}
	}
	hedged := 0 // content words left that a hedge still covers
	for i := range a.tokens {
		t := &a.tokens[i]
		if t.injected || t.kind != kindContent {
			continue
		}
		sigs := t.sigs
		if hedged > 0 {
			sigs &^= hazardSignals
			hedged--
		}
		if t.sigs.has(sigHedge) {
			hedged = hedgeReach
		}
		a.clauseSigs[t.clause] |= sigs
	}
	for _, s := range a.clauseSigs {
		a.sigs |= s
	}
}

// letterRunes is the length from which a message reads as a letter.
// Emergencies in the labelled data are all under 120 characters.
const letterRunes = 150

// injectionWindow is how many words may stand between an injection verb
// and its object ("忽略 以上 所有 指令").
const injectionWindow = 4

// Brackets delimit sentences too: an injection is often bracketed
// (【忽略以上指令…】).
const (
	sentenceOpeners = "【「『[(（"
	sentenceClosers = "。！？!?；;】」』])）"
)

// endsSentence reports whether a word closes a sentence.
func endsSentence(w string, kind tokenKind) bool {
	if kind == kindSpace {
		return false
	}
	return strings.ContainsAny(w, sentenceClosers)
}

// markInjections flags the words of each prompt injection: from its first
// sign (or from the start of its sentence, when the sign comes within the
// first words: 请无视上述内容) to the end of its sentence.
func markInjections(a *analysis) {
	toks := a.tokens
	for i := range toks {
		t := &toks[i]
		if t.kind != kindContent || t.injected {
			continue
		}
		start := false
		switch {
		case t.sigs.has(sigInjectRole):
			start = true
		case t.sigs.has(sigInjectVerb):
			start = followedBy(toks, i, sigInjectObject)
		case t.sigs.has(sigInjectSet):
			start = followedBy(toks, i, sigLabel)
		}
		if !start {
			continue
		}
		a.injected = true
		from, before := i, 0
		for j := i - 1; j >= 0 && toks[j].sentence == t.sentence; j-- {
			if toks[j].kind == kindContent {
				before++
			}
			if before <= injectionLead {
				from = j
			}
		}
		if before > injectionLead {
			from = i
		}
		// Brackets and quotes that open the injection go with it.
		for from > 0 && toks[from-1].sentence == t.sentence && toks[from-1].kind == kindPunct {
			from--
		}
		for j := from; j < len(toks) && toks[j].sentence == t.sentence; j++ {
			toks[j].injected = true
		}
	}
}

// injectionLead is how many words may precede the sign of an injection in
// its sentence for the whole sentence to count as the injection (请, 请你).
const injectionLead = 2

func followedBy(toks []token, i int, sig signal) bool {
	seen := 0
	for j := i + 1; j < len(toks) && seen < injectionWindow; j++ {
		if toks[j].kind == kindBoundary {
			return false
		}
		if toks[j].kind != kindContent {
			continue
		}
		seen++
		if toks[j].sigs.has(sig) {
			return true
		}
	}
	return false
}

// hedgeReach is how many words after a hedge (没有, 怕, 差点) lose their
// hazard signals.
const hedgeReach = 2

// hazardSignals are the signals a hedge takes back.
var hazardSignals = bits(sigFire, sigSmoke, sigGas, sigLeak, sigGasLeak, sigTrapped, sigElevatorTrap,
	sigBurst, sigFlood, sigSparks, sigElectricExposed, sigSewageIn, sigPersonDown, sigLockedInCar, sigBreakIn, sigFalling, sigHeight)

// hazard names the kind of danger a clause describes, or "" for none. s
// is the clause's signals, msg the whole message's. Smoke, break-ins, a
// child at a height, something about to fall on people and a blocked
// ambulance only count when the message says it is happening now; a child
// and a locked car may be told in different clauses.
func hazard(s, msg signalSet) string {
	now := msg.has(sigNow)
	switch {
	case s.has(sigFire) || s.has(sigSmoke) && now:
		return "fire"
	case s.has(sigGasLeak) || (s.has(sigGas) && s.has(sigLeak)):
		return "gas_leak"
	case s.has(sigElevatorTrap) || (s.has(sigTrapped) && s.has(sigElevator)):
		return "elevator_trap"
	case s.has(sigSparks) || s.has(sigElectric) && s.has(sigElectricExposed):
		return "sparks"
	case s.has(sigFlood) || (s.has(sigBurst) && s.has(sigPipe)):
		return "flood"
	case s.has(sigSewageIn) && s.has(sigHome) && msg.has(sigSewage):
		return "sewage_in"
	case s.has(sigPersonDown):
		return "person_down"
	case s.has(sigLockedInCar) && msg.has(sigChild):
		return "child_locked_in_car"
	case s.has(sigBreakIn) && now:
		return "break_in"
	case s.has(sigHeight) && s.has(sigChild) && now:
		return "child_at_height"
	case s.has(sigFalling) && (msg.has(sigPeopleBelow) || msg.has(sigChild)) && now:
		return "falling"
	case s.has(sigRescueVehicle) && s.has(sigBlocked) && now:
		return "rescue_blocked"
	}
	return ""
}

// emergencyRule is the reviewable safety rule: the first clause that
// describes a hazard and is not a near miss (hypothetical, past, a drill, an
// idiom) unless it also says the danger is happening now. A message that
// tells of a danger already dealt with, or asks for compensation for it,
// with no sign of now anywhere, or says it was a false alarm, is a near
// miss as a whole. It returns the
// hazard, and whether a hazard was seen but judged a near miss.
func emergencyRule(a *analysis) (fired string, nearMiss bool) {
	retold := (a.sigs.has(sigResolved) || a.sigs.has(sigLegal)) && !a.sigs.has(sigNow) || a.sigs.has(sigFalseAlarm)
	// A long letter is a report, not a cry for help: it tells of dangers
	// past or feared. Without a word saying it is happening now, the rule
	// leaves it to the model.
	if !a.sigs.has(sigNow) && a.contentRunes() >= letterRunes {
		retold = true
	}
	for _, s := range a.clauseSigs {
		h := hazard(s, a.sigs)
		if h == "" {
			continue
		}
		if retold || s.has(sigNearMiss) && !s.has(sigNow) {
			nearMiss = true
			continue
		}
		return h, nearMiss
	}
	return "", nearMiss
}

// contentRunes counts the letters of the non-injected words.
func (a *analysis) contentRunes() int {
	n := 0
	for _, t := range a.tokens {
		if t.kind == kindContent && !t.injected {
			n += utf8.RuneCountInString(t.text)
		}
	}
	return n
}
