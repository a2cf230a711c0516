package knowledge

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/huiyin/huiyin"
)

// htmlSkipped are elements whose content is never document text.
var htmlSkipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Nav: true, atom.Noscript: true,
	atom.Template: true, atom.Iframe: true, atom.Svg: true, atom.Math: true,
	atom.Object: true, atom.Noembed: true, atom.Noframes: true, atom.Select: true,
}

// htmlBlocks are elements that end the paragraph before them and start a
// new one.
var htmlBlocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Ul: true, atom.Ol: true,
	atom.Td: true, atom.Th: true, atom.Tr: true, atom.Table: true, atom.Thead: true,
	atom.Tbody: true, atom.Tfoot: true, atom.Caption: true, atom.Section: true,
	atom.Article: true, atom.Main: true, atom.Aside: true, atom.Header: true,
	atom.Footer: true, atom.Blockquote: true, atom.Pre: true, atom.Dl: true,
	atom.Dt: true, atom.Dd: true, atom.Figure: true, atom.Figcaption: true,
	atom.Address: true, atom.Hr: true, atom.Form: true, atom.Fieldset: true,
	atom.Details: true, atom.Summary: true, atom.Body: true, atom.Html: true,
	atom.Center: true, atom.Head: true, atom.Textarea: true,
}

var htmlHeadings = map[atom.Atom]int{
	atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6,
}

// softBreak stands for white space with a line end in HTML source text
// until a paragraph is finished: between two Chinese characters it is
// dropped, elsewhere it is one space.
const softBreak = '\uE000'

// parseHTML reads an HTML document with the streaming tokenizer (linear
// time, no tree): h1–h6 are headings, the text of p, li, td, div and other
// block elements paragraphs; script, style, nav and similar elements are
// dropped; <title> is the title fallback; entities are decoded by the
// tokenizer. A <!-- category: x --> comment right after a heading sets its
// category, as in Markdown.
func parseHTML(text string) (parsedDoc, error) {
	var (
		p       parsedDoc
		l       blockList
		z       = html.NewTokenizer(strings.NewReader(text))
		buf     strings.Builder
		heading int       // level of the heading being read, or 0
		skip    atom.Atom // the skipped element we are inside
		depth   int       // nesting of skip within itself
		inTitle bool
		title   strings.Builder
		pre     int
	)
	flush := func() {
		s := finishHTMLText(buf.String())
		buf.Reset()
		if heading > 0 {
			l.heading(heading, s)
		} else {
			l.paragraph(s)
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); !errors.Is(err, io.EOF) {
				return p, fmt.Errorf("%w: HTML 解析失败：%v", huiyin.ErrInvalid, err)
			}
			flush()
			p.blocks = l.blocks
			p.titleHint = title.String()
			return p, nil

		case html.TextToken:
			if depth > 0 {
				continue
			}
			t := string(z.Text())
			if inTitle {
				title.WriteString(t)
				continue
			}
			if pre > 0 {
				buf.WriteString(t)
			} else {
				buf.WriteString(softenHTMLSpace(t))
			}

		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if depth > 0 {
				if a == skip {
					depth++
				}
				continue
			}
			switch {
			case htmlSkipped[a]:
				// A self-closed <script/> still opens a raw-text element.
				skip, depth = a, 1
			case a == atom.Title:
				inTitle = true
			case htmlHeadings[a] > 0:
				if heading == 0 {
					flush()
					heading = htmlHeadings[a]
				}
			case a == atom.Br:
				buf.WriteByte('\n')
			case htmlBlocks[a]:
				if a == atom.Pre && tt == html.StartTagToken {
					pre++
				}
				if heading == 0 {
					flush()
				}
			}

		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if depth > 0 {
				if a == skip {
					depth--
				}
				continue
			}
			switch {
			case a == atom.Title:
				inTitle = false
			case htmlHeadings[a] > 0:
				if heading > 0 {
					flush()
					heading = 0
				}
			case a == atom.Br:
				buf.WriteByte('\n')
			case htmlBlocks[a]:
				if a == atom.Pre && pre > 0 {
					pre--
				}
				if heading == 0 {
					flush()
				}
			}

		case html.CommentToken:
			if depth > 0 || heading > 0 {
				continue
			}
			if strings.TrimFunc(buf.String(), func(r rune) bool { return unicode.IsSpace(r) || r == softBreak }) == "" {
				if err := l.comment(string(z.Text())); err != nil {
					return p, err
				}
			}
		}
	}
}

// softenHTMLSpace collapses the white space of HTML source text: a run
// with a line end becomes softBreak, any other run one space.
func softenHTMLSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inSpace, newline := false, false
	end := func() {
		if inSpace {
			if newline {
				b.WriteRune(softBreak)
			} else {
				b.WriteByte(' ')
			}
		}
		inSpace, newline = false, false
	}
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\f', '\r':
			inSpace = true
			newline = newline || r == '\n' || r == '\r'
		default:
			end()
			b.WriteRune(r)
		}
	}
	end()
	return b.String()
}

// finishHTMLText resolves soft breaks and collapses the spaces that inline
// elements left next to each other.
func finishHTMLText(s string) string {
	if !strings.ContainsRune(s, softBreak) && !strings.Contains(s, "  ") {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r != ' ' && r != softBreak {
			b.WriteRune(r)
			continue
		}
		j, soft := i, false
		for j < len(rs) && (rs[j] == ' ' || rs[j] == softBreak) {
			soft = soft || rs[j] == softBreak
			j++
		}
		// Line breaks in the source between two Chinese characters are not
		// spaces in the text.
		if !(soft && i > 0 && j < len(rs) && isWide(rs[i-1]) && isWide(rs[j])) {
			b.WriteByte(' ')
		}
		i = j - 1
	}
	return b.String()
}

// isWide reports whether r is a Chinese character or CJK punctuation, which
// are written without spaces between them.
func isWide(r rune) bool {
	return unicode.Is(unicode.Han, r) ||
		(r >= 0x3000 && r <= 0x303F) || // CJK symbols and punctuation
		(r >= 0xFF00 && r <= 0xFFEF) // full-width forms
}
