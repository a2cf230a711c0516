package kbstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/db/dbtest"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/knowledge/kbstore"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// unit returns a unit vector of dim with weight on axis i (and a little on
// the next), so that nearest neighbours are known.
func unit(dim, i int) []float32 {
	v := make([]float32, dim)
	v[i%dim] = 1
	v[(i+1)%dim] = 0.1
	return v
}

func doc(source string, kind knowledge.Kind, sum string, chunks ...knowledge.IndexedChunk) knowledge.IndexedDocument {
	return knowledge.IndexedDocument{Title: "标题 " + source, Kind: kind, Source: source, Checksum: sum, Chunks: chunks}
}

func chunk(section, category string, vec []float32, terms map[string]float32) knowledge.IndexedChunk {
	n := 0
	for _, f := range terms {
		n += int(f)
	}
	return knowledge.IndexedChunk{
		Chunk:     knowledge.Chunk{Section: section, Category: category, Text: "正文：" + section},
		Embedding: vec, Terms: terms, TokenCount: n,
	}
}

func TestPrepareGuardsTheEmbedder(t *testing.T) {
	ctx := context.Background()
	s := kbstore.New(dbtest.New(t))
	if err := s.Prepare(ctx, "offline-a", 4, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(ctx, "offline-a", 4, false); err != nil {
		t.Fatalf("same embedder again: %v", err)
	}
	if _, err := s.PutDocument(ctx, doc("faq/a.md", knowledge.KindFAQ, "1", chunk("问", "fees", unit(4, 0), map[string]float32{"物业费": 1}))); err != nil {
		t.Fatal(err)
	}
	err := s.Prepare(ctx, "openai:x", 8, false)
	if !errors.Is(err, huiyin.ErrConflict) {
		t.Fatalf("another embedder without reindex: %v, want ErrConflict", err)
	}
	if err := s.Prepare(ctx, "openai:x", 8, true); err != nil {
		t.Fatalf("reindex: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Embedder != "openai:x" || info.Dim != 8 || info.Documents != 0 {
		t.Errorf("after reindex: %+v, want the new embedder and an empty index", info)
	}
	if _, err := s.VectorSearch(ctx, unit(4, 0), 3, nil); !errors.Is(err, huiyin.ErrConflict) {
		t.Errorf("query of the old dimension: %v, want ErrConflict", err)
	}
	if err := s.Prepare(ctx, "x", 0, false); !errors.Is(err, huiyin.ErrInvalid) {
		t.Errorf("dimension 0: %v, want ErrInvalid", err)
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	s := kbstore.New(dbtest.New(t))
	if _, err := s.VectorSearch(ctx, unit(4, 0), 3, nil); !errors.Is(err, huiyin.ErrNotFound) {
		t.Fatalf("search before ingest: %v, want ErrNotFound", err)
	}
	if err := s.Prepare(ctx, "test", 4, false); err != nil {
		t.Fatal(err)
	}
	docs := []knowledge.IndexedDocument{
		doc("faq/fees.md", knowledge.KindFAQ, "1",
			chunk("物业费怎么交", "fees", unit(4, 0), map[string]float32{"物业费": 2, "缴纳": 1}),
			chunk("发票怎么开", "fees", unit(4, 1), map[string]float32{"发票": 2, "物业费": 1})),
		doc("laws/a.md", knowledge.KindLaw, "1",
			chunk("第九百四十四条", "", unit(4, 2), map[string]float32{"物业费": 1, "停水": 1, "停电": 1})),
	}
	for _, d := range docs {
		changed, err := s.PutDocument(ctx, d)
		if err != nil || !changed {
			t.Fatalf("put %s: %v %v", d.Source, changed, err)
		}
	}
	// The same checksum again changes nothing.
	if changed, err := s.PutDocument(ctx, docs[0]); err != nil || changed {
		t.Fatalf("unchanged document stored again: %v %v", changed, err)
	}

	v, err := s.VectorSearch(ctx, unit(4, 1), 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 3 || v[0].Score < 0.99 {
		t.Fatalf("vector search: %+v", v)
	}
	first, err := s.Chunks(ctx, []int64{v[0].ID})
	if err != nil || len(first) != 1 || first[0].Section != "发票怎么开" || first[0].Doc != "标题 faq/fees.md" {
		t.Fatalf("nearest chunk: %+v %v", first, err)
	}

	k, err := s.KeywordSearch(ctx, []string{"停电", "物业费"}, []float32{1, 1}, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(k) != 3 {
		t.Fatalf("keyword search found %d chunks, want 3 (every chunk has 物业费)", len(k))
	}
	top, _ := s.Chunks(ctx, []int64{k[0].ID})
	if top[0].Section != "第九百四十四条" {
		t.Errorf("BM25 first: %s, want the article with the rare word 停电", top[0].Section)
	}

	onlyLaw, err := s.KeywordSearch(ctx, []string{"物业费"}, []float32{1}, 5, []knowledge.Kind{knowledge.KindLaw})
	if err != nil || len(onlyLaw) != 1 {
		t.Errorf("kind filter: %+v %v", onlyLaw, err)
	}
	onlyFAQ, err := s.VectorSearch(ctx, unit(4, 2), 5, []knowledge.Kind{knowledge.KindFAQ})
	if err != nil || len(onlyFAQ) != 2 {
		t.Errorf("vector kind filter: %+v %v", onlyFAQ, err)
	}
	if got, err := s.KeywordSearch(ctx, []string{"不存在的词"}, []float32{1}, 5, nil); err != nil || len(got) != 0 {
		t.Errorf("unknown word: %+v %v", got, err)
	}

	// A changed document replaces the old chunks.
	changedDoc := doc("faq/fees.md", knowledge.KindFAQ, "2",
		chunk("物业费可以微信交吗", "fees", unit(4, 3), map[string]float32{"微信": 1}))
	if changed, err := s.PutDocument(ctx, changedDoc); err != nil || !changed {
		t.Fatalf("replace: %v %v", changed, err)
	}
	info, _ := s.Info(ctx)
	if info.Documents != 2 || info.Chunks != 2 {
		t.Errorf("after replace: %+v, want 2 documents and 2 chunks", info)
	}
	if got, _ := s.KeywordSearch(ctx, []string{"发票"}, []float32{1}, 5, nil); len(got) != 0 {
		t.Errorf("terms of the replaced chunks remain: %+v", got)
	}
	scripts, err := s.ChunksOfKind(ctx, knowledge.KindLaw)
	if err != nil || len(scripts) != 1 {
		t.Errorf("chunks of kind law: %+v %v", scripts, err)
	}
	if err := s.DeleteDocument(ctx, "laws/a.md"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDocument(ctx, "laws/a.md"); !errors.Is(err, huiyin.ErrNotFound) {
		t.Errorf("delete twice: %v, want ErrNotFound", err)
	}
}

func TestPutDocumentRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	s := kbstore.New(dbtest.New(t))
	if err := s.Prepare(ctx, "test", 4, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutDocument(ctx, doc("a.md", knowledge.KindFAQ, "1")); !errors.Is(err, huiyin.ErrInvalid) {
		t.Errorf("no chunks: %v, want ErrInvalid", err)
	}
	bad := doc("b.md", knowledge.KindFAQ, "1", chunk("问", "fees", unit(3, 0), nil))
	if _, err := s.PutDocument(ctx, bad); !errors.Is(err, huiyin.ErrInvalid) {
		t.Errorf("wrong dimension: %v, want ErrInvalid", err)
	}
	// SQL in text is data.
	sqlDoc := doc("c.md", knowledge.KindFAQ, "1", chunk("'); DROP TABLE kb_chunks; --", "other", unit(4, 0), map[string]float32{"'; drop": 1}))
	if _, err := s.PutDocument(ctx, sqlDoc); err != nil {
		t.Fatal(err)
	}
	if got, err := s.KeywordSearch(ctx, []string{"'; drop"}, []float32{1}, 5, nil); err != nil || len(got) != 1 {
		t.Errorf("SQL-looking term: %+v %v", got, err)
	}
}
