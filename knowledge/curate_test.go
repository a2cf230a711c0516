package knowledge_test

import (
	"strings"
	"testing"

	"github.com/huiyin/huiyin/knowledge"
)

func TestApplyCuration(t *testing.T) {
	shipped := []knowledge.Document{
		{Source: "faq/fees.md", Kind: knowledge.KindFAQ, Title: "收费", Chunks: []knowledge.Chunk{
			{Section: "可以微信交吗", Question: "可以微信交吗", Text: "可以。"},
			{Section: "发票怎么开", Question: "发票怎么开", Text: "到客服中心。"},
		}},
		{Source: "standards/a.md", Kind: knowledge.KindStandard, Title: "标准", Chunks: []knowledge.Chunk{{Section: "可以微信交吗", Text: "标准正文"}}},
	}
	upload := knowledge.Upload{Source: "uploads/water.md", Filename: "water.md", Data: []byte("# 停水\n\n## 周六停水\n\n周六上午停水。\n")}
	faqUpload := knowledge.Upload{Source: "uploads/qa.md", Filename: "qa.md", Kind: knowledge.KindFAQ,
		Data: []byte("---\nkind: faq\n---\n# 问答\n\n## 几点停水？\n\n上午九点。\n")}
	broken := knowledge.Upload{Source: "uploads/bad.pdf", Filename: "bad.pdf", Data: []byte("%PDF")}

	tests := []struct {
		name    string
		uploads []knowledge.Upload
		edits   []knowledge.FAQEdit
		check   func(t *testing.T, docs []knowledge.Document)
		errs    int
	}{
		{"nothing changes nothing", nil, nil, func(t *testing.T, docs []knowledge.Document) {
			if len(docs) != 2 || docs[0].Chunks[0].Text != "可以。" {
				t.Fatalf("%+v", docs)
			}
		}, 0},
		{"an edit replaces one entry of its document only", nil, []knowledge.FAQEdit{{Source: "faq/fees.md", Question: "可以微信交吗", NewQuestion: "可以用微信交物业费吗", Answer: "可以，也可以用支付宝。"}},
			func(t *testing.T, docs []knowledge.Document) {
				c := docs[0].Chunks[0]
				if c.Question != "可以用微信交物业费吗" || c.Section != c.Question || c.Text != "可以，也可以用支付宝。" {
					t.Fatalf("edited chunk %+v", c)
				}
				if docs[0].Chunks[1].Text != "到客服中心。" || docs[1].Chunks[0].Text != "标准正文" {
					t.Fatal("other chunks changed")
				}
				if shipped[0].Chunks[0].Text != "可以。" {
					t.Fatal("the input was modified")
				}
			}, 0},
		{"an edit of another source does nothing", nil, []knowledge.FAQEdit{{Source: "faq/other.md", Question: "可以微信交吗", NewQuestion: "x", Answer: "y"}},
			func(t *testing.T, docs []knowledge.Document) {
				if docs[0].Chunks[0].Text != "可以。" {
					t.Fatal("edited the wrong document")
				}
			}, 0},
		{"uploads are added, and edits reach uploaded FAQs", []knowledge.Upload{upload, faqUpload}, []knowledge.FAQEdit{{Source: "uploads/qa.md", Question: "几点停水？", NewQuestion: "几点停水？", Answer: "上午九点到十二点。"}},
			func(t *testing.T, docs []knowledge.Document) {
				if len(docs) != 4 || docs[2].Source != "uploads/water.md" || docs[3].Chunks[0].Text != "上午九点到十二点。" {
					t.Fatalf("%+v", docs)
				}
			}, 0},
		{"an upload that no longer parses is left out", []knowledge.Upload{broken, upload}, nil, func(t *testing.T, docs []knowledge.Document) {
			if len(docs) != 3 {
				t.Fatalf("%d documents", len(docs))
			}
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, errs := knowledge.ApplyCuration(shipped, tt.uploads, tt.edits)
			if len(errs) != tt.errs {
				t.Fatalf("errors %v", errs)
			}
			tt.check(t, docs)
		})
	}
}

func TestUploadDocument(t *testing.T) {
	for _, tt := range []struct {
		name string
		u    knowledge.Upload
		want string // kind, or the error text
	}{
		{"kind from the file", knowledge.Upload{Source: "uploads/a.md", Filename: "a.md", Data: []byte("# 标准\n\n## 一\n\n正文。\n")}, "standard"},
		{"kind given", knowledge.Upload{Source: "uploads/a.md", Filename: "a.md", Kind: knowledge.KindScript, Data: []byte("# 话术\n\n## 一\n\n您好。\n")}, "script"},
		{"an FAQ needs questions", knowledge.Upload{Source: "uploads/a.md", Filename: "a.md", Kind: knowledge.KindFAQ, Data: []byte("# 标准\n\n## 一\n\n正文。\n")}, "没有找到问答条目"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := tt.u.Document()
			got := string(doc.Kind)
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) || (err == nil && doc.Source != tt.u.Source) {
				t.Fatalf("got %q (source %q), want %q", got, doc.Source, tt.want)
			}
		})
	}
}
