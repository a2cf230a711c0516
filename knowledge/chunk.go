package knowledge

import (
	"strings"
	"unicode/utf8"
)

// maxChunkRunes is the size above which a section of a standard is split
// into several chunks at paragraph boundaries. FAQ answers, scripts and law
// articles are never split.
const maxChunkRunes = 1200

// faqQuestionLevel is the heading level of FAQ questions (## …).
const faqQuestionLevel = 2

// headingPath is the stack of headings above the current position.
type headingPath []block

// push enters heading b: headings at its level or deeper are left.
func (p *headingPath) push(b block) {
	s := *p
	for len(s) > 0 && s[len(s)-1].level >= b.level {
		s = s[:len(s)-1]
	}
	*p = append(s, b)
}

// join returns the first n headings joined by " / ".
func (p headingPath) join(n int) string {
	parts := make([]string, 0, n)
	for _, b := range p[:n] {
		parts = append(parts, b.text)
	}
	return strings.Join(parts, " / ")
}

// category returns the category of the innermost heading that has one.
func (p headingPath) category() string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i].category != "" {
			return p[i].category
		}
	}
	return ""
}

// chunkSections cuts a document into a chunk per section: the body text
// under each heading, up to the next heading, is one chunk (or several in
// order, when split and longer than maxChunkRunes). Section is the
// heading, Heading the path of headings above it; text before the first
// heading is a section named by the document title. Empty sections are
// skipped.
func chunkSections(blocks []block, title, defCat string, split bool) []Chunk {
	var (
		chunks []Chunk
		path   headingPath
		body   []string
	)
	flush := func() {
		if len(body) == 0 {
			return
		}
		section, heading := title, ""
		if n := len(path); n > 0 {
			section, heading = path[n-1].text, path.join(n-1)
		}
		cat := firstNonEmpty(path.category(), defCat)
		texts := []string{strings.Join(body, "\n")}
		if split {
			texts = packParagraphs(body, maxChunkRunes)
		}
		for _, t := range texts {
			chunks = append(chunks, Chunk{Section: section, Heading: heading, Category: cat, Text: t})
		}
		body = nil
	}
	for _, b := range blocks {
		if b.level > 0 {
			flush()
			path.push(b)
		} else {
			body = append(body, b.text)
		}
	}
	flush()
	return chunks
}

// chunkFAQ cuts an FAQ into entries: each ## heading is a question and the
// text under it, as written, its answer. Deeper headings inside an answer
// are kept as lines of it; text that is not under a question is dropped.
func chunkFAQ(blocks []block, defCat string) []Chunk {
	var (
		chunks   []Chunk
		path     headingPath
		question bool // the innermost heading of path is a question
		body     []string
	)
	flush := func() {
		if question && len(body) > 0 {
			n := len(path)
			q := path[n-1].text
			chunks = append(chunks, Chunk{
				Section:  q,
				Question: q,
				Heading:  path.join(n - 1),
				Category: firstNonEmpty(path.category(), defCat),
				Text:     strings.Join(body, "\n"),
			})
		}
		body = nil
	}
	for _, b := range blocks {
		switch {
		case b.level == 0:
			if question {
				body = append(body, b.text)
			}
		case b.level > faqQuestionLevel && question:
			body = append(body, b.text)
		default:
			flush()
			path.push(b)
			question = b.level == faqQuestionLevel
		}
	}
	flush()
	return chunks
}

// packParagraphs groups paragraphs into texts of at most limit runes,
// joined by "\n", keeping their order; chunks come out about evenly sized.
// A paragraph longer than limit is cut at sentence ends (or, failing that,
// anywhere).
func packParagraphs(paras []string, limit int) []string {
	total := 0
	for _, p := range paras {
		total += utf8.RuneCountInString(p) + 1
	}
	if total-1 <= limit {
		return []string{strings.Join(paras, "\n")}
	}
	parts := (total + limit - 1) / limit
	target := (total + parts - 1) / parts

	var (
		out []string
		cur []string
		n   int
	)
	emit := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
			cur, n = nil, 0
		}
	}
	for _, p := range paras {
		pieces := []string{p}
		if utf8.RuneCountInString(p) > limit {
			pieces = splitParagraph(p, limit)
		}
		for _, piece := range pieces {
			m := utf8.RuneCountInString(piece)
			if len(cur) > 0 && (n+1+m > limit || n >= target) {
				emit()
			}
			if len(cur) > 0 {
				n++
			}
			cur = append(cur, piece)
			n += m
		}
	}
	emit()
	return out
}

// splitParagraph cuts a paragraph longer than limit runes into pieces of
// at most limit runes, preferably after a sentence end or line end.
func splitParagraph(p string, limit int) []string {
	var (
		out       []string
		cur       strings.Builder
		n         int
		lastBreak = -1 // byte offset in cur just after the last sentence end
	)
	cut := func(at int) {
		s := cur.String()
		if t := strings.TrimSpace(s[:at]); t != "" {
			out = append(out, t)
		}
		rest := s[at:]
		cur.Reset()
		cur.WriteString(rest)
		n = utf8.RuneCountInString(rest)
		lastBreak = -1
	}
	for _, r := range p {
		if n == limit {
			if lastBreak > 0 {
				cut(lastBreak)
			} else {
				cut(cur.Len())
			}
		}
		cur.WriteRune(r)
		n++
		switch r {
		case '。', '！', '？', '；', '!', '?', ';', '\n':
			lastBreak = cur.Len()
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}
