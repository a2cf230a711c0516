package knowledge

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// minLawArticles is how many paragraphs must start with an article marker
// for a document that does not declare its kind to be taken as law text.
const minLawArticles = 3

// cnNumerals are the characters of a Chinese article or chapter number.
const cnNumerals = `零〇一二三四五六七八九十百千两`

var (
	// articleRE matches an article marker at the start of a paragraph:
	// 第九百四十四条 followed by a space, a full-width space, a line end or
	// nothing. "第三十条规定的…" is a reference, not an article.
	articleRE = regexp.MustCompile(`^第[` + cnNumerals + `]+条(?:[ \x{3000}\n]|$)`)
	// chapterRE matches a one-line paragraph that is a division heading of a
	// statute: 第一编, 第二分编, 第二十四章, 第三节, with or without a name.
	chapterRE = regexp.MustCompile(`^第[` + cnNumerals + `]+(分编|编|章|节)(?:[ \x{3000}]|$)`)
)

// chapterLevels are the heading levels given to divisions of a statute
// found in paragraphs (plain text, DOCX without heading styles).
var chapterLevels = map[string]int{"编": 2, "分编": 3, "章": 4, "节": 5}

// maxChapterRunes bounds a chapter heading found in a paragraph: a longer
// paragraph is body text that happens to start like one.
const maxChapterRunes = 40

// articleMarker returns the article marker a paragraph starts with
// (第九百四十四条), or "".
func articleMarker(text string) string {
	m := articleRE.FindString(text)
	return strings.TrimRight(m, " \u3000\n")
}

// chapterLine returns the heading level of a paragraph that is a division
// heading of a statute (第二十四章 物业服务合同), or 0.
func chapterLine(text string) int {
	if len(text) > 4*maxChapterRunes || strings.ContainsRune(text, '\n') || utf8.RuneCountInString(text) > maxChapterRunes {
		return 0
	}
	m := chapterRE.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	return chapterLevels[m[1]]
}

// startsBlockLine reports whether a line starts a new paragraph even
// without a blank line before it: an article or a statute division.
func startsBlockLine(line string) bool {
	return articleRE.MatchString(line) || chapterRE.MatchString(line)
}

// countArticles counts the paragraphs that start with an article marker.
func countArticles(blocks []block) int {
	n := 0
	for _, b := range blocks {
		if b.level == 0 && articleMarker(b.text) != "" {
			n++
		}
	}
	return n
}

// chunkLaw cuts law text into articles. An article starts at a paragraph
// beginning with an article marker and keeps the paragraphs after it until
// the next article or heading; it is never split. Section is the marker as
// written, Heading the chapter headings above it, Text the whole article.
// Text outside articles (the promulgation record, a preamble) is dropped.
func chunkLaw(blocks []block, defCat string) []Chunk {
	var (
		chunks []Chunk
		path   headingPath
		marker string
		body   []string
	)
	flush := func() {
		if marker != "" && len(body) > 0 {
			chunks = append(chunks, Chunk{
				Section:  marker,
				Heading:  path.join(len(path)),
				Category: firstNonEmpty(path.category(), defCat),
				Text:     strings.Join(body, "\n"),
			})
		}
		marker, body = "", nil
	}
	for _, b := range blocks {
		if b.level > 0 {
			flush()
			path.push(b)
			continue
		}
		if m := articleMarker(b.text); m != "" {
			flush()
			marker, body = m, []string{b.text}
			continue
		}
		if level := chapterLine(b.text); level > 0 {
			flush()
			path.push(block{level: level, text: normalizeSpace(b.text)})
			continue
		}
		if marker != "" {
			body = append(body, b.text)
		}
	}
	flush()
	return chunks
}

// cnDigits are the values of the Chinese digits.
var cnDigits = map[rune]int{
	'一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9,
}

// cnUnits are the values of the Chinese units used in article numbers.
var cnUnits = map[rune]int{'十': 10, '百': 100, '千': 1000}

// ArticleNumber converts an article marker to its number: 第九百四十四条 is
// 944, 第一条 1, 第十条 10, 第一千零一条 1001. Leading and trailing white
// space is ignored. It reports false for anything that is not a well-formed
// marker of a number from 1 to 9999.
func ArticleNumber(section string) (int, bool) {
	s := strings.TrimSpace(section)
	s, ok := strings.CutPrefix(s, "第")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "条")
	if !ok {
		return 0, false
	}
	return chineseNumber(s)
}

// chineseNumber parses a Chinese numeral below 10000 written the usual way
// (九百四十四, 十二, 一千零一, 两百). Digits must be followed by a descending
// unit, except the last; 零 stands for skipped units and must be followed
// by a digit.
func chineseNumber(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	var (
		total    int
		digit    = -1    // a digit waiting for its unit
		lastUnit = 10000 // units must descend
		zero     bool    // a 零 waits for its digit
	)
	for _, r := range s {
		if d, ok := cnDigits[r]; ok {
			if digit >= 0 {
				return 0, false
			}
			digit = d
			continue
		}
		if r == '零' || r == '〇' {
			if digit >= 0 || zero || total == 0 {
				return 0, false
			}
			zero = true
			continue
		}
		u, ok := cnUnits[r]
		if !ok || u >= lastUnit {
			return 0, false
		}
		if digit < 0 {
			// 十 alone stands for 一十 at the start (十二) or after 零 (一千零十).
			if u != 10 || (total != 0 && !zero) {
				return 0, false
			}
			digit = 1
		}
		if zero && u*10 >= lastUnit {
			return 0, false // 零 must stand for at least one skipped unit
		}
		total += digit * u
		lastUnit, digit, zero = u, -1, false
	}
	if digit >= 0 {
		// A final digit is the units place: after 十, after 零, or alone.
		// 一百二 (colloquial 120) is refused.
		if lastUnit != 10 && !zero && total != 0 {
			return 0, false
		}
		if zero && lastUnit == 10 {
			return 0, false
		}
		total += digit
	} else if zero {
		return 0, false
	}
	if total <= 0 {
		return 0, false
	}
	return total, true
}
