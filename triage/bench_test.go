package triage

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"
)

// BenchMessages are the held-out evaluation messages: the same texts for
// segmentation alone and for full triage, so the two can be compared.
// Exported for the external benchmarks in this directory.
func BenchMessages(b testing.TB) []string {
	b.Helper()
	f, err := os.Open("../eval/testdata/triage_heldout.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var texts []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			b.Fatal(err)
		}
		texts = append(texts, rec.Text)
	}
	if len(texts) == 0 {
		b.Fatal("no benchmark messages")
	}
	return texts
}

// BenchmarkSegment is gojieba's Cut alone: the floor under full triage.
func BenchmarkSegment(b *testing.B) {
	seg := testSegmenter(b)
	texts := BenchMessages(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		seg.Cut(texts[i%len(texts)])
	}
}

func benchmarkTriage(b *testing.B, emb Embedder) {
	seg := testSegmenter(b)
	texts := BenchMessages(b)
	eng, err := New(context.Background(), Config{Segmenter: seg, Embedder: emb})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := eng.Triage(ctx, Message{Text: texts[i%len(texts)]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTriage is the whole pipeline without the embedding vote.
func BenchmarkTriage(b *testing.B) { benchmarkTriage(b, nil) }
