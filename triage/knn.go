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
	// idf weighs a dimension by how few examples it lists: a query visits
	// its dimensions in order of weight times idf, the rare ones first.
	idf []float32
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
	var dims []int
	for i, v := range vecs {
		if len(v) != ix.dim {
			return nil, fmt.Errorf("%w: embedder returned vectors of %d and %d dimensions", ErrInvalid, ix.dim, len(v))
		}
		v = unit(v)
		ix.vecs = append(ix.vecs, v...)
		// Each example is listed under its largest dimensions only: a
		// pruned inverted index, so that a query visits short lists.
		for _, d := range largestDims(v, indexDims, &dims) {
			ix.postings[d] = append(ix.postings[d], posting{int32(i), v[d]})
		}
		var s sample
		if s.y, s.risks, err = encodeLabels(examples[i]); err != nil {
			return nil, err
		}
		ix.labels = append(ix.labels, s)
	}
	ix.idf = make([]float32, ix.dim)
	for d, p := range ix.postings {
		ix.idf[d] = float32(math.Log(1 + float64(len(vecs))/float64(1+len(p))))
		// Strongest first, so that a query can stop early (impact order).
		slices.SortFunc(p, func(a, b posting) int {
			if x, y := abs32(a.val), abs32(b.val); x != y {
				if x > y {
					return -1
				}
				return 1
			}
			return int(a.ex - b.ex)
		})
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
	sims     []float32 // kept all zero between calls
	touched  []int32   // examples with a non-zero similarity in this call
	top      []neighbour
	dims     []int
	weighted []float32
}

// queryDims is how many of a sparse query's dimensions the index visits:
// those with the largest weight times idf, where a message's distinctive
// words are. The offline embedder spreads a message over about a hundred
// dimensions; visiting a few keeps the vote within the speed budget (an
// approximate nearest-neighbour search, which training tunes the vote's
// weight with, so the approximation is what is measured).
const queryDims = 8

// indexDims is how many of each example's largest dimensions the index
// lists it under.
const indexDims = 32

// maxPostings is how many examples a query visits per dimension, strongest
// first.
const maxPostings = 64

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
		s.touched = make([]int32, 0, n)
	}
	sims := s.sims[:n]
	var qn float64
	nnz := 0
	for _, x := range q {
		if x != 0 {
			qn += float64(x) * float64(x)
			nnz++
		}
	}
	if qn == 0 {
		return v
	}
	touched := s.touched[:0]
	if nnz < ix.dim {
		// A sparse query, such as the offline embedder's: visit the
		// examples listed under its largest dimensions only.
		if cap(s.weighted) < len(q) {
			s.weighted = make([]float32, len(q))
		}
		w := s.weighted[:len(q)]
		for d, x := range q {
			w[d] = x * ix.idf[d]
		}
		for _, d := range largestDims(w, queryDims, &s.dims) {
			x := q[d]
			list := ix.postings[d]
			for _, p := range list[:min(len(list), maxPostings)] {
				if sims[p.ex] == 0 {
					touched = append(touched, p.ex)
				}
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
			touched = append(touched, int32(i))
		}
	}
	inv := float32(1 / math.Sqrt(qn))
	top := s.top[:0]
	// floor is the similarity to beat: zero until k neighbours are found,
	// then the k-th best. Most candidates fall below it, a branch the CPU
	// predicts well.
	var floor float32
	for _, ex := range touched {
		i := int(ex)
		sim := sims[i] * inv
		sims[i] = 0 // leave the scratch clean for the next call
		if sim <= floor || (exclude != nil && exclude(i)) {
			continue
		}
		nb := neighbour{i, sim}
		if len(top) < k {
			top = append(top, nb)
		} else {
			top[k-1] = nb
		}
		for j := len(top) - 1; j > 0 && byNearest(top[j], top[j-1]) < 0; j-- {
			top[j], top[j-1] = top[j-1], top[j]
		}
		if len(top) == k {
			floor = top[k-1].sim
		}
	}
	s.top, s.touched = top, touched
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

// largestDims returns the indexes of the m entries of q largest in
// magnitude (all non-zero ones when there are fewer), by a single pass
// with a small insertion-sorted buffer.
func largestDims(q []float32, m int, buf *[]int) []int {
	dims := (*buf)[:0]
	for d, x := range q {
		if x == 0 {
			continue
		}
		ax := abs32(x)
		if len(dims) == m && ax <= abs32(q[dims[m-1]]) {
			continue
		}
		if len(dims) < m {
			dims = append(dims, d)
		} else {
			dims[m-1] = d
		}
		for j := len(dims) - 1; j > 0 && ax > abs32(q[dims[j-1]]); j-- {
			dims[j], dims[j-1] = dims[j-1], dims[j]
		}
	}
	*buf = dims
	return dims
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
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

// mix blends the linear model's probabilities with the vote, head by head
// with the head's weight. The category mentions are left alone: neighbours
// carry only their primary category.
func mix(c *calibrated, v vote, alpha [numHeads]float64) {
	if !v.ok {
		return
	}
	for h, a := range alpha {
		if a == 0 {
			continue
		}
		hd := heads[h]
		for i := hd.off; i < hd.off+hd.len; i++ {
			c.p[i] = (1-a)*c.p[i] + a*v.p[i]
		}
	}
}

// chooseKNNAlpha picks, for each head, the weight of the embedding vote by
// cross-validation: each message votes only with examples of other folds.
// Single-label heads are judged by macro-F1, the risks by log loss. probs
// are updated to the mixed probabilities at the chosen weights.
func chooseKNNAlpha(ctx context.Context, cfg TrainConfig, examples []Example, samples []sample, fold []int, probs []calibrated) ([numHeads]float64, error) {
	var best [numHeads]float64
	ix, err := buildNeighbourIndex(ctx, cfg.Embedder, examples)
	if err != nil {
		return best, err
	}
	votes := make([]vote, len(samples))
	var s knnScratch
	for i := range samples {
		q := ix.vecs[i*ix.dim : (i+1)*ix.dim]
		f := fold[i]
		votes[i] = ix.vote(q, cfg.KNNK, func(j int) bool { return fold[j] == f }, &s)
	}
	mixed := make([]calibrated, len(probs))
	for h := range numHeads {
		bestScore := math.Inf(-1)
		for _, a := range []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5} {
			var alpha [numHeads]float64
			alpha[h] = a
			for i := range probs {
				mixed[i] = probs[i]
				mix(&mixed[i], votes[i], alpha)
			}
			if sc := headScore(samples, mixed, head(h)); sc > bestScore+1e-9 {
				best[h], bestScore = a, sc
			}
		}
	}
	for i := range probs {
		mix(&probs[i], votes[i], best)
	}
	return best, nil
}

// headScore is the macro-F1 of a single-label head, or minus the log loss
// of the risks.
func headScore(samples []sample, probs []calibrated, h head) float64 {
	hd := heads[h]
	if h == headRisk {
		nll := 0.0
		for i, s := range samples {
			for r := range 8 {
				q := probs[i].p[offRisk+r]
				if s.risks[r] {
					nll -= math.Log(max(q, 1e-12))
				} else {
					nll -= math.Log(max(1-q, 1e-12))
				}
			}
		}
		return -nll
	}
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
	return f1 / float64(hd.len)
}
