package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/huiyin/huiyin/knowledge"
)

// ReplyCase is one owner message for the reply rubric, with words a good
// reply must repeat to show it understood the specific problem.
type ReplyCase struct {
	ID          string   `json:"id"`
	Text        string   `json:"text"`
	MustMention []string `json:"must_mention"`
}

// ReadReplyCases reads JSON Lines of reply cases.
func ReadReplyCases(r io.Reader) ([]ReplyCase, error) {
	return readJSONL(r, func(c ReplyCase) (string, error) {
		if c.ID == "" || strings.TrimSpace(c.Text) == "" {
			return "", errors.New("id and text are required")
		}
		return c.ID, nil
	})
}

// Drafter drafts replies; knowledge.Assistant is one.
type Drafter interface {
	Draft(ctx context.Context, message string, received time.Time) (knowledge.Draft, error)
}

// RepliesReport is the reply rubric over a set of messages.
type RepliesReport struct {
	Cases    int            `json:"cases"`
	Passed   int            `json:"passed"`
	PassRate float64        `json:"pass_rate"`
	Failures []ReplyFailure `json:"failures"`
	// Rule counts failures by rule, for a quick look at what goes wrong.
	MeanRunes float64 `json:"mean_runes"`
	Latency   Latency `json:"latency"`
}

// ReplyFailure is a draft that broke the rubric.
type ReplyFailure struct {
	ID       string   `json:"id"`
	Problems []string `json:"problems"`
	Reply    string   `json:"reply"`
}

// Replies drafts a reply to every case and checks it with the rubric:
// mentions the problem, states the policy's deadline and no other, cites a
// source, carries the ticket placeholder, no forbidden phrase, no personal
// data, length within bounds.
func Replies(ctx context.Context, d Drafter, cases []ReplyCase, now time.Time) (RepliesReport, error) {
	rep := RepliesReport{Cases: len(cases)}
	var took []time.Duration
	runes := 0
	for _, c := range cases {
		start := time.Now()
		dr, err := d.Draft(ctx, c.Text, now)
		if err != nil {
			return rep, fmt.Errorf("draft %s: %w", c.ID, err)
		}
		took = append(took, time.Since(start))
		runes += utf8.RuneCountInString(dr.Reply)
		cites := dr.Citations
		if cites == nil {
			cites = []knowledge.Citation{}
		}
		problems := knowledge.CheckReply(dr.Reply, dr.Triage, knowledge.ReplyCheck{
			MustMention: c.MustMention, Message: c.Text, Citations: cites,
		})
		if len(problems) == 0 {
			rep.Passed++
			continue
		}
		rep.Failures = append(rep.Failures, ReplyFailure{ID: c.ID, Problems: problems, Reply: dr.Reply})
	}
	if rep.Cases > 0 {
		rep.PassRate = float64(rep.Passed) / float64(rep.Cases)
		rep.MeanRunes = float64(runes) / float64(rep.Cases)
	}
	rep.Latency = latencyOf(took)
	return rep, nil
}

// WriteText prints the report for people.
func (r RepliesReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "drafts %d  passed %d  pass rate %.3f  mean length %.0f characters\n", r.Cases, r.Passed, r.PassRate, r.MeanRunes)
	fmt.Fprintf(&b, "draft latency p50 %s  p95 %s  max %s\n", r.Latency.P50.Round(time.Microsecond),
		r.Latency.P95.Round(time.Microsecond), r.Latency.Max.Round(time.Microsecond))
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "  %s: %s\n    %s\n", f.ID, strings.Join(f.Problems, "; "), f.Reply)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
