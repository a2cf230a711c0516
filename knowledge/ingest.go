package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Ingester loads documents into an index: it embeds each chunk, cuts it
// into keyword terms and stores the document, skipping documents that have
// not changed since they were last loaded with the same embedder.
type Ingester struct {
	index Index
	emb   Embedder
	tok   Tokenizer
	log   *slog.Logger
}

// NewIngester assembles an ingester.
func NewIngester(index Index, emb Embedder, tok Tokenizer, log *slog.Logger) *Ingester {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ingester{index: index, emb: emb, tok: tok, log: log}
}

// IngestReport says what an ingestion did.
type IngestReport struct {
	Documents int           `json:"documents"`
	Changed   int           `json:"changed"`
	Unchanged int           `json:"unchanged"`
	Chunks    int           `json:"chunks"`
	Embedder  string        `json:"embedder"`
	Dim       int           `json:"dim"`
	Took      time.Duration `json:"took_ns"`
}

// embedBatch is how many chunks are embedded per call, which bounds a
// request to a remote embedder.
const embedBatch = 64

// Ingest stores docs. With reindex the index is emptied first and may
// change embedder; without it, an index built by another embedder is
// ErrConflict.
func (in *Ingester) Ingest(ctx context.Context, docs []Document, reindex bool) (IngestReport, error) {
	start := time.Now()
	rep := IngestReport{Embedder: in.emb.Name(), Dim: in.emb.Dim()}
	if err := in.index.Prepare(ctx, in.emb.Name(), in.emb.Dim(), reindex); err != nil {
		return rep, err
	}
	for _, doc := range docs {
		idoc, err := in.prepare(ctx, doc)
		if err != nil {
			return rep, err
		}
		changed, err := in.index.PutDocument(ctx, idoc)
		if err != nil {
			return rep, err
		}
		rep.Documents++
		rep.Chunks += len(idoc.Chunks)
		if changed {
			rep.Changed++
			in.log.Info("document stored", "source", doc.Source, "kind", doc.Kind, "chunks", len(idoc.Chunks))
		} else {
			rep.Unchanged++
		}
	}
	if rep.Changed > 0 {
		if err := in.index.Analyze(ctx); err != nil {
			return rep, err
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// chunkText is what a chunk's vector and keywords are computed from: its
// headings and section name carry as much of its topic as its body.
func chunkText(c Chunk) string {
	s := c.Heading + "\n" + c.Section + "\n"
	if c.Question != "" && c.Question != c.Section {
		s += c.Question + "\n"
	}
	for _, v := range c.Variants {
		s += v + "\n"
	}
	return s + c.Text
}

func (in *Ingester) prepare(ctx context.Context, doc Document) (IndexedDocument, error) {
	sum, err := checksum(in.emb.Name(), doc)
	if err != nil {
		return IndexedDocument{}, err
	}
	idoc := IndexedDocument{
		Title: doc.Title, Kind: doc.Kind, Source: doc.Source, Origin: doc.Origin, Checksum: sum,
		Chunks: make([]IndexedChunk, len(doc.Chunks)),
	}
	texts := make([]string, len(doc.Chunks))
	for i, c := range doc.Chunks {
		texts[i] = chunkText(c)
		terms, n := Terms(in.tok, texts[i])
		idoc.Chunks[i] = IndexedChunk{Chunk: c, Terms: terms, TokenCount: n}
	}
	for lo := 0; lo < len(texts); lo += embedBatch {
		hi := min(lo+embedBatch, len(texts))
		vecs, err := in.emb.Embed(ctx, texts[lo:hi])
		if err != nil {
			return IndexedDocument{}, fmt.Errorf("embed %s: %w", doc.Source, err)
		}
		if len(vecs) != hi-lo {
			return IndexedDocument{}, fmt.Errorf("embed %s: %d vectors for %d chunks", doc.Source, len(vecs), hi-lo)
		}
		for i, v := range vecs {
			idoc.Chunks[lo+i].Embedding = v
		}
	}
	return idoc, nil
}

// indexVersion changes whenever what is stored for a chunk changes (the
// keyword terms, the text that is embedded), so that every document is
// stored again.
const indexVersion = "kb-v3"

// checksum identifies a document's content as indexed by one embedder, so
// that loading the same knowledge base again does no work, and a change of
// chunking or embedder does.
func checksum(embedder string, doc Document) (string, error) {
	b, err := json.Marshal(struct {
		Version  string
		Embedder string
		Doc      Document
	}{indexVersion, embedder, doc})
	if err != nil {
		return "", fmt.Errorf("checksum %s: %w", doc.Source, err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}
