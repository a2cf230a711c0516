package eval

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/huiyin/huiyin/db/dbtest"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/knowledge/kbstore"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Retrieval and reply scores the README reports, rounded down, on the test
// questions (retrieval_questions.jsonl and retrieval_laws.jsonl, never
// tuned on; retrieval_dev.jsonl is the tuning set) and the reply rubric.
// Raise them when a change improves the knowledge layer; never lower them
// to let a change through.
const (
	floorRecallAt5  = 0.96
	floorMRR        = 0.89
	floorHandedOff  = 0.97
	floorReplyPass  = 1.0
	floorFAQRecall5 = 0.97
)

func readQuestions(t *testing.T, paths ...string) []Question {
	t.Helper()
	var out []Question
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := ReadQuestions(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, qs...)
	}
	return out
}

// TestKnowledgeScores ingests the shipped knowledge base into a fresh dev
// database and scores retrieval, handoff and the reply rubric.
func TestKnowledgeScores(t *testing.T) {
	ctx := context.Background()
	eng, seg, emb := defaultEngine(t)
	store := kbstore.New(dbtest.New(t))
	docs, err := knowledge.ShippedDocuments()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := knowledge.NewIngester(store, emb, seg, nil).Ingest(ctx, docs, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ingested %d documents, %d chunks in %s", rep.Documents, rep.Chunks, rep.Took)
	r := knowledge.NewRetriever(store, emb, seg, eng, knowledge.RetrieverConfig{})
	a := knowledge.NewAssistant(knowledge.AssistantConfig{}, eng, r, store, seg, nil, nil)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

	all, err := Retrieval(ctx, r, a, readQuestions(t, "testdata/retrieval_questions.jsonl", "testdata/retrieval_laws.jsonl"), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test questions: recall@5 %.3f MRR %.3f handed off %.3f answered %.3f", all.RecallAt5, all.MRR, all.HandedOff, all.Answered)
	if all.RecallAt5 < floorRecallAt5 || all.MRR < floorMRR || all.HandedOff < floorHandedOff {
		t.Errorf("retrieval below the floors: recall@5 %.3f (≥ %.2f), MRR %.3f (≥ %.2f), out of scope handed off %.3f (≥ %.2f)",
			all.RecallAt5, floorRecallAt5, all.MRR, floorMRR, all.HandedOff, floorHandedOff)
	}
	faq, err := Retrieval(ctx, r, a, readQuestions(t, "testdata/retrieval_questions.jsonl"), now)
	if err != nil {
		t.Fatal(err)
	}
	if faq.RecallAt5 < floorFAQRecall5 {
		t.Errorf("FAQ paraphrases: recall@5 %.3f, floor %.2f", faq.RecallAt5, floorFAQRecall5)
	}

	f, err := os.Open("testdata/replies.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := ReadReplyCases(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	replies, err := Replies(ctx, a, cases, now)
	if err != nil {
		t.Fatal(err)
	}
	if replies.PassRate < floorReplyPass {
		for _, fl := range replies.Failures {
			t.Errorf("reply %s: %v\n%s", fl.ID, fl.Problems, fl.Reply)
		}
	}
}

// Retrieval questions are paraphrases: none may copy the FAQ question it
// targets, and the tuning set must not share questions with the test sets.
func TestRetrievalQuestionsAreApart(t *testing.T) {
	test := readQuestions(t, "testdata/retrieval_questions.jsonl", "testdata/retrieval_laws.jsonl")
	dev := readQuestions(t, "testdata/retrieval_dev.jsonl")
	seen := map[string]string{}
	for _, q := range test {
		seen[q.Question] = q.ID
	}
	for _, q := range dev {
		if id, ok := seen[q.Question]; ok {
			t.Errorf("dev %s repeats test %s", q.ID, id)
		}
	}
	for _, q := range append(test, dev...) {
		if q.Section != "" && q.Question == q.Section {
			t.Errorf("%s copies its target %q", q.ID, q.Section)
		}
	}
}
