package knowledge

import (
	"fmt"

	"github.com/huiyin/huiyin"
)

// Kind is the kind of a knowledge-base document. Retrieval can be limited
// to some kinds: the chatbot answers from FAQ and standards, reply drafts
// also draw on scripts and laws.
type Kind string

// The document kinds.
const (
	KindStandard Kind = "standard" // the company's published service standards and procedures
	KindFAQ      Kind = "faq"      // curated question–answer pairs, answered as written
	KindScript   Kind = "script"   // the script library (话术库): reply patterns per situation
	KindLaw      Kind = "law"      // laws, regulations and judicial interpretations, cited by article
)

// Kinds lists every kind, in a fixed order.
var Kinds = []Kind{KindStandard, KindFAQ, KindScript, KindLaw}

// ParseKind checks a kind's wire value.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w: 未知的文档类型 %q（可选 standard、faq、script、law）", huiyin.ErrInvalid, s)
}

// Document is one source document, cut into chunks by its structure.
type Document struct {
	// Title is the document's title as cited: for a law the title as
	// published (中华人民共和国民法典, 物业管理条例).
	Title string
	Kind  Kind
	// Source identifies the document within the knowledge base (the path
	// it was loaded from, such as faq/fees.md); loading a document with the
	// same source again replaces it.
	Source string
	// Origin says where the text comes from, for laws the published source
	// and version; empty for the team's own documents.
	Origin string
	Chunks []Chunk
}

// Chunk is the unit of retrieval and citation: one FAQ entry, one section
// of a standard, one situation of the script library, one law article.
type Chunk struct {
	// Section is what a citation names: the heading of a section, the FAQ
	// question, or a law article as written (第九百四十四条).
	Section string
	// Heading is the path of headings above the chunk (第二十四章 物业服务合同),
	// for display and as retrieval context.
	Heading string
	// Category is the triage category the chunk is about (a taxonomy wire
	// value), when the document says so; retrieval prefers chunks of the
	// category of the question.
	Category string
	// Question is an FAQ entry's question; Text is then its answer as
	// written, which the chatbot returns unchanged.
	Question string
	// Text is the chunk's content.
	Text string
	// Variants are the ways owners ask for this chunk (相似问); they are
	// searched with it but never shown.
	Variants []string `json:",omitempty"`
}

// Citation is a source a reply or answer rests on.
type Citation struct {
	Doc     string  `json:"doc"`
	Section string  `json:"section"`
	Score   float64 `json:"score"`
	// Source is the document's path in the knowledge base (faq/fees.md),
	// which tells apart documents of one title (two excerpts of 民法典).
	Source string `json:"source,omitempty"`
}
