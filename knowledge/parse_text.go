package knowledge

import "strings"

// parseText reads a plain-text document: the first non-empty line is the
// title, paragraphs are separated by blank lines, and a line that starts a
// law article or chapter (第十条 …, 第二章 …) also starts a paragraph, so
// that statutes pasted one article per line keep their structure.
func parseText(text string) parsedDoc {
	var (
		l      blockList
		para   []string
		titled bool
	)
	flush := func() {
		if len(para) > 0 {
			l.paragraph(strings.Join(para, "\n"))
			para = para[:0]
		}
	}
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case !titled:
			l.heading(1, t)
			titled = true
		default:
			if startsBlockLine(t) {
				flush()
			}
			para = append(para, t)
		}
	}
	flush()
	return parsedDoc{blocks: l.blocks}
}
