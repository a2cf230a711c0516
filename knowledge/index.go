package knowledge

import "context"

// Index stores chunks and finds them again; kbstore.Store is the
// PostgreSQL one. Retrieval fuses its two rankings.
type Index interface {
	Info(ctx context.Context) (IndexInfo, error)
	// Prepare readies the index for vectors of one embedder: ErrConflict
	// when it holds another's, unless reindex, which empties it.
	Prepare(ctx context.Context, embedder string, dim int, reindex bool) error
	PutDocument(ctx context.Context, doc IndexedDocument) (changed bool, err error)
	// Analyze refreshes statistics after a load.
	Analyze(ctx context.Context) error
	VectorSearch(ctx context.Context, vec []float32, k int, kinds []Kind) ([]Ranked, error)
	KeywordSearch(ctx context.Context, terms []string, weights []float32, k int, kinds []Kind) ([]Ranked, error)
	Chunks(ctx context.Context, ids []int64) ([]StoredChunk, error)
	ChunksOfKind(ctx context.Context, kind Kind) ([]StoredChunk, error)
}

// IndexInfo describes a stored index.
type IndexInfo struct {
	Embedder  string // empty when nothing was ever ingested
	Dim       int
	Documents int
	Chunks    int
}

// IndexedDocument is a document ready to store: chunks with their vectors
// and keyword terms, and a checksum that lets an unchanged document be
// skipped.
type IndexedDocument struct {
	Title    string
	Kind     Kind
	Source   string
	Origin   string
	Checksum string
	Chunks   []IndexedChunk
}

// IndexedChunk is a chunk with what retrieval needs.
type IndexedChunk struct {
	Chunk
	Embedding  []float32
	Terms      map[string]float32 // keyword term → frequency in the chunk
	TokenCount int                // the chunk's length in terms, for BM25
}

// Ranked is one search result before the chunk is read: its id and the
// score of the ranking that found it.
type Ranked struct {
	ID    int64
	Score float64
}

// StoredChunk is a chunk as stored, with its document.
type StoredChunk struct {
	ID     int64
	Doc    string // the document's title
	Source string
	Kind   Kind
	Origin string
	Chunk
}

// DocumentInfo lists a stored document.
type DocumentInfo struct {
	Source, Title string
	Kind          Kind
	Origin        string
	Chunks        int
}
