package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestShippedLawsMatchSource regenerates every shipped law file from a
// LawRefBook/Laws checkout named by HUIYIN_LAWS_DIR and compares it with
// the file in knowledge/kb/laws.
func TestShippedLawsMatchSource(t *testing.T) {
	src := os.Getenv("HUIYIN_LAWS_DIR")
	if src == "" {
		t.Skip("HUIYIN_LAWS_DIR not set: no LawRefBook/Laws checkout to compare with")
	}
	for _, law := range Laws {
		t.Run(law.Out, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(law.Src)))
			if err != nil {
				t.Fatal(err)
			}
			want, err := Extract(law, data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join("..", "..", "kb", "laws", law.Out))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("kb/laws/%s differs from what lawextract writes from %s", law.Out, law.Src)
			}
		})
	}
}

func TestExtractChapter(t *testing.T) {
	src := []byte("# 法典\n\n## 第一章  总则\n\n第一条 甲。\n\n## 第二章  分则\n\n### 第一节 一\n\n第二条 乙。\n\n## 第三章 附则\n\n第三条 丙。\n")
	got, err := Extract(Law{Src: "x.md", Title: "法典", Chapters: []string{"第二章 分则"}}, src)
	if err != nil {
		t.Fatal(err)
	}
	want := "---\ntitle: 法典\nkind: law\norigin: \"LawRefBook/Laws@2f4c5c2, x.md\"\n---\n\n# 法典\n\n## 第二章  分则\n\n### 第一节 一\n\n第二条 乙。\n"
	if string(got) != want {
		t.Errorf("Extract =\n%s\nwant\n%s", got, want)
	}
	if _, err := Extract(Law{Src: "x.md", Title: "法典", Chapters: []string{"第九章"}}, src); err == nil {
		t.Error("missing chapter: no error")
	}
}
