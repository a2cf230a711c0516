package ticket

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/triage"
)

// Summary is a ticket as the work queue lists it.
type Summary struct {
	Ref              string     `json:"ref"`
	State            State      `json:"state"`
	StateName        string     `json:"state_name"`
	Category         string     `json:"category"`
	Urgency          string     `json:"urgency"`
	Department       string     `json:"department"`
	Building         string     `json:"building"`
	Unit             string     `json:"unit"`
	Room             string     `json:"room"`
	Area             string     `json:"area"`
	Problem          string     `json:"problem"`
	Assignee         string     `json:"assignee"`
	Escalate         bool       `json:"escalate"`
	Vulnerable       bool       `json:"vulnerable"`
	Repeat           bool       `json:"repeat"`
	Incident         string     `json:"incident,omitempty"`
	FirstResponseBy  time.Time  `json:"first_response_by"`
	ResolutionBy     time.Time  `json:"resolution_by"`
	FirstRespondedAt *time.Time `json:"first_responded_at,omitempty"`
	ResolvedAt       *time.Time `json:"resolved_at,omitempty"`
	Overdue          bool       `json:"overdue"`
	CreatedAt        time.Time  `json:"created_at"`
}

// QueueCountCap bounds how far the work queue counts the tickets that
// match: past it the count is reported as QueueCountCap+1, meaning "more".
// Counting years of tickets on every refresh of the console would cost
// more than the page itself, and no one pages past 200 pages.
const QueueCountCap = 10000

// QueueFilter narrows the work queue; empty fields do not filter.
type QueueFilter struct {
	Department string
	State      State
	Category   string
	Building   string
	Assignee   string
	Open       bool // only tickets not yet resolved
	Limit      int  // default 50, at most 500
	Offset     int
}

// Check validates the filter's values.
func (f QueueFilter) Check() (QueueFilter, error) {
	if f.State != "" {
		if _, err := ParseState(string(f.State)); err != nil {
			return f, err
		}
	}
	if f.Category != "" {
		if _, err := triage.ParseCategory(f.Category); err != nil {
			return f, err
		}
	}
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 0 || f.Limit > 500:
		return f, fmt.Errorf("%w: limit 须在 1–500 之间", huiyin.ErrInvalid)
	}
	if f.Offset < 0 {
		return f, fmt.Errorf("%w: offset 不能为负数", huiyin.ErrInvalid)
	}
	return f, nil
}

// StoredMessage is an owner message of a ticket.
type StoredMessage struct {
	Channel    Channel   `json:"channel"`
	Body       string    `json:"body"`
	Location   string    `json:"location,omitempty"`
	Contact    string    `json:"contact,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// Draft statuses.
const (
	DraftPending    = "pending"
	DraftApproved   = "approved"
	DraftRejected   = "rejected"
	DraftSuperseded = "superseded"
)

// Draft is a suggested reply waiting for, or past, staff's decision.
type Draft struct {
	ID           int64                `json:"id"`
	Body         string               `json:"body"`
	Citations    []knowledge.Citation `json:"citations"`
	Script       string               `json:"script"`
	Source       string               `json:"source"`
	Fallback     string               `json:"fallback,omitempty"`
	Status       string               `json:"status"`
	DecidedBy    string               `json:"decided_by,omitempty"`
	DecidedAt    *time.Time           `json:"decided_at,omitempty"`
	RejectReason string               `json:"reject_reason,omitempty"`
	CreatedAt    time.Time            `json:"created_at"`
}

// Reply is what was sent to an owner.
type Reply struct {
	ID           int64     `json:"id"`
	Ticket       string    `json:"ticket"`
	Body         string    `json:"body"`
	DraftID      int64     `json:"draft_id,omitempty"`
	EditDistance int       `json:"edit_distance"`
	ApprovedBy   string    `json:"approved_by"`
	Source       string    `json:"source"`
	Promoted     bool      `json:"promoted"`
	CreatedAt    time.Time `json:"created_at"`
}

// FollowUp is the visit after resolution (回访).
type FollowUp struct {
	DueAt      time.Time  `json:"due_at"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
	Score      int        `json:"score,omitempty"`
	Comment    string     `json:"comment,omitempty"`
	RecordedBy string     `json:"recorded_by,omitempty"`
}

// Detail is everything staff see of one ticket.
type Detail struct {
	Summary
	Triage    triage.Result   `json:"triage"`
	Owner     Owner           `json:"owner"`
	Messages  []StoredMessage `json:"messages"`
	Drafts    []Draft         `json:"drafts"`
	Replies   []Reply         `json:"replies"`
	History   []Event         `json:"history"`
	FollowUp  *FollowUp       `json:"follow_up,omitempty"`
	RepeatOf  string          `json:"repeat_of,omitempty"`
	Breaches  []string        `json:"breaches"`
	Escalated *time.Time      `json:"escalated_at,omitempty"`
}

// Unit is a home: building, unit (单元) and room.
type Unit struct {
	Building string `json:"building"`
	Unit     string `json:"unit"`
	Room     string `json:"room"`
}

// ChannelID is how a channel knows an owner.
type ChannelID struct {
	Channel Channel `json:"channel"`
	User    string  `json:"user"`
}

// Owner is an owner's record (业主档案).
type Owner struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name"`
	Phone       string      `json:"phone"`
	Notes       string      `json:"notes"`
	Vulnerable  bool        `json:"vulnerable"`
	Provisional bool        `json:"provisional"`
	Units       []Unit      `json:"units"`
	Channels    []ChannelID `json:"channels"`
	CreatedAt   time.Time   `json:"created_at"`
}

