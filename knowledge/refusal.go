package knowledge

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"strings"
	"sync"
)

// outOfScopeText holds questions the chatbot must not answer (weather,
// stocks, homework, other people's data…), written by the team, one per
// line; it lives outside kb/ so that it is never ingested as a document.
//
//go:embed out_of_scope.txt
var outOfScopeText string

// refusal is a nearest-neighbour check between what a question resembles
// more: the ways owners ask for the entry retrieval found (its question and
// 相似问), or the out-of-scope examples. Both sides are short questions,
// compared with the offline embedder, so neither is favoured by length.
type refusal struct {
	emb  *OfflineEmbedder
	oos  [][]float32
	text []string

	asks sync.Map // chunk id → [][]float32, the vectors of its ways of asking
}

func newRefusal(tok Tokenizer) (*refusal, error) {
	emb, err := NewOfflineEmbedder(tok, DefaultOfflineDim)
	if err != nil {
		return nil, err
	}
	r := &refusal{emb: emb}
	for _, line := range strings.Split(outOfScopeText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r.text = append(r.text, line)
	}
	vecs, err := emb.Embed(context.Background(), r.text)
	if err != nil {
		return nil, fmt.Errorf("embed the out-of-scope examples: %w", err)
	}
	r.oos = vecs
	return r, nil
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// outOfScope reports whether the question is nearer an out-of-scope
// example than any way of asking for the hit, with both similarities.
func (r *refusal) outOfScope(question string, h Hit) (bool, float64, float64) {
	q := r.emb.EmbedWords(question, r.emb.tok.Cut(question))
	oos := math.Inf(-1)
	for _, v := range r.oos {
		oos = max(oos, dot(q, v))
	}
	in := math.Inf(-1)
	for _, v := range r.asksOf(h) {
		in = max(in, dot(q, v))
	}
	return oos > in, oos, in
}

// asksOf embeds an entry's question, section and 相似问 once per chunk.
func (r *refusal) asksOf(h Hit) [][]float32 {
	if v, ok := r.asks.Load(h.ID); ok {
		return v.([][]float32)
	}
	var vecs [][]float32
	for _, a := range append([]string{h.Section, h.Question}, h.Variants...) {
		if a != "" {
			vecs = append(vecs, r.emb.EmbedWords(a, r.emb.tok.Cut(a)))
		}
	}
	r.asks.Store(h.ID, vecs)
	return vecs
}
