package triage

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Embedder turns texts into vectors whose cosine similarity means "says
// the same thing". The built-in offline embedder and the OpenAI-compatible
// one both satisfy it.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// WordEmbedder is an Embedder that can reuse triage's segmentation, so the
// offline embedder does not cut the text a second time.
type WordEmbedder interface {
	Embedder
	EmbedWords(text string, words []string) []float32
}

// neighbourIndex holds the labelled examples in embedding space.
type neighbourIndex struct {
	dim    int
	vecs   []float32 // len(labels) × dim, unit length
	labels []sample  // only y and risks are used
	// postings list, per dimension, the examples with a non-zero value
	// there; a sparse query (the offline embedder's) visits only those.
	postings [][]posting
}

type posting struct {
	ex  int32
	val float32
}

func buildNeighbourIndex(ctx context.Context, emb Embedder, examples []Example) (*neighbourIndex, error) {
	if len(examples) == 0 {
		return nil, fmt.Errorf("%w: no neighbours to index", ErrInvalid)
	}
	vecs, err := embedAll(ctx, emb, exampleTexts(examples))
	if err != nil {
		return nil, err
	}
	ix := &neighbourIndex{dim: len(vecs[0])}
	if ix.dim == 0 {
		return nil, fmt.Errorf("%w: embedder returned empty vectors", ErrInvalid)
	}
	ix.postings = make([][]posting, ix.dim)
	for i, v := range vecs {
		if len(v) != ix.dim {
			return nil, fmt.Errorf("%w: embedder returned vectors of %d and %d dimensions", ErrInvalid, ix.dim, len(v))
		}
		v = unit(v)
		ix.vecs = append(ix.vecs, v...)
		for d, x := range v {
			if x != 0 {
				ix.postings[d] = append(ix.postings[d], posting{int32(i), x})
			}
		}
		var s sample
		if s.y, s.risks, err = encodeLabels(examples[i]); err != nil {
			return nil, err
		}
		ix.labels = append(ix.labels, s)
	}
	return ix, nil
}

func exampleTexts(examples []Example) []string {
	texts := make([]string, len(examples))
	for i, ex := range examples {
		texts[i] = ex.Text
	}
	return texts
}

