package knowledge

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// sentences returns n distinct sentences of about 30 runes.
func sentences(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("第%03d句：物业服务中心会在规定时限内答复业主并安排回访。", i)
	}
	return s
}

func TestChunkSectionsHeadingPath(t *testing.T) {
	md := `---
title: 标题路径
---

## 一
<!-- category: repair -->

### 一.1

#### 一.1.a
正文 a。

### 一.2
正文 1.2。

## 二

正文 2。

### 二.1
<!-- category: fees -->
正文 2.1。

## 空节

## 三
正文 3。
`
	doc, err := ParseDocument("path.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ section, heading, category string }{
		{"一.1.a", "一 / 一.1", "repair"},
		{"一.2", "一", "repair"},
		{"二", "", ""},
		{"二.1", "二", "fees"},
		{"三", "", ""},
	}
	if len(doc.Chunks) != len(want) {
		t.Fatalf("sections %q", sections(doc))
	}
	for i, w := range want {
		c := doc.Chunks[i]
		if c.Section != w.section || c.Heading != w.heading || c.Category != w.category {
			t.Errorf("chunk %d = %q %q %q, want %q %q %q", i, c.Section, c.Heading, c.Category, w.section, w.heading, w.category)
		}
	}
}

func TestChunkLongSection(t *testing.T) {
	paras := sentences(100) // about 3,000 runes
	md := "# 长文\n\n## 很长的一节\n<!-- category: other -->\n\n" + strings.Join(paras, "\n\n") + "\n\n## 短节\n\n短。\n"
	doc, err := ParseDocument("long.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	checkDocument(t, doc)
	var long []string
	for _, c := range doc.Chunks {
		if c.Section == "很长的一节" {
			long = append(long, c.Text)
			if c.Category != "other" || c.Heading != "" {
				t.Errorf("split chunk lost its category or heading: %+v", c)
			}
		}
		if n := utf8.RuneCountInString(c.Text); n > maxChunkRunes {
			t.Errorf("chunk of %d runes", n)
		}
	}
	if len(long) < 3 {
		t.Fatalf("a section of ~3,000 runes gave %d chunks", len(long))
	}
	if got := strings.Join(long, "\n"); got != strings.Join(paras, "\n") {
		t.Error("split chunks do not add up to the section, in order")
	}
	for i, c := range long {
		if !strings.HasPrefix(c, "第") || strings.Contains(c, "\n\n") {
			t.Errorf("chunk %d is not cut at a paragraph boundary: %q…", i, c[:20])
		}
	}
	if last := doc.Chunks[len(doc.Chunks)-1]; last.Section != "短节" || last.Text != "短。" {
		t.Errorf("last chunk %+v", last)
	}
}

func TestChunkNotSplit(t *testing.T) {
	long := strings.Join(sentences(60), "")
	tests := []struct{ name, file, text string }{
		{"faq answer", "f.md", "---\nkind: faq\n---\n## 问题？\n" + long + "\n\n" + long},
		{"script", "s.md", "---\nkind: script\n---\n## 情形\n\n适用：" + long + "\n\n要点：\n- 甲\n\n范例：" + long},
		{"law article", "l.md", "---\nkind: law\n---\n第一条 " + long + "\n\n" + long + "\n\n第二条 乙。"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseDocument(tt.file, []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if n := utf8.RuneCountInString(doc.Chunks[0].Text); n < 2*utf8.RuneCountInString(long) {
				t.Errorf("first chunk has %d runes: it was split", n)
			}
		})
	}
}

func TestPackParagraphs(t *testing.T) {
	tests := []struct {
		name  string
		paras []string
		limit int
		want  []string
	}{
		{"fits", []string{"aa", "bb"}, 10, []string{"aa\nbb"}},
		{"exactly", []string{"aa", "bb"}, 5, []string{"aa\nbb"}},
		{"two", []string{"aaa", "bbb"}, 5, []string{"aaa", "bbb"}},
		{"balanced", []string{"aa", "bb", "cc", "dd", "ee"}, 9, []string{"aa\nbb\ncc", "dd\nee"}},
		{"even", []string{"aa", "bb", "cc", "dd", "ee", "ff"}, 9, []string{"aa\nbb\ncc", "dd\nee\nff"}},
		{"long paragraph", []string{"一二三。四五六。七八"}, 4, []string{"一二三。", "四五六。", "七八"}},
		{"no sentence end", []string{"一二三四五六七八九"}, 4, []string{"一二三四", "五六七八", "九"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := packParagraphs(tt.paras, tt.limit)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("packParagraphs(%q, %d) = %q, want %q", tt.paras, tt.limit, got, tt.want)
			}
		})
	}
}

func TestSplitParagraph(t *testing.T) {
	p := strings.Repeat("物业服务中心", 500) + "。" + strings.Join(sentences(50), "") + "\n" + strings.Repeat("x", 3000)
	pieces := splitParagraph(p, maxChunkRunes)
	if strings.Join(pieces, "") != strings.ReplaceAll(p, "\n", "") {
		t.Error("pieces do not add up to the paragraph")
	}
	for i, s := range pieces {
		if n := utf8.RuneCountInString(s); n == 0 || n > maxChunkRunes {
			t.Errorf("piece %d has %d runes", i, n)
		}
	}
}

func TestChunkFAQ(t *testing.T) {
	blocks := []block{
		{text: "引言"},
		{level: 2, text: "问一？", category: "fees"},
		{text: "答一。"},
		{level: 3, text: "小标题"},
		{text: "补充。"},
		{level: 2, text: "没有答案？"},
		{level: 1, text: "分组"},
		{level: 3, text: "分组下的小标题"},
		{text: "不在问题下，丢弃。"},
		{level: 2, text: "问二？"},
		{text: "答二。"},
	}
	got := chunkFAQ(blocks, "other")
	want := []Chunk{
		{Section: "问一？", Question: "问一？", Category: "fees", Text: "答一。\n小标题\n补充。"},
		{Section: "问二？", Question: "问二？", Heading: "分组", Category: "other", Text: "答二。"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("chunk %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
