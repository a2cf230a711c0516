package kbstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
)

// Store is the knowledge base in PostgreSQL. It implements knowledge.Index.
type Store struct {
	pool *pgxpool.Pool
}

var _ knowledge.Index = (*Store)(nil)

// New returns a store over a migrated database.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Info describes the index: the embedder that made its vectors and how
// much it holds. It returns knowledge.IndexInfo with an empty Embedder when
// nothing was ever ingested.
func (s *Store) Info(ctx context.Context) (knowledge.IndexInfo, error) {
	var info knowledge.IndexInfo
	err := s.pool.QueryRow(ctx, `SELECT embedder, dim FROM kb_index WHERE id = 1`).Scan(&info.Embedder, &info.Dim)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return info, fmt.Errorf("read the index record: %w", err)
	}
	err = s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM kb_documents), (SELECT count(*) FROM kb_chunks)`).
		Scan(&info.Documents, &info.Chunks)
	if err != nil {
		return info, fmt.Errorf("count the knowledge base: %w", err)
	}
	return info, nil
}

// Prepare makes the index ready for vectors of the named embedder. A
// different embedder or dimension from the stored one is ErrConflict
// unless reindex is set, which empties the knowledge base first (the
// caller loads it again). It also makes sure the HNSW index for dim exists.
func (s *Store) Prepare(ctx context.Context, embedder string, dim int, reindex bool) error {
	if dim <= 0 || dim > 2000 {
		return fmt.Errorf("%w: 向量维度 %d 超出范围（1–2000）", huiyin.ErrInvalid, dim)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var have string
		var haveDim int
		err := tx.QueryRow(ctx, `SELECT embedder, dim FROM kb_index WHERE id = 1 FOR UPDATE`).Scan(&have, &haveDim)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read the index record: %w", err)
		case (have != embedder || haveDim != dim) && !reindex:
			return fmt.Errorf("%w: 知识库索引由 %s（%d 维）生成，当前配置为 %s（%d 维）；请运行 huiyin ingest --reindex 重建索引",
				huiyin.ErrConflict, have, haveDim, embedder, dim)
		}
		if reindex {
			// TRUNCATE rather than DELETE: an index build still reads rows
			// deleted in its own transaction, and the old vectors do not
			// cast to the new dimension.
			if _, err := tx.Exec(ctx, `TRUNCATE kb_term_stats, kb_terms, kb_chunks, kb_documents`); err != nil {
				return fmt.Errorf("empty the knowledge base: %w", err)
			}
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO kb_index (id, embedder, dim) VALUES (1, $1, $2)
			ON CONFLICT (id) DO UPDATE SET embedder = $1, dim = $2, updated_at = now()`, embedder, dim)
		if err != nil {
			return fmt.Errorf("record the embedder: %w", err)
		}
		return ensureVectorIndex(ctx, tx, dim)
	})
}

// ensureVectorIndex keeps exactly one HNSW index, on the vectors cast to
// the current dimension. The dimension is part of the index expression
// because the column has none (any embedder fits); queries use the same
// expression so that the planner picks the index.
func ensureVectorIndex(ctx context.Context, tx pgx.Tx, dim int) error {
	name := fmt.Sprintf("kb_chunks_embedding_hnsw_%d", dim)
	rows, err := tx.Query(ctx, `
		SELECT indexname FROM pg_indexes
		WHERE tablename = 'kb_chunks' AND indexname LIKE 'kb_chunks_embedding_hnsw_%'`)
	if err != nil {
		return fmt.Errorf("list vector indexes: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list vector indexes: %w", err)
	}
	found := false
	for _, n := range names {
		if n == name {
			found = true
			continue
		}
		if _, err := tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{n}.Sanitize()); err != nil {
			return fmt.Errorf("drop vector index %s: %w", n, err)
		}
	}
	if found {
		return nil
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(
		`CREATE INDEX %s ON kb_chunks USING hnsw ((embedding::vector(%d)) vector_cosine_ops)`, name, dim))
	if err != nil {
		return fmt.Errorf("create vector index: %w", err)
	}
	return nil
}

// dimension reads the stored dimension; ErrNotFound when nothing was ever
// ingested.
func (s *Store) dimension(ctx context.Context) (int, error) {
	var dim int
	err := s.pool.QueryRow(ctx, `SELECT dim FROM kb_index WHERE id = 1`).Scan(&dim)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%w: 知识库尚未导入，请先运行 huiyin ingest", huiyin.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("read the index record: %w", err)
	}
	return dim, nil
}

