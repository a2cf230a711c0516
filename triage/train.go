package triage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Example is one labelled message: the training data, and the neighbours
// the embedding vote looks up.
type Example struct {
	ID        string    `json:"id,omitempty"`
	Text      string    `json:"text"`
	Category  Category  `json:"category"`
	Intent    Intent    `json:"intent"`
	Urgency   Urgency   `json:"urgency"`
	Sentiment Sentiment `json:"sentiment"`
	Risks     []Risk    `json:"risks"`
	// Secondary lists the categories of further problems; training uses it
	// to tune how further problems are found, and it is not stored.
	Secondary []Category `json:"-"`
}

// TrainConfig sets the learning. The zero value is not useful; start from
// DefaultTrainConfig. Training is deterministic: the same data and config
// give the same model file byte for byte.
type TrainConfig struct {
	Epochs   int
	Rate     float64 // AdaGrad step size
	L2       float64
	MinCount int // a feature must occur in this many messages to be kept
	Folds    int // cross-validation folds for calibration
	Seed     uint64
	// Embedder, when set, is used to choose the weight of the embedding
	// vote by cross-validation; without one the vote is off.
	Embedder Embedder
	KNNK     int
}

// DefaultTrainConfig is what `huiyin train` uses.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Epochs: 30, Rate: 0.3, L2: 1e-4, MinCount: 3, Folds: 5, Seed: 20261122, KNNK: 7}
}

// TrainReport says how the model did in cross-validation on its own
// training data; the held-out evaluation is eval's job.
type TrainReport struct {
	Examples           int
	Features           int
	CVAccuracy         [numHeads]float64 // risks: micro-F1
	Temperature        [numHeads]float64
	EmergencyThreshold float64
	RulePrecision      float64
	KNNAlpha           [numHeads]float64
	// Disagreements are the training messages whose cross-validated
	// category or urgency differs from their label, most confident first:
	// where to look for labelling mistakes.
	Disagreements []Disagreement
}

// Disagreement is one training message the cross-validated model labels
// differently.
type Disagreement struct {
	ID         string
	Field      string
	Label      string
	Predicted  string
	Confidence float64
}

// sample is one training message as features.
type sample struct {
	mentions [10]bool  // categories the message raises a problem of: the primary and any further ones
	idx      []int32   // feature indexes into the vocabulary (kept features only)
	nInd     int       // the first nInd of idx are indicators, which feed only the risk outputs
	val      []float64 // indicators 1, others scaled by 1/sqrt(their number)
	y        [numHeads - 1]int
	risks    [8]bool
	rule     bool
}

