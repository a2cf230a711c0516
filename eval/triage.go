package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/triage"
)

// Triager is what the triage evaluation runs; *triage.Engine is one.
type Triager interface {
	Triage(ctx context.Context, msg triage.Message) (triage.Result, error)
}

var _ Triager = (*triage.Engine)(nil)

// TriageReport scores triage results against labelled records.
type TriageReport struct {
	Messages  int                     `json:"messages"`
	Failed    []Failure               `json:"failed"`
	Fields    map[string]*FieldReport `json:"fields"` // category, intent, urgency, sentiment
	Risks     RiskReport              `json:"risks"`
	Confusion Confusion               `json:"category_confusion"`
	Emergency EmergencyReport         `json:"emergency"`
	Location  LocationReport          `json:"location"`
	Secondary SetScore                `json:"secondary"`
	Tags      map[string]TagScore     `json:"tags,omitempty"`
}

// Failure is a record that triage refused.
type Failure struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// ClassScore is precision and recall of one label.
type ClassScore struct {
	Label     string  `json:"label"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"` // gold count
	Predicted int     `json:"predicted"`
}

// FieldReport scores a single-label field.
type FieldReport struct {
	Accuracy float64      `json:"accuracy"`
	MacroF1  float64      `json:"macro_f1"`
	Classes  []ClassScore `json:"classes"`
	// ECE is the expected calibration error of the reported confidence
	// (10 equal-width bins): 0 means confidence equals accuracy.
	ECE float64 `json:"ece"`
}

// RiskReport scores the multi-label risks.
type RiskReport struct {
	MicroPrecision float64      `json:"micro_precision"`
	MicroRecall    float64      `json:"micro_recall"`
	MicroF1        float64      `json:"micro_f1"`
	Classes        []ClassScore `json:"classes"`
	ExactSet       float64      `json:"exact_set"` // share of messages with exactly the gold risks
}

// Confusion is a confusion matrix: Matrix[gold][predicted].
type Confusion struct {
	Labels []string `json:"labels"`
	Matrix [][]int  `json:"matrix"`
}

// EmergencyReport is the count the service cares most about.
type EmergencyReport struct {
	Gold        int      `json:"gold"`
	Predicted   int      `json:"predicted"`
	Caught      int      `json:"caught"`
	Recall      float64  `json:"recall"`
	Precision   float64  `json:"precision"`
	Missed      []string `json:"missed"`       // emergencies labelled lower, with the label given
	FalseAlarms []string `json:"false_alarms"` // non-emergencies labelled emergency
}

// LocationReport scores extraction: exact match of all four parts, and each part.
type LocationReport struct {
	ExactMatch float64        `json:"exact_match"`
	Building   float64        `json:"building"`
	Unit       float64        `json:"unit"`
	Room       float64        `json:"room"`
	Area       float64        `json:"area"`
	Mismatches []LocationMiss `json:"mismatches"`
}

// LocationMiss is one record whose location was read wrong.
type LocationMiss struct {
	ID   string          `json:"id"`
	Gold triage.Location `json:"gold"`
	Got  triage.Location `json:"got"`
}

// SetScore is micro precision/recall over sets of labels.
type SetScore struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Gold      int     `json:"gold"`
}

// TagScore is how a style of message fares.
type TagScore struct {
	N        int     `json:"n"`
	Category float64 `json:"category"`
	Intent   float64 `json:"intent"`
	Urgency  float64 `json:"urgency"`
	Location float64 `json:"location"`
}

var singleFields = []string{"category", "intent", "urgency", "sentiment"}

func fieldValues(f string) []string {
	switch f {
	case "category":
		return strs(triage.Categories)
	case "intent":
		return strs(triage.Intents)
	case "urgency":
		return strs(triage.Urgencies)
	}
	return strs(triage.Sentiments)
}

func strs[T ~string](v []T) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = string(x)
	}
	return out
}

func goldAndPred(f string, r *Record, res *triage.Result) (gold, pred string, conf float64) {
	switch f {
	case "category":
		return string(r.Category), string(res.Category), res.Confidence.Category
	case "intent":
		return string(r.Intent), string(res.Intent), res.Confidence.Intent
	case "urgency":
		return string(r.Urgency), string(res.Urgency), res.Confidence.Urgency
	}
	return string(r.Sentiment), string(res.Sentiment), res.Confidence.Sentiment
}

