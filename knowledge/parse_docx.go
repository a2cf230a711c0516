package knowledge

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/huiyin/huiyin"
)

const (
	// maxDocxUncompressed caps the total uncompressed size of a DOCX
	// archive's entries, against zip bombs.
	maxDocxUncompressed = 20 << 20
	// maxDocxEntries caps the number of entries in a DOCX archive.
	maxDocxEntries = 10000
)

// The namespaces of WordprocessingML (transitional and strict) and of
// Dublin Core, which docProps/core.xml uses for the title.
const (
	nsWord       = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsWordStrict = "http://purl.oclc.org/ooxml/wordprocessingml/main"
	nsDC         = "http://purl.org/dc/elements/1.1/"
	nsMC         = "http://schemas.openxmlformats.org/markup-compatibility/2006"
)

var errDocxBudget = fmt.Errorf("%w: DOCX 解压后超过 %d MiB，可能是压缩炸弹", huiyin.ErrInvalid, maxDocxUncompressed>>20)

// parseDocx reads a Word document: the paragraphs of word/document.xml
// (text in w:t, w:tab as a tab, w:br and w:cr as line ends), heading levels
// from paragraph styles (Heading1…6, "1"…"6", 标题 1… — by style id or by
// the style's name in word/styles.xml — or an outline level), and the
// title from docProps/core.xml. The archive's total uncompressed size is
// capped.
func parseDocx(data []byte) (parsedDoc, error) {
	var p parsedDoc
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return p, fmt.Errorf("%w: 不是有效的 DOCX 文件（无法按 ZIP 读取），请用 Word 另存为 .docx 后再上传", huiyin.ErrInvalid)
	}
	if len(zr.File) > maxDocxEntries {
		return p, fmt.Errorf("%w: DOCX 文件包含的条目过多（%d 个）", huiyin.ErrInvalid, len(zr.File))
	}
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > maxDocxUncompressed {
			return p, errDocxBudget
		}
	}
	budget := int64(maxDocxUncompressed)

	docPart := findZipFile(zr, "word/document.xml")
	if docPart == nil {
		return p, fmt.Errorf("%w: DOCX 文件缺少 word/document.xml，可能不是 Word 文档", huiyin.ErrInvalid)
	}
	styles := map[string]int{}
	if f := findZipFile(zr, "word/styles.xml"); f != nil {
		b, err := readZipFile(f, &budget)
		if err != nil {
			return p, err
		}
		if styles, err = docxStyles(b); err != nil {
			return p, docxBroken("word/styles.xml")
		}
	}
	if f := findZipFile(zr, "docProps/core.xml"); f != nil {
		b, err := readZipFile(f, &budget)
		if err != nil {
			return p, err
		}
		if p.title, err = docxTitle(b); err != nil {
			return p, docxBroken("docProps/core.xml")
		}
	}
	b, err := readZipFile(docPart, &budget)
	if err != nil {
		return p, err
	}
	if p.blocks, err = docxBlocks(b, styles); err != nil {
		return p, docxBroken("word/document.xml")
	}
	return p, nil
}

// docxBroken says which part of a Word file cannot be read, in words for
// the staff member uploading it: the parser's own error (English, about
// XML or deflate offsets) would not help them.
func docxBroken(part string) error {
	return fmt.Errorf("%w: DOCX 文件已损坏，%s 格式错误，请用 Word 另存为 .docx 后再上传", huiyin.ErrInvalid, part)
}

// findZipFile finds an entry by name, ignoring case as a fallback.
func findZipFile(zr *zip.Reader, name string) *zip.File {
	var fold *zip.File
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
		if fold == nil && strings.EqualFold(f.Name, name) {
			fold = f
		}
	}
	return fold
}

// readZipFile reads an entry, taking what it reads from budget: the sizes
// an archive declares cannot be trusted.
func readZipFile(f *zip.File, budget *int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, docxBroken(f.Name)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, *budget+1))
	if err != nil {
		return nil, docxBroken(f.Name)
	}
	if int64(len(b)) > *budget {
		return nil, errDocxBudget
	}
	*budget -= int64(len(b))
	return b, nil
}

func isWordNS(space string) bool { return space == nsWord || space == nsWordStrict }

// xmlAttr returns the value of the attribute with the given local name.
func xmlAttr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// docxParagraph is a paragraph being read.
type docxParagraph struct {
	text    strings.Builder
	style   string
	outline int // w:outlineLvl + 1, or 0
}