// buildSamples turns every message into features and keeps, as the
// vocabulary, the features seen in at least minCount messages.
func buildSamples(seg *Segmenter, lex *lexicon, examples []Example, minCount int) ([]sample, []string, error) {
	type named struct {
		counts map[string]float64
		total  int
	}
	docs := make([]named, len(examples))
	df := map[string]int{}
	var a analysis
	for i, ex := range examples {
		text, err := Clean(ex.Text)
		if err != nil {
			return nil, nil, fmt.Errorf("example %q: %w", ex.ID, err)
		}
		analyzeText(seg, lex, text, &a)
		rule, near := emergencyRule(&a)
		d := named{counts: map[string]float64{}}
		walkFeatures(&a, rule, near, func(kind byte, x string, _ int) {
			d.counts[featureName(kind, x)]++
			if !isIndicator(kind) {
				d.total++
			}
		})
		for name := range d.counts {
			df[name]++
		}
		docs[i] = d
	}
	var vocab []string
	for name, n := range df {
		if n >= minCount {
			vocab = append(vocab, name)
		}
	}
	// Most frequent first: the rows every message touches then share a few
	// cache lines, which keeps prediction from evicting jieba's dictionary.
	sort.Slice(vocab, func(a, b int) bool {
		if df[vocab[a]] != df[vocab[b]] {
			return df[vocab[a]] > df[vocab[b]]
		}
		return vocab[a] < vocab[b]
	})
	index := make(map[string]int32, len(vocab))
	for i, name := range vocab {
		index[name] = int32(i)
	}
	samples := make([]sample, len(examples))
	for i, d := range docs {
		s := &samples[i]
		scale := 1 / math.Sqrt(float64(max(d.total, 1)))
		names := make([]string, 0, len(d.counts))
		for name := range d.counts {
			if _, ok := index[name]; ok {
				names = append(names, name)
			}
		}
		// Indicators first, so that training can treat them apart.
		sort.Slice(names, func(a, b int) bool {
			ia, ib := isIndicator(names[a][0]), isIndicator(names[b][0])
			if ia != ib {
				return ia
			}
			return names[a] < names[b]
		})
		for _, name := range names {
			s.idx = append(s.idx, index[name])
			if isIndicator(name[0]) {
				s.val = append(s.val, 1)
				s.nInd++
			} else {
				s.val = append(s.val, d.counts[name]*scale)
			}
		}
		var err error
		if s.y, s.risks, err = encodeLabels(examples[i]); err != nil {
			return nil, nil, fmt.Errorf("example %q: %w", examples[i].ID, err)
		}
		s.mentions[s.y[headCategory]] = true
		for _, c := range examples[i].Secondary {
			if j := slices.Index(Categories, c); j >= 0 {
				s.mentions[j] = true
			}
		}
		s.rule = d.counts["r|emergency"] > 0
	}
	return samples, vocab, nil
}

// Train learns a model from labelled examples.
func Train(ctx context.Context, seg *Segmenter, examples []Example, cfg TrainConfig) (*Model, TrainReport, error) {
	var rep TrainReport
	if len(examples) < 2*cfg.Folds {
		return nil, rep, fmt.Errorf("%w: %d training examples are too few", ErrInvalid, len(examples))
	}
	lex, err := loadLexicon()
	if err != nil {
		return nil, rep, err
	}
	samples, vocab, err := buildSamples(seg, lex, examples, cfg.MinCount)
	if err != nil {
		return nil, rep, err
	}

	// Cross-validation: out-of-fold logits for calibration and thresholds.
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5bd1e995))
	fold := make([]int, len(samples))
	for i, p := range rng.Perm(len(samples)) {
		fold[p] = i % cfg.Folds
	}
	oof := make([][numOutputs]float64, len(samples))
	for f := range cfg.Folds {
		if err := ctx.Err(); err != nil {
			return nil, rep, err
		}
		var train []int
		for i := range samples {
			if fold[i] != f {
				train = append(train, i)
			}
		}
		w, b := fitLinear(samples, train, len(vocab), cfg)
		for i := range samples {
			if fold[i] == f {
				oof[i] = linearLogits(&samples[i], w, b)
			}
		}
	}
	file := modelFile{
		Format:   modelFormat,
		Examples: len(examples),
		Labels:   labelNames(),
		Features: vocab,
		KNN:      knnConfig{K: cfg.KNNK},
	}
	for h := range numHeads {
		file.Temperature[h] = fitTemperature(samples, oof, head(h))
	}
	file.MentionTemperature = fitMentionTemperature(samples, oof)
	probs := make([]calibrated, len(samples))
	for i := range samples {
		probs[i] = calibrate(oof[i], &file)
	}
	if cfg.Embedder != nil {
		alpha, err := chooseKNNAlpha(ctx, cfg, examples, samples, fold, probs)
		if err != nil {
			return nil, rep, err
		}
		file.KNN.Alpha = alpha
	}
	file.MentionThreshold = fitMentionThreshold(samples, probs)
	file.RiskThreshold = fitRiskThresholds(samples, probs)
	file.EmergencyThreshold = fitEmergencyThreshold(samples, probs)
	file.RulePrecision = rulePrecision(samples)

	all := make([]int, len(samples))
	for i := range all {
		all[i] = i
	}
	w, b := fitLinear(samples, all, len(vocab), cfg)
	file.Weights = make([]float32, len(w))
	for i, v := range w {
		file.Weights[i] = float32(v)
	}
	file.Bias = make([]float32, numOutputs)
	for i, v := range b {
		file.Bias[i] = float32(v)
	}
	file.Neighbours = make([]Example, len(examples))
	for i, ex := range examples {
		ex.ID = ""
		file.Neighbours[i] = ex
	}
	data, err := json.Marshal(examples)
	if err != nil {
		return nil, rep, err
	}
	sum := sha256.Sum256(data)
	file.TrainedOn = hex.EncodeToString(sum[:])

	m := newModel(file)
	rep = TrainReport{
		Examples:           len(examples),
		Features:           len(vocab),
		Temperature:        file.Temperature,
		EmergencyThreshold: file.EmergencyThreshold,
		RulePrecision:      file.RulePrecision,
		KNNAlpha:           file.KNN.Alpha,
		CVAccuracy:         cvAccuracy(samples, probs, &file),
		Disagreements:      disagreements(examples, samples, probs),
	}
	return m, rep, nil
}