// Triage runs t over the records and scores it. A record that triage
// refuses with ErrInvalid counts as wrong everywhere and is listed in
// Failed; any other error stops the run.
func Triage(ctx context.Context, t Triager, records []Record) (*TriageReport, error) {
	results := make([]*triage.Result, len(records))
	rep := &TriageReport{Messages: len(records), Failed: []Failure{}}
	for i := range records {
		res, err := t.Triage(ctx, triage.Message{Text: records[i].Text})
		if err != nil {
			if errors.Is(err, huiyin.ErrInvalid) {
				rep.Failed = append(rep.Failed, Failure{records[i].ID, err.Error()})
				continue
			}
			return nil, fmt.Errorf("triage %s: %w", records[i].ID, err)
		}
		results[i] = &res
	}
	score(rep, records, results)
	return rep, nil
}

func score(rep *TriageReport, records []Record, results []*triage.Result) {
	empty := &triage.Result{}
	get := func(i int) *triage.Result {
		if results[i] == nil {
			return empty
		}
		return results[i]
	}
	rep.Fields = map[string]*FieldReport{}
	for _, f := range singleFields {
		var gold, pred []string
		var conf []float64
		for i := range records {
			g, p, c := goldAndPred(f, &records[i], get(i))
			gold, pred, conf = append(gold, g), append(pred, p), append(conf, c)
		}
		rep.Fields[f] = fieldReport(fieldValues(f), gold, pred, conf)
		if f == "category" {
			rep.Confusion = confusion(fieldValues(f), gold, pred)
		}
	}
	rep.Risks = riskReport(records, get)
	rep.Emergency = emergencyReport(records, get)
	rep.Location = locationReport(records, get)
	rep.Secondary = secondaryScore(records, get)
	rep.Tags = tagScores(records, get)
}

func fieldReport(labels, gold, pred []string, conf []float64) *FieldReport {
	fr := &FieldReport{}
	right := 0
	for i := range gold {
		if gold[i] == pred[i] {
			right++
		}
	}
	fr.Accuracy = ratio(right, len(gold))
	sumF1, n := 0.0, 0
	for _, l := range labels {
		cs := classScore(l, gold, pred)
		if cs.Support == 0 && cs.Predicted == 0 {
			continue // macro-F1 over the labels that occur, as scikit-learn does
		}
		fr.Classes = append(fr.Classes, cs)
		sumF1 += cs.F1
		n++
	}
	fr.MacroF1 = sumF1 / math.Max(float64(n), 1)
	fr.ECE = ece(gold, pred, conf)
	return fr
}

func classScore(label string, gold, pred []string) ClassScore {
	var tp, fp, fn int
	for i := range gold {
		switch {
		case gold[i] == label && pred[i] == label:
			tp++
		case pred[i] == label:
			fp++
		case gold[i] == label:
			fn++
		}
	}
	return prf(label, tp, fp, fn)
}