// docxBlocks reads the paragraphs of word/document.xml. styles maps a
// style id to its heading level.
func docxBlocks(b []byte, styles map[string]int) ([]block, error) {
	var (
		l        blockList
		dec      = xml.NewDecoder(bytes.NewReader(b))
		stack    []*docxParagraph
		inRun    int
		inText   int
		inPPr    int
		fallback int // depth inside mc:Fallback, whose content repeats mc:Choice
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if fallback > 0 {
				fallback++
				continue
			}
			if t.Name.Space == nsMC && t.Name.Local == "Fallback" {
				fallback = 1
				continue
			}
			if !isWordNS(t.Name.Space) {
				continue
			}
			var top *docxParagraph
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			}
			switch t.Name.Local {
			case "p":
				stack = append(stack, &docxParagraph{})
			case "pPr":
				inPPr++
			case "pStyle":
				if top != nil && inPPr > 0 {
					top.style = xmlAttr(t, "val")
				}
			case "outlineLvl":
				if n, err := strconv.Atoi(xmlAttr(t, "val")); err == nil && top != nil && inPPr > 0 && n >= 0 && n < 6 {
					top.outline = n + 1
				}
			case "r":
				inRun++
			case "t":
				inText++
			case "tab":
				if top != nil && inRun > 0 {
					top.text.WriteByte('\t')
				}
			case "br", "cr":
				if top != nil && inRun > 0 {
					top.text.WriteByte('\n')
				}
			}
		case xml.EndElement:
			if fallback > 0 {
				fallback--
				continue
			}
			if !isWordNS(t.Name.Space) {
				continue
			}
			switch t.Name.Local {
			case "p":
				if n := len(stack); n > 0 {
					para := stack[n-1]
					stack = stack[:n-1]
					level := para.outline
					if level == 0 {
						level = styleLevel(para.style, styles)
					}
					if level > 0 {
						l.heading(level, para.text.String())
					} else {
						l.paragraph(para.text.String())
					}
				}
			case "pPr":
				inPPr = max(inPPr-1, 0)
			case "r":
				inRun = max(inRun-1, 0)
			case "t":
				inText = max(inText-1, 0)
			}
		case xml.CharData:
			if fallback == 0 && inText > 0 && len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	return l.blocks, nil
}

// styleLevel returns the heading level of a paragraph style id: from
// styles.xml when the document defines it, else from the id itself.
func styleLevel(id string, styles map[string]int) int {
	if id == "" {
		return 0
	}
	if level, ok := styles[id]; ok {
		return level
	}
	return headingStyleLevel(id, true)
}

// headingStyleLevel recognises a heading style by name or id: Heading 1…6,
// heading1, 标题 1…6, Title or 标题 (level 1), and for ids the bare digits
// 1…6 that Chinese Word uses.
func headingStyleLevel(s string, isID bool) int {
	s = strings.ToLower(strings.Join(strings.Fields(s), ""))
	for _, prefix := range []string{"heading", "标题"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			if rest == "" && prefix == "标题" {
				return 1
			}
			if n, err := strconv.Atoi(rest); err == nil && n >= 1 && n <= 6 {
				return n
			}
			return 0
		}
	}
	if s == "title" {
		return 1
	}
	if isID && len(s) == 1 && s[0] >= '1' && s[0] <= '6' {
		return int(s[0] - '0')
	}
	return 0
}

// docxStyles maps the ids of the paragraph styles in word/styles.xml to
// heading levels (0 for styles that are not headings), by their outline
// level or name.
func docxStyles(b []byte) (map[string]int, error) {
	styles := map[string]int{}
	dec := xml.NewDecoder(bytes.NewReader(b))
	var (
		id      string
		name    string
		outline int
		inStyle bool
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return styles, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !isWordNS(t.Name.Space) {
				continue
			}
			switch t.Name.Local {
			case "style":
				inStyle, id, name, outline = true, xmlAttr(t, "styleId"), "", 0
			case "name":
				if inStyle {
					name = xmlAttr(t, "val")
				}
			case "outlineLvl":
				if n, err := strconv.Atoi(xmlAttr(t, "val")); err == nil && inStyle && n >= 0 && n < 6 {
					outline = n + 1
				}
			}
		case xml.EndElement:
			if isWordNS(t.Name.Space) && t.Name.Local == "style" && inStyle {
				inStyle = false
				if id == "" {
					continue
				}
				level := headingStyleLevel(name, false)
				if level == 0 {
					level = outline
				}
				styles[id] = level
			}
		}
	}
}

// docxTitle returns dc:title from docProps/core.xml.
func docxTitle(b []byte) (string, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var (
		title strings.Builder
		in    int
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return title.String(), nil
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if in > 0 || (t.Name.Space == nsDC && t.Name.Local == "title") {
				in++
			}
		case xml.EndElement:
			if in > 0 {
				in--
			}
		case xml.CharData:
			if in > 0 {
				title.Write(t)
			}
		}
	}
}