// PutDocument stores a document with its chunks, replacing any earlier
// version from the same source, in one transaction. A document whose
// checksum is unchanged is left alone (changed is false).
func (s *Store) PutDocument(ctx context.Context, doc knowledge.IndexedDocument) (changed bool, err error) {
	if len(doc.Chunks) == 0 {
		return false, fmt.Errorf("%w: 文档 %s 没有可检索的内容", huiyin.ErrInvalid, doc.Source)
	}
	dim, err := s.dimension(ctx)
	if err != nil {
		return false, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var oldID int64
		var oldSum string
		err := tx.QueryRow(ctx, `SELECT id, checksum FROM kb_documents WHERE source = $1 FOR UPDATE`, doc.Source).
			Scan(&oldID, &oldSum)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("look up document %s: %w", doc.Source, err)
		case oldSum == doc.Checksum:
			return nil
		default:
			if err := deleteDocument(ctx, tx, oldID); err != nil {
				return fmt.Errorf("replace document %s: %w", doc.Source, err)
			}
		}
		changed = true
		var docID int64
		err = tx.QueryRow(ctx, `
			INSERT INTO kb_documents (source, title, kind, origin, checksum)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			doc.Source, doc.Title, string(doc.Kind), doc.Origin, doc.Checksum).Scan(&docID)
		if err != nil {
			return fmt.Errorf("insert document %s: %w", doc.Source, err)
		}
		return insertChunks(ctx, tx, docID, doc, dim)
	})
	return changed, err
}

// insertChunks stores a document's chunks and their postings in three
// statements whatever the number of chunks: a round trip per chunk made
// loading ten thousand chunks take minutes.
func insertChunks(ctx context.Context, tx pgx.Tx, docID int64, doc knowledge.IndexedDocument, dim int) error {
	n := len(doc.Chunks)
	ordinals := make([]int32, n)
	sections, headings, categories, questions, bodies, vectors := make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	variantsJSON := make([]string, n)
	counts := make([]int32, n)
	for i, c := range doc.Chunks {
		if len(c.Embedding) != dim {
			return fmt.Errorf("%w: 文档 %s 第 %d 段的向量为 %d 维，索引为 %d 维",
				huiyin.ErrInvalid, doc.Source, i+1, len(c.Embedding), dim)
		}
		ordinals[i] = int32(i)
		sections[i], headings[i], categories[i], questions[i], bodies[i] = c.Section, c.Heading, c.Category, c.Question, c.Text
		vectors[i] = pgvector.NewVector(c.Embedding).String()
		b, err := json.Marshal(variants(c.Variants))
		if err != nil {
			return fmt.Errorf("encode variants: %w", err)
		}
		variantsJSON[i] = string(b)
		counts[i] = int32(c.TokenCount)
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO kb_chunks (document_id, ordinal, kind, section, heading, category, question, body, variants, token_count, embedding)
		SELECT $1, u.ordinal, $2, u.section, u.heading, u.category, u.question, u.body,
		       ARRAY(SELECT jsonb_array_elements_text(u.variants::jsonb)), u.token_count, u.embedding::vector
		FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[], $11::text[])
		     AS u(ordinal, section, heading, category, question, body, variants, token_count, embedding)
		RETURNING id, ordinal`,
		docID, string(doc.Kind), ordinals, sections, headings, categories, questions, bodies, variantsJSON, counts, vectors)
	if err != nil {
		return fmt.Errorf("insert the chunks of %s: %w", doc.Source, err)
	}
	ids := make([]int64, n)
	for rows.Next() {
		var id int64
		var ord int32
		if err := rows.Scan(&id, &ord); err != nil {
			rows.Close()
			return fmt.Errorf("insert the chunks of %s: %w", doc.Source, err)
		}
		ids[ord] = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert the chunks of %s: %w", doc.Source, err)
	}
	var chunkIDs []int64
	var terms []string
	var tfs, dls []float32
	df := map[string]int32{}
	for i, c := range doc.Chunks {
		for t, f := range c.Terms {
			chunkIDs = append(chunkIDs, ids[i])
			terms = append(terms, t)
			tfs = append(tfs, f)
			dls = append(dls, float32(max(c.TokenCount, 1)))
			df[t]++
		}
	}
	if len(terms) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO kb_terms (chunk_id, term, tf, dl, kind)
		SELECT u.chunk_id, u.term, u.tf, u.dl, $5 FROM unnest($1::bigint[], $2::text[], $3::real[], $4::real[]) AS u(chunk_id, term, tf, dl)`,
		chunkIDs, terms, tfs, dls, string(doc.Kind))
	if err != nil {
		return fmt.Errorf("index the words of %s: %w", doc.Source, err)
	}
	statTerms := make([]string, 0, len(df))
	statDF := make([]int32, 0, len(df))
	for t, n := range df {
		statTerms = append(statTerms, t)
		statDF = append(statDF, n)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO kb_term_stats (term, df)
		SELECT u.term, u.df FROM unnest($1::text[], $2::int[]) AS u(term, df)
		ON CONFLICT (term) DO UPDATE SET df = kb_term_stats.df + EXCLUDED.df`, statTerms, statDF)
	if err != nil {
		return fmt.Errorf("count the words of %s: %w", doc.Source, err)
	}
	return nil
}