func prf(label string, tp, fp, fn int) ClassScore {
	p, r := ratio(tp, tp+fp), ratio(tp, tp+fn)
	f1 := 0.0
	if p+r > 0 {
		f1 = 2 * p * r / (p + r)
	}
	return ClassScore{Label: label, Precision: p, Recall: r, F1: f1, Support: tp + fn, Predicted: tp + fp}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func ece(gold, pred []string, conf []float64) float64 {
	const bins = 10
	var n [bins]int
	var acc, c [bins]float64
	for i := range gold {
		b := min(int(conf[i]*bins), bins-1)
		b = max(b, 0)
		n[b]++
		c[b] += conf[i]
		if gold[i] == pred[i] {
			acc[b]++
		}
	}
	total := 0.0
	for b := range bins {
		if n[b] > 0 {
			total += math.Abs(acc[b]-c[b]) / float64(len(gold))
		}
	}
	return total
}

func confusion(labels, gold, pred []string) Confusion {
	m := Confusion{Labels: labels, Matrix: make([][]int, len(labels))}
	for i := range m.Matrix {
		m.Matrix[i] = make([]int, len(labels))
	}
	for i := range gold {
		g, p := slices.Index(labels, gold[i]), slices.Index(labels, pred[i])
		if g >= 0 && p >= 0 {
			m.Matrix[g][p]++
		}
	}
	return m
}

func riskReport(records []Record, get func(int) *triage.Result) RiskReport {
	var rr RiskReport
	var tp, fp, fn, exact int
	for _, risk := range triage.Risks {
		var rtp, rfp, rfn int
		for i := range records {
			g := slices.Contains(records[i].Risks, risk)
			p := slices.Contains(get(i).Risks, risk)
			switch {
			case g && p:
				rtp++
			case p:
				rfp++
			case g:
				rfn++
			}
		}
		tp, fp, fn = tp+rtp, fp+rfp, fn+rfn
		rr.Classes = append(rr.Classes, prf(string(risk), rtp, rfp, rfn))
	}
	for i := range records {
		if slices.Equal(records[i].Risks, get(i).Risks) || len(records[i].Risks) == 0 && len(get(i).Risks) == 0 {
			exact++
		}
	}
	all := prf("", tp, fp, fn)
	rr.MicroPrecision, rr.MicroRecall, rr.MicroF1 = all.Precision, all.Recall, all.F1
	rr.ExactSet = ratio(exact, len(records))
	return rr
}

func emergencyReport(records []Record, get func(int) *triage.Result) EmergencyReport {
	er := EmergencyReport{Missed: []string{}, FalseAlarms: []string{}}
	for i := range records {
		g := records[i].Urgency == triage.Emergency
		p := get(i).Urgency == triage.Emergency
		if g {
			er.Gold++
		}
		if p {
			er.Predicted++
		}
		switch {
		case g && p:
			er.Caught++
		case g:
			er.Missed = append(er.Missed, fmt.Sprintf("%s(%s)", records[i].ID, orNone(string(get(i).Urgency))))
		case p:
			er.FalseAlarms = append(er.FalseAlarms, records[i].ID)
		}
	}
	er.Recall = ratio(er.Caught, er.Gold)
	er.Precision = ratio(er.Caught, er.Predicted)
	if er.Gold == 0 {
		er.Recall = 1
	}
	return er
}

func orNone(s string) string {
	if s == "" {
		return "failed"
	}
	return s
}

func locationReport(records []Record, get func(int) *triage.Result) LocationReport {
	lr := LocationReport{Mismatches: []LocationMiss{}}
	var exact, b, u, r, a int
	for i := range records {
		g, p := records[i].Location, get(i).Location
		if g == p {
			exact++
		} else {
			lr.Mismatches = append(lr.Mismatches, LocationMiss{records[i].ID, g, p})
		}
		if g.Building == p.Building {
			b++
		}
		if g.Unit == p.Unit {
			u++
		}
		if g.Room == p.Room {
			r++
		}
		if g.Area == p.Area {
			a++
		}
	}
	n := len(records)
	lr.ExactMatch, lr.Building, lr.Unit, lr.Room, lr.Area = ratio(exact, n), ratio(b, n), ratio(u, n), ratio(r, n), ratio(a, n)
	return lr
}

func secondaryScore(records []Record, get func(int) *triage.Result) SetScore {
	var tp, fp, fn int
	for i := range records {
		for _, c := range get(i).Secondary {
			if slices.Contains(records[i].Secondary, c) {
				tp++
			} else {
				fp++
			}
		}
		for _, c := range records[i].Secondary {
			if !slices.Contains(get(i).Secondary, c) {
				fn++
			}
		}
	}
	s := prf("", tp, fp, fn)
	return SetScore{Precision: s.Precision, Recall: s.Recall, F1: s.F1, Gold: tp + fn}
}

func tagScores(records []Record, get func(int) *triage.Result) map[string]TagScore {
	type acc struct{ n, c, i, u, l int }
	m := map[string]*acc{}
	for i := range records {
		res := get(i)
		for _, t := range records[i].Tags {
			a := m[t]
			if a == nil {
				a = &acc{}
				m[t] = a
			}
			a.n++
			if res.Category == records[i].Category {
				a.c++
			}
			if res.Intent == records[i].Intent {
				a.i++
			}
			if res.Urgency == records[i].Urgency {
				a.u++
			}
			if res.Location == records[i].Location {
				a.l++
			}
		}
	}
	out := map[string]TagScore{}
	for t, a := range m {
		out[t] = TagScore{N: a.n, Category: ratio(a.c, a.n), Intent: ratio(a.i, a.n), Urgency: ratio(a.u, a.n), Location: ratio(a.l, a.n)}
	}
	return out
}

// WriteText prints the report for people.
func (rep *TriageReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	p("messages\t%d\tfailed\t%d\n\n", rep.Messages, len(rep.Failed))
	p("field\taccuracy\tmacro-F1\tECE\n")
	for _, f := range singleFields {
		fr := rep.Fields[f]
		p("%s\t%.3f\t%.3f\t%.3f\n", f, fr.Accuracy, fr.MacroF1, fr.ECE)
	}
	p("risks\tmicro-P %.3f\tmicro-R %.3f\tmicro-F1 %.3f\n", rep.Risks.MicroPrecision, rep.Risks.MicroRecall, rep.Risks.MicroF1)
	p("location\texact %.3f\tbuilding %.3f unit %.3f room %.3f area %.3f\n", rep.Location.ExactMatch, rep.Location.Building, rep.Location.Unit, rep.Location.Room, rep.Location.Area)
	p("secondary\tP %.3f\tR %.3f\tF1 %.3f (gold %d)\n", rep.Secondary.Precision, rep.Secondary.Recall, rep.Secondary.F1, rep.Secondary.Gold)
	e := rep.Emergency
	p("\nemergency\trecall %.3f (%d/%d)\tprecision %.3f (%d/%d)\n", e.Recall, e.Caught, e.Gold, e.Precision, e.Caught, e.Predicted)
	p("  missed\t%s\n", listOrNone(e.Missed))
	p("  false alarms\t%s\n", listOrNone(e.FalseAlarms))
	for _, f := range singleFields {
		p("\n%s\tprecision\trecall\tF1\tsupport\tpredicted\n", f)
		for _, c := range rep.Fields[f].Classes {
			p("  %s\t%.3f\t%.3f\t%.3f\t%d\t%d\n", c.Label, c.Precision, c.Recall, c.F1, c.Support, c.Predicted)
		}
	}
	p("\nrisk\tprecision\trecall\tF1\tsupport\tpredicted\n")
	for _, c := range rep.Risks.Classes {
		p("  %s\t%.3f\t%.3f\t%.3f\t%d\t%d\n", c.Label, c.Precision, c.Recall, c.F1, c.Support, c.Predicted)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ncategory confusion (rows gold, columns predicted)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t")
	for _, l := range rep.Confusion.Labels {
		fmt.Fprintf(tw, "%s\t", abbrev(l))
	}
	fmt.Fprintln(tw)
	for i, row := range rep.Confusion.Matrix {
		fmt.Fprintf(tw, "%s\t", rep.Confusion.Labels[i])
		for _, n := range row {
			fmt.Fprintf(tw, "%d\t", n)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Tags) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "\ntag\tn\tcategory\tintent\turgency\tlocation\n")
		tags := make([]string, 0, len(rep.Tags))
		for t := range rep.Tags {
			tags = append(tags, t)
		}
		sort.Strings(tags)
		for _, t := range tags {
			s := rep.Tags[t]
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\n", t, s.N, s.Category, s.Intent, s.Urgency, s.Location)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if n := len(rep.Location.Mismatches); n > 0 {
		fmt.Fprintf(w, "\nlocation mismatches (%d)\n", n)
		for _, m := range rep.Location.Mismatches[:min(n, 30)] {
			fmt.Fprintf(w, "  %s gold=%s got=%s\n", m.ID, locString(m.Gold), locString(m.Got))
		}
	}
	for _, f := range rep.Failed {
		fmt.Fprintf(w, "failed %s: %s\n", f.ID, f.Error)
	}
	return nil
}

func locString(l triage.Location) string {
	return fmt.Sprintf("[%s|%s|%s|%s]", l.Building, l.Unit, l.Room, l.Area)
}

func abbrev(s string) string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func listOrNone(v []string) string {
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(v, " ")
}
