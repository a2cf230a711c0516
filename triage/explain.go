package triage

import (
	"context"
	"math"
	"sort"
)

// Explanation shows why a message got its labels: the words as segmented
// with the signals each carries, and the features that pushed the chosen
// category and urgency hardest. It is for people reviewing rules and the
// model, not for the hot path.
type Explanation struct {
	Words    []ExplainedWord `json:"words"`
	Category []FeatureWeight `json:"category_evidence"`
	Urgency  []FeatureWeight `json:"urgency_evidence"`
	Result   Result          `json:"result"`
}

// ExplainedWord is one segmented word.
type ExplainedWord struct {
	Text     string   `json:"text"`
	Clause   int      `json:"clause"`
	Signals  []string `json:"signals,omitempty"`
	Injected bool     `json:"injected,omitempty"`
}

// FeatureWeight is one feature's contribution to a label's score.
type FeatureWeight struct {
	Feature string  `json:"feature"`
	Weight  float64 `json:"weight"`
}

// Explain triages text and says why.
func (e *Engine) Explain(ctx context.Context, msg Message) (Explanation, error) {
	res, err := e.Triage(ctx, msg)
	if err != nil {
		return Explanation{}, err
	}
	text, _ := Clean(msg.Text)
	var a analysis
	analyzeText(e.seg, e.lex, text, &a)
	rule, nearMiss := emergencyRule(&a)
	ex := Explanation{Result: res}
	for _, t := range a.tokens {
		if t.kind == kindSpace {
			continue
		}
		w := ExplainedWord{Text: t.text, Clause: t.clause, Injected: t.injected}
		for sig := range numSignals {
			if t.sigs.has(sig) {
				w.Signals = append(w.Signals, sig.String())
			}
		}
		ex.Words = append(ex.Words, w)
	}
	catOut := offCategory + indexOf(Categories, res.Category)
	urgOut := offUrgency + indexOf(Urgencies, res.Urgency)
	contrib := map[string][2]float64{}
	n := 0
	walkFeatures(&a, rule, nearMiss, func(kind byte, x string, _ int) {
		if !isIndicator(kind) {
			n++
		}
		row, ok := e.model.table.get(featureHash(kind, x))
		if !ok {
			return
		}
		w := e.model.file.Weights[int(row)*numOutputs:]
		name := e.model.file.Features[row]
		c := contrib[name]
		c[0] += float64(w[catOut])
		c[1] += float64(w[urgOut])
		contrib[name] = c
	})
	scale := 1 / math.Sqrt(float64(max(n, 1)))
	for i, dst := range []*[]FeatureWeight{&ex.Category, &ex.Urgency} {
		for name, c := range contrib {
			w := c[i]
			if !isIndicator(name[0]) {
				w *= scale
			}
			if w > 0 {
				*dst = append(*dst, FeatureWeight{name, w})
			}
		}
		sort.Slice(*dst, func(a, b int) bool {
			if (*dst)[a].Weight != (*dst)[b].Weight {
				return (*dst)[a].Weight > (*dst)[b].Weight
			}
			return (*dst)[a].Feature < (*dst)[b].Feature
		})
		if len(*dst) > 8 {
			*dst = (*dst)[:8]
		}
	}
	return ex, nil
}

func indexOf[T comparable](v []T, x T) int {
	for i, y := range v {
		if y == x {
			return i
		}
	}
	return 0
}
