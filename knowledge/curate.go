package knowledge

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
)

// Upload is a document staff added to the knowledge base from the console,
// kept as uploaded so that a rebuilt index includes it again.
type Upload struct {
	Source   string    `json:"source"` // uploads/<file name>
	Filename string    `json:"filename"`
	Kind     Kind      `json:"kind"`
	Data     []byte    `json:"-"`
	By       string    `json:"uploaded_by"`
	At       time.Time `json:"uploaded_at"`
}

// FAQEdit replaces one FAQ entry's question and answer. Question is the
// entry's question as first loaded, which identifies it across edits.
type FAQEdit struct {
	Source      string    `json:"source"`
	Question    string    `json:"question"`
	NewQuestion string    `json:"new_question"`
	Answer      string    `json:"answer"`
	By          string    `json:"edited_by"`
	At          time.Time `json:"edited_at"`
}

// CurationStore keeps uploads and FAQ edits; kbstore.Store is one.
type CurationStore interface {
	Uploads(ctx context.Context) ([]Upload, error)
	SaveUpload(ctx context.Context, u Upload) error
	FAQEdits(ctx context.Context) ([]FAQEdit, error)
	// SaveFAQEdit stores e, first mapping e.Question (the entry's current
	// question) to the question it was first loaded with.
	SaveFAQEdit(ctx context.Context, e FAQEdit) (FAQEdit, error)
}

// Limits of console edits.
const (
	MaxFAQQuestionRunes = 200
	MaxFAQAnswerRunes   = 4000
	uploadPrefix        = "uploads/"
)

// Curator changes the knowledge base from the console: it uploads
// documents and edits FAQ entries, keeping each change in its store and
// applying it to the index at once.
type Curator struct {
	index    Index
	ingester *Ingester
	store    CurationStore
	// mu serialises changes: an FAQ edit re-indexes its whole document
	// from the index, and two at once would each drop the other's entry.
	// (Replicas each hold their own; `huiyin ingest` settles the index from
	// the stored changes.)
	mu sync.Mutex
}

// NewCurator returns a curator writing to index through ingester.
func NewCurator(index Index, ingester *Ingester, store CurationStore) *Curator {
	return &Curator{index: index, ingester: ingester, store: store}
}

