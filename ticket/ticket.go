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
// received before, and the acknowledgement the owner is shown.
type Receipt struct {
	Ticket    Ticket `json:"ticket"`
	Duplicate bool   `json:"duplicate"`
	Ack       string `json:"ack"`
}

// Store persists intake; ticketstore.Store is the PostgreSQL one.
type Store interface {
	// Find returns the ticket a channel message already opened, or
	// ErrNotFound.
	Find(ctx context.Context, ch Channel, channelMsgID string) (Ticket, error)
	// Open stores the message and the ticket it opens in one transaction.
	// When the same channel message was stored meanwhile it returns that
	// ticket with duplicate set.
	Open(ctx context.Context, m Message, text string, res triage.Result) (t Ticket, duplicate bool, err error)
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
// and message id) returns the ticket it opened the first time.
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
	triageText := text
	if m.Location != "" {
		// A location given apart from the text still places the problem.
		triageText = strings.TrimSpace(m.Location) + "，" + text
	}
	res, err := s.triage.Triage(ctx, triage.Message{Text: triageText, Received: m.Received})
	if err != nil {
		return Receipt{}, err
	}
	t, dup, err := s.store.Open(ctx, m, text, res)
	if err != nil {
		return Receipt{}, err
	}
	if !dup {
		s.log.Info("ticket opened", "ref", t.Ref, "channel", m.Channel, "category", res.Category, "urgency", res.Urgency,
			"department", res.Department, "escalate", res.Escalate)
	}
	return Receipt{Ticket: t, Duplicate: dup, Ack: Ack(t)}, nil
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
