package knowledge

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/triage"
)

// MaxDocumentBytes caps the size of one document file. Larger files are
// ErrInvalid: a knowledge-base document that large is a mistake, and the cap
// bounds the memory a single upload can take.
const MaxDocumentBytes = 10 << 20

// supportedExts maps a lower-case file extension to its format.
var supportedExts = map[string]string{
	".md":       "markdown",
	".markdown": "markdown",
	".txt":      "text",
	".html":     "html",
	".htm":      "html",
	".docx":     "docx",
}

// block is one structural element of a document, the common form every
// format is turned into before chunking: a heading (level 1–6) or a
// paragraph (level 0).
type block struct {
	level int
	text  string
	// category is set on headings by a category comment right below them.
	category string
}

// parsedDoc is a document as its format parser read it, before chunking.
type parsedDoc struct {
	title     string // explicit title: front matter, docProps dc:title
	titleHint string // weak fallback used after the first heading: HTML <title>
	kind      Kind   // empty when the document does not say
	origin    string
	category  string // the document's default category
	blocks    []block
}

// ParseDocument parses one knowledge-base document, choosing the format by
// the extension of name: Markdown (.md, .markdown), plain text (.txt), HTML
// (.html, .htm) or Word (.docx). Every format is read into headings and
// paragraphs, which are cut into chunks by structure (see chunkSections,
// chunkFAQ, chunkLaw): a chunk per section, FAQ question or law article.
// Control characters other than newline and tab are dropped.
//
// The title is the Markdown front matter's title or DOCX dc:title, else the
// document's first level-1 heading, else the HTML <title>, else the file
// name. The kind is the front matter's kind, else law when at least three
// paragraphs start with an article marker (第一条 …), else standard. A
// chunk's category comes from a <!-- category: x --> comment under its
// heading or an enclosing one, else the front matter's category; a script
// file named after a category (scripts/repair.md) defaults to it. Source is
// set to name.
//
// Returns ErrInvalid for an unsupported extension, an empty, oversized
// (MaxDocumentBytes) or malformed file, text that is not UTF-8, an unknown
// kind or category, a malformed script, and a document without any body
// text.
func ParseDocument(name string, data []byte) (Document, error) {
	doc, err := parseDocument(name, data)
	if err != nil {
		return Document{}, fmt.Errorf("%s: %w", name, err)
	}
	return doc, nil
}

func parseDocument(name string, data []byte) (Document, error) {
	ext := strings.ToLower(filepath.Ext(name))
	format, ok := supportedExts[ext]
	if !ok {
		return Document{}, fmt.Errorf("%w: 不支持的文件格式 %q（支持 .md、.markdown、.txt、.html、.htm、.docx）", huiyin.ErrInvalid, ext)
	}
	if len(data) == 0 {
		return Document{}, fmt.Errorf("%w: 文件为空", huiyin.ErrInvalid)
	}
	if len(data) > MaxDocumentBytes {
		return Document{}, fmt.Errorf("%w: 文件过大（%d 字节，上限 %d MiB）", huiyin.ErrInvalid, len(data), MaxDocumentBytes>>20)
	}
	var (
		p   parsedDoc
		err error
	)
	if format == "docx" {
		p, err = parseDocx(data)
	} else {
		var text string
		if text, err = decodeText(data); err != nil {
			return Document{}, err
		}
		switch format {
		case "markdown":
			p, err = parseMarkdown(text)
		case "text":
			p = parseText(text)
		case "html":
			p, err = parseHTML(text)
		}
	}
	if err != nil {
		return Document{}, err
	}
	stem := strings.TrimSuffix(path.Base(filepath.ToSlash(name)), filepath.Ext(name))
	doc, err := buildDocument(stem, p)
	if err != nil {
		return Document{}, err
	}
	doc.Source = name
	return doc, nil
}

// decodeText checks that data is UTF-8 text and cleans it.
func decodeText(data []byte) (string, error) {
	if !utf8.Valid(data) {
		return "", fmt.Errorf("%w: 文件不是有效的 UTF-8 文本（请先转换为 UTF-8 编码）", huiyin.ErrInvalid)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return "", fmt.Errorf("%w: 文件包含空字节，可能是二进制文件或 UTF-16 编码的文本（请保存为 UTF-8）", huiyin.ErrInvalid)
	}
	return sanitize(string(data)), nil
}

