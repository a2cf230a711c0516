package triage

import (
	"strings"
	"unicode/utf8"
)

// Features are named by a kind byte and a payload:
//
//	w|电梯        a word
//	u|梯          a Chinese character
//	c|困人        two adjacent characters in one clause
//	k|topic_repair a word of a category's topic list
//	s|fire        a lexicon signal present in a clause
//	r|emergency   the outcome of a rule
//	m|len:3       a property of the whole message
//
// Letters are lower-cased and every ASCII digit becomes 0, so "3栋" and "5栋"
// share "c|0栋". The model stores the names; prediction never builds them:
// it hashes the same bytes with FNV-1a as it walks the text, and
// TestFeatureHashesMatchNames keeps the two paths equal.

// featureFunc receives one feature. clause is the clause it belongs to, or
// -1 for message-wide features.
//
// Word and character features count per occurrence and are scaled by one
// over the square root of their number, so long letters and short chats
// weigh alike. Signal, rule and message features (s, r, m) are indicators
// with value one whatever the length: a single 12345 in a long letter is
// as much a regulator threat as in a short message.
type featureFunc func(kind byte, payload string, clause int)

const noClause = -1

// walkFeatures emits every feature of an analysed message.
func walkFeatures(a *analysis, rule string, nearMiss bool, emit featureFunc) {
	toks := a.tokens
	firstClause := -1
	for _, t := range toks {
		if t.kind == kindContent && !t.injected && t.sigs&topicSignals != 0 {
			firstClause = t.clause
			break
		}
	}
	// A run is a stretch of adjacent content words in one clause; its
	// characters and character pairs are features.
	runStart, runEnd, runClause := -1, -1, 0
	flush := func() {
		if runStart >= 0 {
			emitCharFeatures(a.text[runStart:runEnd], runClause, emit)
			runStart = -1
		}
	}
	for i := range toks {
		t := &toks[i]
		if t.kind != kindContent || t.injected {
			flush()
			continue
		}
		if runStart >= 0 && runClause != t.clause {
			flush()
		}
		emit('w', t.text, t.clause)
		if t.clause == firstClause {
			// Words of the first problem-bearing clause count again: the
			// first problem mentioned is the primary one when several are
			// equally urgent.
			emit('f', t.text, t.clause)
		}
		if runStart < 0 {
			runStart, runClause = t.start, t.clause
		}
		runEnd = t.start + len(t.text)
	}
	flush()
	for c, cs := range a.clauseSigs {
		for sig := range numSignals {
			if cs.has(sig) {
				emit('s', signalNames[sig], c)
			}
		}
	}
	for sig := range numSignals {
		if a.sigs.has(sig) && !topicSignals.has(sig) {
			emit('i', signalNames[sig], noClause)
		}
	}
	for _, cs := range a.clauseSigs {
		if cs.has(sigFee) && cs.has(sigRefusePay) {
			emit('i', "fee+refuse_pay", noClause)
			break
		}
	}
	if rule != "" {
		emit('r', "emergency", noClause)
		emit('r', "hazard:"+rule, noClause)
	}
	if nearMiss {
		emit('r', "near_miss", noClause)
	}
	// An injection is reported in the result but is not a feature: text
	// that tries to steer the labels must not move them, even by its
	// presence.
	emit('m', lengthBucket(a.contentRunes()), noClause)
	if a.exclaims > 0 {
		emit('m', exclaimBucket(a.exclaims), noClause)
	}
	if a.questions > 0 {
		emit('m', "question", noClause)
	}
}

// emitCharFeatures emits each Chinese character and each pair of adjacent
// characters of a run of words. Characters carry meaning on their own
// (漏, 吵, 臭) and survive the typos and odd cuts that break words.
func emitCharFeatures(s string, clause int, emit featureFunc) {
	prev := -1 // start of the previous rune
	for i, r := range s {
		n := utf8.RuneLen(r)
		if r >= 0x4E00 && r <= 0x9FFF {
			emit('u', s[i:i+n], clause)
		}
		if prev >= 0 {
			emit('c', s[prev:i+n], clause)
		}
		prev = i
	}
}

func lengthBucket(n int) string {
	switch {
	case n < 8:
		return "len:0"
	case n < 20:
		return "len:1"
	case n < 50:
		return "len:2"
	case n < 120:
		return "len:3"
	case n < 300:
		return "len:4"
	}
	return "len:5"
}

func exclaimBucket(n int) string {
	switch {
	case n == 1:
		return "excl:1"
	case n <= 3:
		return "excl:2"
	}
	return "excl:3"
}

// normByte is the one normalisation of feature bytes: ASCII letters lower,
// ASCII digits 0.
func normByte(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c + 'a' - 'A'
	case c >= '0' && c <= '9':
		return '0'
	}
	return c
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(normByte(s[i]))
		h *= fnvPrime
	}
	return h
}

// featureHash hashes a feature exactly as featureName would spell it.
func featureHash(kind byte, payload string) uint64 {
	h := uint64(fnvOffset)
	h ^= uint64(kind)
	h *= fnvPrime
	h ^= '|'
	h *= fnvPrime
	return fnvAdd(h, payload)
}

// featureName spells a feature; featureHash(kind, p) equals
// nameHash(featureName(kind, p)).
func featureName(kind byte, payload string) string {
	var sb strings.Builder
	sb.Grow(len(payload) + 2)
	sb.WriteByte(kind)
	sb.WriteByte('|')
	for i := 0; i < len(payload); i++ {
		sb.WriteByte(normByte(payload[i]))
	}
	return sb.String()
}

// nameHash hashes a stored feature name. Names are already normalised, so
// hashing them again is the identity on their bytes.
func nameHash(name string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= fnvPrime
	}
	return h
}

// topicSignals are the category topic lists: they count like words.
var topicSignals = func() signalSet {
	var s signalSet
	for sig := sigTopicRepair; sig <= sigTopicOther; sig++ {
		s |= 1 << sig
	}
	return s
}()

// isIndicator reports whether a feature kind is an unscaled indicator.
func isIndicator(kind byte) bool { return kind == 'i' }
