// Package kbstore keeps the knowledge base in PostgreSQL with pgvector:
// documents, chunks with their embeddings (HNSW index) and the keyword index
// over jieba tokens scored with BM25. All of the knowledge layer's SQL lives
// here; package knowledge decides what to store and how to fuse the two
// rankings.
package kbstore