func encodeLabels(ex Example) (y [numHeads - 1]int, risks [8]bool, err error) {
	var idx [4]int
	idx[0] = slices.Index(Categories, ex.Category)
	idx[1] = slices.Index(Intents, ex.Intent)
	idx[2] = slices.Index(Urgencies, ex.Urgency)
	idx[3] = slices.Index(Sentiments, ex.Sentiment)
	for h, i := range idx {
		if i < 0 {
			return y, risks, fmt.Errorf("%w: bad %s label", ErrInvalid, heads[h].name)
		}
		y[h] = i
	}
	for _, r := range ex.Risks {
		i := slices.Index(Risks, r)
		if i < 0 {
			return y, risks, fmt.Errorf("%w: bad risk %q", ErrInvalid, r)
		}
		risks[i] = true
	}
	return y, risks, nil
}

// classWeights balance rare classes (square root of inverse frequency), so
// macro-F1 does not trade the rare classes away for the common ones.
func classWeights(samples []sample, rows []int) [numHeads - 1][]float64 {
	var w [numHeads - 1][]float64
	for h := range numHeads - 1 {
		n := heads[h].len
		counts := make([]float64, n)
		for _, i := range rows {
			counts[samples[i].y[h]]++
		}
		w[h] = make([]float64, n)
		for c := range n {
			w[h][c] = math.Sqrt(float64(len(rows)) / (float64(n) * max(counts[c], 1)))
		}
	}
	return w
}

// fitLinear trains the weights with AdaGrad over rows of samples.
func fitLinear(samples []sample, rows []int, nFeat int, cfg TrainConfig) ([]float64, []float64) {
	w := make([]float64, nFeat*numOutputs)
	g := make([]float64, nFeat*numOutputs)
	b := make([]float64, numOutputs)
	gb := make([]float64, numOutputs)
	cw := classWeights(samples, rows)
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(len(rows))))
	order := slices.Clone(rows)
	var grad [numOutputs]float64
	var p [10]float64
	for range cfg.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			s := &samples[i]
			logits := linearLogits(s, w, b)
			for h := range numHeads - 1 {
				hd := heads[h]
				pr := p[:hd.len]
				softmax(logits[hd.off:hd.off+hd.len], 1, pr)
				y := s.y[h]
				for c := range hd.len {
					t := 0.0
					if c == y {
						t = 1
					}
					grad[hd.off+c] = (pr[c] - t) * cw[h][y]
				}
			}
			for r := range 8 {
				t := 0.0
				if s.risks[r] {
					t = 1
				}
				grad[offRisk+r] = sigmoid(logits[offRisk+r]) - t
			}
			for c := range 10 {
				t := 0.0
				if s.mentions[c] {
					t = 1
				}
				grad[offMention+c] = sigmoid(logits[offMention+c]) - t
			}
			for k, f := range s.idx {
				v := s.val[k]
				row := int(f) * numOutputs
				first, last := 0, numOutputs
				if k < s.nInd {
					first, last = offRisk, offMention // indicators only speak to the risks
				}
				for o := first; o < last; o++ {
					gr := grad[o]*v + cfg.L2*w[row+o]
					g[row+o] += gr * gr
					w[row+o] -= cfg.Rate * gr / (math.Sqrt(g[row+o]) + 1e-8)
				}
			}
			for o := range numOutputs {
				gb[o] += grad[o] * grad[o]
				b[o] -= cfg.Rate * grad[o] / (math.Sqrt(gb[o]) + 1e-8)
			}
		}
	}
	return w, b
}

