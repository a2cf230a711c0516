package ticket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/triage"
)

// Channel is where a message came from.
type Channel string

// The channels of the label contract's intake.
const (
	WeChat Channel = "wechat"
	App    Channel = "app"
	Web    Channel = "web"
	Phone  Channel = "phone"
)

// Channels lists every channel.
var Channels = []Channel{WeChat, App, Web, Phone}

// State is where a ticket is in its life.
type State string

// The ticket states.
const (
	New        State = "new"
	Assigned   State = "assigned"
	InProgress State = "in_progress"
	Resolved   State = "resolved"
	FollowedUp State = "followed_up"
	Closed     State = "closed"
	Reopened   State = "reopened"
)

// Message is one owner message as a channel delivers it.
type Message struct {
	Channel      Channel
	ChannelMsgID string // the channel's id of the message; a retry carries the same one
	OwnerRef     string // how the channel knows the owner (openid, app user id, phone)
	Text         string
	Location     string // where, when the owner gave it separately
	Contact      string
	Received     time.Time
}

// Limits on what intake accepts.
const (
	MaxIDRunes      = 128
	MaxOwnerRef     = 128
	MaxLocationText = 200
	MaxContact      = 100
)

// Validate checks a message and reports the first problem in Chinese.
func (m Message) Validate() error {
	switch {
	case !slices.Contains(Channels, m.Channel):
		return fmt.Errorf("%w: 未知的渠道 %q（可选 wechat、app、web、phone）", huiyin.ErrInvalid, m.Channel)
	case strings.TrimSpace(m.ChannelMsgID) == "" || utf8.RuneCountInString(m.ChannelMsgID) > MaxIDRunes:
		return fmt.Errorf("%w: 缺少消息编号 message_id，或超过 %d 个字符", huiyin.ErrInvalid, MaxIDRunes)
	case strings.TrimSpace(m.OwnerRef) == "" || utf8.RuneCountInString(m.OwnerRef) > MaxOwnerRef:
		return fmt.Errorf("%w: 缺少业主标识 owner，或超过 %d 个字符", huiyin.ErrInvalid, MaxOwnerRef)
	case utf8.RuneCountInString(m.Location) > MaxLocationText:
		return fmt.Errorf("%w: 位置说明超过 %d 个字符", huiyin.ErrInvalid, MaxLocationText)
	case utf8.RuneCountInString(m.Contact) > MaxContact:
		return fmt.Errorf("%w: 联系方式超过 %d 个字符", huiyin.ErrInvalid, MaxContact)
	}
	for _, s := range []string{m.ChannelMsgID, m.OwnerRef, m.Location, m.Contact} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: 字段不是有效的 UTF-8 文本", huiyin.ErrInvalid)
		}
	}
	return nil
}

// Ticket is a ticket as intake returns it.
type Ticket struct {
	ID        int64         `json:"-"`
	Ref       string        `json:"ref"`
	State     State         `json:"state"`
	OwnerID   int64         `json:"owner_id"`
	Triage    triage.Result `json:"triage"`
	CreatedAt time.Time     `json:"created_at"`
}

// Receipt is what intake answers: the ticket, whether the message had been
// received before or was added to an open ticket, and the acknowledgement
// the owner is shown.
type Receipt struct {
	Ticket    Ticket `json:"ticket"`
	Duplicate bool   `json:"duplicate"`
	Merged    bool   `json:"merged"`
	Repeat    bool   `json:"repeat"`
	Incident  bool   `json:"incident"`
	Ack       string `json:"ack"`
}

// Links are what intake found a new ticket to be related to.
type Links struct {
	RepeatOf     int64 // the earlier ticket this one repeats
	IncidentWith int64 // another owner's ticket about the same fault
	Vulnerable   bool  // the owner is on the vulnerable list
}

