package triage

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSegmenterCoversText(t *testing.T) {
	seg := testSegmenter(t)
	for _, text := range []string{"3栋2单元1502电梯困人了！！😡", "  空格  和\t制表符 ", "English words and 中文 mixed"} {
		if got := strings.Join(seg.Cut(text), ""); got != text {
			t.Errorf("Cut(%q) joins to %q", text, got)
		}
	}
	if seg.Cut("") != nil {
		t.Error("Cut of empty text should be nil")
	}
}

func TestSegmenterUnpacksOnceAndReuses(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "nested", "cache")
	dir, err := writeDictionaries(cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"jieba.dict.utf8", "hmm_model.utf8", "user.dict.utf8", "idf.utf8", "stop_words.utf8", "complete"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	stamp, _ := os.Stat(filepath.Join(dir, "jieba.dict.utf8"))
	again, err := writeDictionaries(cache)
	if err != nil || again != dir {
		t.Fatalf("second unpack = %q, %v; want %q", again, err, dir)
	}
	stamp2, _ := os.Stat(filepath.Join(dir, "jieba.dict.utf8"))
	if !stamp.ModTime().Equal(stamp2.ModTime()) {
		t.Error("dictionaries were rewritten")
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 {
		t.Errorf("cache holds %d entries, want the one dictionary directory", len(entries))
	}
	user, _ := os.ReadFile(filepath.Join(dir, "user.dict.utf8"))
	if strings.Contains(string(user), "#") {
		t.Error("comments reached jieba's user dictionary")
	}
	lines := strings.Split(string(user), "\n")
	if !slices.Contains(lines, "电梯困人 2000 n") || !slices.Contains(lines, "着火了 2000 n") {
		t.Error("domain words missing from the user dictionary")
	}
	if !slices.Contains(lines, "不省人事 2000 n") || !slices.Contains(lines, "问题 2000 n") && slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "问题 ") }) {
		t.Error("words of the main dictionary must keep at least the domain weight")
	}
}

func TestSegmenterNeedsCacheDir(t *testing.T) {
	if _, err := NewSegmenter(""); err == nil {
		t.Fatal("NewSegmenter(\"\") succeeded")
	}
}