// sanitize normalises line ends to \n and drops control characters (other
// than newline and tab), byte-order marks and zero-width spaces.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if dropRune(r) || r == '\r' || r == '\u2028' || r == '\u2029' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\r' || r == '\u2028' || r == '\u2029':
			b.WriteByte('\n')
		case dropRune(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dropRune reports whether sanitize removes r.
func dropRune(r rune) bool {
	switch r {
	case '\n', '\t', '\r', '\u2028', '\u2029':
		return false
	case '\uFEFF', '\u200B', '\u2060':
		return true
	}
	return unicode.IsControl(r)
}

// cleanParagraph sanitises a paragraph, trims each line and drops empty
// lines.
func cleanParagraph(s string) string {
	s = sanitize(s)
	if !strings.ContainsRune(s, '\n') {
		return strings.TrimSpace(s)
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// normalizeSpace sanitises s and collapses every run of white space
// (including the full-width space U+3000 and newlines) to one space: for
// headings and titles.
func normalizeSpace(s string) string {
	return strings.Join(strings.Fields(sanitize(s)), " ")
}

// blockList collects the blocks of a document while a format parser reads
// it.
type blockList struct {
	blocks []block
	// afterHeading is true while nothing but white space and comments has
	// followed the last heading.
	afterHeading bool
}

func (l *blockList) heading(level int, text string) {
	text = normalizeSpace(text)
	if text == "" || level < 1 || level > 6 {
		return
	}
	l.blocks = append(l.blocks, block{level: level, text: text})
	l.afterHeading = true
}

func (l *blockList) paragraph(text string) {
	text = cleanParagraph(text)
	if text == "" {
		return
	}
	l.blocks = append(l.blocks, block{text: text})
	l.afterHeading = false
}

// categoryCommentRE matches the body of a <!-- category: x --> comment.
var categoryCommentRE = regexp.MustCompile(`^(?i:category)\s*[:：]\s*(.*?)\s*$`)

// comment applies an HTML comment: a category comment directly under a
// heading sets that heading's category; any other comment is dropped.
func (l *blockList) comment(body string) error {
	m := categoryCommentRE.FindStringSubmatch(strings.TrimSpace(body))
	if m == nil {
		return nil
	}
	cat, err := checkCategory(m[1])
	if err != nil {
		return err
	}
	if !l.afterHeading || len(l.blocks) == 0 {
		return fmt.Errorf("%w: 分类注释 <!-- category: %s --> 必须紧跟在标题下方（整篇文档的分类请写在 front matter 的 category 字段）", huiyin.ErrInvalid, cat)
	}
	h := &l.blocks[len(l.blocks)-1]
	if h.category != "" && h.category != cat {
		return fmt.Errorf("%w: 标题“%s”下有两个不同的分类注释（%s、%s）", huiyin.ErrInvalid, h.text, h.category, cat)
	}
	h.category = cat
	return nil
}

// checkCategory checks a category against the triage taxonomy.
func checkCategory(s string) (string, error) {
	c, err := triage.ParseCategory(strings.TrimSpace(s))
	if err != nil {
		names := make([]string, len(triage.Categories))
		for i, c := range triage.Categories {
			names[i] = string(c)
		}
		return "", fmt.Errorf("%w: 未知的分类 %q（可选 %s）", huiyin.ErrInvalid, s, strings.Join(names, "、"))
	}
	return string(c), nil
}

// buildDocument chooses the title and kind of a parsed document and cuts
// it into chunks. stem is the file name without extension, the last title
// fallback.
func buildDocument(stem string, p parsedDoc) (Document, error) {
	blocks := p.blocks
	defCat := p.category
	// A level-1 heading that opens the document, and is its only one, is
	// its title heading: it names the document and is not part of any
	// chunk's heading path. Several level-1 headings are chapters.
	var titleHeading string
	if len(blocks) > 0 && blocks[0].level == 1 && countLevel(blocks, 1) == 1 {
		titleHeading = blocks[0].text
		if defCat == "" {
			defCat = blocks[0].category
		}
		blocks = blocks[1:]
	}
	title := firstNonEmpty(normalizeSpace(p.title), titleHeading, firstHeading(blocks, 1), normalizeSpace(p.titleHint), normalizeSpace(stem))
	if title == "" {
		title = "未命名文档"
	}

	articles := countArticles(blocks)
	kind := p.kind
	if kind == "" {
		kind = KindStandard
		if articles >= minLawArticles {
			kind = KindLaw
		}
	}
	if kind == KindScript && defCat == "" {
		// A script file named after a category (scripts/repair.md) holds
		// that category's situations; other script files (general.md) have
		// none.
		if c, err := triage.ParseCategory(stem); err == nil {
			defCat = string(c)
		}
	}
	byArticle := articles > 0 && (kind == KindLaw || (articles >= minLawArticles && kind == KindStandard))

	var chunks []Chunk
	switch {
	case kind == KindFAQ:
		chunks = chunkFAQ(blocks, defCat)
	case byArticle:
		chunks = chunkLaw(blocks, defCat)
	default:
		chunks = chunkSections(blocks, title, defCat, kind != KindScript)
	}
	if len(chunks) == 0 {
		if kind == KindFAQ {
			return Document{}, fmt.Errorf("%w: FAQ 文档中没有带答案的问题（每个问题写成一个 ## 标题，答案写在标题下方）", huiyin.ErrInvalid)
		}
		return Document{}, fmt.Errorf("%w: 文档中没有可检索的正文内容", huiyin.ErrInvalid)
	}
	if kind == KindScript {
		for _, c := range chunks {
			if _, err := ParseScript(c); err != nil {
				return Document{}, err
			}
		}
	}
	return Document{Title: title, Kind: kind, Origin: normalizeSpace(p.origin), Chunks: chunks}, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func countLevel(blocks []block, level int) int {
	n := 0
	for _, b := range blocks {
		if b.level == level {
			n++
		}
	}
	return n
}

func firstHeading(blocks []block, level int) string {
	for _, b := range blocks {
		if b.level == level {
			return b.text
		}
	}
	return ""
}
