package knowledge

import (
	"os"
	"strings"
	"testing"
)

func TestArticleNumber(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"第一条", 1, true},
		{"第十条", 10, true},
		{"第十一条", 11, true},
		{"第一十条", 10, true},
		{"第二十条", 20, true},
		{"第一百条", 100, true},
		{"第一百零五条", 105, true},
		{"第一百一十条", 110, true},
		{"第二百七十一条", 271, true},
		{"第九百四十四条", 944, true},
		{"第一千条", 1000, true},
		{"第一千零一条", 1001, true},
		{"第一千零一十条", 1010, true},
		{"第一千零十条", 1010, true},
		{"第一千二百六十条", 1260, true},
		{"第两百条", 200, true},
		{"第〇一条", 0, false},
		{"第九千九百九十九条", 9999, true},
		{" 第三条 ", 3, true},
		{"第零条", 0, false},
		{"第条", 0, false},
		{"第一", 0, false},
		{"一条", 0, false},
		{"第1条", 0, false},
		{"第一二条", 0, false},
		{"第十十条", 0, false},
		{"第百条", 0, false},
		{"第一百二条", 0, false},
		{"第一百零条", 0, false},
		{"第一零条", 0, false},
		{"第一千零零一条", 0, false},
		{"第一千零一百条", 0, false},
		{"第十零五条", 0, false},
		{"第一百千条", 0, false},
		{"第一条之一", 0, false},
		{"第三条 业主", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := ArticleNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ArticleNumber(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// chineseNumeral writes n (1–9999) the way statutes number articles.
func chineseNumeral(n int) string {
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	var b strings.Builder
	started, zero := false, false
	for _, u := range []struct {
		v int
		s string
	}{{1000, "千"}, {100, "百"}, {10, "十"}} {
		d := n / u.v
		n %= u.v
		if d == 0 {
			zero = zero || started
			continue
		}
		if zero {
			b.WriteString("零")
			zero = false
		}
		if u.v != 10 || d != 1 || started {
			b.WriteString(digits[d])
		}
		b.WriteString(u.s)
		started = true
	}
	if n > 0 {
		if zero {
			b.WriteString("零")
		}
		b.WriteString(digits[n])
	}
	return b.String()
}

func TestArticleNumberRoundTrip(t *testing.T) {
	for n := 1; n <= 9999; n++ {
		s := "第" + chineseNumeral(n) + "条"
		if got, ok := ArticleNumber(s); !ok || got != n {
			t.Fatalf("ArticleNumber(%q) = %d, %v; want %d", s, got, ok, n)
		}
	}
}

func FuzzArticleNumber(f *testing.F) {
	for _, s := range []string{"第一条", "第九百四十四条", "第一千零一条", "第两百条", "第十条", "第零条", "第一百零条", "第〇条", "第条", "第一千零一十条"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ArticleNumber(s)
		if !ok {
			if n != 0 {
				t.Fatalf("ArticleNumber(%q) = %d, false", s, n)
			}
			return
		}
		if n < 1 || n > 9999 {
			t.Fatalf("ArticleNumber(%q) = %d out of range", s, n)
		}
		canon := "第" + chineseNumeral(n) + "条"
		if m, ok := ArticleNumber(canon); !ok || m != n {
			t.Fatalf("ArticleNumber(%q) = %d; canonical %q gives %d, %v", s, n, canon, m, ok)
		}
	})
}

func TestArticleMarker(t *testing.T) {
	tests := []struct{ text, want string }{
		{"第一条 为了规范物业管理活动", "第一条"},
		{"第九百四十四条　业主应当", "第九百四十四条"},
		{"第三条", "第三条"},
		{"第三条\n业主享有下列权利", "第三条"},
		{"第三十条规定的情形", ""},
		{"依照第三条 的规定", ""},
		{"第3条 业主", ""},
		{"第一章 总则", ""},
	}
	for _, tt := range tests {
		if got := articleMarker(tt.text); got != tt.want {
			t.Errorf("articleMarker(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestChapterLine(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"第一编 总则", 2}, {"第二分编 典型合同", 3}, {"第二十四章 物业服务合同", 4}, {"第三节", 5},
		{"第一章　总则", 4}, {"第一章规定的事项由业主大会决定。", 0}, {"第一章 总则\n第一条", 0},
		{"第一条 总则", 0}, {"第一章 " + strings.Repeat("长", 40), 0},
	}
	for _, tt := range tests {
		if got := chapterLine(tt.text); got != tt.want {
			t.Errorf("chapterLine(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

// TestShippedLaws checks every law shipped in kb/laws: the article count,
// that articles are numbered without gaps, that each keeps its text byte
// for byte, and the headings above them.
func TestShippedLaws(t *testing.T) {
	docs, err := ShippedDocuments()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		source, title string
		first, last   int
		heading       map[int]string // article → Heading
	}{
		{"laws/wuye-guanli-tiaoli.md", "物业管理条例", 1, 67, map[int]string{1: "第一章 总则", 42: "第四章 物业管理服务", 67: "第七章 附则"}},
		{"laws/minfadian-wuye-fuwu-hetong.md", "中华人民共和国民法典", 937, 950, map[int]string{944: "第二十四章 物业服务合同"}},
		{"laws/minfadian-qufen-suoyouquan.md", "中华人民共和国民法典", 271, 296, map[int]string{271: "第六章 业主的建筑物区分所有权", 288: "第七章 相邻关系"}},
		{"laws/sifa-jieshi-wuye-fuwu-jiufen.md", "最高人民法院关于审理物业服务纠纷案件适用法律若干问题的解释", 1, 5, map[int]string{1: ""}},
		{"laws/beijing-wuye-guanli-tiaoli.md", "北京市物业管理条例", 1, 104, map[int]string{1: "第一章 总 则", 25: "第四章 业主、业主组织和物业管理委员会 / 第一节 业主和业主大会"}},
		{"laws/shanghai-zhuzhai-wuye-guanli-guiding.md", "上海市住宅物业管理规定", 1, 95, map[int]string{1: "第一章 总则"}},
	}
	bySource := map[string]Document{}
	laws := 0
	for _, d := range docs {
		bySource[d.Source] = d
		if d.Kind == KindLaw {
			laws++
		}
	}
	if laws != len(tests) {
		t.Errorf("%d laws shipped, %d checked here", laws, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			doc, ok := bySource[tt.source]
			if !ok {
				t.Fatal("not shipped")
			}
			if doc.Title != tt.title || doc.Kind != KindLaw || !strings.HasPrefix(doc.Origin, "LawRefBook/Laws@2f4c5c2, ") {
				t.Errorf("title %q kind %q origin %q", doc.Title, doc.Kind, doc.Origin)
			}
			if n := len(doc.Chunks); n != tt.last-tt.first+1 {
				t.Errorf("%d articles, want %d", n, tt.last-tt.first+1)
			}
			raw, err := os.ReadFile("kb/" + tt.source)
			if err != nil {
				t.Fatal(err)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(string(raw), "\n") {
				lines[l] = true
			}
			for i, c := range doc.Chunks {
				n, ok := ArticleNumber(c.Section)
				if !ok || n != tt.first+i {
					t.Errorf("chunk %d: section %q is article %d, want %d", i, c.Section, n, tt.first+i)
				}
				if !strings.HasPrefix(c.Text, c.Section+" ") {
					t.Errorf("%s: text does not start with its marker: %.40q", c.Section, c.Text)
				}
				for _, p := range strings.Split(c.Text, "\n") {
					if !lines[p] {
						t.Errorf("%s: paragraph not in the source as written: %.40q", c.Section, p)
					}
				}
				if strings.Contains(c.Text, "INFO END") || strings.Contains(c.Text, "<!--") || strings.Contains(c.Text, "\u200b") {
					t.Errorf("%s: preamble in the article: %.60q", c.Section, c.Text)
				}
				if want, ok := tt.heading[n]; ok && c.Heading != want {
					t.Errorf("%s: heading %q, want %q", c.Section, c.Heading, want)
				}
			}
		})
	}
	// The interpretation's preamble (为正确审理…制定本解释) is dropped.
	for _, c := range bySource["laws/sifa-jieshi-wuye-fuwu-jiufen.md"].Chunks {
		if strings.Contains(c.Text, "制定本解释") {
			t.Errorf("%s contains the preamble", c.Section)
		}
	}
}
