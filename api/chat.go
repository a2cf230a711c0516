package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/triage"
)

// Answerer answers owners' questions from the knowledge base;
// knowledge.Assistant is one.
type Answerer interface {
	Ask(ctx context.Context, question string, received time.Time) (knowledge.Answer, error)
}

var _ Answerer = (*knowledge.Assistant)(nil)

// Conversations keeps the web chat; ticketstore.Store is one.
type Conversations interface {
	StartConversation(ctx context.Context, ownerRef string) (string, int64, error)
	Conversation(ctx context.Context, token string) (ticket.Conversation, error)
	AddTurns(ctx context.Context, conversationID int64, turns ...ticket.Turn) error
}

// chatIDPrefix marks the web chat's message ids at intake.
const chatIDPrefix = "chat-"

type chatRequest struct {
	Conversation string  `json:"conversation"`
	Owner        string  `json:"owner"`
	MessageID    string  `json:"message_id"`
	Text         *string `json:"text"`
}

type chatResponse struct {
	Conversation string               `json:"conversation"`
	Answer       string               `json:"answer"`
	Citations    []knowledge.Citation `json:"citations"`
	// Handoff is true when the question went to staff as a ticket.
	Handoff bool   `json:"handoff"`
	Ticket  string `json:"ticket,omitempty"`
	Source  string `json:"source"`
}

// chat answers an owner in the web chat. Only answers the knowledge layer
// marks answerable and that come from a curated FAQ entry reach the owner
// directly; anything else becomes a ticket that staff answer (with a
// draft waiting for their approval), and the owner gets its reference and
// deadline.
func (s *server) chat(c *fiber.Ctx) error {
	var req chatRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Text == nil {
		return fmt.Errorf("%w: 缺少 text 字段", huiyin.ErrInvalid)
	}
	text, err := triage.Clean(*req.Text)
	if err != nil {
		return err
	}
	// Checked before the conversation is started: the message id becomes
	// "chat-" + message_id at intake.
	if len([]rune(req.Owner)) > ticket.MaxOwnerRef || len([]rune(req.MessageID)) > ticket.MaxIDRunes-len(chatIDPrefix) {
		return fmt.Errorf("%w: owner 或 message_id 过长", huiyin.ErrInvalid)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RequestTimeout)
	defer cancel()
	var conv ticket.Conversation
	token := req.Conversation
	if token != "" {
		if conv, err = s.d.Chat.Conversation(ctx, token); err != nil {
			return err
		}
	} else {
		owner := strings.TrimSpace(req.Owner)
		if owner == "" {
			owner = "web-" + randomHex(8)
		}
		if token, conv.ID, err = s.d.Chat.StartConversation(ctx, owner); err != nil {
			return err
		}
		conv.OwnerRef = owner
	}
	now := time.Now()
	ans, err := s.ask(ctx, text, now)
	if err != nil {
		return err
	}
	resp := chatResponse{Conversation: token, Citations: []knowledge.Citation{}, Source: ans.Source}
	if !ans.Handoff && ans.Source == "faq" && !ans.Report {
		resp.Answer, resp.Citations = ans.Answer, ans.Citations
		s.m.chat.WithLabelValues("answered").Inc()
	} else {
		id := req.MessageID
		if id == "" {
			id = randomHex(12)
		}
		rec, err := s.d.Intake.Receive(ctx, ticket.Message{
			Channel: ticket.Web, ChannelMsgID: chatIDPrefix + id, OwnerRef: conv.OwnerRef, Text: text, Received: now,
		})
		if err != nil {
			return err
		}
		s.m.received(rec)
		resp.Handoff, resp.Ticket, resp.Source = true, rec.Ticket.Ref, "handoff"
		resp.Answer = rec.Ack
		if ans.Report && ans.Source == "faq" {
			// What to do meanwhile, from the FAQ, after the ticket.
			resp.Answer += "\n\n在此期间：" + ans.Answer
			resp.Citations = ans.Citations
		}
		if ans.Reason != "emergency" && ans.Reason != "report" && rec.Ticket.Triage.Intent == triage.Inquiry {
			resp.Answer = "这个问题我们请工作人员为您解答。" + rec.Ack
		}
		s.m.chat.WithLabelValues("handoff").Inc()
	}
	err = s.d.Chat.AddTurns(ctx, conv.ID,
		ticket.Turn{Role: "owner", Body: text, Ticket: resp.Ticket},
		ticket.Turn{Role: "assistant", Body: resp.Answer, Citations: resp.Citations, Ticket: resp.Ticket})
	if err != nil {
		return err
	}
	return c.JSON(resp)
}

// conversation shows an owner their chat and the progress of the tickets
// it opened, with the replies staff sent.
func (s *server) conversation(c *fiber.Ctx) error {
	conv, err := s.d.Chat.Conversation(c.UserContext(), c.Params("token"))
	if err != nil {
		return err
	}
	return c.JSON(conv)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
