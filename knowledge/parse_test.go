package knowledge

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"flag"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
)

var updateGolden = flag.Bool("update-docs", false, "rewrite the expected documents in testdata/parse")

// TestParseGolden parses every fixture in testdata/parse and compares the
// document with the JSON beside it (run with -update-docs to rewrite).
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range files {
		if strings.HasSuffix(file, ".json") {
			continue
		}
		n++
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := ParseDocument(filepath.Base(file), data)
			if err != nil {
				t.Fatal(err)
			}
			checkDocument(t, doc)
			got, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := file + ".json"
			if *updateGolden {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestParseGolden -update-docs to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("document differs from %s:\n%s", golden, got)
			}
		})
	}
	if n < 6 {
		t.Errorf("only %d fixtures in testdata/parse", n)
	}
}

// checkDocument checks what every parsed document must satisfy.
func checkDocument(t testing.TB, doc Document) {
	t.Helper()
	if doc.Title == "" {
		t.Error("empty title")
	}
	if _, err := ParseKind(string(doc.Kind)); err != nil {
		t.Errorf("kind %q: %v", doc.Kind, err)
	}
	if len(doc.Chunks) == 0 {
		t.Error("no chunks")
	}
	for i, c := range doc.Chunks {
		if strings.TrimSpace(c.Text) == "" {
			t.Errorf("chunk %d (%q): empty text", i, c.Section)
		}
		if c.Section == "" {
			t.Errorf("chunk %d: empty section", i)
		}
		for _, s := range []string{c.Text, c.Section, c.Heading, c.Question, c.Category, doc.Title} {
			if !utf8.ValidString(s) {
				t.Errorf("chunk %d: invalid UTF-8 %q", i, s)
			}
			for _, r := range s {
				if unicode.IsControl(r) && r != '\n' && r != '\t' {
					t.Errorf("chunk %d: control character %U in %q", i, r, s)
					break
				}
			}
		}
		if doc.Kind == KindFAQ && c.Question != c.Section {
			t.Errorf("chunk %d: FAQ question %q, section %q", i, c.Question, c.Section)
		}
		if c.Category != "" {
			if _, err := checkCategory(c.Category); err != nil {
				t.Errorf("chunk %d: %v", i, err)
			}
		}
	}
}

func sections(doc Document) []string {
	var s []string
	for _, c := range doc.Chunks {
		s = append(s, c.Section)
	}
	return s
}

