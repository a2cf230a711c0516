package triage

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"plain", "电梯坏了", "电梯坏了", false},
		{"full width digits and letters", "３栋Ｂ座", "3栋B座", false},
		{"zero width removed", "电\u200b梯\u200d坏了\ufeff", "电梯坏了", false},
		{"control characters become spaces", "电梯\x00坏了\x07快来", "电梯 坏了 快来", false},
		{"newlines and tabs collapse", "标题\n\n正文\t内容", "标题 正文 内容", false},
		{"ideographic space", "电梯　坏了", "电梯 坏了", false},
		{"trimmed", "   停水了   ", "停水了", false},
		{"html kept as text", "<script>alert(1)</script>漏水", "<script>alert(1)</script>漏水", false},
		{"emoji kept", "又停电了😡", "又停电了😡", false},
		{"empty", "", "", true},
		{"only spaces", " \t\n　", "", true},
		{"only zero width", "\u200b\u200c", "", true},
		{"invalid utf8", "电梯\xff坏了", "", true},
		{"too long", strings.Repeat("漏", MaxTextRunes+1), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Clean(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Clean(%q) error = %v, want ErrInvalid", tc.in, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Clean(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCleanLongestAllowed(t *testing.T) {
	in := strings.Repeat("漏", MaxTextRunes)
	if _, err := Clean(in); err != nil {
		t.Fatalf("Clean of exactly %d runes: %v", MaxTextRunes, err)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"电梯坏了", "３栋", "\u200b", "\xff\xfe", "a\x00b", "  ", "<b>x</b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Clean(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Clean(%q) error %v is not ErrInvalid", s, err)
			}
			return
		}
		if out == "" || !utf8.ValidString(out) || strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") || strings.Contains(out, "  ") {
			t.Fatalf("Clean(%q) = %q", s, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || isZeroWidth(r) {
				t.Fatalf("Clean(%q) kept %U", s, r)
			}
		}
		if again, err := Clean(out); err != nil || again != out {
			t.Fatalf("Clean is not idempotent on %q: %q, %v", out, again, err)
		}
	})
}