func linearLogits(s *sample, w, b []float64) [numOutputs]float64 {
	var l [numOutputs]float64
	copy(l[:], b)
	for k, f := range s.idx {
		v := s.val[k]
		row := w[int(f)*numOutputs : int(f+1)*numOutputs]
		for o := range numOutputs {
			l[o] += row[o] * v
		}
	}
	return l
}

// calibrated holds the probabilities of every head for one message.
type calibrated struct {
	p [numOutputs]float64
}

func calibrate(logits [numOutputs]float64, f *modelFile) calibrated {
	var c calibrated
	for h := range numHeads - 1 {
		hd := heads[h]
		softmax(logits[hd.off:hd.off+hd.len], f.Temperature[h], c.p[hd.off:hd.off+hd.len])
	}
	for r := range 8 {
		c.p[offRisk+r] = sigmoid(logits[offRisk+r] / f.Temperature[headRisk])
	}
	for m := range 10 {
		c.p[offMention+m] = sigmoid(logits[offMention+m] / f.MentionTemperature)
	}
	return c
}

var temperatureGrid = func() []float64 {
	var g []float64
	for t := 0.2; t <= 5.0001; t += 0.05 {
		g = append(g, math.Round(t*100)/100)
	}
	return g
}()

// fitTemperature picks the temperature that minimises the negative log
// likelihood of the out-of-fold predictions (temperature scaling).
func fitTemperature(samples []sample, oof [][numOutputs]float64, h head) float64 {
	best, bestNLL := 1.0, math.Inf(1)
	hd := heads[h]
	p := make([]float64, hd.len)
	for _, t := range temperatureGrid {
		nll := 0.0
		for i := range samples {
			if h == headRisk {
				for r := range 8 {
					q := sigmoid(oof[i][offRisk+r] / t)
					if samples[i].risks[r] {
						nll -= math.Log(max(q, 1e-12))
					} else {
						nll -= math.Log(max(1-q, 1e-12))
					}
				}
				continue
			}
			softmax(oof[i][hd.off:hd.off+hd.len], t, p)
			nll -= math.Log(max(p[samples[i].y[h]], 1e-12))
		}
		if nll < bestNLL {
			best, bestNLL = t, nll
		}
	}
	return best
}

// fitRiskThresholds picks, per risk, the threshold with the best F1 on the
// out-of-fold probabilities, kept within [0.2, 0.8].
func fitRiskThresholds(samples []sample, probs []calibrated) []float64 {
	th := make([]float64, 8)
	for r := range 8 {
		best, bestF1 := 0.5, -1.0
		for t := 0.2; t <= 0.8001; t += 0.05 {
			var c counts
			for i := range samples {
				c.add(probs[i].p[offRisk+r] >= t, samples[i].risks[r])
			}
			if f1 := c.f1(); f1 > bestF1+1e-9 {
				best, bestF1 = math.Round(t*100)/100, f1
			}
		}
		th[r] = best
	}
	return th
}

// fitEmergencyThreshold picks the probability above which the model alone
// calls an emergency (the rule calls most of them). It maximises F-beta
// with beta 3 on the out-of-fold predictions, counting a missed emergency
// nine times as costly as a false alarm, within [0.1, 0.9].
func fitEmergencyThreshold(samples []sample, probs []calibrated) float64 {
	const beta2 = 9
	best, bestF := 0.5, -1.0
	for t := 0.1; t <= 0.9001; t += 0.02 {
		var c counts
		for i, s := range samples {
			c.add(s.rule || probs[i].p[offUrgency] >= t, s.y[headUrgency] == 0)
		}
		if f := c.fbeta(beta2); f > bestF+1e-9 {
			best, bestF = math.Round(t*100)/100, f
		}
	}
	return best
}

