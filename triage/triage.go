package triage

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Message is one owner message to triage.
type Message struct {
	Text     string
	Received time.Time // when it arrived; deadlines count from here
}

// Result is every field of the label contract for one message, with the
// routing, deadlines and the reasons behind the decision.
type Result struct {
	Category  Category   `json:"category"`
	Intent    Intent     `json:"intent"`
	Urgency   Urgency    `json:"urgency"`
	Sentiment Sentiment  `json:"sentiment"`
	Risks     []Risk     `json:"risks"`
	Location  Location   `json:"location"`
	Secondary []Category `json:"secondary"` // categories of further problems in the message
	// Problem is the owner's own words for the primary problem (one
	// clause, at most 28 characters), for a reply to quote back.
	Problem string `json:"problem"`
	Routing
	Confidence Confidence `json:"confidence"`
	// Signals are the rule outcomes behind the labels, for staff to review:
	// "emergency_rule:gas_leak", "near_miss", "injection", "raised_by:repeat".
	Signals []string `json:"signals"`
}

// SameLabels reports whether two results agree on every label of the
// contract: category, intent, urgency, sentiment, risks and location.
func (r Result) SameLabels(o Result) bool {
	return r.Category == o.Category && r.Intent == o.Intent && r.Urgency == o.Urgency &&
		r.Sentiment == o.Sentiment && slices.Equal(r.Risks, o.Risks) && r.Location == o.Location
}

// Confidence holds calibrated probabilities in [0,1] for each field: for a
// single-label field the probability of the chosen label, for risks the
// probability of every risk, for location how certain the reading is.
type Confidence struct {
	Category  float64          `json:"category"`
	Intent    float64          `json:"intent"`
	Urgency   float64          `json:"urgency"`
	Sentiment float64          `json:"sentiment"`
	Risks     map[Risk]float64 `json:"risks"`
	Location  float64          `json:"location"`
}

// Config assembles an Engine. Segmenter is required; nil Model and Policy
// mean the built-in ones; a nil Embedder turns the embedding vote off.
type Config struct {
	Segmenter *Segmenter
	Model     *Model
	Policy    *Policy
	Embedder  Embedder
	// VoteWeight overrides the weight of the embedding vote in [0,1] for
	// every head; zero keeps the weights the model chose by cross-validation
	// for the offline embedder (retrain with another embedder to tune them
	// for that one).
	VoteWeight float64
	Logger     *slog.Logger
}

// Engine triages messages. It is safe for concurrent use.
type Engine struct {
	seg    *Segmenter
	model  *Model
	policy *Policy
	emb    Embedder
	words  WordEmbedder // emb, when it can reuse our segmentation
	index  *neighbourIndex
	alpha  [numHeads]float64 // weight of the embedding vote, per head
	lex    *lexicon
	log    *slog.Logger
	pool   sync.Pool
}

// scratch is the per-call working memory, pooled so that triage allocates
// little beyond its result.
type scratch struct {
	a     analysis
	s     scores
	runes []rune
	knn   knnScratch
	words []string
}

