package knowledge

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The kinds of personal data Mask finds; each names its tokens (【电话1】).
const (
	MaskPhone = "电话"  // mobile and landline numbers
	MaskID    = "身份证" // resident ID numbers, 18 and 15 digits
	MaskPlate = "车牌"  // licence plates
	MaskRoom  = "房号"  // a home's address: building, unit and room
	MaskEmail = "邮箱"  // e-mail addresses
	MaskBank  = "银行卡" // bank card numbers, 16 to 19 digits
	// MaskLiteral marks text of the message that already had the form of
	// a token (see Mask).
	MaskLiteral = "原文"
)

// MaskedValue is one value Mask took out of a text.
type MaskedValue struct {
	Token string // 【电话1】
	Kind  string // MaskPhone …
	Value string // the text as written, 138 1234 5678
}

// Masking remembers the values one call of Mask took out, to put them back
// with Restore. A nil *Masking masks nothing.
type Masking struct {
	values  []MaskedValue
	byToken map[string]string
	byValue map[string]string
	counts  map[string]int
}

// Mask replaces the personal data in text with tokens such as 【电话1】,
// 【身份证1】, 【车牌1】, 【房号1】, 【邮箱1】 and 【银行卡1】, numbered per kind
// in order of appearance; the same text gets the same token. It finds
// mainland mobile numbers (13812345678, 138 1234 5678, 138-1234-5678,
// +86 138…), landlines (0755-12345678, (010)12345678), resident ID numbers
// (18 digits or 17 and X, 15 digits), bank card numbers (16 to 19 digits,
// also in groups of four), licence plates (京A12345, 粤B·D12345,
// 沪AD12345), e-mail addresses, and a home's address when it names a room
// (3栋2单元1502, 12号楼3单元301室, B座1201, 3-2-1502, 1502室; a building
// or unit alone, a floor or a shared place is not personal). Digits,
// letters and the signs + - ( ) @ . may be full-width (１３８…); the values
// keep their own form. Names are not masked.
//
// Ticket placeholders ({工单号}), amounts (3000元), dates and times
// (2026-11-23, 15:30, 30分钟) are left alone: numbers are masked only as a
// whole run of digits, never a part of a longer one.
//
// Restore(Mask(x)) == x for every x, including text that already contains
// something of the form of a token: each such piece (【电话1】 typed by an
// owner, or pasted from an earlier draft) is itself masked, as a
// 【原文N】 token, so that every token in the masked text is one this
// Masking knows, and Restore puts back exactly what was there.
func Mask(text string) (string, *Masking) {
	m := &Masking{}
	norm, offs := normalizeForMask(text)
	used := make([]bool, len(norm))
	var spans []maskSpan
	for _, p := range maskPatterns {
		spans = p.find(norm, used, spans)
	}
	if len(spans) == 0 {
		return text, m
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, s := range spans {
		start, end := offs[s.start], offs[s.end]
		b.WriteString(text[last:start])
		b.WriteString(m.token(s.kind, text[start:end]))
		last = end
	}
	b.WriteString(text[last:])
	return b.String(), m
}

// token returns the token for value, making one of kind when value is new.
func (m *Masking) token(kind, value string) string {
	if t, ok := m.byValue[value]; ok {
		return t
	}
	if m.byValue == nil {
		m.byValue, m.byToken, m.counts = map[string]string{}, map[string]string{}, map[string]int{}
	}
	m.counts[kind]++
	t := "【" + kind + strconv.Itoa(m.counts[kind]) + "】"
	m.byValue[value], m.byToken[t] = t, value
	m.values = append(m.values, MaskedValue{Token: t, Kind: kind, Value: value})
	return t
}

// Restore puts the masked values back in s, typically the model's text
// written from the masked one. Tokens this Masking did not make are left
// as they are.
func (m *Masking) Restore(s string) string {
	if m == nil || len(m.byToken) == 0 || !strings.Contains(s, "【") {
		return s
	}
	return maskToken.ReplaceAllStringFunc(s, func(t string) string {
		if v, ok := m.byToken[t]; ok {
			return v
		}
		return t
	})
}

// Len is the number of distinct values masked.
func (m *Masking) Len() int {
	if m == nil {
		return 0
	}
	return len(m.values)
}

// Values lists the masked values in order of first appearance.
func (m *Masking) Values() []MaskedValue {
	if m == nil {
		return nil
	}
	return append([]MaskedValue(nil), m.values...)
}

// maskToken matches every token Mask can make. Mask treats text of this
// form in its input as a value of its own (MaskLiteral); that is what
// makes Restore exact.
var maskToken = regexp.MustCompile(`【(?:电话|身份证|车牌|房号|邮箱|银行卡|原文)[0-9]+】`)

// maskSpan is a value found in the normalised text.
type maskSpan struct {
	start, end int
	kind       string
}

// maskPattern finds one form of one kind of value.
type maskPattern struct {
	kind string
	re   *regexp.Regexp
	// number: the pattern finds a number, which must be a whole run of
	// digits (numberEdges).
	number bool
	// edges, when set, checks the text around a match.
	edges func(s string, start, end int) bool
	// ok, when set, checks the match itself.
	ok func(match string) bool
}

// accept reports whether the match s[start:end] is a value.
func (p maskPattern) accept(s string, start, end int, used []bool) bool {
	return end > start &&
		(!p.number || numberEdges(s, start, end)) &&
		(p.edges == nil || p.edges(s, start, end)) &&
		(p.ok == nil || p.ok(s[start:end])) &&
		!anyUsed(used[start:end])
}

// find appends to spans the matches of p in s that overlap no earlier
// match (used marks their bytes). After a match that is not accepted the
// search resumes one character after its start, so that it does not hide
// a good match starting inside it.
func (p maskPattern) find(s string, used []bool, spans []maskSpan) []maskSpan {
	for pos := 0; pos < len(s); {
		loc := p.re.FindStringIndex(s[pos:])
		if loc == nil {
			break
		}
		start, end := pos+loc[0], pos+loc[1]
		if p.accept(s, start, end, used) {
			for i := start; i < end; i++ {
				used[i] = true
			}
			spans = append(spans, maskSpan{start: start, end: end, kind: p.kind})
			pos = end
			continue
		}
		_, w := utf8.DecodeRuneInString(s[start:])
		pos = start + w
		if p.number && isDigit(rune(s[start])) {
			// No number starts inside a run of digits: skip the rest of
			// the run rather than try each of its digits.
			for pos < len(s) && isDigit(rune(s[pos])) {
				pos++
			}
		}
	}
	return spans
}

func anyUsed(u []bool) bool {
	for _, b := range u {
		if b {
			return true
		}
	}
	return false
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isAlnum(r rune) bool { return isDigit(r) || (r|0x20) >= 'a' && (r|0x20) <= 'z' }

// numberEdges: a number starting with a digit (or +86) must not follow a
// digit, and one ending with a digit or letter must not be followed by a
// digit.
func numberEdges(s string, start, end int) bool {
	first, _ := utf8.DecodeRuneInString(s[start:])
	if isDigit(first) || first == '+' {
		if prev, _ := utf8.DecodeLastRuneInString(s[:start]); start > 0 && isDigit(prev) {
			return false
		}
	}
	last, _ := utf8.DecodeLastRuneInString(s[:end])
	if isAlnum(last) && end < len(s) {
		if next, _ := utf8.DecodeRuneInString(s[end:]); isDigit(next) {
			return false
		}
	}
	return true
}

// plateEdges: a plate must not be followed by a letter or digit.
func plateEdges(s string, _, end int) bool {
	if end < len(s) {
		if next, _ := utf8.DecodeRuneInString(s[end:]); isAlnum(next) {
			return false
		}
	}
	return true
}

// plateOK: a plate has at least two digits, which keeps words such as
// 新A区 or a province name before a Latin word out.
func plateOK(m string) bool {
	n := 0
	for _, r := range m {
		if isDigit(r) {
			n++
		}
	}
	return n >= 2
}

// Building, unit and room, as written in addresses.
const (
	reBuilding = `(?:[0-9]{1,3}|[A-Za-z])\s?(?:号楼|栋|幢|座|号)`
	reUnit     = `[0-9]{1,2}\s?单元`
	reRoom     = `[0-9]{3,4}(?:室|号|房)?`
)

// maskPatterns in order of precedence: where two would overlap, the
// earlier wins (an e-mail address holds digits, an ID number is also a
// long number, a 19-digit card holds a 16-digit one).
var maskPatterns = []maskPattern{
	{kind: MaskLiteral, re: maskToken},
	{kind: MaskEmail, re: regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)},
	{kind: MaskID, number: true, re: regexp.MustCompile(
		`[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]`)},
	{kind: MaskID, number: true, re: regexp.MustCompile(
		`[1-9][0-9]{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}`)},
	{kind: MaskBank, number: true, re: regexp.MustCompile(`[0-9]{4}(?:[ -]?[0-9]{4}){3}[ -]?[0-9]{1,3}`)},
	{kind: MaskBank, number: true, re: regexp.MustCompile(`[0-9]{4}(?:[ -]?[0-9]{4}){3}`)},
	{kind: MaskPhone, number: true, re: regexp.MustCompile(`(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}`)},
	{kind: MaskPhone, number: true, re: regexp.MustCompile(`\(0[0-9]{2,3}\)\s?[0-9]{7,8}|0[0-9]{2,3}[ -]?[0-9]{7,8}`)},
	{kind: MaskPlate, edges: plateEdges, ok: plateOK, re: regexp.MustCompile(
		`[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-Za-z]\s?[·•・.\-]?\s?(?:[A-Za-z0-9]{5,6}|[A-Za-z0-9]{4}[挂学警港澳])`)},
	{kind: MaskRoom, number: true, re: regexp.MustCompile(reBuilding + `\s?(?:` + reUnit + `\s?)?-?` + reRoom)},
	{kind: MaskRoom, number: true, re: regexp.MustCompile(reUnit + `\s?-?` + reRoom)},
	{kind: MaskRoom, number: true, re: regexp.MustCompile(`[0-9]{1,3}-[0-9]{1,2}-[0-9]{3,4}(?:室|号)?`)},
	{kind: MaskRoom, number: true, re: regexp.MustCompile(`[0-9]{3,4}(?:室|房间)`)},
}

// fullWidth maps the full-width forms of the characters the patterns use
// to ASCII.
func fullWidth(r rune) (rune, bool) {
	switch {
	case r >= '０' && r <= '９':
		return r - '０' + '0', true
	case r >= 'Ａ' && r <= 'Ｚ':
		return r - 'Ａ' + 'A', true
	case r >= 'ａ' && r <= 'ｚ':
		return r - 'ａ' + 'a', true
	}
	switch r {
	case '＋':
		return '+', true
	case '－':
		return '-', true
	case '（':
		return '(', true
	case '）':
		return ')', true
	case '＠':
		return '@', true
	case '．':
		return '.', true
	case '　':
		return ' ', true
	}
	return r, false
}

// normalizeForMask returns text with full-width digits, letters and signs
// as ASCII, and for each byte offset of the result (and its end) the
// offset in text it comes from. Invalid bytes are copied as they are.
func normalizeForMask(text string) (string, []int) {
	var b strings.Builder
	b.Grow(len(text))
	offs := make([]int, 0, len(text)+1)
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		if a, ok := fullWidth(r); ok && w > 1 {
			b.WriteByte(byte(a))
			offs = append(offs, i)
		} else {
			b.WriteString(text[i : i+w])
			for k := range w {
				offs = append(offs, i+k)
			}
		}
		i += w
	}
	offs = append(offs, len(text))
	return b.String(), offs
}