func TestParseMarkdown(t *testing.T) {
	data, err := os.ReadFile("testdata/parse/standard.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseDocument("standards/repair.md", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "服务标准：报修服务（测试）" || doc.Kind != KindStandard || doc.Source != "standards/repair.md" {
		t.Errorf("title %q kind %q source %q", doc.Title, doc.Kind, doc.Source)
	}
	want := []Chunk{
		{Section: "服务标准：报修服务（测试）", Text: "本标准适用于本小区的报修受理。"},
		{Section: "受理渠道", Category: "repair", Text: "业主可以通过业主APP、24小时服务热线或物业服务中心报修。\n工作人员登记后告知工单号。"},
		{Section: "夜间报修", Heading: "受理渠道", Category: "repair", Text: "夜间由值班工程师受理，紧急情况30分钟内到场。"},
		{Section: "收费", Category: "fees", Text: "户内维修按公示标准收费。\n材料费 = 单价 × 数量\n## 这一行不是标题"},
		{Section: "投诉 与建议", Category: "staff", Text: "- 对维修结果不满意的，可以在回访时提出。\n- 也可以拨打投诉电话。"},
	}
	if len(doc.Chunks) != len(want) {
		t.Fatalf("sections %q, want %d chunks", sections(doc), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(doc.Chunks[i], want[i]) {
			t.Errorf("chunk %d:\n got %+v\nwant %+v", i, doc.Chunks[i], want[i])
		}
	}
}

func TestParseMarkdownTitleAndKind(t *testing.T) {
	tests := []struct {
		name, file, text string
		title            string
		kind             Kind
		category         string
	}{
		{"front matter", "a.md", "---\ntitle: 甲\n---\n# 乙\n\n正文。", "甲", KindStandard, ""},
		{"first heading", "a.md", "# 乙\n\n正文。", "乙", KindStandard, ""},
		{"file name", "dir/文件名.markdown", "正文。", "文件名", KindStandard, ""},
		{"empty front matter", "a.md", "---\n---\n# 乙\n\n正文。", "乙", KindStandard, ""},
		{"closing dots", "a.md", "---\ntitle: 甲\n...\n正文。", "甲", KindStandard, ""},
		{"CRLF and BOM", "a.md", "\uFEFF---\r\ntitle: 甲\r\n---\r\n\r\n## 一\r\n正文。\r\n", "甲", KindStandard, ""},
		{"document category", "a.md", "---\ncategory: parking\n---\n# 乙\n\n## 一\n正文。", "乙", KindStandard, "parking"},
		{"title heading category", "a.md", "# 乙\n<!-- category: fees -->\n\n## 一\n正文。", "乙", KindStandard, "fees"},
		{"category on the heading line", "a.md", "## 一 <!-- category: fees -->\n正文。", "a", KindStandard, "fees"},
		{"heading category wins", "a.md", "---\ncategory: parking\n---\n## 一\n<!-- category: fees -->\n正文。", "a", KindStandard, "fees"},
		{"law detected", "a.md", "# 条例\n\n第一条 甲。\n\n第二条 乙。\n\n第三条 丙。", "条例", KindLaw, ""},
		{"two articles are not a law", "a.md", "# 条例\n\n第一条 甲。\n\n第二条 乙。", "条例", KindStandard, ""},
		{"declared kind wins", "a.md", "---\nkind: standard\n---\n第一条 甲。\n\n第二条 乙。\n\n第三条 丙。", "a", KindStandard, ""},
		{"numeric title", "a.md", "---\ntitle: 2024\n---\n正文。", "2024", KindStandard, ""},
		{"control characters", "a.md", "# 标\x01题\n\n正\x07文\x1b。\t尾", "标题", KindStandard, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseDocument(tt.file, []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			checkDocument(t, doc)
			if doc.Title != tt.title || doc.Kind != tt.kind || doc.Chunks[0].Category != tt.category {
				t.Errorf("title %q kind %q category %q, want %q %q %q", doc.Title, doc.Kind, doc.Chunks[0].Category, tt.title, tt.kind, tt.category)
			}
		})
	}
}

func TestParseDeclaredStandardWithArticles(t *testing.T) {
	doc, err := ParseDocument("a.md", []byte("---\nkind: standard\n---\n## 规约\n\n第一条 甲。\n\n补充。\n\n第二条 乙。\n\n第三条 丙。"))
	if err != nil {
		t.Fatal(err)
	}
	if got := sections(doc); strings.Join(got, ",") != "第一条,第二条,第三条" || doc.Chunks[0].Text != "第一条 甲。\n补充。" || doc.Chunks[0].Heading != "规约" {
		t.Errorf("a standard written in articles is chunked by article: %+v", doc.Chunks)
	}
}

func TestParseHTML(t *testing.T) {
	data, err := os.ReadFile("testdata/parse/page.html")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseDocument("page.html", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "停车管理办法" {
		t.Errorf("title %q", doc.Title)
	}
	want := []Chunk{
		{Section: "停车管理办法", Text: "本办法适用于小区内的机动车和非机动车停放。"},
		{Section: "临时停车", Category: "parking", Text: "访客车辆凭登记进入，首30分钟免费。\n超时按公示标准收费\u00a0&\u00a0开具票据。\n消防通道严禁停车；\n占用他人车位的，由秩序部联系车主挪车。"},
		{Section: "收费标准", Text: "类型\n价格\n月租车位\n300元/月\n如有疑问请联系物业服务中心，电话 12345678。"},
	}
	if len(doc.Chunks) != len(want) {
		t.Fatalf("got %+v", doc.Chunks)
	}
	for i := range want {
		if !reflect.DeepEqual(doc.Chunks[i], want[i]) {
			t.Errorf("chunk %d:\n got %+v\nwant %+v", i, doc.Chunks[i], want[i])
		}
	}
	for _, c := range doc.Chunks {
		for _, banned := range []string{"SCRIPT-SECRET", "不应出现", "color", "首页", "JavaScript"} {
			if strings.Contains(c.Text, banned) {
				t.Errorf("chunk %q contains %q from script, style, nav or noscript", c.Section, banned)
			}
		}
	}
}

func TestParseHTMLTitle(t *testing.T) {
	tests := []struct{ name, html, title string }{
		{"h1", "<title>页面</title><h1>标题</h1><p>正文</p>", "标题"},
		{"title tag", "<title> 页面\n标题 </title><h2>小节</h2><p>正文</p>", "页面 标题"},
		{"file name", "<p>正文</p>", "f"},
		{"self-closed script", "<p>正文</p><script/>alert('SECRET')</script><p>尾</p>", "f"},
		{"unclosed script", "<p>正文</p><script>alert('SECRET')", "f"},
		{"nested nav", "<nav><nav>SECRET</nav>SECRET</nav><p>正文</p>", "f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseDocument("f.htm", []byte(tt.html))
			if err != nil {
				t.Fatal(err)
			}
			checkDocument(t, doc)
			if doc.Title != tt.title {
				t.Errorf("title %q, want %q", doc.Title, tt.title)
			}
			for _, c := range doc.Chunks {
				if strings.Contains(c.Text, "SECRET") || strings.Contains(c.Text, "alert") {
					t.Errorf("script or nav text in chunk: %q", c.Text)
				}
			}
		})
	}
}

func TestParseText(t *testing.T) {
	data, err := os.ReadFile("testdata/parse/notes.txt")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseDocument("notes.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "电梯维保说明" || len(doc.Chunks) != 1 {
		t.Fatalf("title %q, chunks %+v", doc.Title, doc.Chunks)
	}
	want := "本小区电梯由专业维保单位每半月保养一次。\n保养期间会提前一天张贴通知。\n电梯困人时，请按警铃并保持冷静，\n救援人员30分钟内到场。"
	if c := doc.Chunks[0]; c.Text != want || c.Section != "电梯维保说明" {
		t.Errorf("chunk %+v", c)
	}
}

// docxPara is a paragraph of a test DOCX: its style id and runs.
type docxPara struct {
	style string
	runs  []string // text of each run; "\t" and "\n" become w:tab and w:br
}

// buildDocx writes a minimal Word document: the parts Word itself needs,
// with the given paragraphs, extra entries and, if title is set,
// docProps/core.xml.
func buildDocx(t testing.TB, title string, paras []docxPara, extra map[string]string) []byte {
	t.Helper()
	var body strings.Builder
	for _, p := range paras {
		body.WriteString("<w:p>")
		if p.style != "" {
			body.WriteString(`<w:pPr><w:pStyle w:val="` + p.style + `"/><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>`)
		}
		for _, r := range p.runs {
			body.WriteString("<w:r><w:rPr><w:b/></w:rPr>")
			switch r {
			case "\t":
				body.WriteString("<w:tab/>")
			case "\n":
				body.WriteString("<w:br/>")
			default:
				var esc bytes.Buffer
				if err := xmlEscape(&esc, r); err != nil {
					t.Fatal(err)
				}
				body.WriteString(`<w:t xml:space="preserve">` + esc.String() + "</w:t>")
			}
			body.WriteString("</w:r>")
		}
		body.WriteString("</w:p>")
	}
	files := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>` + body.String() + `<w:sectPr/></w:body></w:document>`,
	}
	if title != "" {
		files["docProps/core.xml"] = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>` + title + `</dc:title><dc:creator>测试</dc:creator></cp:coreProperties>`
	}
	for k, v := range extra {
		files[k] = v
	}
	return zipFiles(t, files)
}

