package triage

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
)

// fakeEmbedder maps known texts to fixed vectors.
type fakeEmbedder struct {
	vecs map[string][]float32
	err  error
}

var _ Embedder = (*fakeEmbedder)(nil)

func (f *fakeEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = f.vecs[t]
	}
	return out, nil
}

func TestNeighbourVote(t *testing.T) {
	examples := []Example{
		{Text: "a", Category: Repair, Intent: RepairRequest, Urgency: High, Sentiment: Neutral},
		{Text: "b", Category: Repair, Intent: Complaint, Urgency: Normal, Sentiment: Negative, Risks: []Risk{RiskRepeat}},
		{Text: "c", Category: Fees, Intent: Inquiry, Urgency: Low, Sentiment: Neutral},
	}
	for _, dense := range []bool{false, true} {
		emb := &fakeEmbedder{vecs: map[string][]float32{
			"a": {1, 0, 0, 0, 0, 0},
			"b": {0.9, 0.1, 0, 0, 0, 0},
			"c": {0, 0, 1, 0, 0, 0},
		}}
		q := []float32{1, 0.05, 0, 0, 0, 0}
		if dense {
			for _, k := range []string{"a", "b", "c"} {
				for d := range emb.vecs[k] {
					emb.vecs[k][d] += 0.001
				}
			}
			q = []float32{1, 0.05, 0.001, 0.001, 0.001, 0.001}
		}
		ix, err := buildNeighbourIndex(context.Background(), emb, examples)
		if err != nil {
			t.Fatal(err)
		}
		var s knnScratch
		v := ix.vote(q, 2, nil, &s)
		if !v.ok {
			t.Fatal("no vote")
		}
		if v.p[offCategory] < 0.99 || v.p[offCategory+indexOf(Categories, Fees)] > 0.01 {
			t.Errorf("dense=%v: category vote %v, want all repair", dense, v.p[offCategory:offCategory+10])
		}
		if p := v.p[offRisk+indexOf(Risks, RiskRepeat)]; p <= 0.3 || p >= 0.7 {
			t.Errorf("dense=%v: repeat vote %.2f, want about a half", dense, p)
		}
		// Excluding the two repair examples leaves fees.
		v = ix.vote(q, 2, func(i int) bool { return i < 2 }, &s)
		if dense && v.p[offCategory+indexOf(Categories, Fees)] < 0.99 {
			t.Errorf("exclusion ignored: %v", v.p[offCategory:offCategory+10])
		}
		if slices.ContainsFunc(s.sims, func(x float32) bool { return x != 0 }) {
			t.Error("scratch similarities not cleared between calls")
		}
	}
}

func TestNeighbourIndexRejects(t *testing.T) {
	ctx := context.Background()
	ex := []Example{{Text: "a", Category: Repair, Intent: Inquiry, Urgency: Low, Sentiment: Neutral}, {Text: "b", Category: Repair, Intent: Inquiry, Urgency: Low, Sentiment: Neutral}}
	if _, err := buildNeighbourIndex(ctx, &fakeEmbedder{vecs: map[string][]float32{"a": {1, 0}, "b": {1}}}, ex); !errors.Is(err, ErrInvalid) {
		t.Errorf("mixed dimensions: %v", err)
	}
	boom := errors.New("endpoint down")
	if _, err := buildNeighbourIndex(ctx, &fakeEmbedder{err: boom}, ex); !errors.Is(err, boom) {
		t.Errorf("embedder error not wrapped: %v", err)
	}
	if _, err := buildNeighbourIndex(ctx, &fakeEmbedder{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("no examples: %v", err)
	}
}

func TestLargestDims(t *testing.T) {
	q := []float32{0, -0.9, 0.1, 0.5, 0, -0.2, 0.7}
	var buf []int
	if got := largestDims(q, 3, &buf); !slices.Equal(got, []int{1, 6, 3}) {
		t.Errorf("largestDims = %v, want [1 6 3]", got)
	}
	if got := largestDims(q, 10, &buf); len(got) != 5 {
		t.Errorf("all non-zero: %v", got)
	}
}

func TestMixLeavesMentionsAlone(t *testing.T) {
	var c calibrated
	c.p[offCategory] = 1
	c.p[offMention] = 0.8
	var v vote
	v.ok = true
	v.p[offCategory+1] = 1
	mix(&c, v, [numHeads]float64{0.25, 0.25, 0.25, 0.25, 0.25})
	if math.Abs(c.p[offCategory]-0.75) > 1e-12 || math.Abs(c.p[offCategory+1]-0.25) > 1e-12 || c.p[offMention] != 0.8 {
		t.Errorf("mix = %v", c.p[:offCategory+2])
	}
}