// Store persists intake; ticketstore.Store is the PostgreSQL one.
type Store interface {
	// Find returns the ticket a channel message already opened, or
	// ErrNotFound.
	Find(ctx context.Context, ch Channel, channelMsgID string) (Ticket, error)
	// Owner returns the owner a channel identity belongs to (0 when none
	// yet) and whether the owner is on the vulnerable list.
	Owner(ctx context.Context, ch Channel, ownerRef string) (id int64, vulnerable bool, err error)
	// Priors returns the tickets since since of the owner, and of the home
	// at loc when it names a room.
	Priors(ctx context.Context, ownerID int64, loc triage.Location, since time.Time) ([]Prior, error)
	// Nearby returns the tickets of a category since since in the building
	// (or area) of loc.
	Nearby(ctx context.Context, c triage.Category, loc triage.Location, since time.Time) ([]Prior, error)
	// Open stores the message and the ticket it opens in one transaction,
	// with the jobs that follow a new ticket. When the same channel message
	// was stored meanwhile it returns that ticket with duplicate set.
	Open(ctx context.Context, m Message, text string, res triage.Result, l Links) (t Ticket, duplicate bool, err error)
	// Append adds a message to an open ticket and replaces its labels with
	// res, the triage of all its messages together.
	Append(ctx context.Context, ticketID int64, m Message, text string, res triage.Result) (t Ticket, duplicate bool, err error)
	// Relabel changes a ticket's labels with correct in one transaction
	// and keeps the correction as feedback.
	Relabel(ctx context.Context, ref, actor string, correct Corrector) (Ticket, []string, error)
}

// Service is intake.
type Service struct {
	triage *triage.Engine
	store  Store
	log    *slog.Logger
}

// NewService assembles intake.
func NewService(eng *triage.Engine, store Store, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{triage: eng, store: store, log: log}
}

// Receive validates, triages and persists a message and returns the
// receipt to acknowledge it with. A message delivered again (same channel
// and message id) returns the ticket it opened the first time. A short
// message that follows the owner's last one within minutes joins its
// ticket; a problem the owner or the home reported in the last 30 days
// raises the new ticket as a repeat; an owner on the vulnerable list raises
// it too; another owner's open report of the same fault nearby groups both
// into one incident.
func (s *Service) Receive(ctx context.Context, m Message) (Receipt, error) {
	if err := m.Validate(); err != nil {
		return Receipt{}, err
	}
	if t, err := s.store.Find(ctx, m.Channel, m.ChannelMsgID); err == nil {
		return Receipt{Ticket: t, Duplicate: true, Ack: Ack(t)}, nil
	} else if !errors.Is(err, huiyin.ErrNotFound) {
		return Receipt{}, err
	}
	text, err := triage.Clean(m.Text)
	if err != nil {
		return Receipt{}, err
	}
	if m.Received.IsZero() {
		m.Received = time.Now()
	}
	ownerID, vulnerable, err := s.store.Owner(ctx, m.Channel, m.OwnerRef)
	if err != nil {
		return Receipt{}, err
	}
	res, err := s.triageText(ctx, m.Location, text, m.Received)
	if err != nil {
		return Receipt{}, err
	}
	var priors []Prior
	if ownerID != 0 || res.Location.Room != "" {
		if priors, err = s.store.Priors(ctx, ownerID, res.Location, m.Received.Add(-RepeatWindow)); err != nil {
			return Receipt{}, err
		}
	}
	if target, ok := MergeTarget(priors, ownerID, text, m.Received); ok {
		return s.merge(ctx, m, text, target, vulnerable)
	}
	var links Links
	if p, ok := RepeatOf(priors, ownerID, res, text, m.Received, 0); ok {
		res = s.triage.Raise(res, triage.RiskRepeat, m.Received)
		links.RepeatOf = p.ID
	}
	if vulnerable {
		res = s.triage.Raise(res, triage.RiskVulnerable, m.Received)
		links.Vulnerable = true
	}
	if res.Location.Building != "" || res.Location.Area != "" {
		nearby, err := s.store.Nearby(ctx, res.Category, res.Location, m.Received.Add(-IncidentWindow))
		if err != nil {
			return Receipt{}, err
		}
		if p, ok := IncidentWith(nearby, ownerID, res, text, m.Received); ok {
			links.IncidentWith = p.ID
		}
	}
	t, dup, err := s.store.Open(ctx, m, text, res, links)
	if err != nil {
		return Receipt{}, err
	}
	if !dup {
		s.log.Info("ticket opened", "ref", t.Ref, "channel", m.Channel, "category", res.Category, "urgency", res.Urgency,
			"department", res.Department, "escalate", res.Escalate, "repeat", links.RepeatOf != 0,
			"incident", links.IncidentWith != 0, "vulnerable", links.Vulnerable)
	}
	return Receipt{Ticket: t, Duplicate: dup, Repeat: links.RepeatOf != 0, Incident: links.IncidentWith != 0, Ack: Ack(t)}, nil
}