// OwnerUpdate is what staff change in an owner's record; nil fields stay.
type OwnerUpdate struct {
	Name       *string `json:"name"`
	Phone      *string `json:"phone"`
	Notes      *string `json:"notes"`
	Vulnerable *bool   `json:"vulnerable"`
	Units      *[]Unit `json:"units"`
	// Confirmed set true confirms a provisional owner.
	Confirmed *bool `json:"confirmed"`
}

// Check validates an update.
func (u OwnerUpdate) Check() error {
	for _, f := range []struct {
		v   *string
		max int
		why string
	}{{u.Name, 50, "姓名"}, {u.Phone, 30, "电话"}, {u.Notes, 500, "备注"}} {
		if f.v != nil && (!utf8.ValidString(*f.v) || utf8.RuneCountInString(*f.v) > f.max) {
			return fmt.Errorf("%w: %s最多 %d 个字符", huiyin.ErrInvalid, f.why, f.max)
		}
	}
	if u.Units != nil {
		if len(*u.Units) > 20 {
			return fmt.Errorf("%w: 一位业主最多登记 20 套房屋", huiyin.ErrInvalid)
		}
		for _, un := range *u.Units {
			if strings.TrimSpace(un.Building) == "" || strings.TrimSpace(un.Room) == "" {
				return fmt.Errorf("%w: 房屋须填写楼栋和房号", huiyin.ErrInvalid)
			}
		}
	}
	return nil
}

// Incident groups reports of one fault.
type Incident struct {
	Ref       string    `json:"ref"`
	Category  string    `json:"category"`
	Building  string    `json:"building"`
	Area      string    `json:"area"`
	Summary   string    `json:"summary"`
	State     string    `json:"state"`
	Tickets   []Summary `json:"tickets"`
	CreatedAt time.Time `json:"created_at"`
}

// Notification is something staff must be told.
type Notification struct {
	ID        int64     `json:"id"`
	Ticket    string    `json:"ticket,omitempty"`
	Recipient string    `json:"recipient"`
	Kind      string    `json:"kind"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// MaxReplyRunes bounds a reply staff send.
const MaxReplyRunes = 2000

// CleanReply checks the text of a reply staff send to owners.
func CleanReply(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", fmt.Errorf("%w: 回复不是有效的 UTF-8 文本", huiyin.ErrInvalid)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", fmt.Errorf("%w: 回复内容不能为空", huiyin.ErrInvalid)
	}
	if utf8.RuneCountInString(text) > MaxReplyRunes {
		return "", fmt.Errorf("%w: 回复最多 %d 个字符", huiyin.ErrInvalid, MaxReplyRunes)
	}
	return text, nil
}

// FollowUpWindow is how soon after resolution the visit must happen; the
// default visit is a day after.
const (
	FollowUpWindow  = 72 * time.Hour
	FollowUpDefault = 24 * time.Hour
)

// UnhappyScore is the highest satisfaction score that reopens a ticket.
const UnhappyScore = 2

// CheckScore validates a satisfaction score.
func CheckScore(score int) error {
	if score < 1 || score > 5 {
		return fmt.Errorf("%w: 满意度须为 1–5 分", huiyin.ErrInvalid)
	}
	return nil
}

// The deadlines a DeadlineJob checks.
const (
	DeadlineFirstResponse = "first_response"
	DeadlineResolution    = "resolution"
)

// DraftJob asks for a draft reply to a ticket; it is enqueued in the
// transaction that opens the ticket, so a draft follows every ticket even
// when the process dies right after acknowledging the message.
type DraftJob struct {
	TicketID int64 `json:"ticket_id"`
}

// Kind names the job for the queue.
func (DraftJob) Kind() string { return "ticket.draft" }

// DeadlineJob checks, when a deadline comes, whether it was met; a missed
// one escalates the ticket to the project manager.
type DeadlineJob struct {
	TicketID int64  `json:"ticket_id"`
	Deadline string `json:"deadline"` // DeadlineFirstResponse or DeadlineResolution
}

// Kind names the job for the queue.
func (DeadlineJob) Kind() string { return "ticket.deadline" }

// FollowUpJob reminds the department when a follow-up visit falls due.
type FollowUpJob struct {
	TicketID int64 `json:"ticket_id"`
}

// Kind names the job for the queue.
func (FollowUpJob) Kind() string { return "ticket.follow_up" }

// PromotedScript is an approved reply kept in the script library.
type PromotedScript struct {
	ReplyID    int64  `json:"reply_id"`
	Ticket     string `json:"ticket"`
	Category   string `json:"category"`
	Situation  string `json:"situation"`
	Body       string `json:"body"`
	PromotedBy string `json:"promoted_by"`
}

// Corrector turns a ticket's labels, received at received, into corrected
// ones and names the fields that changed.
type Corrector func(res triage.Result, received time.Time) (triage.Result, []string, error)

// Feedback is one correction of a ticket's labels by staff, exported for
// training and evaluation. Text is the owner's words with personal data
// masked; the label maps use the taxonomy's wire values.
type Feedback struct {
	ID        int64          `json:"id"`
	Ticket    string         `json:"ticket"`
	Text      string         `json:"text"`
	Predicted map[string]any `json:"predicted"`
	Corrected map[string]any `json:"corrected"`
	Fields    []string       `json:"fields"`
	Actor     string         `json:"actor"`
	CreatedAt time.Time      `json:"created_at"`
}
