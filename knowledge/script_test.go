package knowledge

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/huiyin/huiyin"
)

func TestParseScript(t *testing.T) {
	tests := []struct {
		name string
		c    Chunk
		want Script
		err  string // part of the error, or "" for success
	}{
		{
			name: "as shipped",
			c:    Chunk{Section: "报修受理", Category: "repair", Text: "适用：业主报修一般故障。\n要点：\n- 复述位置和问题。\n- 给出{工单号}。\n范例：{称呼}您好，您反映的{位置}{问题}已经登记，工单号{工单号}。"},
			want: Script{Category: "repair", Situation: "报修受理", AppliesTo: "业主报修一般故障。",
				Points: []string{"复述位置和问题。", "给出{工单号}。"}, Example: "{称呼}您好，您反映的{位置}{问题}已经登记，工单号{工单号}。"},
		},
		{
			name: "ASCII colons, numbered points, wrapped lines",
			c:    Chunk{Section: "情形", Text: "适用: 甲\n乙\n要点:\n1. 一\n   续\n2、二\n* 三\n范例:\n{称呼}您好。\n{部门}{时限}处理。"},
			want: Script{Situation: "情形", AppliesTo: "甲\n乙", Points: []string{"一续", "二", "三"}, Example: "{称呼}您好。\n{部门}{时限}处理。"},
		},
		{
			name: "point without bullet",
			c:    Chunk{Section: "情形", Text: "适用：甲\n要点：先道歉\n范例：您好。"},
			want: Script{Situation: "情形", AppliesTo: "甲", Points: []string{"先道歉"}, Example: "您好。"},
		},
		{name: "no situation", c: Chunk{Text: "适用：甲\n要点：\n- 乙\n范例：丙"}, err: "情形名称"},
		{name: "no applies", c: Chunk{Section: "情形", Text: "要点：\n- 乙\n范例：丙"}, err: "缺少“适用：”"},
		{name: "empty applies", c: Chunk{Section: "情形", Text: "适用：\n要点：\n- 乙\n范例：丙"}, err: "缺少“适用：”"},
		{name: "no points", c: Chunk{Section: "情形", Text: "适用：甲\n要点：\n范例：丙"}, err: "缺少“要点：”"},
		{name: "no example", c: Chunk{Section: "情形", Text: "适用：甲\n要点：\n- 乙"}, err: "缺少“范例：”"},
		{name: "text before fields", c: Chunk{Section: "情形", Text: "开头\n适用：甲\n要点：\n- 乙\n范例：丙"}, err: "之前"},
		{name: "repeated field", c: Chunk{Section: "情形", Text: "适用：甲\n适用：乙\n要点：\n- 乙\n范例：丙"}, err: "两次"},
		{name: "unknown placeholder", c: Chunk{Section: "情形", Text: "适用：甲\n要点：\n- 乙\n范例：{业主姓名}您好"}, err: "{业主姓名}"},
		{name: "unknown placeholder in a point", c: Chunk{Section: "情形", Text: "适用：甲\n要点：\n- 告知{电话}\n范例：您好"}, err: "{电话}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScript(tt.c)
			if tt.err != "" {
				if !errors.Is(err, huiyin.ErrInvalid) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want ErrInvalid saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Category != tt.want.Category || got.Situation != tt.want.Situation || got.AppliesTo != tt.want.AppliesTo ||
				!slices.Equal(got.Points, tt.want.Points) || got.Example != tt.want.Example {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestShippedScripts parses every situation of the shipped script library.
func TestShippedScripts(t *testing.T) {
	docs, err := ShippedDocuments()
	if err != nil {
		t.Fatal(err)
	}
	var (
		n          int
		situations = map[string]string{}
		used       = map[string]bool{}
	)
	for _, d := range docs {
		if d.Kind != KindScript {
			if strings.HasPrefix(d.Source, "scripts/") {
				t.Errorf("%s has kind %q", d.Source, d.Kind)
			}
			continue
		}
		if !strings.HasPrefix(d.Source, "scripts/") {
			t.Errorf("script %s outside scripts/", d.Source)
		}
		wantCat := strings.TrimSuffix(strings.TrimPrefix(d.Source, "scripts/"), ".md")
		if wantCat == "general" {
			wantCat = ""
		}
		for _, c := range d.Chunks {
			s, err := ParseScript(c)
			if err != nil {
				t.Errorf("%s: %v", d.Source, err)
				continue
			}
			n++
			if s.AppliesTo == "" || len(s.Points) == 0 || s.Example == "" {
				t.Errorf("%s %q: incomplete %+v", d.Source, s.Situation, s)
			}
			if s.Category != wantCat {
				t.Errorf("%s %q: category %q, want %q", d.Source, s.Situation, s.Category, wantCat)
			}
			key := s.Category + "/" + s.Situation
			if prev, dup := situations[key]; dup {
				t.Errorf("situation %q in %s and %s", key, prev, d.Source)
			}
			situations[key] = d.Source
			for _, text := range append([]string{s.AppliesTo, s.Example}, s.Points...) {
				for _, ph := range placeholderRE.FindAllString(text, -1) {
					if !slices.Contains(ScriptPlaceholders, ph) {
						t.Errorf("%s %q: placeholder %s is not in ScriptPlaceholders", d.Source, s.Situation, ph)
					}
					used[ph] = true
				}
			}
			if strings.ContainsAny(s.Example, "{}") && !placeholderRE.MatchString(s.Example) {
				t.Errorf("%s %q: unbalanced brace in example", d.Source, s.Situation)
			}
		}
	}
	if n < 101 {
		t.Errorf("%d situations parsed, want at least the 101 shipped", n)
	}
	for _, ph := range ScriptPlaceholders {
		if !used[ph] {
			t.Errorf("placeholder %s is never used", ph)
		}
	}
}
