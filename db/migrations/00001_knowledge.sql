-- +goose Up
-- The knowledge base: documents, their chunks with embeddings, and the
-- keyword index over jieba tokens that hybrid retrieval fuses with the
-- vector search.
CREATE EXTENSION IF NOT EXISTS vector;

-- kb_index records which embedder produced the stored vectors; a different
-- embedder (name or dimension) needs `huiyin ingest --reindex`.
CREATE TABLE kb_index (
    id         smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    embedder   text        NOT NULL,
    dim        integer     NOT NULL CHECK (dim > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kb_documents (
    id         bigserial PRIMARY KEY,
    source     text        NOT NULL UNIQUE,
    title      text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('standard', 'faq', 'script', 'law')),
    origin     text        NOT NULL DEFAULT '',
    checksum   text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The vector column has no fixed dimension so that a configured embedder of
-- any size fits; the HNSW index is an expression index on the dimension in
-- kb_index, created by the store when it (re)indexes.
CREATE TABLE kb_chunks (
    id          bigserial PRIMARY KEY,
    document_id bigint  NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    kind        text    NOT NULL,
    section     text    NOT NULL,
    heading     text    NOT NULL DEFAULT '',
    category    text    NOT NULL DEFAULT '',
    question    text    NOT NULL DEFAULT '',
    body        text    NOT NULL,
    variants    text[]  NOT NULL DEFAULT '{}', -- owners' phrasings (相似问), searched, never shown
    token_count integer NOT NULL DEFAULT 0,
    embedding   vector,
    UNIQUE (document_id, ordinal)
);
CREATE INDEX kb_chunks_kind ON kb_chunks (kind);

-- Keyword index: one row per (chunk, term) with the term's frequency,
-- scored with BM25 at query time. The chunk's length and kind are copied
-- in so that scoring reads the postings alone.
CREATE TABLE kb_terms (
    chunk_id bigint NOT NULL REFERENCES kb_chunks (id) ON DELETE CASCADE,
    term     text   NOT NULL,
    tf       real   NOT NULL,
    dl       real   NOT NULL,
    kind     text   NOT NULL,
    PRIMARY KEY (term, chunk_id)
);
CREATE INDEX kb_terms_chunk ON kb_terms (chunk_id);

-- Document frequency of each term, kept with the postings, so that a query
-- can skip its commonest terms and read few postings.
CREATE TABLE kb_term_stats (
    term text    PRIMARY KEY,
    df   integer NOT NULL CHECK (df >= 0)
);

-- +goose Down
DROP TABLE kb_term_stats;
DROP TABLE kb_terms;
DROP TABLE kb_chunks;
DROP TABLE kb_documents;
DROP TABLE kb_index;
