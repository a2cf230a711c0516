package knowledge

import (
	"context"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/triage"
)

// Embedder turns texts into vectors of a fixed dimension. Name and Dim are
// stored with an index, so that vectors from different embedders are never
// compared.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Name() string
	Dim() int
}

// Tokenizer cuts text into words that together cover the text;
// triage.Segmenter is one.
type Tokenizer interface {
	Cut(text string) []string
}

// OfflineEmbedder is the built-in embedder: signed feature hashing of jieba
// words and character pairs into a fixed number of dimensions, L2-normalised.
// It needs no network and no model file, is deterministic across machines,
// and is good at the lexical similarity that short Chinese questions need;
// semantic paraphrase is what a configured neural embedder adds.
type OfflineEmbedder struct {
	tok Tokenizer
	dim int
}

var (
	_ Embedder            = (*OfflineEmbedder)(nil)
	_ triage.WordEmbedder = (*OfflineEmbedder)(nil) // triage reuses its segmentation
)

// DefaultOfflineDim is the default dimension: large enough that hashing
// collisions between the few dozen features of a message are rare, small
// enough for a pgvector HNSW index.
const DefaultOfflineDim = 512

// NewOfflineEmbedder returns an embedder of dim dimensions (ErrInvalid
// unless 16 <= dim <= 2000, pgvector's indexable maximum).
func NewOfflineEmbedder(tok Tokenizer, dim int) (*OfflineEmbedder, error) {
	if tok == nil {
		return nil, fmt.Errorf("%w: offline embedder needs a tokenizer", huiyin.ErrInvalid)
	}
	if dim < 16 || dim > 2000 {
		return nil, fmt.Errorf("%w: offline embedder dimension %d is outside 16..2000", huiyin.ErrInvalid, dim)
	}
	return &OfflineEmbedder{tok: tok, dim: dim}, nil
}

// Name identifies the embedder and its version; a change to the features
// must change the name, so that stored indexes are rebuilt.
func (e *OfflineEmbedder) Name() string { return fmt.Sprintf("offline-hash-v1-%d", e.dim) }

// Dim is the vector length.
func (e *OfflineEmbedder) Dim() int { return e.dim }

// Embed embeds each text. It never fails except on a cancelled context.
func (e *OfflineEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = e.EmbedWords(t, e.tok.Cut(t))
	}
	return out, nil
}

// Weights of the two kinds of feature: whole words carry more meaning than
// character pairs, which are there for typos and unknown words.
const (
	wordWeight   = 1.0
	bigramWeight = 0.5
)

// EmbedWords embeds text already cut into words (which must cover text).
func (e *OfflineEmbedder) EmbedWords(text string, words []string) []float32 {
	v := make([]float32, e.dim)
	for _, w := range words {
		if !contentWord(w) || stopWords[w] {
			continue
		}
		e.add(v, 'w', w, wordWeight)
	}
	// Character pairs over runs of letters, skipping spaces and punctuation.
	prev := -1
	for i, r := range text {
		if !isContentRune(r) {
			prev = -1
			continue
		}
		if prev >= 0 {
			e.add(v, 'c', text[prev:i+utf8.RuneLen(r)], bigramWeight)
		}
		prev = i
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		inv := float32(1 / math.Sqrt(n))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}

func (e *OfflineEmbedder) add(v []float32, kind byte, s string, weight float32) {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(kind)) * 1099511628211
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * 1099511628211
	}
	h ^= h >> 29 // FNV's low bits are weak; fold the high ones in
	i := int(h % uint64(e.dim))
	if h&(1<<63) != 0 {
		weight = -weight
	}
	v[i] += weight
}

func isContentRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func contentWord(w string) bool {
	for _, r := range w {
		if isContentRune(r) {
			return true
		}
	}
	return false
}

// stopWords carry no topic; leaving them out keeps short questions about
// different things from looking alike.
var stopWords = map[string]bool{
	"的": true, "了": true, "是": true, "我": true, "你": true, "在": true, "吗": true,
	"啊": true, "呢": true, "吧": true, "和": true, "就": true, "都": true, "也": true,
	"还": true, "有": true, "这": true, "那": true, "个": true, "们": true, "么": true,
	"我们": true, "你们": true, "一下": true, "请问": true, "呀": true, "哦": true, "嗯": true,
}
