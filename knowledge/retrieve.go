package knowledge

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/triage"
)

// Retriever is hybrid retrieval: the index's vector ranking and its BM25
// ranking over jieba terms, fused by reciprocal rank, with a boost for
// chunks about the question's triage category.
type Retriever struct {
	triage *triage.Engine // when set, questions without a category get triage's
	index  Index
	emb    Embedder
	tok    Tokenizer
	syn    synonyms
	cfg    RetrieverConfig
}

// RetrieverConfig tunes the fusion. The zero value takes the defaults,
// which were tuned on eval/testdata/retrieval_dev.jsonl only.
type RetrieverConfig struct {
	Candidates     int     // taken from each ranking before fusion (default 40)
	RRFK           float64 // reciprocal-rank constant (default 6: the top ranks matter most)
	VectorWeight   float64 // weight of the vector ranking (default 0.7)
	KeywordWeight  float64 // weight of the keyword ranking (default 1)
	CategoryWeight float64 // boost for the question's category, as a rank-1 share (default 0: off)
}

func (c RetrieverConfig) withDefaults() RetrieverConfig {
	if c.Candidates <= 0 {
		c.Candidates = 40
	}
	if c.RRFK <= 0 {
		c.RRFK = 6
	}
	if c.VectorWeight == 0 && c.KeywordWeight == 0 {
		c.VectorWeight, c.KeywordWeight = 0.7, 1
	}
	return c
}

// NewRetriever assembles a retriever. eng may be nil; with it, a query
// without a category is triaged to find its category.
func NewRetriever(index Index, emb Embedder, tok Tokenizer, eng *triage.Engine, cfg RetrieverConfig) *Retriever {
	return &Retriever{triage: eng, index: index, emb: emb, tok: tok, syn: defaultSynonyms, cfg: cfg.withDefaults()}
}

// Query is one retrieval request.
type Query struct {
	Text string
	K    int // results wanted (default 5)
	// Kinds limits the document kinds; empty means all.
	Kinds []Kind
	// Category is the question's triage category, when known; chunks about
	// it rank higher.
	Category string
}

// Hit is one retrieved chunk with its fused score and the evidence behind
// it, which answering uses to decide whether retrieval supports an answer.
type Hit struct {
	StoredChunk
	Score      float64 `json:"score"`      // fused score, 1 for a chunk first in both rankings and of the category
	Similarity float64 `json:"similarity"` // cosine similarity of the vectors
	Keyword    float64 `json:"keyword"`    // BM25 score (0 when not matched)
	VectorRank int     `json:"vector_rank"`
	KeyRank    int     `json:"keyword_rank"`
}

// Citation returns the hit as a citation.
func (h Hit) Citation() Citation {
	return Citation{Doc: h.Doc, Section: h.Section, Score: round3(h.Score), Source: h.Source}
}

func round3(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }

// Search runs hybrid retrieval.
func (r *Retriever) Search(ctx context.Context, q Query) ([]Hit, error) {
	text, err := triage.Clean(q.Text)
	if err != nil {
		return nil, err
	}
	if q.K <= 0 {
		q.K = 5
	}
	if q.Category == "" && r.triage != nil && r.cfg.CategoryWeight > 0 {
		res, err := r.triage.Triage(ctx, triage.Message{Text: text})
		if err != nil {
			return nil, err
		}
		q.Category = string(res.Category)
	}
	vecs, err := r.emb.Embed(ctx, []string{text})
	if err != nil {
		return nil, fmt.Errorf("embed the question: %w", err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("%w: embedder returned %d vectors for one text", huiyin.ErrUnavailable, len(vecs))
	}
	terms, weights, _ := queryTerms(r.tok, r.syn, text)
	vranked, err := r.index.VectorSearch(ctx, vecs[0], r.cfg.Candidates, q.Kinds)
	if err != nil {
		return nil, err
	}
	kranked, err := r.index.KeywordSearch(ctx, terms, weights, r.cfg.Candidates, q.Kinds)
	if err != nil {
		return nil, err
	}
	type cand struct {
		score      float64
		sim, kw    float64
		vrank, krk int
	}
	cands := map[int64]*cand{}
	get := func(id int64) *cand {
		c, ok := cands[id]
		if !ok {
			c = &cand{}
			cands[id] = c
		}
		return c
	}
	for i, h := range vranked {
		c := get(h.ID)
		c.score += r.cfg.VectorWeight / (r.cfg.RRFK + float64(i+1))
		c.sim, c.vrank = h.Score, i+1
	}
	for i, h := range kranked {
		c := get(h.ID)
		c.score += r.cfg.KeywordWeight / (r.cfg.RRFK + float64(i+1))
		c.kw, c.krk = h.Score, i+1
	}
	ids := make([]int64, 0, len(cands))
	for id := range cands {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	chunks, err := r.index.Chunks(ctx, ids)
	if err != nil {
		return nil, err
	}
	best := (r.cfg.VectorWeight + r.cfg.KeywordWeight + r.cfg.CategoryWeight) / (r.cfg.RRFK + 1)
	hits := make([]Hit, 0, len(chunks))
	for _, ch := range chunks {
		c := cands[ch.ID]
		score := c.score
		if q.Category != "" && ch.Category == q.Category {
			score += r.cfg.CategoryWeight / (r.cfg.RRFK + 1)
		}
		if ch.Kind == KindLaw {
			score *= jurisdiction(text, ch.Doc)
		}
		hits = append(hits, Hit{
			StoredChunk: ch,
			Score:       score / best,
			Similarity:  c.sim,
			Keyword:     c.kw,
			VectorRank:  c.vrank,
			KeyRank:     c.krk,
		})
	}
	slices.SortStableFunc(hits, func(a, b Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return int(a.ID - b.ID)
	})
	if len(hits) > q.K {
		hits = hits[:q.K]
	}
	return hits, nil
}

// jurisdiction weighs a law by where it applies: a local regulation
// (北京市物业管理条例) counts fully when the question names its place, little
// when it names another place, and somewhat less than national law when it
// names none, since a question without a place asks about the law that
// applies everywhere.
func jurisdiction(question, doc string) float64 {
	place := localPlace(doc)
	if place == "" {
		return 1
	}
	if strings.Contains(question, place) {
		return 1.2
	}
	for _, p := range knownPlaces {
		if p != place && strings.Contains(question, p) {
			return 0.3
		}
	}
	return 0.8
}

// localPlace is the place a local regulation's title starts with
// (北京市… → 北京), or "" for national law.
func localPlace(doc string) string {
	r := []rune(doc)
	for i := 2; i <= 4 && i < len(r); i++ {
		if r[i] == '市' || r[i] == '省' {
			return string(r[:i])
		}
	}
	return ""
}

// knownPlaces are the provinces and large cities whose names tell that a
// question is about another place's rules.
var knownPlaces = []string{
	"北京", "上海", "天津", "重庆", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安", "郑州", "济南", "青岛",
	"宁波", "温州", "沈阳", "大连", "长沙", "合肥", "福州", "厦门", "昆明", "南宁", "哈尔滨", "长春", "石家庄", "太原",
	"广东", "浙江", "江苏", "山东", "河南", "河北", "湖北", "湖南", "四川", "福建", "安徽", "辽宁", "陕西", "江西",
}
