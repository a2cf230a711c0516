package triage

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
)

// The model's outputs, head by head, in the order of the label slices.
const (
	offCategory  = 0
	offIntent    = offCategory + 10
	offUrgency   = offIntent + 5
	offSentiment = offUrgency + 4
	offRisk      = offSentiment + 4
	offMention   = offRisk + 8 // one sigmoid per category: "the message raises a problem of this category"
	numOutputs   = offMention + 10
)

// head describes one softmax head (or, for risks, the block of independent
// sigmoid outputs).
type head int

const (
	headCategory head = iota
	headIntent
	headUrgency
	headSentiment
	headRisk
	numHeads
)

var heads = [numHeads]struct {
	name     string
	off, len int
}{
	{"category", offCategory, 10},
	{"intent", offIntent, 5},
	{"urgency", offUrgency, 4},
	{"sentiment", offSentiment, 4},
	{"risks", offRisk, 8},
}

// modelFormat changes whenever the meaning of a stored field changes.
const modelFormat = 2

// Model is the trained classifier: a linear model over hashed word,
// character-pair, signal and rule features with one softmax head per label
// field and one sigmoid per risk, plus the calibration fitted by
// cross-validation and the labelled examples the embedding vote uses.
type Model struct {
	file  modelFile
	table featureTable
	// q holds the weights quantised to one byte each, row by row, so that
	// a feature's row is one cache line: prediction touches a hundred or
	// more rows per message, and with four-byte weights the misses cost
	// more than the arithmetic (and pushed jieba's dictionary out of cache).
	q     []int8
	scale [numOutputs]float32 // weight = q × scale, per output
}

// newModel indexes and quantises a model file.
func newModel(f modelFile) *Model {
	m := &Model{file: f}
	m.table = newFeatureTable(len(f.Features))
	for i, name := range f.Features {
		m.table.put(nameHash(name), int32(i))
	}
	var hi [numOutputs]float32
	for i, w := range f.Weights {
		o := i % numOutputs
		hi[o] = max(hi[o], abs32(w))
	}
	for o := range hi {
		m.scale[o] = hi[o] / 127
	}
	m.q = make([]int8, len(f.Weights))
	for i, w := range f.Weights {
		if s := m.scale[i%numOutputs]; s > 0 {
			m.q[i] = int8(math.Round(float64(w / s)))
		}
	}
	return m
}

// modelFile is the stored form (gzip-compressed JSON). Everything that
// decides a prediction is in it, so a model file plus the code reproduce
// every label.
type modelFile struct {
	Format      int                `json:"format"`
	TrainedOn   string             `json:"trained_on"` // sha256 of the training data
	Examples    int                `json:"examples"`
	Labels      [numHeads][]string `json:"labels"`
	Features    []string           `json:"features"`
	Weights     []float32          `json:"weights"` // len(Features) × numOutputs, row-major
	Bias        []float32          `json:"bias"`
	Temperature [numHeads]float64  `json:"temperature"`
	// RiskThreshold is the calibrated probability above which a risk is set.
	RiskThreshold []float64 `json:"risk_threshold"`
	// EmergencyThreshold lowers the bar for urgency=emergency below the
	// argmax: missing an emergency costs more than a false alarm.
	EmergencyThreshold float64 `json:"emergency_threshold"`
	// RulePrecision is the measured share of emergency-rule hits that were
	// emergencies; it is the confidence reported when the rule decides.
	RulePrecision float64 `json:"rule_precision"`
	// MentionTemperature scales the per-category "raises a problem of this
	// category" outputs; a category other than the primary whose output
	// reaches MentionThreshold is listed as a further problem. Both are
	// chosen by cross-validation.
	MentionTemperature float64 `json:"mention_temperature"`
	MentionThreshold   float64 `json:"mention_threshold"`
	// KNN configures the embedding vote.
	KNN knnConfig `json:"knn"`
	// Neighbours are the labelled examples the embedding vote looks up.
	Neighbours []Example `json:"neighbours"`
}

type knnConfig struct {
	K int `json:"k"`
	// Alpha is the weight of the vote against the linear model, per head
	// (category, intent, urgency, sentiment, risks).
	Alpha [numHeads]float64 `json:"alpha"`
}

//go:embed model.json.gz
var embeddedModel []byte

// DefaultModel loads the model built into the binary.
func DefaultModel() (*Model, error) {
	return ReadModel(bytes.NewReader(embeddedModel))
}

// ReadModel loads a model written by Model.Write. It returns ErrInvalid for
// a file of another format or with inconsistent sizes.
func ReadModel(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: model is not gzip: %v", ErrInvalid, err)
	}
	defer zr.Close()
	var f modelFile
	if err := json.NewDecoder(zr).Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: decode model: %v", ErrInvalid, err)
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return newModel(f), nil
}

