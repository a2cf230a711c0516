package triage

import (
	"fmt"
	"slices"
)

// The label types below carry the wire values of shared/taxonomy.md. They
// are strings so that JSON, the database and evaluation files use the
// contract's values directly; Parse* reject anything else.

// Category is what must be fixed: exactly one per message.
type Category string

const (
	Repair     Category = "repair"
	Cleaning   Category = "cleaning"
	Security   Category = "security"
	Greening   Category = "greening"
	Parking    Category = "parking"
	Fees       Category = "fees"
	Neighbor   Category = "neighbor"
	Renovation Category = "renovation"
	Staff      Category = "staff"
	Other      Category = "other"
)

// Intent is what the owner wants.
type Intent string

const (
	Complaint     Intent = "complaint"
	RepairRequest Intent = "repair_request"
	Inquiry       Intent = "inquiry"
	Suggestion    Intent = "suggestion"
	Praise        Intent = "praise"
)

// Urgency follows the situation; it selects the SLA deadlines.
type Urgency string

const (
	Emergency Urgency = "emergency"
	High      Urgency = "high"
	Normal    Urgency = "normal"
	Low       Urgency = "low"
)

// Sentiment is the owner's tone.
type Sentiment string

const (
	Angry    Sentiment = "angry"
	Negative Sentiment = "negative"
	Neutral  Sentiment = "neutral"
	Positive Sentiment = "positive"
)

// Risk is a flag that changes how a ticket is handled; a message has zero or more.
type Risk string

const (
	RiskMedia      Risk = "media"
	RiskRegulator  Risk = "regulator"
	RiskLegal      Risk = "legal"
	RiskRepeat     Risk = "repeat"
	RiskCollective Risk = "collective"
	RiskFeeRefusal Risk = "fee_refusal"
	RiskSafety     Risk = "safety"
	RiskVulnerable Risk = "vulnerable"
)

// The label sets in a fixed order. The order is part of the model file
// format: head outputs are stored in this order.
var (
	Categories = []Category{Repair, Cleaning, Security, Greening, Parking, Fees, Neighbor, Renovation, Staff, Other}
	Intents    = []Intent{Complaint, RepairRequest, Inquiry, Suggestion, Praise}
	Urgencies  = []Urgency{Emergency, High, Normal, Low}
	Sentiments = []Sentiment{Angry, Negative, Neutral, Positive}
	Risks      = []Risk{RiskMedia, RiskRegulator, RiskLegal, RiskRepeat, RiskCollective, RiskFeeRefusal, RiskSafety, RiskVulnerable}
)

var (
	categoryNames = map[Category]string{
		Repair: "工程维修", Cleaning: "环境卫生", Security: "安全秩序", Greening: "绿化养护",
		Parking: "车辆停放", Fees: "收费财务", Neighbor: "邻里纠纷", Renovation: "装修管理",
		Staff: "服务态度", Other: "其他",
	}
	intentNames = map[Intent]string{
		Complaint: "投诉", RepairRequest: "报修", Inquiry: "咨询", Suggestion: "建议", Praise: "表扬",
	}
	urgencyNames = map[Urgency]string{
		Emergency: "紧急", High: "较急", Normal: "一般", Low: "低",
	}
	sentimentNames = map[Sentiment]string{
		Angry: "愤怒", Negative: "不满", Neutral: "平和", Positive: "满意",
	}
	riskNames = map[Risk]string{
		RiskMedia: "舆情曝光", RiskRegulator: "行政投诉", RiskLegal: "法律纠纷", RiskRepeat: "重复投诉",
		RiskCollective: "群体诉求", RiskFeeRefusal: "拒缴风险", RiskSafety: "安全隐患", RiskVulnerable: "特殊人群",
	}
)

// Name returns the Chinese name staff see.
func (c Category) Name() string { return categoryNames[c] }

// Name returns the Chinese name staff see.
func (i Intent) Name() string { return intentNames[i] }

// Name returns the Chinese name staff see.
func (u Urgency) Name() string { return urgencyNames[u] }

// Name returns the Chinese name staff see.
func (s Sentiment) Name() string { return sentimentNames[s] }

// Name returns the Chinese name staff see.
func (r Risk) Name() string { return riskNames[r] }

// Rank orders urgencies: emergency is 3, low is 0. Unknown values rank -1.
func (u Urgency) Rank() int {
	switch u {
	case Emergency:
		return 3
	case High:
		return 2
	case Normal:
		return 1
	case Low:
		return 0
	}
	return -1
}

// ParseCategory returns ErrInvalid for a value outside the contract.
func ParseCategory(s string) (Category, error) { return parseLabel(s, Categories, "category") }

// ParseIntent returns ErrInvalid for a value outside the contract.
func ParseIntent(s string) (Intent, error) { return parseLabel(s, Intents, "intent") }

// ParseUrgency returns ErrInvalid for a value outside the contract.
func ParseUrgency(s string) (Urgency, error) { return parseLabel(s, Urgencies, "urgency") }

// ParseSentiment returns ErrInvalid for a value outside the contract.
func ParseSentiment(s string) (Sentiment, error) { return parseLabel(s, Sentiments, "sentiment") }

// ParseRisk returns ErrInvalid for a value outside the contract.
func ParseRisk(s string) (Risk, error) { return parseLabel(s, Risks, "risk") }

func parseLabel[T ~string](s string, valid []T, field string) (T, error) {
	if slices.Contains(valid, T(s)) {
		return T(s), nil
	}
	return "", fmt.Errorf("%w: unknown %s %q", ErrInvalid, field, s)
}
