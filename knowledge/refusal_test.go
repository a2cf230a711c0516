package knowledge

import (
	"strings"
	"testing"
)

func TestOutOfScopeExamples(t *testing.T) {
	r, err := newRefusal(testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.text) < 300 {
		t.Errorf("%d out-of-scope examples, want at least 300", len(r.text))
	}
	seen := map[string]bool{}
	for _, q := range r.text {
		if seen[q] {
			t.Errorf("example %q repeats", q)
		}
		seen[q] = true
	}
	// No example may be a way owners ask for a shipped entry: the check
	// would then refuse a question the knowledge base answers.
	docs, err := ShippedDocuments()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		for _, c := range d.Chunks {
			for _, v := range append([]string{c.Question}, c.Variants...) {
				if seen[strings.TrimSpace(v)] {
					t.Errorf("%q is both out of scope and a way to ask for %s %s", v, d.Source, c.Section)
				}
			}
		}
	}
}

func TestRefusalComparesLikeWithLike(t *testing.T) {
	r, err := newRefusal(testSegmenter(t))
	if err != nil {
		t.Fatal(err)
	}
	entry := Hit{StoredChunk: StoredChunk{ID: 1, Chunk: Chunk{
		Section:  "物业费可以通过哪些方式缴纳？",
		Question: "物业费可以通过哪些方式缴纳？",
		Variants: []string{"管理费在哪交", "物业费能用微信付吗", "交物业费都有啥渠道"},
	}}}
	tests := []struct {
		question string
		out      bool
	}{
		{"物业费能用支付宝交吗", false},
		{"明天会不会下雨", true},
		{"宁德时代明天会涨吗", true},
	}
	for _, tt := range tests {
		if got, oos, in := r.outOfScope(tt.question, entry); got != tt.out {
			t.Errorf("%s: out of scope %v (nearest example %.2f, nearest way of asking %.2f), want %v", tt.question, got, oos, in, tt.out)
		}
	}
}
