package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
)

// Question is one retrieval question: an owner's paraphrase of an FAQ
// entry or a question a law article answers, or (with Doc empty) a
// question the knowledge base cannot answer, which must be handed off.
type Question struct {
	ID       string   `json:"id"`
	Question string   `json:"question"`
	Doc      string   `json:"doc"`     // FAQ file stem (fees) or law title
	Section  string   `json:"section"` // FAQ question or article (第九百四十四条)
	Also     []string `json:"also,omitempty"`
}

// OutOfScope reports whether the question should be handed off.
func (q Question) OutOfScope() bool { return q.Doc == "" }

// ReadQuestions reads JSON Lines of questions; ids must be unique.
func ReadQuestions(r io.Reader) ([]Question, error) {
	return readJSONL(r, func(q Question) (string, error) {
		if q.ID == "" || strings.TrimSpace(q.Question) == "" || (q.Doc == "") != (q.Section == "") {
			return "", errors.New("id and question are required, doc and section go together")
		}
		return q.ID, nil
	})
}

// readJSONL reads JSON Lines of one type; check validates a line and
// returns its id, which must be unique. Errors name the line.
func readJSONL[T any](r io.Reader, check func(T) (string, error)) ([]T, error) {
	var out []T
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		raw := strings.TrimSpace(sc.Text())
		if raw == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", huiyin.ErrInvalid, line, err)
		}
		id, err := check(v)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", huiyin.ErrInvalid, line, err)
		}
		if prev, ok := seen[id]; ok {
			return nil, fmt.Errorf("%w: line %d: id %q already on line %d", huiyin.ErrInvalid, line, id, prev)
		}
		seen[id] = line
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %T lines: %w", *new(T), err)
	}
	return out, nil
}

// Matches reports whether a retrieved chunk is the one the question
// targets: the same document (by title, source or file stem) and section.
func (q Question) Matches(h knowledge.Hit) bool {
	stem := strings.TrimSuffix(path.Base(h.Source), path.Ext(h.Source))
	if q.Doc != h.Doc && q.Doc != h.Source && q.Doc != stem {
		return false
	}
	return h.Section == q.Section || slices.Contains(q.Also, h.Section)
}

// Searcher is retrieval; knowledge.Retriever is one.
type Searcher interface {
	Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error)
}

// Asker is the chatbot; knowledge.Assistant is one.
type Asker interface {
	Ask(ctx context.Context, question string, received time.Time) (knowledge.Answer, error)
}

// RetrievalReport scores retrieval and answering.
type RetrievalReport struct {
	Questions  int     `json:"questions"`   // in scope
	RecallAt1  float64 `json:"recall_at_1"` // target found first
	RecallAt5  float64 `json:"recall_at_5"`
	MRR        float64 `json:"mrr"` // over the top 10
	Missed     []Miss  `json:"missed"`
	OutOfScope int     `json:"out_of_scope"`
	// HandedOff is the share of out-of-scope questions handed off.
	HandedOff float64 `json:"handed_off"`
	// Answered is the share of in-scope questions answered (not handed
	// off) with the target among the citations.
	Answered     float64  `json:"answered"`
	WrongAnswers []string `json:"wrongly_answered"` // out-of-scope ids answered
	Latency      Latency  `json:"latency"`
}

// Miss is an in-scope question whose target was not in the top 5.
type Miss struct {
	ID   string `json:"id"`
	Rank int    `json:"rank"` // 0: not in the top 10
	Got  string `json:"got"`  // what came first
}

// Latency summarises the time of each ask.
type Latency struct {
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	Max time.Duration `json:"max_ns"`
}

func latencyOf(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return Latency{P50: at(0.5), P95: at(0.95), Max: d[len(d)-1]}
}

// Retrieval scores search on the in-scope questions and the chatbot's
// decision on every question.
func Retrieval(ctx context.Context, s Searcher, a Asker, qs []Question, now time.Time) (RetrievalReport, error) {
	var rep RetrievalReport
	var rr float64
	var at1, at5, answered, handed int
	var took []time.Duration
	for _, q := range qs {
		start := time.Now()
		ans, err := a.Ask(ctx, q.Question, now)
		if err != nil {
			return rep, fmt.Errorf("ask %s: %w", q.ID, err)
		}
		took = append(took, time.Since(start))
		if q.OutOfScope() {
			rep.OutOfScope++
			if ans.Handoff {
				handed++
			} else {
				rep.WrongAnswers = append(rep.WrongAnswers, q.ID)
			}
			continue
		}
		rep.Questions++
		hits, err := s.Search(ctx, knowledge.Query{Text: q.Question, K: 10})
		if err != nil {
			return rep, fmt.Errorf("search %s: %w", q.ID, err)
		}
		rank := 0
		for i, h := range hits {
			if q.Matches(h) {
				rank = i + 1
				break
			}
		}
		if rank > 0 {
			rr += 1 / float64(rank)
		}
		if rank == 1 {
			at1++
		}
		if rank >= 1 && rank <= 5 {
			at5++
		} else {
			got := ""
			if len(hits) > 0 {
				got = hits[0].Doc + " " + hits[0].Section
			}
			rep.Missed = append(rep.Missed, Miss{ID: q.ID, Rank: rank, Got: got})
		}
		if !ans.Handoff && slices.ContainsFunc(ans.Citations, func(c knowledge.Citation) bool {
			return q.Matches(knowledge.Hit{StoredChunk: knowledge.StoredChunk{Doc: c.Doc, Source: c.Source, Chunk: knowledge.Chunk{Section: c.Section}}})
		}) {
			answered++
		}
	}
	if rep.Questions > 0 {
		n := float64(rep.Questions)
		rep.RecallAt1, rep.RecallAt5, rep.MRR, rep.Answered = float64(at1)/n, float64(at5)/n, rr/n, float64(answered)/n
	}
	if rep.OutOfScope > 0 {
		rep.HandedOff = float64(handed) / float64(rep.OutOfScope)
	}
	rep.Latency = latencyOf(took)
	return rep, nil
}

// WriteText prints the report for people.
func (r RetrievalReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "in-scope questions %d\n", r.Questions)
	fmt.Fprintf(&b, "  recall@1 %.3f  recall@5 %.3f  MRR@10 %.3f\n", r.RecallAt1, r.RecallAt5, r.MRR)
	fmt.Fprintf(&b, "  answered with the target cited %.3f\n", r.Answered)
	for _, m := range r.Missed {
		fmt.Fprintf(&b, "  missed %s (rank %d; first: %s)\n", m.ID, m.Rank, m.Got)
	}
	fmt.Fprintf(&b, "out-of-scope questions %d\n", r.OutOfScope)
	fmt.Fprintf(&b, "  handed off %.3f\n", r.HandedOff)
	if len(r.WrongAnswers) > 0 {
		fmt.Fprintf(&b, "  answered anyway: %s\n", strings.Join(r.WrongAnswers, " "))
	}
	fmt.Fprintf(&b, "ask latency p50 %s  p95 %s  max %s\n", r.Latency.P50.Round(time.Microsecond),
		r.Latency.P95.Round(time.Microsecond), r.Latency.Max.Round(time.Microsecond))
	_, err := io.WriteString(w, b.String())
	return err
}
