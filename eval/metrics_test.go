package eval

import (
	"math"
	"strings"
	"testing"

	"github.com/huiyin/huiyin/triage"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestFieldReport(t *testing.T) {
	gold := []string{"a", "a", "b", "b", "c"}
	pred := []string{"a", "b", "b", "b", "a"}
	conf := []float64{0.9, 0.6, 0.8, 0.7, 0.5}
	fr := fieldReport([]string{"a", "b", "c", "d"}, gold, pred, conf)
	if !near(fr.Accuracy, 0.6) {
		t.Errorf("accuracy = %v, want 0.6", fr.Accuracy)
	}
	// a: P 1/2 R 1/2 F1 .5; b: P 2/3 R 1 F1 .8; c: P 0 R 0 F1 0; d absent.
	if !near(fr.MacroF1, (0.5+0.8+0)/3) {
		t.Errorf("macro-F1 = %v, want %v", fr.MacroF1, (0.5+0.8)/3)
	}
	if len(fr.Classes) != 3 {
		t.Fatalf("classes = %+v, want a, b, c only", fr.Classes)
	}
	b := fr.Classes[1]
	if b.Label != "b" || !near(b.Precision, 2.0/3) || !near(b.Recall, 1) || b.Support != 2 || b.Predicted != 3 {
		t.Errorf("class b = %+v", b)
	}
}

func TestECE(t *testing.T) {
	tests := []struct {
		name string
		gold []string
		pred []string
		conf []float64
		want float64
	}{
		{"perfectly calibrated", []string{"a", "a"}, []string{"a", "a"}, []float64{1, 1}, 0},
		{"overconfident and wrong", []string{"a", "a"}, []string{"b", "b"}, []float64{0.95, 0.95}, 0.95},
		{"half right at one half", []string{"a", "a"}, []string{"a", "b"}, []float64{0.55, 0.55}, 0.05},
	}
	for _, tc := range tests {
		if got := ece(tc.gold, tc.pred, tc.conf); !near(got, tc.want) {
			t.Errorf("%s: ece = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestScoreRisksEmergencyLocation(t *testing.T) {
	recs := []Record{
		{ID: "1", Urgency: triage.Emergency, Risks: []triage.Risk{"safety"}, Location: triage.Location{Building: "3"}},
		{ID: "2", Urgency: triage.Emergency, Risks: []triage.Risk{}},
		{ID: "3", Urgency: triage.Low, Risks: []triage.Risk{"media", "regulator"}, Secondary: []triage.Category{"cleaning"}},
	}
	res := []*triage.Result{
		{Urgency: triage.Emergency, Risks: []triage.Risk{"safety"}, Location: triage.Location{Building: "3"}},
		{Urgency: triage.High, Risks: []triage.Risk{"safety"}},
		{Urgency: triage.Emergency, Risks: []triage.Risk{"media"}, Secondary: []triage.Category{"cleaning", "fees"}},
	}
	rep := &TriageReport{Messages: 3}
	score(rep, recs, res)
	e := rep.Emergency
	if e.Gold != 2 || e.Caught != 1 || !near(e.Recall, 0.5) || !near(e.Precision, 0.5) {
		t.Errorf("emergency = %+v", e)
	}
	if len(e.Missed) != 1 || e.Missed[0] != "2(high)" || len(e.FalseAlarms) != 1 || e.FalseAlarms[0] != "3" {
		t.Errorf("missed %v, false alarms %v", e.Missed, e.FalseAlarms)
	}
	// risks: tp safety, media; fp safety(2); fn regulator → P 2/3 R 2/3.
	if !near(rep.Risks.MicroPrecision, 2.0/3) || !near(rep.Risks.MicroRecall, 2.0/3) {
		t.Errorf("risks = %+v", rep.Risks)
	}
	if !near(rep.Location.ExactMatch, 1) {
		t.Errorf("location exact = %v", rep.Location.ExactMatch)
	}
	if !near(rep.Secondary.Precision, 0.5) || !near(rep.Secondary.Recall, 1) {
		t.Errorf("secondary = %+v", rep.Secondary)
	}
}

func TestWriteText(t *testing.T) {
	recs := []Record{{ID: "1", Category: "repair", Intent: "repair_request", Urgency: "high", Sentiment: "neutral", Tags: []string{"voice"}}}
	res := []*triage.Result{{Category: "repair", Intent: "repair_request", Urgency: "high", Sentiment: "neutral"}}
	rep := &TriageReport{Messages: 1}
	score(rep, recs, res)
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"category", "macro-F1", "emergency", "category confusion", "voice"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestReadRecordsRejects(t *testing.T) {
	good := `{"id":"x1","text":"电梯坏了","category":"repair","intent":"repair_request","urgency":"high","sentiment":"neutral","risks":[],"location":{"building":"","unit":"","room":"","area":""}}`
	tests := map[string]string{
		"bad json":          `{"id":`,
		"unknown category":  strings.Replace(good, `"repair"`, `"plumbing"`, 1),
		"unsorted risks":    strings.Replace(good, `"risks":[]`, `"risks":["safety","media"]`, 1),
		"duplicate id":      good + "\n" + good,
		"area not in text":  strings.Replace(good, `"area":""`, `"area":"东门"`, 1),
		"missing text":      strings.Replace(good, `"text":"电梯坏了",`, ``, 1),
		"secondary repeats": strings.Replace(good, `"risks":[]`, `"risks":[],"secondary":["repair"]`, 1),
	}
	for name, in := range tests {
		if _, err := ReadRecords(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	recs, err := ReadRecords(strings.NewReader(good + "\n\n"))
	if err != nil || len(recs) != 1 {
		t.Fatalf("good record: %v, %d", err, len(recs))
	}
}