func (f *modelFile) validate() error {
	if f.Format != modelFormat {
		return fmt.Errorf("%w: model format %d, this build reads %d; retrain with `huiyin train`", ErrInvalid, f.Format, modelFormat)
	}
	want := labelNames()
	for h := range numHeads {
		if !slices.Equal(f.Labels[h], want[h]) {
			return fmt.Errorf("%w: model labels for %s are %v, want %v", ErrInvalid, heads[h].name, f.Labels[h], want[h])
		}
	}
	if len(f.Weights) != len(f.Features)*numOutputs || len(f.Bias) != numOutputs ||
		len(f.RiskThreshold) != len(Risks) {
		return fmt.Errorf("%w: model sizes do not match its feature list", ErrInvalid)
	}
	for _, t := range append(f.Temperature[:], f.MentionTemperature) {
		if !(t > 0) || math.IsInf(t, 0) {
			return fmt.Errorf("%w: model temperature %v", ErrInvalid, t)
		}
	}
	return nil
}

// Write stores the model as gzip-compressed JSON. The output depends only on
// the model, so retraining on the same data reproduces the file byte for byte.
func (m *Model) Write(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(zw)
	if err := enc.Encode(&m.file); err != nil {
		return fmt.Errorf("encode model: %w", err)
	}
	return zw.Close()
}

// TrainedOn is the sha256 of the data the model was trained on.
func (m *Model) TrainedOn() string { return m.file.TrainedOn }

// Features is the number of features the model knows.
func (m *Model) Features() int { return len(m.file.Features) }

func labelNames() [numHeads][]string {
	return [numHeads][]string{
		asStrings(Categories), asStrings(Intents), asStrings(Urgencies),
		asStrings(Sentiments), asStrings(Risks),
	}
}

func asStrings[T ~string](v []T) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = string(x)
	}
	return out
}

// featureTable maps a feature hash to its row: open addressing with linear
// probing over slots that hold a 32-bit fingerprint of the hash beside the
// row, so that a lookup is one cache line. A message of unseen words could
// meet a fingerprint of a known feature by chance once in hundreds of
// thousands of lookups; the cost is a little noise in one score.
type featureTable struct {
	slots []tableSlot
	shift uint
}

type tableSlot struct {
	key uint32 // 0 marks an empty slot
	row uint32
}

func newFeatureTable(n int) featureTable {
	size, shift := 16, uint(60)
	for float64(size)*0.7 < float64(n) {
		size *= 2
		shift--
	}
	return featureTable{slots: make([]tableSlot, size), shift: shift}
}

func slot(h uint64, shift uint) uint64 { return (h * 0x9E3779B97F4A7C15) >> shift }

func fingerprint(h uint64) uint32 {
	if f := uint32(h >> 32); f != 0 {
		return f
	}
	return 1
}

func (t *featureTable) put(h uint64, row int32) {
	key := fingerprint(h)
	mask := uint64(len(t.slots) - 1)
	for i := slot(h, t.shift); ; i = (i + 1) & mask {
		if s := &t.slots[i]; s.key == 0 || s.key == key {
			s.key, s.row = key, uint32(row)
			return
		}
	}
}

func (t *featureTable) get(h uint64) (int32, bool) {
	key := fingerprint(h)
	mask := uint64(len(t.slots) - 1)
	for i := slot(h, t.shift); ; i = (i + 1) & mask {
		switch s := t.slots[i]; s.key {
		case key:
			return int32(s.row), true
		case 0:
			return 0, false
		}
	}
}

// scores are the raw outputs of the linear model for one message.
type scores struct {
	logits   [numOutputs]float64
	features int
}

// score runs the linear model over an analysed message.
func (m *Model) score(a *analysis, rule string, nearMiss bool, s *scores) {
	s.features = 0
	var scaled, indicators [numOutputs]int32
	walkFeatures(a, rule, nearMiss, func(kind byte, x string, _ int) {
		indicator := isIndicator(kind)
		if !indicator {
			s.features++
		}
		row, ok := m.table.get(featureHash(kind, x))
		if !ok {
			return
		}
		r := m.q[int(row)*numOutputs : int(row+1)*numOutputs : int(row+1)*numOutputs]
		acc := &scaled
		if indicator {
			acc = &indicators
		}
		for i, v := range r {
			acc[i] += int32(v)
		}
	})
	norm := 1 / math.Sqrt(float64(max(s.features, 1)))
	for i := range s.logits {
		sc := float64(m.scale[i])
		s.logits[i] = float64(scaled[i])*sc*norm + float64(indicators[i])*sc + float64(m.file.Bias[i])
	}
}

// softmax writes the temperature-scaled probabilities of logits to p.
func softmax(logits []float64, temp float64, p []float64) {
	hi := math.Inf(-1)
	for _, l := range logits {
		hi = max(hi, l)
	}
	sum := 0.0
	for i, l := range logits {
		p[i] = math.Exp((l - hi) / temp)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
