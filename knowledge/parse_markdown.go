package knowledge

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/huiyin/huiyin"
)

// maxFrontMatter caps the YAML front matter of a Markdown document.
const maxFrontMatter = 64 << 10

// frontMatter is the YAML header of a Markdown document:
//
//	---
//	title: 物业管理条例
//	kind: law
//	origin: "LawRefBook/Laws@2f4c5c2, 行政法规/物业管理条例(2018-03-19).md"
//	category: fees   # optional default category of every chunk
//	---
//
// Other fields are ignored.
type frontMatter struct {
	Title    string `yaml:"title"`
	Kind     string `yaml:"kind"`
	Origin   string `yaml:"origin"`
	Category string `yaml:"category"`
}

// parseMarkdown reads the structure of a Markdown document: front matter,
// ATX headings (# …), paragraphs separated by blank lines, fenced code
// blocks (kept as one paragraph) and HTML comments, of which only category
// comments right under a heading (or ending its line) mean something.
// Other Markdown (lists, emphasis, links) is kept as written: chunk text is
// the source text. Setext headings (a line underlined with === or ---) are
// not recognised; write # headings.
func parseMarkdown(text string) (parsedDoc, error) {
	var p parsedDoc
	body, fm, fmLines, err := splitFrontMatter(text)
	if err != nil {
		return p, err
	}
	if fm != "" {
		var meta frontMatter
		if err := decodeYAML(fm, &meta); err != nil {
			return p, fmt.Errorf("%w: front matter 不是有效的 YAML%s，请检查冒号、引号和缩进", huiyin.ErrInvalid, yamlWhere(err))
		}
		p.title, p.origin = meta.Title, meta.Origin
		if k := strings.TrimSpace(meta.Kind); k != "" {
			if p.kind, err = ParseKind(k); err != nil {
				return p, fmt.Errorf("front matter: %w", err)
			}
		}
		if c := strings.TrimSpace(meta.Category); c != "" {
			if p.category, err = checkCategory(c); err != nil {
				return p, fmt.Errorf("front matter: %w", err)
			}
		}
	}

	var (
		l         blockList
		para      []string
		fence     string // the opening fence while inside a fenced code block
		inComment bool
		comment   strings.Builder
	)
	flush := func() {
		if len(para) > 0 {
			l.paragraph(strings.Join(para, "\n"))
			para = para[:0]
		}
	}
	for i, line := range strings.Split(body, "\n") {
		lineNo := fmLines + i + 1
		if fence != "" {
			if isFenceClose(line, fence) {
				fence = ""
				flush()
			} else {
				para = append(para, line)
			}
			continue
		}

		// Take HTML comments out of the line; a line that held nothing but
		// comments ends the paragraph before it.
		hadComment := inComment || strings.Contains(line, "<!--")
		var done []string
		line, done, inComment = stripComments(line, inComment, &comment)
		if hadComment && strings.TrimSpace(line) == "" {
			flush()
			for _, c := range done {
				if err := l.comment(c); err != nil {
					return p, fmt.Errorf("第 %d 行：%w", lineNo, err)
				}
			}
			continue
		}

		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			flush()
		case fenceOpen(line) != "":
			flush()
			fence = fenceOpen(line)
		case atxLevel(line) > 0:
			flush()
			level, text := atxHeading(line)
			l.heading(level, text)
			// A category comment may also end the heading's line.
			for _, c := range done {
				if err := l.comment(c); err != nil {
					return p, fmt.Errorf("第 %d 行：%w", lineNo, err)
				}
			}
		case isThematicBreak(line):
			flush()
		default:
			if startsBlockLine(trimmed) {
				flush()
			}
			para = append(para, trimmed)
		}
	}
	flush()
	p.blocks = l.blocks
	return p, nil
}

// splitFrontMatter separates a leading YAML block between "---" lines.
// It returns the rest of the text and how many lines the front matter took.
func splitFrontMatter(text string) (body, fm string, lines int, err error) {
	first, rest, ok := strings.Cut(text, "\n")
	if !ok || strings.TrimRight(first, " \t") != "---" {
		return text, "", 0, nil
	}
	var b strings.Builder
	lines = 1
	for b.Len() <= maxFrontMatter {
		line, next, more := strings.Cut(rest, "\n")
		lines++
		if t := strings.TrimRight(line, " \t"); t == "---" || t == "..." {
			fm = b.String()
			if strings.TrimSpace(fm) == "" {
				fm = "{}" // an empty header still decodes as a mapping
			}
			return next, fm, lines, nil
		}
		if !more {
			break
		}
		b.WriteString(line)
		b.WriteByte('\n')
		rest = next
	}
	return "", "", 0, fmt.Errorf("%w: front matter 没有结束的 --- 行（或超过 %d KiB）", huiyin.ErrInvalid, maxFrontMatter>>10)
}