// deleteDocument removes a document with its chunks and takes its terms
// out of the document frequencies.
func deleteDocument(ctx context.Context, tx pgx.Tx, docID int64) error {
	_, err := tx.Exec(ctx, `
		UPDATE kb_term_stats s SET df = s.df - x.n
		FROM (SELECT t.term, count(*)::int AS n FROM kb_terms t JOIN kb_chunks c ON c.id = t.chunk_id
		      WHERE c.document_id = $1 GROUP BY t.term) x
		WHERE s.term = x.term`, docID)
	if err != nil {
		return fmt.Errorf("uncount the words: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM kb_documents WHERE id = $1`, docID); err != nil {
		return err
	}
	return nil
}

// variants is never nil: the column is NOT NULL.
func variants(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// Analyze refreshes the planner's statistics after a load, so that
// searches read postings by index rather than scanning them all.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `ANALYZE kb_chunks, kb_terms, kb_term_stats`); err != nil {
		return fmt.Errorf("analyze the knowledge base: %w", err)
	}
	return nil
}

// DeleteDocument removes a document and its chunks.
func (s *Store) DeleteDocument(ctx context.Context, source string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM kb_documents WHERE source = $1 FOR UPDATE`, source).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: 知识库中没有文档 %s", huiyin.ErrNotFound, source)
		}
		if err != nil {
			return fmt.Errorf("delete document %s: %w", source, err)
		}
		if err := deleteDocument(ctx, tx, id); err != nil {
			return fmt.Errorf("delete document %s: %w", source, err)
		}
		return nil
	})
}

// Documents lists the stored documents.
func (s *Store) Documents(ctx context.Context) ([]knowledge.DocumentInfo, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT d.source, d.title, d.kind, d.origin, count(c.id)::int
		FROM kb_documents d LEFT JOIN kb_chunks c ON c.document_id = d.id
		GROUP BY d.id ORDER BY d.source`)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.DocumentInfo, error) {
		var d knowledge.DocumentInfo
		var kind string
		err := r.Scan(&d.Source, &d.Title, &kind, &d.Origin, &d.Chunks)
		d.Kind = knowledge.Kind(kind)
		return d, err
	})
}

