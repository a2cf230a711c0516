package ticket

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/huiyin/huiyin/triage"
)

// Windows within which messages are taken together.
const (
	// MergeWindow: an owner who sends "电梯坏了", then "3栋", then "快来人"
	// within a few minutes is writing one message in pieces.
	MergeWindow = 5 * time.Minute
	// MergeShort is the length, in characters, under which a message (or
	// the ticket it follows) counts as a piece of a longer one.
	MergeShort = 30
	// IncidentWindow: reports of one fault arrive within hours of each
	// other; a report a day later is a new fault or a repeat.
	IncidentWindow = 6 * time.Hour
	// RepeatWindow: the same problem reported again within 30 days means
	// the first fix did not hold (taxonomy.md, risk repeat).
	RepeatWindow = 30 * 24 * time.Hour
	// SimilarThreshold is the character-pair overlap (Dice) above which two
	// problem descriptions are taken as the same problem.
	SimilarThreshold = 0.3
)

// Prior is an earlier ticket that a new message may belong to, repeat, or
// share an incident with.
type Prior struct {
	ID          int64
	Ref         string
	State       State
	OwnerID     int64
	Category    triage.Category
	Problem     string
	Text        string // the ticket's messages, in order
	Location    triage.Location
	Received    time.Time
	LastMessage time.Time
	RepeatOf    int64
	IncidentID  int64
	// Corrected is staff's last correction of the ticket's labels, if
	// any; a merged message keeps it.
	Corrected *triage.Correction
}

// Open reports whether the ticket is still being worked on.
func (p Prior) Open() bool {
	switch p.State {
	case Resolved, FollowedUp, Closed:
		return false
	}
	return true
}

// MergeTarget returns the ticket a new message continues: the owner's
// latest ticket, not yet taken up, whose last message came within
// MergeWindow, when either is short enough to be a piece of one message.
func MergeTarget(priors []Prior, ownerID int64, text string, received time.Time) (Prior, bool) {
	var best Prior
	for _, p := range priors {
		if p.OwnerID != ownerID || (p.State != New && p.State != Assigned) {
			continue
		}
		if received.Sub(p.LastMessage) > MergeWindow || received.Before(p.Received) {
			continue
		}
		if p.LastMessage.After(best.LastMessage) {
			best = p
		}
	}
	if best.ID == 0 {
		return best, false
	}
	short := utf8.RuneCountInString(text) <= MergeShort || utf8.RuneCountInString(best.Text) <= MergeShort
	// A short message about another installation is another problem
	// ("电梯坏了", then "楼道灯也坏了"), not more of the first.
	if a, b := facilitiesIn(best.Text), facilitiesIn(text); len(a) > 0 && len(b) > 0 && !overlaps(a, b) {
		return best, false
	}
	return best, short
}

// facilitiesIn returns the facilities a text names.
func facilitiesIn(s string) []string {
	var out []string
	for _, group := range facilities {
		if containsAnyOf(s, group) {
			out = append(out, group[0])
		}
	}
	return out
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// RepeatOf returns the earlier ticket the new one repeats: same category,
// within RepeatWindow, reported by the same owner or from the same home,
// about the same problem.
func RepeatOf(priors []Prior, ownerID int64, res triage.Result, text string, received time.Time, skip int64) (Prior, bool) {
	var best Prior
	bestScore := 0.0
	for _, p := range priors {
		if p.ID == skip || p.Category != res.Category || received.Sub(p.Received) > RepeatWindow {
			continue
		}
		sameHome := res.Location.Room != "" && p.Location.Room == res.Location.Room &&
			p.Location.Building == res.Location.Building && p.Location.Unit == res.Location.Unit
		if p.OwnerID != ownerID && !sameHome {
			continue
		}
		a, b := p.Problem+" "+p.Text, res.Problem+" "+text
		score := SameProblem(a, b)
		if sharedFacility(a, b) != "" {
			score = max(score, SimilarThreshold)
		}
		if score >= SimilarThreshold && score > bestScore {
			best, bestScore = p, score
		}
	}
	return best, best.ID != 0
}

// IncidentWith returns an open ticket from another owner about the same
// fault at the same place: same category, same building (or the same area
// when neither names a building), within IncidentWindow, similar words.
// Faults inside two different homes are never one incident unless they
// name the same shared facility (a building-wide water cut).
func IncidentWith(nearby []Prior, ownerID int64, res triage.Result, text string, received time.Time) (Prior, bool) {
	loc := res.Location
	if loc.Building == "" && loc.Area == "" {
		return Prior{}, false
	}
	var best Prior
	bestScore := 0.0
	for _, p := range nearby {
		if p.OwnerID == ownerID || !p.Open() || p.Category != res.Category || received.Sub(p.Received) > IncidentWindow {
			continue
		}
		if loc.Building != "" && p.Location.Building != loc.Building {
			continue
		}
		if loc.Building == "" && p.Location.Area != loc.Area {
			continue
		}
		a, b := p.Problem+" "+p.Text, res.Problem+" "+text
		facility := sharedFacility(a, b)
		if loc.Room != "" && p.Location.Room != "" && (p.Location.Room != loc.Room || p.Location.Unit != loc.Unit) && facility == "" {
			continue
		}
		score := SameProblem(a, b)
		if facility != "" {
			score = max(score, SimilarThreshold)
		}
		if score >= SimilarThreshold && score > bestScore {
			best, bestScore = p, score
		}
	}
	return best, best.ID != 0
}

// facilities are the shared installations whose one fault many owners
// report in their own words.
var facilities = [][]string{
	{"电梯", "梯停", "轿厢", "困梯"},
	{"停水", "没水", "断水", "水压"},
	{"停电", "没电", "断电", "跳闸"},
	{"门禁", "道闸", "闸机", "大门"},
	{"燃气", "煤气"},
	{"路灯", "楼道灯", "灯不亮"},
	{"下水道", "化粪池", "污水", "管道堵"},
	{"噪音", "施工", "吵"},
	{"垃圾"},
	{"网络", "宽带", "信号"},
}

// sharedFacility returns the facility both texts are about, or "".
func sharedFacility(a, b string) string {
	for _, group := range facilities {
		if containsAnyOf(a, group) && containsAnyOf(b, group) {
			return group[0]
		}
	}
	return ""
}

func containsAnyOf(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// SameProblem scores how alike two problem descriptions are: the Dice
// overlap of their character pairs, letters and digits only. Chinese has no
// spaces, and owners describe one fault with different words around the
// same key characters ("电梯坏了" / "电梯又停了"), so character pairs do
// better here than words.
func SameProblem(a, b string) float64 {
	pa, pb := pairs(a), pairs(b)
	if len(pa) == 0 || len(pb) == 0 {
		return 0
	}
	common := 0
	for p, n := range pa {
		common += min(n, pb[p])
	}
	total := 0
	for _, n := range pa {
		total += n
	}
	for _, n := range pb {
		total += n
	}
	return 2 * float64(common) / float64(total)
}

func pairs(s string) map[[2]rune]int {
	out := map[[2]rune]int{}
	var prev rune
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			prev = 0
			continue
		}
		if prev != 0 {
			out[[2]rune{prev, r}]++
		}
		prev = r
	}
	return out
}
