package triage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextRunes bounds one message. Longer input is refused with ErrInvalid
// rather than cut, so nothing an owner wrote is silently dropped; the
// longest real letters seen are a few thousand characters.
const MaxTextRunes = 10000

// Clean prepares owner text for analysis: it refuses empty, oversized and
// non-UTF-8 input with ErrInvalid, folds full-width ASCII to half-width
// (３栋 → 3栋), turns control characters into spaces, removes zero-width
// characters and collapses runs of spaces. The caller keeps the original;
// only analysis sees the cleaned form.
func Clean(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", fmt.Errorf("%w: 消息不是有效的 UTF-8 文本", ErrInvalid)
	}
	var b strings.Builder
	b.Grow(len(text))
	runes := 0
	space := true // drop leading spaces
	for _, r := range text {
		runes++
		if runes > MaxTextRunes {
			return "", fmt.Errorf("%w: 消息过长（超过 %d 字），请分段发送", ErrInvalid, MaxTextRunes)
		}
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII block
			r -= 0xFEE0
		case r == 0x3000 || r == '\t' || r == '\r' || r == '\n':
			r = ' '
		case isZeroWidth(r):
			continue
		case unicode.IsControl(r) || r == utf8.RuneError:
			r = ' '
		}
		if r == ' ' || unicode.IsSpace(r) {
			if space {
				continue
			}
			space = true
			b.WriteByte(' ')
			continue
		}
		space = false
		b.WriteRune(r)
	}
	out := strings.TrimRight(b.String(), " ")
	if out == "" {
		return "", fmt.Errorf("%w: 消息为空", ErrInvalid)
	}
	return out, nil
}

func isZeroWidth(r rune) bool {
	switch r {
	case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E:
		return true
	}
	// Variation selectors ride on emoji and CJK and carry no meaning here.
	return r >= 0xFE00 && r <= 0xFE0F
}
