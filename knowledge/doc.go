// Package knowledge is huiyin's knowledge layer: the documents of the
// knowledge base (service standards, FAQ, script library, laws), their
// chunks and embeddings, hybrid retrieval, and grounded answers and reply
// drafts with citations.
//
// Embedders turn text into vectors. The offline embedder needs nothing but
// the jieba segmentation and is the default everywhere, including triage's
// embedding vote; an OpenAI-compatible embedder plugs in behind the same
// interface when one is configured.
package knowledge