// Upload parses a file (Markdown, text, HTML or Word), stores it under
// uploads/ and indexes it; a file of the same name replaces the earlier
// upload. kind, when set, overrides what the file says of itself.
func (c *Curator) Upload(ctx context.Context, filename string, kind Kind, data []byte, by string) (DocumentInfo, error) {
	name := path.Base(strings.ReplaceAll(strings.TrimSpace(filename), `\`, "/"))
	if name == "" || name == "." || name == "/" || !utf8.ValidString(name) || len([]rune(name)) > 100 ||
		strings.ContainsFunc(name, unicode.IsControl) {
		return DocumentInfo{}, fmt.Errorf("%w: 文件名无效（最多 100 个字符）", huiyin.ErrInvalid)
	}
	if kind != "" {
		if _, err := ParseKind(string(kind)); err != nil {
			return DocumentInfo{}, err
		}
	}
	u := Upload{Source: uploadPrefix + name, Filename: name, Kind: kind, Data: data, By: by}
	doc, err := u.Document()
	if err != nil {
		return DocumentInfo{}, err
	}
	u.Kind = doc.Kind
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.store.SaveUpload(ctx, u); err != nil {
		return DocumentInfo{}, err
	}
	// An FAQ uploaded again keeps the edits made to its entries since.
	edits, err := c.store.FAQEdits(ctx)
	if err != nil {
		return DocumentInfo{}, err
	}
	docs, _ := ApplyCuration([]Document{doc}, nil, edits)
	doc = docs[0]
	if _, err := c.ingester.Ingest(ctx, []Document{doc}, false); err != nil {
		return DocumentInfo{}, fmt.Errorf("index %s: %w", u.Source, err)
	}
	return DocumentInfo{Source: doc.Source, Title: doc.Title, Kind: doc.Kind, Origin: doc.Origin, Chunks: len(doc.Chunks)}, nil
}

// Document parses the upload.
func (u Upload) Document() (Document, error) {
	doc, err := ParseDocument(u.Filename, u.Data)
	if err != nil {
		return Document{}, err
	}
	doc.Source = u.Source
	if u.Kind != "" {
		doc.Kind = u.Kind
	}
	if doc.Kind == KindFAQ && !hasQuestions(doc) {
		return Document{}, fmt.Errorf("%w: %s 作为常见问题导入，但没有找到问答条目（每个问题一个二级标题，下面写答案）", huiyin.ErrInvalid, u.Filename)
	}
	return doc, nil
}

// isBadControl allows the line breaks and tabs an answer may have.
func isBadControl(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }

func hasQuestions(doc Document) bool {
	for _, ch := range doc.Chunks {
		if ch.Question != "" {
			return true
		}
	}
	return false
}

// EditFAQ replaces the question and answer of the FAQ entry stored as
// chunk id, and re-indexes its document. It returns the entry as stored.
func (c *Curator) EditFAQ(ctx context.Context, id int64, question, answer, by string) (StoredChunk, error) {
	question, answer = strings.TrimSpace(question), strings.TrimSpace(answer)
	switch {
	case question == "" || answer == "":
		return StoredChunk{}, fmt.Errorf("%w: 问题和答案都不能为空", huiyin.ErrInvalid)
	case !utf8.ValidString(question) || !utf8.ValidString(answer):
		return StoredChunk{}, fmt.Errorf("%w: 问题或答案不是有效的 UTF-8 文本", huiyin.ErrInvalid)
	case strings.ContainsFunc(question, unicode.IsControl) || strings.ContainsFunc(answer, isBadControl):
		return StoredChunk{}, fmt.Errorf("%w: 问题或答案含有控制字符", huiyin.ErrInvalid)
	case utf8.RuneCountInString(question) > MaxFAQQuestionRunes:
		return StoredChunk{}, fmt.Errorf("%w: 问题最多 %d 个字符", huiyin.ErrInvalid, MaxFAQQuestionRunes)
	case utf8.RuneCountInString(answer) > MaxFAQAnswerRunes:
		return StoredChunk{}, fmt.Errorf("%w: 答案最多 %d 个字符", huiyin.ErrInvalid, MaxFAQAnswerRunes)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	found, err := c.index.Chunks(ctx, []int64{id})
	if err != nil {
		return StoredChunk{}, err
	}
	if len(found) == 0 || found[0].Kind != KindFAQ || found[0].Question == "" {
		return StoredChunk{}, fmt.Errorf("%w: 常见问题条目 %d 不存在", huiyin.ErrNotFound, id)
	}
	entry := found[0]
	all, err := c.index.ChunksOfKind(ctx, KindFAQ)
	if err != nil {
		return StoredChunk{}, err
	}
	doc := Document{Title: entry.Doc, Kind: KindFAQ, Source: entry.Source, Origin: entry.Origin}
	for _, ch := range all {
		if ch.Source == entry.Source {
			doc.Chunks = append(doc.Chunks, ch.Chunk)
		}
	}
	edit, err := c.store.SaveFAQEdit(ctx, FAQEdit{Source: entry.Source, Question: entry.Question, NewQuestion: question, Answer: answer, By: by})
	if err != nil {
		return StoredChunk{}, err
	}
	// The stored chunks carry the current question, so the edit applies by
	// it rather than by the question first loaded.
	current := edit
	current.Question = entry.Question
	docs, _ := ApplyCuration([]Document{doc}, nil, []FAQEdit{current})
	doc = docs[0]
	if _, err := c.ingester.Ingest(ctx, []Document{doc}, false); err != nil {
		return StoredChunk{}, fmt.Errorf("re-index %s: %w", doc.Source, err)
	}
	entry.Question, entry.Section, entry.Text = question, question, answer
	return entry, nil
}

// ApplyCuration returns docs with the uploads added (an upload replaces a
// document of the same source) and the FAQ edits applied. An upload that no
// longer parses is left out, with its error returned.
func ApplyCuration(docs []Document, uploads []Upload, edits []FAQEdit) ([]Document, []error) {
	out := make([]Document, 0, len(docs)+len(uploads))
	out = append(out, docs...)
	var errs []error
	for _, u := range uploads {
		doc, err := u.Document()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		replaced := false
		for i := range out {
			if out[i].Source == doc.Source {
				out[i], replaced = doc, true
			}
		}
		if !replaced {
			out = append(out, doc)
		}
	}
	if len(edits) == 0 {
		return out, errs
	}
	type key struct{ source, question string }
	byEntry := make(map[key]FAQEdit, len(edits))
	for _, e := range edits {
		byEntry[key{e.Source, e.Question}] = e
	}
	for i, d := range out {
		if d.Kind != KindFAQ {
			continue
		}
		chunks := make([]Chunk, len(d.Chunks))
		copy(chunks, d.Chunks)
		for j, ch := range chunks {
			if e, ok := byEntry[key{d.Source, ch.Question}]; ok && ch.Question != "" {
				chunks[j].Question, chunks[j].Section, chunks[j].Text = e.NewQuestion, e.NewQuestion, e.Answer
			}
		}
		out[i].Chunks = chunks
	}
	return out, errs
}