// kindFilter turns a kind list into a text array; nil means every kind.
func kindFilter(kinds []knowledge.Kind) []string {
	if len(kinds) == 0 {
		return nil
	}
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// VectorSearch returns the k chunks nearest to vec by cosine similarity.
func (s *Store) VectorSearch(ctx context.Context, vec []float32, k int, kinds []knowledge.Kind) ([]knowledge.Ranked, error) {
	dim, err := s.dimension(ctx)
	if err != nil {
		return nil, err
	}
	if len(vec) != dim {
		return nil, fmt.Errorf("%w: 查询向量为 %d 维，索引为 %d 维；请检查嵌入模型配置或运行 huiyin ingest --reindex",
			huiyin.ErrConflict, len(vec), dim)
	}
	// The cast to vector(dim) matches the index expression.
	cast := fmt.Sprintf("vector(%d)", dim)
	q := `SELECT id, 1 - (embedding::` + cast + ` <=> $1::` + cast + `) AS sim
		FROM kb_chunks
		WHERE embedding IS NOT NULL AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
		ORDER BY embedding::` + cast + ` <=> $1::` + cast + `
		LIMIT $3`
	rows, err := s.pool.Query(ctx, q, pgvector.NewVector(vec), kindFilter(kinds), k)
	if err != nil {
		return nil, fmt.Errorf("vector search: %w", err)
	}
	return collectRanked(rows)
}

// postingBudget bounds how many postings one keyword search reads: the
// query's terms are taken rarest first until their postings reach it, so
// that common words (物业, 小区) cost nothing and add little (a low IDF).
const postingBudget = 6000

// KeywordSearch scores chunks by BM25 over the stored terms. terms and
// weights run in parallel: a weight below one marks an expansion (a
// synonym, a character pair) that counts for less than a whole word. The
// scores are divided by the best score the question could reach, so that
// they say how much of the question a chunk matches.
func (s *Store) KeywordSearch(ctx context.Context, terms []string, weights []float32, k int, kinds []knowledge.Kind) ([]knowledge.Ranked, error) {
	if len(terms) == 0 {
		return nil, nil
	}
	if len(weights) != len(terms) {
		return nil, fmt.Errorf("%w: %d terms but %d weights", huiyin.ErrInvalid, len(terms), len(weights))
	}
	var n int64
	var avgdl float64
	rows, err := s.pool.Query(ctx, `
		SELECT term, df, (SELECT count(*) FROM kb_chunks), (SELECT coalesce(avg(token_count), 1)::float8 FROM kb_chunks)
		FROM kb_term_stats WHERE term = ANY($1::text[]) AND df > 0 ORDER BY df, term`, terms)
	if err != nil {
		return nil, fmt.Errorf("keyword search: %w", err)
	}
	weightOf := make(map[string]float32, len(terms))
	for i, t := range terms {
		weightOf[t] = max(weightOf[t], weights[i])
	}
	var keep []string
	var keepW, keepIDF []float64
	read := int64(0)
	found := map[string]int64{}
	for rows.Next() {
		var term string
		var df int64
		if err := rows.Scan(&term, &df, &n, &avgdl); err != nil {
			rows.Close()
			return nil, fmt.Errorf("keyword search: %w", err)
		}
		found[term] = df
		if len(keep) > 0 && read+df > postingBudget {
			continue
		}
		read += df
		keep = append(keep, term)
		keepW = append(keepW, float64(weightOf[term]))
		keepIDF = append(keepIDF, math.Log(1+(float64(n)-float64(df)+0.5)/(float64(df)+0.5)))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keyword search: %w", err)
	}
	if len(keep) == 0 {
		return nil, nil
	}
	// The best score the question could get: every term matched once. A
	// word the knowledge base never uses counts at the highest IDF, so a
	// question about something it does not cover scores low.
	best := 0.0
	for t, w := range weightOf {
		best += float64(w) * math.Log(1+(float64(n)-float64(found[t])+0.5)/(float64(found[t])+0.5))
	}
	// BM25 with k1 = 1.2, b = 0.75, the IDF weighted by how much the term
	// is the owner's own word.
	rows, err = s.pool.Query(ctx, `
		SELECT t.chunk_id, sum(q.w * t.tf * 2.2 / (t.tf + 1.2 * (0.25 + 0.75 * t.dl / $3::float8)))::float8 AS score
		FROM unnest($1::text[], $2::float8[]) AS q(term, w)
		JOIN kb_terms t ON t.term = q.term
		WHERE t.term = ANY($1::text[]) -- lets the planner read the postings by index
		  AND ($4::text[] IS NULL OR t.kind = ANY($4::text[]))
		GROUP BY t.chunk_id
		ORDER BY score DESC, t.chunk_id
		LIMIT $5`, keep, weighted(keepW, keepIDF), avgdl, kindFilter(kinds), k)
	if err != nil {
		return nil, fmt.Errorf("keyword search: %w", err)
	}
	ranked, err := collectRanked(rows)
	if err != nil {
		return nil, err
	}
	for i := range ranked {
		ranked[i].Score /= best
	}
	return ranked, nil
}

func weighted(w, idf []float64) []float64 {
	out := make([]float64, len(w))
	for i := range w {
		out[i] = w[i] * idf[i]
	}
	return out
}

func collectRanked(rows pgx.Rows) ([]knowledge.Ranked, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.Ranked, error) {
		var h knowledge.Ranked
		err := r.Scan(&h.ID, &h.Score)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("read search results: %w", err)
	}
	return out, nil
}

// Chunks returns the stored chunks with the given ids, with their
// documents, in the order of ids (missing ids are left out).
func (s *Store) Chunks(ctx context.Context, ids []int64) ([]knowledge.StoredChunk, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT c.id, d.source, d.title, d.kind, d.origin, c.section, c.heading, c.category, c.question, c.body, c.variants
		FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
		WHERE c.id = ANY($1::bigint[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("read chunks: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (knowledge.StoredChunk, error) {
		var c knowledge.StoredChunk
		var kind string
		err := r.Scan(&c.ID, &c.Source, &c.Doc, &kind, &c.Origin, &c.Section, &c.Heading, &c.Category, &c.Question, &c.Text, &c.Variants)
		c.Kind = knowledge.Kind(kind)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read chunks: %w", err)
	}
	byID := make(map[int64]knowledge.StoredChunk, len(found))
	for _, c := range found {
		byID[c.ID] = c
	}
	out := make([]knowledge.StoredChunk, 0, len(ids))
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// ChunksOfKind lists every chunk of one kind (the script library, say),
// in document and chunk order.
func (s *Store) ChunksOfKind(ctx context.Context, kind knowledge.Kind) ([]knowledge.StoredChunk, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT c.id FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
		WHERE c.kind = $1 ORDER BY d.source, c.ordinal`, string(kind))
	if err != nil {
		return nil, fmt.Errorf("list %s chunks: %w", kind, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list %s chunks: %w", kind, err)
	}
	return s.Chunks(ctx, ids)
}
