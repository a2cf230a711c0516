package api

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
)

// KnowledgeBase is what the console's knowledge page works with: search
// as the chatbot searches, the stored documents and FAQ entries, uploads
// and FAQ edits.
type KnowledgeBase interface {
	Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error)
	Documents(ctx context.Context) ([]knowledge.DocumentInfo, error)
	ChunksOfKind(ctx context.Context, kind knowledge.Kind) ([]knowledge.StoredChunk, error)
	Upload(ctx context.Context, filename string, kind knowledge.Kind, data []byte, by string) (knowledge.DocumentInfo, error)
	EditFAQ(ctx context.Context, id int64, question, answer, by string) (knowledge.StoredChunk, error)
}

// uploadPath is the one route allowed bodies above Config.BodyLimit.
const uploadPath = "/api/v1/knowledge/documents"

type searchHit struct {
	ID         int64   `json:"id"`
	Doc        string  `json:"doc"`
	Source     string  `json:"source"`
	Kind       string  `json:"kind"`
	Section    string  `json:"section"`
	Heading    string  `json:"heading"`
	Category   string  `json:"category"`
	Question   string  `json:"question,omitempty"`
	Text       string  `json:"text"`
	Score      float64 `json:"score"`
	Similarity float64 `json:"similarity"`
	Keyword    float64 `json:"keyword"`
}

// searchKnowledge shows what the chatbot would answer to q and the chunks
// retrieval found, with their scores.
func (s *server) searchKnowledge(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	if q == "" {
		return fmt.Errorf("%w: 请输入要搜索的问题", huiyin.ErrInvalid)
	}
	if !utf8.ValidString(q) {
		return fmt.Errorf("%w: 搜索内容不是有效的 UTF-8 文本", huiyin.ErrInvalid)
	}
	if utf8.RuneCountInString(q) > 500 {
		return fmt.Errorf("%w: 搜索内容最多 500 个字符", huiyin.ErrInvalid)
	}
	var kinds []knowledge.Kind
	if k := c.Query("kind"); k != "" {
		kind, err := knowledge.ParseKind(k)
		if err != nil {
			return err
		}
		kinds = []knowledge.Kind{kind}
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RequestTimeout)
	defer cancel()
	hits, err := s.d.Knowledge.Search(ctx, knowledge.Query{Text: q, K: 8, Kinds: kinds})
	if err != nil {
		return err
	}
	out := make([]searchHit, len(hits))
	for i, h := range hits {
		out[i] = searchHit{ID: h.ID, Doc: h.Doc, Source: h.Source, Kind: string(h.Kind), Section: h.Section, Heading: h.Heading,
			Category: h.Category, Question: h.Question, Text: h.Text, Score: h.Score, Similarity: h.Similarity, Keyword: h.Keyword}
	}
	resp := fiber.Map{"hits": out}
	if s.d.Answerer != nil {
		a, err := s.ask(ctx, q, time.Now())
		if err != nil {
			return err
		}
		resp["answer"] = a
	}
	return c.JSON(resp)
}

func (s *server) knowledgeDocuments(c *fiber.Ctx) error {
	docs, err := s.d.Knowledge.Documents(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]fiber.Map, len(docs))
	for i, d := range docs {
		out[i] = fiber.Map{"source": d.Source, "title": d.Title, "kind": d.Kind, "origin": d.Origin, "chunks": d.Chunks}
	}
	return c.JSON(fiber.Map{"documents": out})
}

type faqEntry struct {
	ID       int64  `json:"id"`
	Doc      string `json:"doc"`
	Source   string `json:"source"`
	Category string `json:"category"`
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

func faqEntryOf(ch knowledge.StoredChunk) faqEntry {
	return faqEntry{ID: ch.ID, Doc: ch.Doc, Source: ch.Source, Category: ch.Category, Question: ch.Question, Answer: ch.Text}
}

func (s *server) faqEntries(c *fiber.Ctx) error {
	chunks, err := s.d.Knowledge.ChunksOfKind(c.UserContext(), knowledge.KindFAQ)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.Query("q"))
	out := make([]faqEntry, 0, len(chunks))
	for _, ch := range chunks {
		if ch.Question == "" {
			continue
		}
		if q != "" && !strings.Contains(ch.Question, q) && !strings.Contains(ch.Text, q) {
			continue
		}
		out = append(out, faqEntryOf(ch))
	}
	return c.JSON(fiber.Map{"entries": out})
}

type faqEditRequest struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

func (s *server) editFAQ(c *fiber.Ctx) error {
	var req faqEditRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ch, err := s.d.Knowledge.EditFAQ(c.UserContext(), id, req.Question, req.Answer, principal(c).Actor)
	if err != nil {
		return err
	}
	return c.JSON(faqEntryOf(ch))
}

// uploadDocument takes a multipart form with the file in "file" and an
// optional "kind".
func (s *server) uploadDocument(c *fiber.Ctx) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return fmt.Errorf("%w: 请选择要上传的文件（表单字段 file）", huiyin.ErrInvalid)
	}
	if fh.Size > knowledge.MaxDocumentBytes {
		return fmt.Errorf("%w: 文件过大（上限 %d MiB）", huiyin.ErrInvalid, knowledge.MaxDocumentBytes>>20)
	}
	var kind knowledge.Kind
	if k := c.FormValue("kind"); k != "" {
		if kind, err = knowledge.ParseKind(k); err != nil {
			return err
		}
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, knowledge.MaxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Minute)
	defer cancel()
	info, err := s.d.Knowledge.Upload(ctx, fh.Filename, kind, data, principal(c).Actor)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"source": info.Source, "title": info.Title, "kind": info.Kind, "chunks": info.Chunks})
}
