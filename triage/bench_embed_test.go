package triage_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/triage"
)

// defaultSetup builds triage as the command line runs it by default: the
// built-in model and policy with the offline embedder's vote.
func defaultSetup(b *testing.B) (*triage.Segmenter, *triage.Engine, *triage.Engine, []string) {
	seg, err := triage.NewSegmenter(filepath.Join(b.TempDir(), "cache"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(seg.Close)
	emb, err := knowledge.NewOfflineEmbedder(seg, knowledge.DefaultOfflineDim)
	if err != nil {
		b.Fatal(err)
	}
	withVote, err := triage.New(context.Background(), triage.Config{Segmenter: seg, Embedder: emb})
	if err != nil {
		b.Fatal(err)
	}
	noVote, err := triage.New(context.Background(), triage.Config{Segmenter: seg})
	if err != nil {
		b.Fatal(err)
	}
	texts := triage.BenchMessages(b)
	return seg, withVote, noVote, texts
}

// BenchmarkTriageWithEmbedder is the default configuration of the command
// line: full triage plus the vote of the nearest labelled examples under the
// built-in offline embedder.
func BenchmarkTriageWithEmbedder(b *testing.B) {
	_, eng, _, texts := defaultSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := eng.Triage(ctx, triage.Message{Text: texts[i%len(texts)]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTriageVsCut alternates whole passes over the held-out messages:
// gojieba's Cut alone, full triage without the vote, and full triage with
// the offline embedder's vote. Alternating makes the three share whatever
// the machine is doing, so the ratios hold where the absolute times drift.
// It reports nanoseconds per message for each and the ratios to Cut.
func BenchmarkTriageVsCut(b *testing.B) {
	seg, withVote, noVote, texts := defaultSetup(b)
	ctx := context.Background()
	var cut, plain, voted time.Duration
	for b.Loop() {
		start := time.Now()
		for _, t := range texts {
			seg.Cut(t)
		}
		cut += time.Since(start)
		start = time.Now()
		for _, t := range texts {
			if _, err := noVote.Triage(ctx, triage.Message{Text: t}); err != nil {
				b.Fatal(err)
			}
		}
		plain += time.Since(start)
		start = time.Now()
		for _, t := range texts {
			if _, err := withVote.Triage(ctx, triage.Message{Text: t}); err != nil {
				b.Fatal(err)
			}
		}
		voted += time.Since(start)
	}
	n := float64(b.N * len(texts))
	b.ReportMetric(float64(cut.Nanoseconds())/n, "cut-ns/msg")
	b.ReportMetric(float64(plain.Nanoseconds())/n, "triage-ns/msg")
	b.ReportMetric(float64(voted.Nanoseconds())/n, "voted-ns/msg")
	b.ReportMetric(float64(plain)/float64(cut), "triage/cut")
	b.ReportMetric(float64(voted)/float64(cut), "voted/cut")
	b.ReportMetric(n/voted.Seconds(), "voted-msg/s")
}
