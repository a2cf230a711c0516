package knowledge

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/triage"
)

var (
	segOnce sync.Once
	seg     *triage.Segmenter
	segErr  error
)

func testSegmenter(tb testing.TB) *triage.Segmenter {
	tb.Helper()
	segOnce.Do(func() {
		dir, err := os.MkdirTemp("", "huiyin-knowledge-test-")
		if err != nil {
			segErr = err
			return
		}
		seg, segErr = triage.NewSegmenter(filepath.Join(dir, "cache"))
	})
	if segErr != nil {
		tb.Fatal(segErr)
	}
	return seg
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestOfflineEmbedder(t *testing.T) {
	emb, err := NewOfflineEmbedder(testSegmenter(t), DefaultOfflineDim)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"物业费可以用微信交吗",
		"请问物业费能不能微信支付",
		"楼上装修太吵了",
		"3栋电梯坏了",
	}
	vecs, err := emb.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vecs {
		if len(v) != DefaultOfflineDim {
			t.Fatalf("vector %d has %d dimensions", i, len(v))
		}
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Errorf("vector %d has norm² %v, want 1", i, n)
		}
	}
	same, other := cosine(vecs[0], vecs[1]), cosine(vecs[0], vecs[2])
	if same <= other+0.2 {
		t.Errorf("paraphrase similarity %.3f is not clearly above unrelated %.3f", same, other)
	}
	again, _ := emb.Embed(context.Background(), texts[:1])
	for i := range again[0] {
		if again[0][i] != vecs[0][i] {
			t.Fatal("embedding is not deterministic")
		}
	}
	if got := emb.EmbedWords("", nil); len(got) != DefaultOfflineDim {
		t.Fatalf("empty text: %d dimensions", len(got))
	}
	if emb.Name() != "offline-hash-v1-512" || emb.Dim() != 512 {
		t.Errorf("name %q dim %d", emb.Name(), emb.Dim())
	}
}

func TestOfflineEmbedderRejects(t *testing.T) {
	for _, dim := range []int{0, 15, 2001} {
		if _, err := NewOfflineEmbedder(testSegmenter(t), dim); !errors.Is(err, huiyin.ErrInvalid) {
			t.Errorf("dim %d: error %v, want ErrInvalid", dim, err)
		}
	}
	if _, err := NewOfflineEmbedder(nil, 64); !errors.Is(err, huiyin.ErrInvalid) {
		t.Errorf("nil tokenizer: %v", err)
	}
	emb, _ := NewOfflineEmbedder(testSegmenter(t), 64)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := emb.Embed(ctx, []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func BenchmarkOfflineEmbedWords(b *testing.B) {
	s := testSegmenter(b)
	emb, _ := NewOfflineEmbedder(s, DefaultOfflineDim)
	text := "3栋2单元1502的电梯又坏了，困了两个人在里面，快来人啊！！"
	words := s.Cut(text)
	b.ReportAllocs()
	for b.Loop() {
		emb.EmbedWords(text, words)
	}
}