// merge adds a message to the ticket it continues and triages the whole
// ticket again, deadlines still counted from its first message.
func (s *Service) merge(ctx context.Context, m Message, text string, target Prior, vulnerable bool) (Receipt, error) {
	res, err := s.triageText(ctx, m.Location, target.Text+"\n"+text, target.Received)
	if err != nil {
		return Receipt{}, err
	}
	if target.RepeatOf != 0 {
		res = s.triage.Raise(res, triage.RiskRepeat, target.Received)
	}
	if vulnerable {
		res = s.triage.Raise(res, triage.RiskVulnerable, target.Received)
	}
	if target.Corrected != nil {
		// Staff's judgement of the ticket stands over the classifier's,
		// which sees the earlier messages again in the merged text.
		if res, _, err = s.triage.Correct(res, *target.Corrected, target.Received); err != nil {
			return Receipt{}, err
		}
	}
	t, dup, err := s.store.Append(ctx, target.ID, m, text, res)
	if err != nil {
		return Receipt{}, err
	}
	if !dup {
		s.log.Info("message merged", "ref", t.Ref, "channel", m.Channel, "category", res.Category, "urgency", res.Urgency)
	}
	return Receipt{Ticket: t, Duplicate: dup, Merged: !dup, Repeat: target.RepeatOf != 0, Ack: Ack(t)}, nil
}

// Correct applies staff's correction of a ticket's labels: the ticket is
// routed again and gets the deadlines of its corrected urgency, counted
// from when it was received. It returns the fields that changed.
func (s *Service) Correct(ctx context.Context, ref string, c triage.Correction, actor string) (Ticket, []string, error) {
	t, fields, err := s.store.Relabel(ctx, ref, actor, func(res triage.Result, received time.Time) (triage.Result, []string, error) {
		return s.triage.Correct(res, c, received)
	})
	if err == nil && len(fields) > 0 {
		s.log.Info("ticket relabeled", "ref", t.Ref, "fields", fields, "category", t.Triage.Category, "urgency", t.Triage.Urgency, "actor", actor)
	}
	return t, fields, err
}

func (s *Service) triageText(ctx context.Context, location, text string, received time.Time) (triage.Result, error) {
	if location != "" {
		// A location given apart from the text still places the problem.
		text = strings.TrimSpace(location) + "，" + text
	}
	return s.triage.Triage(ctx, triage.Message{Text: text, Received: received})
}

// Ack is the acknowledgement an owner is shown: the ticket reference, who
// handles it and by when, in words.
func Ack(t Ticket) string {
	r := t.Triage
	p := knowledge.PromiseFor(r.Deadlines)
	var b strings.Builder
	fmt.Fprintf(&b, "您好，您的消息已收到，工单号 %s。%s会在%s与您联系，%s。", t.Ref, r.DepartmentName, p.FirstResponse, p.Clause())
	if r.Urgency == triage.Emergency {
		b.WriteString("情况紧急，已同时通知项目经理；如有人员受伤、起火或燃气泄漏，请先远离危险区域并拨打119、120或110。")
	}
	b.WriteString("处理进度可在业主APP中查看。")
	return b.String()
}
