package llm

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
	openai "github.com/sashabaranov/go-openai"
)

// EmbedBatch is how many texts go in one /embeddings request.
const EmbedBatch = 64

// Embedder is an embedding model behind an OpenAI-compatible /embeddings
// endpoint.
type Embedder struct {
	c     *client
	dim   int
	batch int
}

var _ knowledge.Embedder = (*Embedder)(nil)

// NewEmbedder returns the embedding model cfg.EmbedModel at cfg.BaseURL,
// asked for vectors of cfg.Dimensions. It returns ErrInvalid when the model
// is not named, the dimension is not positive (the index must know it
// before the first vector comes back) or the configuration is out of range.
// log may be nil.
func NewEmbedder(cfg Config, log *slog.Logger) (*Embedder, error) {
	model := strings.TrimSpace(cfg.EmbedModel)
	if model == "" {
		return nil, fmt.Errorf("%w: no embedding model configured", huiyin.ErrInvalid)
	}
	if cfg.Dimensions <= 0 {
		return nil, fmt.Errorf("%w: the embedding model %s needs its dimensions configured (got %d)", huiyin.ErrInvalid, model, cfg.Dimensions)
	}
	c, err := newClient(cfg, model, log)
	if err != nil {
		return nil, err
	}
	return &Embedder{c: c, dim: cfg.Dimensions, batch: EmbedBatch}, nil
}

// Name identifies the model: "openai:" and the model's name.
func (e *Embedder) Name() string { return "openai:" + e.c.model }

// Dim is the vector length, Config.Dimensions.
func (e *Embedder) Dim() int { return e.dim }

// Embed returns one vector per text, in the order of texts, in requests of
// EmbedBatch texts. It returns ErrUnavailable when the endpoint cannot
// answer or answers with missing or misnumbered vectors, and a plain error
// when a vector has another length than Dim (the model ignores
// `dimensions`, or the configuration names the wrong one).
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for start := 0; start < len(texts); start += e.batch {
		end := min(start+e.batch, len(texts))
		if err := e.embedBatch(ctx, texts[start:end], out[start:end]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// embedBatch embeds texts into out, which has the same length, placing
// each vector by the index the endpoint gives it.
func (e *Embedder) embedBatch(ctx context.Context, texts []string, out [][]float32) error {
	const op = "embeddings"
	req := openai.EmbeddingRequest{
		Input:      texts,
		Model:      openai.EmbeddingModel(e.c.model),
		Dimensions: e.dim,
	}
	var resp openai.EmbeddingResponse
	err := e.c.do(ctx, op, func(ctx context.Context) error {
		var err error
		resp, err = e.c.api.CreateEmbeddings(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if len(resp.Data) != len(texts) {
		return malformed(op, e.c.model, "%d vectors for %d texts", len(resp.Data), len(texts))
	}
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(texts) || out[d.Index] != nil {
			return malformed(op, e.c.model, "vector index %d is out of range or repeated", d.Index)
		}
		if len(d.Embedding) != e.dim {
			return fmt.Errorf("%s (%s): a vector has %d dimensions, %d are configured", op, e.c.model, len(d.Embedding), e.dim)
		}
		out[d.Index] = d.Embedding
	}
	return nil
}