// New builds an engine. With an embedder it embeds the model's labelled
// examples once, which for a remote embedder means a few API calls.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Segmenter == nil {
		return nil, fmt.Errorf("%w: triage needs a segmenter", ErrInvalid)
	}
	lex, err := loadLexicon()
	if err != nil {
		return nil, err
	}
	e := &Engine{seg: cfg.Segmenter, model: cfg.Model, policy: cfg.Policy, emb: cfg.Embedder, lex: lex, log: cfg.Logger}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.model == nil {
		if e.model, err = DefaultModel(); err != nil {
			return nil, fmt.Errorf("load built-in model: %w", err)
		}
	}
	if e.policy == nil {
		e.policy = DefaultPolicy()
	}
	e.alpha = e.model.file.KNN.Alpha
	if cfg.VoteWeight != 0 {
		if cfg.VoteWeight < 0 || cfg.VoteWeight > 1 {
			return nil, fmt.Errorf("%w: vote weight %v is outside [0,1]", ErrInvalid, cfg.VoteWeight)
		}
		for h := range e.alpha {
			e.alpha[h] = cfg.VoteWeight
		}
	}
	if e.emb != nil && e.alpha != [numHeads]float64{} {
		e.words, _ = e.emb.(WordEmbedder)
		start := time.Now()
		if e.index, err = buildNeighbourIndex(ctx, e.emb, e.model.file.Neighbours); err != nil {
			return nil, fmt.Errorf("index labelled examples: %w", err)
		}
		e.log.Debug("triage neighbours indexed", "examples", len(e.model.file.Neighbours), "dim", e.index.dim, "took", time.Since(start))
	}
	e.pool.New = func() any { return new(scratch) }
	return e, nil
}

// Policy is the routing policy in use.
func (e *Engine) Policy() *Policy { return e.policy }

// Triage labels one message. It returns ErrInvalid (wrapped, with a message
// in Chinese for staff) for empty, oversized or non-UTF-8 text, and an error
// from the embedder if one is configured and fails.
func (e *Engine) Triage(ctx context.Context, msg Message) (Result, error) {
	text, err := Clean(msg.Text)
	if err != nil {
		return Result{}, err
	}
	sc := e.pool.Get().(*scratch)
	defer e.pool.Put(sc)
	a := &sc.a
	analyzeText(e.seg, e.lex, text, a)
	rule, nearMiss := emergencyRule(a)
	e.model.score(a, rule, nearMiss, &sc.s)
	c := calibrate(sc.s.logits, &e.model.file)
	if e.index != nil && e.voteCanChange(&c) {
		v, err := e.neighbourVote(ctx, a, sc)
		if err != nil {
			return Result{}, err
		}
		mix(&c, v, e.alpha)
	}
	res := e.decide(a, &c, rule, nearMiss)
	res.Secondary = e.secondary(&c, res.Category)
	res.Problem = problemPhrase(a)
	res.Location, res.Confidence.Location, sc.runes = extractLocation(a, sc.runes)
	received := msg.Received
	if received.IsZero() {
		received = time.Now()
	}
	res.Routing = e.policy.Route(res.Category, res.Urgency, res.Risks, received)
	return res, nil
}

func (e *Engine) neighbourVote(ctx context.Context, a *analysis, sc *scratch) (vote, error) {
	visible := a.text
	sc.words = sc.words[:0]
	for _, t := range a.tokens {
		if !t.injected {
			sc.words = append(sc.words, t.text)
		}
	}
	if a.injected {
		visible = strings.Join(sc.words, "")
	}
	var q []float32
	if e.words != nil {
		q = e.words.EmbedWords(visible, sc.words)
	} else {
		vecs, err := e.emb.Embed(ctx, []string{visible})
		if err != nil {
			return vote{}, fmt.Errorf("embed message: %w", err)
		}
		if len(vecs) != 1 {
			return vote{}, fmt.Errorf("%w: embedder returned %d vectors for one text", ErrInvalid, len(vecs))
		}
		q = vecs[0]
	}
	return e.index.vote(q, e.model.file.KNN.K, nil, &sc.knn), nil
}

// voteCanChange reports whether the embedding vote could change any label:
// a head's label can only move when its two best classes are closer than
// the vote's weight can bridge (a/(1-a) apart in the mix), and the
// emergency and risk decisions only when a probability lies within the
// weight of its threshold. Most messages are clear-cut; skipping the vote
// for them gives the same labels at a fraction of the cost. Confidences are
// then the linear model's calibrated probabilities, unmixed.
func (e *Engine) voteCanChange(c *calibrated) bool {
	f := &e.model.file
	for h, a := range e.alpha {
		if a == 0 {
			continue
		}
		hd := heads[h]
		p := c.p[hd.off : hd.off+hd.len]
		if head(h) == headRisk {
			for r, t := range f.RiskThreshold {
				if math.Abs(p[r]-t) <= a {
					return true
				}
			}
			continue
		}
		first, second := 0.0, 0.0
		for _, x := range p {
			if x > first {
				first, second = x, first
			} else if x > second {
				second = x
			}
		}
		if (1-a)*(first-second) <= a {
			return true
		}
		if head(h) == headUrgency && math.Abs(p[0]-f.EmergencyThreshold) <= a {
			return true
		}
	}
	return false
}

