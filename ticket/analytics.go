package ticket

import "time"

// Count is a number of tickets under a key (a category, a building, a
// week such as 2026-W47).
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Timing measures one deadline over the tickets of a period.
type Timing struct {
	// Due counts tickets whose deadline has passed or that were done.
	Due int `json:"due"`
	// Met counts those done by the deadline; Compliance is Met/Due.
	Met        int     `json:"met"`
	Compliance float64 `json:"compliance"`
	// Late counts those done after it or not done though it passed.
	Late int `json:"late"`
	// Minutes from the message to the response or resolution, over the
	// tickets that had one.
	MedianMinutes float64 `json:"median_minutes"`
	P90Minutes    float64 `json:"p90_minutes"`
}

// ProblemCount is a recurring problem.
type ProblemCount struct {
	Category string `json:"category"`
	Problem  string `json:"problem"`
	Count    int    `json:"count"`
}

// Satisfaction sums up follow-up scores.
type Satisfaction struct {
	Responses    int     `json:"responses"`
	Average      float64 `json:"average"`
	Distribution [5]int  `json:"distribution"` // scores 1 to 5
	ByWeek       []Score `json:"by_week"`
}

// Score is the average score of a week.
type Score struct {
	Week    string  `json:"week"`
	Average float64 `json:"average"`
	Count   int     `json:"count"`
}

// Analytics is the summary of a period for managers.
type Analytics struct {
	From          time.Time      `json:"from"`
	To            time.Time      `json:"to"`
	Tickets       int            `json:"tickets"`
	ByCategory    []Count        `json:"by_category"`
	ByBuilding    []Count        `json:"by_building"`
	ByWeek        []Count        `json:"by_week"`
	FirstResponse Timing         `json:"first_response"`
	Resolution    Timing         `json:"resolution"`
	Repeats       int            `json:"repeats"`
	Escalated     int            `json:"escalated"`
	TopProblems   []ProblemCount `json:"top_problems"`
	Satisfaction  Satisfaction   `json:"satisfaction"`
}

// ExportRow is one ticket of the CSV export.
type ExportRow struct {
	Ref              string
	CreatedAt        time.Time
	State            State
	Category         string
	Urgency          string
	Department       string
	Building         string
	Unit             string
	Room             string
	Problem          string
	Assignee         string
	FirstResponseBy  time.Time
	FirstRespondedAt *time.Time
	ResolutionBy     time.Time
	ResolvedAt       *time.Time
	Repeat           bool
	Escalated        bool
	Incident         string
	Score            *int
}
