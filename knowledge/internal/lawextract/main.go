// Command lawextract writes the law texts shipped in knowledge/kb/laws from
// a checkout of https://github.com/LawRefBook/Laws (see kb/laws/SOURCE.md):
//
//	go run ./knowledge/internal/lawextract -src /path/to/Laws -out knowledge/kb/laws
//
// Each output is a Markdown file with front matter (title, kind: law,
// origin) followed by the source text copied byte for byte: the whole file,
// or, for excerpts, the title line and the chapters named in the table
// below, each from its heading line up to the next heading of the same or a
// higher level.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Commit is the LawRefBook/Laws commit the texts were taken from.
const Commit = "2f4c5c23716267af9dbebbbbd6cbbf732b101981"

// Law is one file to write.
type Law struct {
	Out      string   // file name in kb/laws
	Src      string   // path in the LawRefBook/Laws repository
	Title    string   // the title as published
	Chapters []string // headings of the chapters to keep (spaces ignored); nil keeps the whole file
}

// Laws are the texts shipped with huiyin.
var Laws = []Law{
	{Out: "wuye-guanli-tiaoli.md", Src: "行政法规/物业管理条例(2018-03-19).md", Title: "物业管理条例"},
	{Out: "minfadian-wuye-fuwu-hetong.md", Src: "民法典/合同编.md", Title: "中华人民共和国民法典",
		Chapters: []string{"第二十四章 物业服务合同"}},
	{Out: "minfadian-qufen-suoyouquan.md", Src: "民法典/物权编.md", Title: "中华人民共和国民法典",
		Chapters: []string{"第六章 业主的建筑物区分所有权", "第七章 相邻关系"}},
	{Out: "sifa-jieshi-wuye-fuwu-jiufen.md", Src: "司法解释/最高人民法院关于审理物业服务纠纷案件适用法律若干问题的解释(2020-12-29).md",
		Title: "最高人民法院关于审理物业服务纠纷案件适用法律若干问题的解释"},
	{Out: "beijing-wuye-guanli-tiaoli.md", Src: "DLC/北京地方法规/地方性法规/北京/北京市物业管理条例(2024-03-29).md", Title: "北京市物业管理条例"},
	{Out: "shanghai-zhuzhai-wuye-guanli-guiding.md", Src: "DLC/上海地方法规/地方性法规/上海/上海市住宅物业管理规定(2020-12-30).md", Title: "上海市住宅物业管理规定"},
}

func main() {
	src := flag.String("src", "", "root of a LawRefBook/Laws checkout at commit "+Commit[:7])
	out := flag.String("out", "knowledge/kb/laws", "directory to write to")
	flag.Parse()
	if *src == "" {
		flag.Usage()
		os.Exit(2)
	}
	for _, law := range Laws {
		data, err := os.ReadFile(filepath.Join(*src, filepath.FromSlash(law.Src)))
		if err != nil {
			fmt.Fprintln(os.Stderr, "lawextract:", err)
			os.Exit(1)
		}
		text, err := Extract(law, data)
		if err != nil {
			fmt.Fprintf(os.Stderr, "lawextract: %s: %v\n", law.Src, err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(*out, law.Out), text, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "lawextract:", err)
			os.Exit(1)
		}
	}
}

// Extract returns the Markdown file for law from the source file's bytes.
func Extract(law Law, src []byte) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "---\ntitle: %s\nkind: law\norigin: \"LawRefBook/Laws@%s, %s\"\n---\n\n", law.Title, Commit[:7], law.Src)
	if law.Chapters == nil {
		b.Write(src)
		return b.Bytes(), nil
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	if len(lines) == 0 || !bytes.HasPrefix(lines[0], []byte("# ")) {
		return nil, fmt.Errorf("no title line")
	}
	b.Write(lines[0])
	for _, ch := range law.Chapters {
		part, err := chapter(lines, ch)
		if err != nil {
			return nil, err
		}
		b.WriteString("\n")
		b.Write(part)
	}
	return b.Bytes(), nil
}

// chapter returns the lines from the heading named name up to the next
// heading of the same or a higher level, without trailing blank lines.
func chapter(lines [][]byte, name string) ([]byte, error) {
	start, level := -1, 0
	var part []byte
	for i, line := range lines {
		l, text := heading(line)
		if start < 0 {
			if l > 0 && strings.Join(strings.Fields(text), " ") == name {
				start, level = i, l
				part = append(part, line...)
			}
			continue
		}
		if l > 0 && l <= level {
			break
		}
		part = append(part, line...)
	}
	if start < 0 {
		return nil, fmt.Errorf("chapter %q not found", name)
	}
	return append(bytes.TrimRight(part, "\n"), '\n'), nil
}

// heading returns the level and text of a Markdown heading line, or 0.
func heading(line []byte) (int, string) {
	s := strings.TrimRight(string(line), "\n")
	n := len(s) - len(strings.TrimLeft(s, "#"))
	if n == 0 || n > 6 || !strings.HasPrefix(s[n:], " ") {
		return 0, ""
	}
	return n, strings.TrimSpace(s[n:])
}
