package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/triage"
)

// Record is one labelled message in the format of eval/testdata and
// shared/realworld: the label contract's fields plus the style tags and
// the categories of further problems.
type Record struct {
	ID        string            `json:"id"`
	Text      string            `json:"text"`
	Category  triage.Category   `json:"category"`
	Intent    triage.Intent     `json:"intent"`
	Urgency   triage.Urgency    `json:"urgency"`
	Sentiment triage.Sentiment  `json:"sentiment"`
	Risks     []triage.Risk     `json:"risks"`
	Location  triage.Location   `json:"location"`
	Secondary []triage.Category `json:"secondary,omitempty"`
	Tags      []string          `json:"tags,omitempty"`
}

// ReadRecords reads JSON Lines of labelled messages. Every label must be a
// wire value of the contract and every id unique; the error names the line.
func ReadRecords(r io.Reader) ([]Record, error) {
	var out []Record
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		raw := strings.TrimSpace(sc.Text())
		if raw == "" {
			continue
		}
		var rec Record
		dec := json.NewDecoder(strings.NewReader(raw))
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", huiyin.ErrInvalid, line, err)
		}
		if err := rec.Validate(); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if prev, ok := seen[rec.ID]; ok {
			return nil, fmt.Errorf("%w: line %d: id %q already on line %d", huiyin.ErrInvalid, line, rec.ID, prev)
		}
		seen[rec.ID] = line
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	return out, nil
}

// Validate checks a record against the label contract.
func (r *Record) Validate() error {
	if r.ID == "" {
		return fmt.Errorf("%w: record without id", huiyin.ErrInvalid)
	}
	if strings.TrimSpace(r.Text) == "" {
		return fmt.Errorf("%w: record %s has no text", huiyin.ErrInvalid, r.ID)
	}
	if _, err := triage.ParseCategory(string(r.Category)); err != nil {
		return fmt.Errorf("record %s: %w", r.ID, err)
	}
	if _, err := triage.ParseIntent(string(r.Intent)); err != nil {
		return fmt.Errorf("record %s: %w", r.ID, err)
	}
	if _, err := triage.ParseUrgency(string(r.Urgency)); err != nil {
		return fmt.Errorf("record %s: %w", r.ID, err)
	}
	if _, err := triage.ParseSentiment(string(r.Sentiment)); err != nil {
		return fmt.Errorf("record %s: %w", r.ID, err)
	}
	for _, risk := range r.Risks {
		if _, err := triage.ParseRisk(string(risk)); err != nil {
			return fmt.Errorf("record %s: %w", r.ID, err)
		}
	}
	if !slices.IsSorted(r.Risks) || len(slices.Compact(slices.Clone(r.Risks))) != len(r.Risks) {
		return fmt.Errorf("%w: record %s: risks must be sorted and unique", huiyin.ErrInvalid, r.ID)
	}
	for _, c := range r.Secondary {
		if _, err := triage.ParseCategory(string(c)); err != nil {
			return fmt.Errorf("record %s secondary: %w", r.ID, err)
		}
		if c == r.Category {
			return fmt.Errorf("%w: record %s: secondary repeats the category", huiyin.ErrInvalid, r.ID)
		}
	}
	if r.Location.Area != "" && !strings.Contains(r.Text, r.Location.Area) && !strings.Contains(r.Text, strings.Replace(r.Location.Area, "号电梯", "", 1)) {
		return fmt.Errorf("%w: record %s: area %q is not in the text", huiyin.ErrInvalid, r.ID, r.Location.Area)
	}
	return nil
}

// Example turns a record into a training example.
func (r *Record) Example() triage.Example {
	return triage.Example{
		ID: r.ID, Text: r.Text, Category: r.Category, Intent: r.Intent,
		Urgency: r.Urgency, Sentiment: r.Sentiment, Risks: r.Risks, Secondary: r.Secondary,
	}
}