// raisingRisks make a complaint at least high urgency (taxonomy.md).
var raisingRisks = []Risk{RiskRepeat, RiskMedia, RiskRegulator, RiskLegal, RiskFeeRefusal}

// peopleHazards are the hazards that put people, not only property, at risk.
var peopleHazards = []string{"fire", "gas_leak", "elevator_trap", "sparks", "person_down", "child_locked_in_car", "break_in", "child_at_height", "falling", "rescue_blocked"}

// decide turns probabilities and rule outcomes into labels.
func (e *Engine) decide(a *analysis, c *calibrated, rule string, nearMiss bool) Result {
	f := &e.model.file
	var res Result
	pick := func(h head) (int, float64) {
		hd := heads[h]
		i := argmax(c.p[hd.off : hd.off+hd.len])
		return i, c.p[hd.off+i]
	}
	i, p := pick(headCategory)
	res.Category, res.Confidence.Category = Categories[i], p
	i, p = pick(headIntent)
	res.Intent, res.Confidence.Intent = Intents[i], p
	i, p = pick(headSentiment)
	res.Sentiment, res.Confidence.Sentiment = Sentiments[i], p

	res.Confidence.Risks = make(map[Risk]float64, len(Risks))
	res.Risks = []Risk{}
	for r, risk := range Risks {
		pr := c.p[offRisk+r]
		res.Confidence.Risks[risk] = pr
		if pr >= f.RiskThreshold[r] {
			res.Risks = append(res.Risks, risk)
		}
	}
	res.Signals = []string{}

	pEm := c.p[offUrgency]
	switch {
	case rule != "":
		res.Urgency, res.Confidence.Urgency = Emergency, max(pEm, f.RulePrecision)
		res.Signals = append(res.Signals, "emergency_rule:"+rule)
		if slices.Contains(peopleHazards, rule) && !slices.Contains(res.Risks, RiskSafety) {
			res.Risks = append(res.Risks, RiskSafety)
			res.Confidence.Risks[RiskSafety] = max(res.Confidence.Risks[RiskSafety], f.RulePrecision)
		}
	case pEm >= f.EmergencyThreshold:
		res.Urgency, res.Confidence.Urgency = Emergency, pEm
	default:
		u := offUrgency + 1 + argmax(c.p[offUrgency+1:offUrgency+4])
		res.Urgency, res.Confidence.Urgency = Urgencies[u-offUrgency], c.p[u]
	}
	if nearMiss {
		res.Signals = append(res.Signals, "near_miss")
	}
	if a.injected {
		res.Signals = append(res.Signals, "injection")
	}
	if res.Intent == Complaint && res.Urgency.Rank() < High.Rank() {
		for _, r := range raisingRisks {
			if slices.Contains(res.Risks, r) {
				res.Urgency = High
				res.Confidence.Urgency = min(res.Confidence.Risks[r], 1)
				res.Signals = append(res.Signals, "raised_by:"+string(r))
				break
			}
		}
	}
	slices.Sort(res.Risks)
	return res
}

// secondary lists the categories, other than the primary one, that the
// message also raises a problem of.
func (e *Engine) secondary(c *calibrated, primary Category) []Category {
	out := []Category{}
	for i, cat := range Categories {
		if cat != primary && c.p[offMention+i] >= e.model.file.MentionThreshold {
			out = append(out, cat)
		}
	}
	slices.Sort(out)
	return out
}