func xmlEscape(b *bytes.Buffer, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	_, err := r.WriteString(b, s)
	return err
}

func zipFiles(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseDocx(t *testing.T) {
	paras := []docxPara{
		{style: "Title", runs: []string{"装修管理规定"}},
		{runs: []string{"本规定适用于", "全部住户。"}},
		{style: "Heading1", runs: []string{"第一部分", " ", "申报"}},
		{style: "2", runs: []string{"申报材料"}},
		{runs: []string{"身份证明", "\t", "复印件"}},
		{runs: []string{"施工方案", "\n", "图纸"}},
		{runs: []string{""}},
		{style: "Heading3", runs: []string{"空小节"}},
		{style: "a5", runs: []string{"施工时间"}},
		{runs: []string{"工作日8:00–12:00 & 14:00–18:00。"}},
	}
	styles := `<?xml version="1.0" encoding="UTF-8"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 2"/></w:style>
<w:style w:type="paragraph" w:styleId="a5"><w:name w:val="标题 3"/></w:style>
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style>
</w:styles>`
	dir := t.TempDir()
	file := filepath.Join(dir, "装修.docx")
	if err := os.WriteFile(file, buildDocx(t, "", paras, map[string]string{"word/styles.xml": styles}), 0o644); err != nil {
		t.Fatal(err)
	}
	docs, err := LoadDocuments(file)
	if err != nil {
		t.Fatal(err)
	}
	doc := docs[0]
	checkDocument(t, doc)
	if doc.Title != "装修管理规定" || doc.Source != filepath.ToSlash(file) {
		t.Errorf("title %q source %q", doc.Title, doc.Source)
	}
	want := []Chunk{
		{Section: "装修管理规定", Text: "本规定适用于全部住户。"},
		{Section: "申报材料", Heading: "第一部分 申报", Text: "身份证明\t复印件\n施工方案\n图纸"},
		{Section: "施工时间", Heading: "第一部分 申报 / 申报材料", Text: "工作日8:00–12:00 & 14:00–18:00。"},
	}
	if len(doc.Chunks) != len(want) {
		t.Fatalf("got %+v", doc.Chunks)
	}
	for i := range want {
		if !reflect.DeepEqual(doc.Chunks[i], want[i]) {
			t.Errorf("chunk %d:\n got %+v\nwant %+v", i, doc.Chunks[i], want[i])
		}
	}

	// dc:title comes first; without styles.xml, ids name the levels.
	doc, err = ParseDocument("x.docx", buildDocx(t, "核心属性标题", []docxPara{
		{style: "Heading1", runs: []string{"一"}}, {runs: []string{"甲"}},
		{style: "1", runs: []string{"二"}}, {runs: []string{"乙"}},
	}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "核心属性标题" || strings.Join(sections(doc), ",") != "一,二" {
		t.Errorf("title %q sections %q", doc.Title, sections(doc))
	}
}

func TestParseDocxXML(t *testing.T) {
	const head = `<w:document xmlns:w="` + nsWord + `" xmlns:mc="` + nsMC + `"><w:body>`
	tests := []struct {
		name, xml string
		want      []block
	}{
		{"text box once", `<w:p><w:r><mc:AlternateContent><mc:Choice><w:txbxContent><w:p><w:r><w:t>框内</w:t></w:r></w:p></w:txbxContent></mc:Choice>` +
			`<mc:Fallback><w:txbxContent><w:p><w:r><w:t>框内</w:t></w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r><w:r><w:t>正文</w:t></w:r></w:p>`,
			[]block{{text: "框内"}, {text: "正文"}}},
		{"outline level", `<w:p><w:pPr><w:outlineLvl w:val="1"/></w:pPr><w:r><w:t>二级</w:t></w:r></w:p><w:p><w:pPr><w:outlineLvl w:val="9"/></w:pPr><w:r><w:t>正文</w:t></w:r></w:p>`,
			[]block{{level: 2, text: "二级"}, {text: "正文"}}},
		{"deleted and field text", `<w:p><w:del><w:r><w:delText>删除</w:delText></w:r></w:del><w:r><w:instrText>PAGE</w:instrText></w:r><w:ins><w:r><w:t>插入</w:t></w:r></w:ins></w:p>`,
			[]block{{text: "插入"}}},
		{"table cells", `<w:tbl><w:tr><w:tc><w:p><w:r><w:t>甲</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>乙</w:t></w:r></w:p></w:tc></w:tr></w:tbl>`,
			[]block{{text: "甲"}, {text: "乙"}}},
		{"control characters", `<w:p><w:r><w:t>a&#xE000;b</w:t><w:cr/><w:t>c</w:t></w:r></w:p>`,
			[]block{{text: "a\ue000b\nc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := docxBlocks([]byte(head+tt.xml+`</w:body></w:document>`), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("blocks %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("block %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestHeadingStyleLevel(t *testing.T) {
	tests := []struct {
		s    string
		isID bool
		want int
	}{
		{"Heading1", true, 1}, {"heading 3", false, 3}, {"Heading 6", false, 6}, {"Heading7", true, 0},
		{"标题 1", false, 1}, {"标题2", true, 2}, {"标题", false, 1}, {"Title", true, 1},
		{"1", true, 1}, {"6", true, 6}, {"1", false, 0}, {"7", true, 0}, {"Normal", true, 0}, {"", true, 0},
	}
	for _, tt := range tests {
		if got := headingStyleLevel(tt.s, tt.isID); got != tt.want {
			t.Errorf("headingStyleLevel(%q, %v) = %d, want %d", tt.s, tt.isID, got, tt.want)
		}
	}
}

func TestParseDocumentRejects(t *testing.T) {
	big := bytes.Repeat([]byte("物业"), MaxDocumentBytes/6+1)
	tests := []struct {
		name string
		file string
		data []byte
		want string // part of the message
	}{
		{"empty", "a.md", nil, "文件为空"},
		{"unsupported", "a.pdf", []byte("%PDF-1.4"), "不支持的文件格式"},
		{"no extension", "README", []byte("text"), "不支持的文件格式"},
		{"invalid UTF-8", "a.md", []byte("# 标题\n\n\xff\xfe正文"), "UTF-8"},
		{"GBK", "a.txt", []byte{0xce, 0xef, 0xd2, 0xb5, 0xb7, 0xd1}, "UTF-8"},
		{"UTF-16", "a.txt", []byte("\x00a\x00b\x00c"), "空字节"},
		{"binary", "a.html", []byte{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d}, "UTF-8"},
		{"too large", "a.txt", big, "文件过大"},
		{"only white space", "a.md", []byte(" \n\t\n\u3000\n"), "没有可检索的正文"},
		{"only headings", "a.md", []byte("# 一\n## 二\n### 三\n"), "没有可检索的正文"},
		{"only comments", "a.html", []byte("<!-- 注释 --><script>x()</script>"), "没有可检索的正文"},
		{"bad YAML", "a.md", []byte("---\ntitle: [unclosed\n---\n正文"), "YAML"},
		{"bad YAML names its line", "a.md", []byte("---\ntitle: 标题\nkind: faq\n  bad: indent\n---\n正文"), "第 4 行附近"},
		{"YAML list", "a.md", []byte("---\n- a\n- b\n---\n正文"), "YAML"},
		{"unterminated front matter", "a.md", []byte("---\ntitle: 甲\n正文"), "front matter"},
		{"unknown kind", "a.md", []byte("---\nkind: manual\n---\n正文"), "未知的文档类型"},
		{"unknown category in front matter", "a.md", []byte("---\ncategory: noise\n---\n正文"), "未知的分类"},
		{"unknown category comment", "a.md", []byte("## 一\n<!-- category: noise -->\n正文"), "未知的分类"},
		{"category comment after text", "a.md", []byte("## 一\n正文\n\n<!-- category: fees -->\n"), "紧跟在标题下方"},
		{"category comment before heading", "a.md", []byte("<!-- category: fees -->\n## 一\n正文"), "紧跟在标题下方"},
		{"two categories", "a.md", []byte("## 一\n<!-- category: fees -->\n<!-- category: repair -->\n正文"), "两个不同的分类"},
		{"HTML category after text", "a.html", []byte("<h2>一</h2><p>正文</p><!-- category: fees -->"), "紧跟在标题下方"},
		{"FAQ without questions", "a.md", []byte("---\nkind: faq\n---\n# 问答\n\n正文"), "FAQ"},
		{"bad script", "a.md", []byte("---\nkind: script\n---\n## 情形\n\n适用：甲\n"), "缺少“要点：”"},
		{"docx not a zip", "a.docx", []byte("PK\x03\x04 this is not really a zip"), "DOCX"},
		{"docx text", "a.docx", []byte("plain text"), "DOCX"},
		{"docx without document", "a.docx", zipFiles(t, map[string]string{"word/other.xml": "<x/>"}), "word/document.xml"},
		{"docx bad XML", "a.docx", zipFiles(t, map[string]string{"word/document.xml": "<w:document><w:p>"}), "格式错误"},
		{"docx invalid UTF-8", "a.docx", zipFiles(t, map[string]string{"word/document.xml": `<w:document xmlns:w="` + nsWord + `"><w:p><w:r><w:t>` + "\xff" + `</w:t></w:r></w:p></w:document>`}), "格式错误"},
		{"docx empty", "a.docx", buildDocx(t, "", nil, nil), "没有可检索的正文"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseDocument(tt.file, tt.data)
			if err == nil {
				t.Fatalf("no error, got %+v", doc)
			}
			if !errors.Is(err, huiyin.ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q does not name the file or say %q", err, tt.want)
			}
		})
	}
}

// TestParseDocxZipBomb checks both a declared and an undeclared (lying
// header) expansion beyond the limit.
func TestParseDocxZipBomb(t *testing.T) {
	zeros := bytes.Repeat([]byte{0}, maxDocxUncompressed+1)

	declared := zipFiles(t, map[string]string{"word/document.xml": string(zeros)})
	if len(declared) > MaxDocumentBytes {
		t.Fatalf("test archive is %d bytes", len(declared))
	}

	// An entry whose header claims 10 bytes but inflates to over 20 MiB.
	var compressed bytes.Buffer
	fw, err := flate.NewWriter(&compressed, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(zeros); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	var lying bytes.Buffer
	zw := zip.NewWriter(&lying)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "word/document.xml", Method: zip.Deflate,
		CRC32:            crc32.ChecksumIEEE(zeros),
		CompressedSize64: uint64(compressed.Len()), UncompressedSize64: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(compressed.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = ParseDocument("bomb.docx", declared)
	if !errors.Is(err, huiyin.ErrInvalid) || !strings.Contains(err.Error(), "MiB") {
		t.Errorf("declared: err = %v, want ErrInvalid about the size limit", err)
	}
	// archive/zip stops at the declared size; the read budget would catch
	// it otherwise.
	if _, err = ParseDocument("bomb.docx", lying.Bytes()); !errors.Is(err, huiyin.ErrInvalid) {
		t.Errorf("lying header: err = %v, want ErrInvalid", err)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\r\nb\rc", "a\nb\nc"},
		{"\uFEFF标题\u200B", "标题"},
		{"a\x00b\x01c\x7fd\u0085e\u009bf", "abcdef"},
		{"tab\there\nline", "tab\there\nline"},
		{"a\u2028b", "a\nb"},
		{"clean 文本", "clean 文本"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStripComments(t *testing.T) {
	tests := []struct {
		line      string
		inComment bool
		rest      string
		done      []string
		open      bool
	}{
		{"<!-- a -->", false, "", []string{" a "}, false},
		{"x<!-- a -->y<!-- b -->z", false, "xyz", []string{" a ", " b "}, false},
		{"x <!-- a", false, "x ", nil, true},
		{"still open", true, "", nil, true},
		{"end -->tail", true, "tail", []string{"end "}, false},
		{"no comment", false, "no comment", nil, false},
	}
	for _, tt := range tests {
		var buf strings.Builder
		rest, done, open := stripComments(tt.line, tt.inComment, &buf)
		if rest != tt.rest || strings.Join(done, "|") != strings.Join(tt.done, "|") || open != tt.open {
			t.Errorf("stripComments(%q, %v) = %q, %q, %v", tt.line, tt.inComment, rest, done, open)
		}
	}
}

func TestMarkdownBlocks(t *testing.T) {
	tests := []struct {
		name, text string
		want       []block
	}{
		{"closing hashes", "## 标题 ##\n正文", []block{{level: 2, text: "标题"}, {text: "正文"}}},
		{"hash without space", "#标签\n正文", []block{{text: "#标签\n正文"}}},
		{"seven hashes", "####### 七\n", []block{{text: "####### 七"}}},
		{"indented code is text", "    # 不是标题", []block{{text: "# 不是标题"}}},
		{"empty heading dropped", "##\n正文", []block{{text: "正文"}}},
		{"thematic break", "甲\n\n* * *\n\n乙", []block{{text: "甲"}, {text: "乙"}}},
		{"unclosed fence runs to the end", "```\n# 代码\n", []block{{text: "# 代码"}}},
		{"tilde fence", "~~~go\n# 代码\n~~~\n正文", []block{{text: "# 代码"}, {text: "正文"}}},
		{"comment ends paragraph", "甲\n<!-- x -->\n乙", []block{{text: "甲"}, {text: "乙"}}},
		{"multi-line comment", "甲\n<!-- x\n# 不是标题\n-->\n乙", []block{{text: "甲"}, {text: "乙"}}},
		{"article starts paragraph", "第一条 甲\n第二条 乙\n续", []block{{text: "第一条 甲"}, {text: "第二条 乙\n续"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseMarkdown(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.blocks) != len(tt.want) {
				t.Fatalf("blocks %+v, want %+v", p.blocks, tt.want)
			}
			for i := range tt.want {
				if p.blocks[i] != tt.want[i] {
					t.Errorf("block %d = %+v, want %+v", i, p.blocks[i], tt.want[i])
				}
			}
		})
	}
}

// fuzzCheck is what a fuzz target asserts for any input: ParseDocument
// either fails with ErrInvalid or returns a well-formed document.
func fuzzCheck(t *testing.T, name string, data []byte) {
	doc, err := ParseDocument(name, data)
	if err != nil {
		if !errors.Is(err, huiyin.ErrInvalid) {
			t.Fatalf("error %v is not ErrInvalid", err)
		}
		return
	}
	checkDocument(t, doc)
}

func addFixtures(f *testing.F, pattern string) {
	files, _ := filepath.Glob(pattern)
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
}

func FuzzParseMarkdown(f *testing.F) {
	addFixtures(f, "testdata/parse/*.md")
	addFixtures(f, "kb/faq/fees.md")
	addFixtures(f, "kb/scripts/repair.md")
	addFixtures(f, "kb/laws/sifa-jieshi-wuye-fuwu-jiufen.md")
	for _, s := range []string{
		"", "---\n", "---\n---\n", "---\ntitle: &a [*a, *a]\n---\n正文", "# 标题\n<!-- category: fees -->\n正文",
		"<!-- unterminated", "```", "## 问题\n<!--\ncategory: repair\n-->\n答", "第一条\n第二条\n第三条",
		"---\nkind: faq\n---\n## 问\n答", "---\nkind: script\n---\n## 情形\n适用：甲\n要点：\n- 乙\n范例：{称呼}您好",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, "fuzz.md", data)
		fuzzCheck(t, "fuzz.txt", data)
	})
}

func FuzzParseHTML(f *testing.F) {
	addFixtures(f, "testdata/parse/*.html")
	for _, s := range []string{
		"", "<", "<p>", "<h1>标题</h1><p>正文</p>", "<script>x</script><p>正文</p>", "<script/><p>", "<nav><p>x</nav>y",
		"<h2>一<div>二</div></h2><!-- category: fees --><p>正文</p>", "<pre>a\n  b</pre>", "&#0;&#1;&#xE000;&amp;",
		"<title>t", "<plaintext><p>x", "<table><tr><td>a<td>b</table>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, "fuzz.html", data)
	})
}

func FuzzParseDocx(f *testing.F) {
	f.Add(buildDocx(f, "标题", []docxPara{{style: "Heading1", runs: []string{"一"}}, {runs: []string{"甲", "\t", "乙", "\n"}}}, nil))
	f.Add([]byte(`<w:document xmlns:w="` + nsWord + `"><w:body><w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>问</w:t></w:r></w:p><w:p><w:r><w:t>答</w:t></w:r></w:p></w:body></w:document>`))
	f.Add([]byte(`<w:document xmlns:w="` + nsWord + `" xmlns:mc="` + nsMC + `"><w:p><mc:AlternateContent><mc:Choice><w:p><w:r><w:t>a</w:t></w:r></w:p></mc:Choice><mc:Fallback><w:p><w:r><w:t>a</w:t></w:r></w:p></mc:Fallback></mc:AlternateContent></w:p></w:document>`))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, "fuzz.docx", data)
		// The same bytes as the document part of an archive, so that the
		// fuzzer reaches the XML reader.
		fuzzCheck(t, "fuzz.docx", zipFiles(t, map[string]string{"word/document.xml": string(data), "docProps/core.xml": string(data)}))
	})
}