// yamlLine finds the line a YAML error names ("yaml: line 2: …").
var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlWhere says where in the front matter a YAML error is, in words for
// the staff member uploading the file; the decoder's English detail goes
// no further. The front matter starts on the file's line 2.
func yamlWhere(err error) string {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	n, _ := strconv.Atoi(m[1])
	return fmt.Sprintf("（文件第 %d 行附近）", n+1)
}

// decodeYAML unmarshals YAML into v, turning a decoder panic into an error:
// the front matter is outside input.
func decodeYAML(s string, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML 解析失败：%v", r)
		}
	}()
	return yaml.Unmarshal([]byte(s), v)
}

// stripComments removes HTML comments from line. inComment says whether a
// comment opened on an earlier line is still open; buf holds its text so
// far. It returns the line without comments, the bodies of the comments
// that closed on this line, and whether a comment is still open.
func stripComments(line string, inComment bool, buf *strings.Builder) (string, []string, bool) {
	var (
		out  strings.Builder
		done []string
	)
	for line != "" {
		if inComment {
			body, rest, closed := strings.Cut(line, "-->")
			buf.WriteString(body)
			if !closed {
				buf.WriteByte('\n')
				return out.String(), done, true
			}
			done = append(done, buf.String())
			buf.Reset()
			inComment = false
			line = rest
			continue
		}
		before, rest, opened := strings.Cut(line, "<!--")
		out.WriteString(before)
		if !opened {
			break
		}
		inComment = true
		line = rest
		if line == "" {
			buf.WriteByte('\n')
		}
	}
	return out.String(), done, inComment
}

// atxLevel returns the level of an ATX heading line (# … to ###### …), or 0.
func atxLevel(line string) int {
	s, ok := trimIndent(line)
	if !ok {
		return 0
	}
	n := 0
	for n < len(s) && s[n] == '#' {
		n++
	}
	if n == 0 || n > 6 {
		return 0
	}
	if n < len(s) && s[n] != ' ' && s[n] != '\t' {
		return 0
	}
	return n
}

// atxHeading returns the level and text of an ATX heading line, without
// an optional closing sequence of #.
func atxHeading(line string) (int, string) {
	level := atxLevel(line)
	s, _ := trimIndent(line)
	text := strings.TrimSpace(s[level:])
	if t := strings.TrimRight(text, "#"); t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t") {
		text = strings.TrimSpace(t)
	}
	return level, text
}

// trimIndent removes up to three leading spaces; a line indented further is
// not a heading or fence.
func trimIndent(line string) (string, bool) {
	for i := 0; i < 4; i++ {
		if i == len(line) || line[i] != ' ' {
			return line[i:], true
		}
	}
	return line, false
}

// fenceOpen returns the fence (``` or ~~~, three or more) that opens a
// fenced code block on this line, or "".
func fenceOpen(line string) string {
	s, ok := trimIndent(line)
	if !ok || len(s) < 3 || (s[0] != '`' && s[0] != '~') {
		return ""
	}
	n := 0
	for n < len(s) && s[n] == s[0] {
		n++
	}
	if n < 3 || (s[0] == '`' && strings.Contains(s[n:], "`")) {
		return ""
	}
	return s[:n]
}

// isFenceClose reports whether line closes a block opened by fence.
func isFenceClose(line, fence string) bool {
	s, ok := trimIndent(line)
	if !ok {
		return false
	}
	s = strings.TrimRight(s, " \t")
	return len(s) >= len(fence) && strings.Trim(s, fence[:1]) == ""
}

// isThematicBreak reports whether line is ---, *** or ___ (with optional
// spaces), which ends a paragraph and is dropped.
func isThematicBreak(line string) bool {
	s, ok := trimIndent(line)
	if !ok {
		return false
	}
	s = strings.TrimRight(s, " \t")
	if len(s) < 3 {
		return false
	}
	c, n := s[0], 0
	if c != '-' && c != '*' && c != '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}