// Raise records a risk found outside the message itself (the owner's
// history, an owner on the vulnerable list): it adds the risk, raises the
// urgency one step (never to emergency, which only the message can
// justify) and routes the result again, with deadlines counted from
// received. The signal "raised_by:<risk>" says why.
func (e *Engine) Raise(res Result, risk Risk, received time.Time) Result {
	if !slices.Contains(res.Risks, risk) {
		res.Risks = append(slices.Clone(res.Risks), risk)
		slices.Sort(res.Risks)
	}
	if r := res.Urgency.Rank(); r < High.Rank() {
		for _, u := range Urgencies {
			if u.Rank() == r+1 {
				res.Urgency = u
				break
			}
		}
		res.Signals = append(slices.Clone(res.Signals), "raised_by:"+string(risk))
	}
	res.Routing = e.policy.Route(res.Category, res.Urgency, res.Risks, received)
	return res
}

// Correction is staff's change of a result's labels; empty fields keep
// the labels as triaged. Risks, when not nil, replace the risks.
type Correction struct {
	Category  string   `json:"category,omitempty"`
	Intent    string   `json:"intent,omitempty"`
	Urgency   string   `json:"urgency,omitempty"`
	Sentiment string   `json:"sentiment,omitempty"`
	Risks     []string `json:"risks,omitempty"`
}

// Correct applies staff's correction to res and routes the result again
// from received: a corrected category goes to its department, a corrected
// urgency moves the deadlines. Corrected labels count as certain. It
// returns the fields that changed (none is not an error) and ErrInvalid for
// a value outside the taxonomy.
func (e *Engine) Correct(res Result, c Correction, received time.Time) (Result, []string, error) {
	out := res
	var changed []string
	for _, err := range []error{
		correctOne("category", c.Category, ParseCategory, &out.Category, &out.Confidence.Category, &changed),
		correctOne("intent", c.Intent, ParseIntent, &out.Intent, &out.Confidence.Intent, &changed),
		correctOne("urgency", c.Urgency, ParseUrgency, &out.Urgency, &out.Confidence.Urgency, &changed),
		correctOne("sentiment", c.Sentiment, ParseSentiment, &out.Sentiment, &out.Confidence.Sentiment, &changed),
	} {
		if err != nil {
			return res, nil, err
		}
	}
	if c.Risks != nil {
		risks := make([]Risk, 0, len(c.Risks))
		for _, s := range c.Risks {
			v, err := ParseRisk(s)
			if err != nil {
				return res, nil, badLabel("risks", s)
			}
			if !slices.Contains(risks, v) {
				risks = append(risks, v)
			}
		}
		slices.Sort(risks)
		if !slices.Equal(risks, res.Risks) {
			out.Risks = risks
			out.Confidence.Risks = make(map[Risk]float64, len(risks))
			for _, r := range risks {
				out.Confidence.Risks[r] = 1
			}
			changed = append(changed, "risks")
		}
	}
	if len(changed) == 0 {
		return res, nil, nil
	}
	out.Signals = append(slices.Clone(res.Signals), "corrected_by_staff")
	out.Routing = e.policy.Route(out.Category, out.Urgency, out.Risks, received)
	return out, changed, nil
}

// correctOne sets *label to value when value is given and differs, with
// full confidence, and notes field as changed.
func correctOne[T ~string](field, value string, parse func(string) (T, error), label *T, conf *float64, changed *[]string) error {
	if value == "" {
		return nil
	}
	v, err := parse(value)
	if err != nil {
		return badLabel(field, value)
	}
	if v != *label {
		*label, *conf = v, 1
		*changed = append(*changed, field)
	}
	return nil
}

func badLabel(field, value string) error {
	return fmt.Errorf("%w: %s 的取值 %q 不在分类标准中", ErrInvalid, field, value)
}