func rulePrecision(samples []sample) float64 {
	var hit, right float64
	for _, s := range samples {
		if s.rule {
			hit++
			if s.y[headUrgency] == 0 {
				right++
			}
		}
	}
	if hit == 0 {
		return 0.9
	}
	return math.Round(right/hit*1000) / 1000
}

func cvAccuracy(samples []sample, probs []calibrated, f *modelFile) [numHeads]float64 {
	var acc [numHeads]float64
	var risk counts
	for i, s := range samples {
		for h := range numHeads - 1 {
			hd := heads[h]
			if argmax(probs[i].p[hd.off:hd.off+hd.len]) == s.y[h] {
				acc[h]++
			}
		}
		for r := range 8 {
			risk.add(probs[i].p[offRisk+r] >= f.RiskThreshold[r], s.risks[r])
		}
	}
	for h := range numHeads - 1 {
		acc[h] /= float64(len(samples))
	}
	acc[headRisk] = risk.f1()
	return acc
}

// counts tallies binary decisions against gold labels.
type counts struct{ tp, fp, fn float64 }

func (c *counts) add(pred, gold bool) {
	switch {
	case pred && gold:
		c.tp++
	case pred:
		c.fp++
	case gold:
		c.fn++
	}
}

func (c counts) f1() float64 { return 2 * c.tp / max(2*c.tp+c.fp+c.fn, 1) }

// fbeta weighs recall beta² times as much as precision.
func (c counts) fbeta(beta2 float64) float64 {
	return (1 + beta2) * c.tp / max((1+beta2)*c.tp+beta2*c.fn+c.fp, 1)
}

func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

func disagreements(examples []Example, samples []sample, probs []calibrated) []Disagreement {
	var out []Disagreement
	for i, s := range samples {
		for _, h := range []head{headCategory, headUrgency} {
			hd := heads[h]
			p := probs[i].p[hd.off : hd.off+hd.len]
			pred := argmax(p)
			if pred == s.y[h] {
				continue
			}
			names := labelNames()[h]
			out = append(out, Disagreement{ID: examples[i].ID, Field: hd.name, Label: names[s.y[h]], Predicted: names[pred], Confidence: p[pred]})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Confidence > out[b].Confidence })
	return out
}

// fitMentionTemperature is fitTemperature for the category mentions.
func fitMentionTemperature(samples []sample, oof [][numOutputs]float64) float64 {
	best, bestNLL := 1.0, math.Inf(1)
	for _, t := range temperatureGrid {
		nll := 0.0
		for i := range samples {
			for c := range 10 {
				q := sigmoid(oof[i][offMention+c] / t)
				if samples[i].mentions[c] {
					nll -= math.Log(max(q, 1e-12))
				} else {
					nll -= math.Log(max(1-q, 1e-12))
				}
			}
		}
		if nll < bestNLL {
			best, bestNLL = t, nll
		}
	}
	return best
}

// fitMentionThreshold chooses the probability at which a category other
// than the primary one is listed as a further problem, by the F1 of the
// further problems found out of fold.
func fitMentionThreshold(samples []sample, probs []calibrated) float64 {
	best, bestF1 := 0.5, -1.0
	for t := 0.2; t <= 0.9001; t += 0.05 {
		var n counts
		for i, s := range samples {
			primary := argmax(probs[i].p[offCategory : offCategory+10])
			for c := range 10 {
				if c != primary {
					n.add(probs[i].p[offMention+c] >= t, s.mentions[c] && c != s.y[headCategory])
				}
			}
		}
		if f1 := n.f1(); f1 > bestF1+1e-9 {
			best, bestF1 = math.Round(t*100)/100, f1
		}
	}
	return best
}
