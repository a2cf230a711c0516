package kbstore_test

import (
	"testing"

	"github.com/huiyin/huiyin/db/dbtest"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/knowledge/kbstore"
)

// TestFAQEditsKeepTheFirstQuestion edits one entry twice, changing its
// question each time: one edit is kept, under the question the entry was
// loaded with, so that it still finds the shipped entry.
func TestFAQEditsKeepTheFirstQuestion(t *testing.T) {
	s := kbstore.New(dbtest.New(t))
	ctx := t.Context()
	steps := []struct{ current, next string }{
		{"可以微信交吗", "可以用微信交物业费吗"},
		{"可以用微信交物业费吗", "物业费能用微信交吗"},
	}
	for _, st := range steps {
		e, err := s.SaveFAQEdit(ctx, knowledge.FAQEdit{Source: "faq/fees.md", Question: st.current, NewQuestion: st.next, Answer: "可以。", By: "lead"})
		if err != nil {
			t.Fatal(err)
		}
		if e.Question != "可以微信交吗" || e.At.IsZero() {
			t.Fatalf("saved %+v", e)
		}
	}
	edits, err := s.FAQEdits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) != 1 || edits[0].Question != "可以微信交吗" || edits[0].NewQuestion != "物业费能用微信交吗" {
		t.Fatalf("edits %+v", edits)
	}
}

func TestUploadsReplaceBySource(t *testing.T) {
	s := kbstore.New(dbtest.New(t))
	ctx := t.Context()
	for _, data := range []string{"# 一\n\n第一版。\n", "# 一\n\n第二版。\n"} {
		if err := s.SaveUpload(ctx, knowledge.Upload{Source: "uploads/a.md", Filename: "a.md", Kind: knowledge.KindStandard, Data: []byte(data), By: "lead"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveUpload(ctx, knowledge.Upload{Source: "uploads/b.md", Filename: "b.md", Kind: "novel", Data: []byte("x"), By: "lead"}); err == nil {
		t.Fatal("stored an upload of an unknown kind")
	}
	ups, err := s.Uploads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || string(ups[0].Data) != "# 一\n\n第二版。\n" || ups[0].By != "lead" {
		t.Fatalf("uploads %+v", ups)
	}
}