// embedAll embeds in batches, as remote embedding APIs limit batch sizes.
func embedAll(ctx context.Context, emb Embedder, texts []string) ([][]float32, error) {
	const batch = 64
	var out [][]float32
	for i := 0; i < len(texts); i += batch {
		part := texts[i:min(i+batch, len(texts))]
		vecs, err := emb.Embed(ctx, part)
		if err != nil {
			return nil, fmt.Errorf("embed neighbours: %w", err)
		}
		if len(vecs) != len(part) {
			return nil, fmt.Errorf("%w: embedder returned %d vectors for %d texts", ErrInvalid, len(vecs), len(part))
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func unit(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	inv := float32(1 / math.Sqrt(n))
	for i, x := range v {
		out[i] = x * inv
	}
	return out
}

// vote is the label distribution of the k nearest examples, each weighted
// by its cosine similarity. ok is false when nothing is similar at all.
type vote struct {
	p  [numOutputs]float64
	ok bool
}

// knnScratch is reused across calls to avoid allocating per message.
type knnScratch struct {
	sims []float32
	top  []neighbour
}

type neighbour struct {
	ex  int
	sim float32
}

func (ix *neighbourIndex) vote(q []float32, k int, exclude func(int) bool, s *knnScratch) vote {
	var v vote
	if len(q) != ix.dim || k <= 0 {
		return v
	}
	n := len(ix.labels)
	if cap(s.sims) < n {
		s.sims = make([]float32, n)
	}
	sims := s.sims[:n]
	clear(sims)
	nnz := 0
	for _, x := range q {
		if x != 0 {
			nnz++
		}
	}
	var qn float64
	for _, x := range q {
		qn += float64(x) * float64(x)
	}
	if qn == 0 {
		return v
	}
	if nnz*4 < ix.dim {
		for d, x := range q {
			if x == 0 {
				continue
			}
			for _, p := range ix.postings[d] {
				sims[p.ex] += x * p.val
			}
		}
	} else {
		for i := range n {
			row := ix.vecs[i*ix.dim : (i+1)*ix.dim]
			var dot float32
			for d, x := range q {
				dot += x * row[d]
			}
			sims[i] = dot
		}
	}
	inv := float32(1 / math.Sqrt(qn))
	top := s.top[:0]
	for i, sim := range sims {
		sim *= inv
		if sim <= 0 || (exclude != nil && exclude(i)) {
			continue
		}
		if len(top) < k {
			top = append(top, neighbour{i, sim})
			if len(top) == k {
				slices.SortFunc(top, byNearest)
			}
			continue
		}
		if sim > top[k-1].sim {
			top[k-1] = neighbour{i, sim}
			slices.SortFunc(top, byNearest)
		}
	}
	s.top = top
	var total float64
	for _, nb := range top {
		w := float64(nb.sim)
		total += w
		lab := &ix.labels[nb.ex]
		for h := range numHeads - 1 {
			v.p[heads[h].off+lab.y[h]] += w
		}
		for r := range 8 {
			if lab.risks[r] {
				v.p[offRisk+r] += w
			}
		}
	}
	if total == 0 {
		return v
	}
	for i := range v.p {
		v.p[i] /= total
	}
	v.ok = true
	return v
}

func byNearest(a, b neighbour) int {
	switch {
	case a.sim > b.sim:
		return -1
	case a.sim < b.sim:
		return 1
	}
	return a.ex - b.ex
}

// mix blends the linear model's probabilities with the vote.
func mix(c *calibrated, v vote, alpha float64) {
	if !v.ok || alpha == 0 {
		return
	}
	for i := range c.p {
		c.p[i] = (1-alpha)*c.p[i] + alpha*v.p[i]
	}
}

// chooseKNNAlpha picks the weight of the embedding vote by cross-validation:
// each message votes only with examples of other folds. probs are updated
// to the mixed probabilities at the chosen weight.
func chooseKNNAlpha(ctx context.Context, cfg TrainConfig, examples []Example, samples []sample, fold []int, probs []calibrated) (float64, error) {
	ix, err := buildNeighbourIndex(ctx, cfg.Embedder, examples)
	if err != nil {
		return 0, err
	}
	votes := make([]vote, len(samples))
	var s knnScratch
	for i := range samples {
		q := ix.vecs[i*ix.dim : (i+1)*ix.dim]
		f := fold[i]
		votes[i] = ix.vote(q, cfg.KNNK, func(j int) bool { return fold[j] == f }, &s)
	}
	best, bestScore := 0.0, -1.0
	mixed := make([]calibrated, len(probs))
	for _, alpha := range []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5} {
		for i := range probs {
			mixed[i] = probs[i]
			mix(&mixed[i], votes[i], alpha)
		}
		if sc := macroScore(samples, mixed); sc > bestScore+1e-9 {
			best, bestScore = alpha, sc
		}
	}
	for i := range probs {
		mix(&probs[i], votes[i], best)
	}
	return best, nil
}

// macroScore is the mean macro-F1 over the single-label heads, the figure
// the targets are set in.
func macroScore(samples []sample, probs []calibrated) float64 {
	total := 0.0
	for h := range numHeads - 1 {
		hd := heads[h]
		tp := make([]float64, hd.len)
		fp := make([]float64, hd.len)
		fn := make([]float64, hd.len)
		for i, s := range samples {
			pred := argmax(probs[i].p[hd.off : hd.off+hd.len])
			if pred == s.y[h] {
				tp[pred]++
			} else {
				fp[pred]++
				fn[s.y[h]]++
			}
		}
		f1 := 0.0
		for c := range hd.len {
			f1 += 2 * tp[c] / max(2*tp[c]+fp[c]+fn[c], 1)
		}
		total += f1 / float64(hd.len)
	}
	return total / float64(numHeads-1)
}
