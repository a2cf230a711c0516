package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/staff"
	"github.com/huiyin/huiyin/ticket"
	"github.com/huiyin/huiyin/triage"
)

// Desk is what staff work with; ticketstore.Store is one.
type Desk interface {
	Queue(ctx context.Context, f ticket.QueueFilter) ([]ticket.Summary, int, error)
	Detail(ctx context.Context, ref string) (ticket.Detail, error)
	Assign(ctx context.Context, ref, assignee, actor string) (ticket.Ticket, error)
	Move(ctx context.Context, ref string, to ticket.State, actor, note string) (ticket.Ticket, error)
	RequestDraft(ctx context.Context, ref, actor string) error
	Approve(ctx context.Context, ref string, draftID int64, text, actor string) (ticket.Reply, error)
	Reject(ctx context.Context, ref string, draftID int64, reason, actor string) error
	ScheduleFollowUp(ctx context.Context, ref string, due time.Time, actor string) error
	RecordFollowUp(ctx context.Context, ref string, score int, comment, actor string) (ticket.Ticket, bool, error)
	Incidents(ctx context.Context, limit int) ([]ticket.Incident, error)
	Incident(ctx context.Context, ref string) (ticket.Incident, error)
	ReplyIncident(ctx context.Context, ref, text, actor string) ([]ticket.Reply, error)
	Owners(ctx context.Context, q string, limit int) ([]ticket.Owner, error)
	GetOwner(ctx context.Context, id int64) (ticket.Owner, error)
	UpdateOwner(ctx context.Context, id int64, u ticket.OwnerUpdate) (ticket.Owner, error)
	Notifications(ctx context.Context, recipients []string, limit int) ([]ticket.Notification, error)
	Analytics(ctx context.Context, from, to time.Time) (ticket.Analytics, error)
	Export(ctx context.Context, from, to time.Time, limit int) ([]ticket.ExportRow, error)
	CountByState(ctx context.Context) (map[string]int, error)
	Feedback(ctx context.Context, since time.Time, limit int) ([]ticket.Feedback, error)
	RecentReplies(ctx context.Context, limit int) ([]ticket.Reply, error)
}

// ScriptLibrary keeps approved replies as examples for future drafts.
type ScriptLibrary interface {
	Promote(ctx context.Context, replyID int64, situation, actor string) (ticket.PromotedScript, error)
}

func (s *server) queue(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	offset, err := queryInt(c, "offset", 0)
	if err != nil {
		return err
	}
	f := ticket.QueueFilter{
		Department: c.Query("department"), State: ticket.State(c.Query("state")), Category: c.Query("category"),
		Building: c.Query("building"), Assignee: c.Query("assignee"), Open: c.QueryBool("open"),
		Limit: limit, Offset: offset,
	}
	list, total, err := s.d.Desk.Queue(c.UserContext(), f)
	if err != nil {
		return err
	}
	// Past the cap the total says "at least", and total_capped says so.
	capped := total > ticket.QueueCountCap
	return c.JSON(fiber.Map{"tickets": list, "total": min(total, ticket.QueueCountCap), "total_capped": capped})
}

func (s *server) ticketDetail(c *fiber.Ctx) error {
	d, err := s.d.Desk.Detail(c.UserContext(), c.Params("ref"))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

type assignRequest struct {
	Assignee string `json:"assignee"`
}

func (s *server) assign(c *fiber.Ctx) error {
	var req assignRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := s.d.Desk.Assign(c.UserContext(), c.Params("ref"), req.Assignee, principal(c).Actor)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ref": t.Ref, "state": t.State, "assignee": req.Assignee})
}

type stateRequest struct {
	State string `json:"state"`
	Note  string `json:"note"`
}

func (s *server) changeState(c *fiber.Ctx) error {
	var req stateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	to, err := ticket.ParseState(req.State)
	if err != nil {
		return err
	}
	// These moves carry more than a state: who takes the ticket, what the
	// owner said at the visit.
	switch to {
	case ticket.Assigned:
		return fmt.Errorf("%w: 派单请使用 /tickets/{ref}/assign 并指定处理人", huiyin.ErrInvalid)
	case ticket.FollowedUp:
		return fmt.Errorf("%w: 回访请使用 /tickets/{ref}/follow-up 记录满意度", huiyin.ErrInvalid)
	}
	if len([]rune(req.Note)) > 500 {
		return fmt.Errorf("%w: 备注最多 500 个字符", huiyin.ErrInvalid)
	}
	t, err := s.d.Desk.Move(c.UserContext(), c.Params("ref"), to, principal(c).Actor, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ref": t.Ref, "state": t.State, "state_name": t.State.Name()})
}

func (s *server) requestDraft(c *fiber.Ctx) error {
	if err := s.d.Desk.RequestDraft(c.UserContext(), c.Params("ref"), principal(c).Actor); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "queued"})
}

type approveRequest struct {
	// Text is the reply as edited by staff; empty sends the draft as is.
	Text string `json:"text"`
}

func (s *server) approve(c *fiber.Ctx) error {
	var req approveRequest
	if len(c.Body()) > 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.d.Desk.Approve(c.UserContext(), c.Params("ref"), id, req.Text, principal(c).Actor)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

type rejectRequest struct {
	Reason string `json:"reason"`
}

func (s *server) reject(c *fiber.Ctx) error {
	var req rejectRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.d.Desk.Reject(c.UserContext(), c.Params("ref"), id, req.Reason, principal(c).Actor); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type followUpRequest struct {
	// DueAt schedules the visit; Score (1–5) records it.
	DueAt   *time.Time `json:"due_at"`
	Score   *int       `json:"score"`
	Comment string     `json:"comment"`
}

func (s *server) followUp(c *fiber.Ctx) error {
	var req followUpRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ref, actor := c.Params("ref"), principal(c).Actor
	switch {
	case req.Score != nil && req.DueAt != nil:
		return fmt.Errorf("%w: due_at（安排回访）与 score（记录回访结果）请分开提交", huiyin.ErrInvalid)
	case req.Score != nil:
		t, reopened, err := s.d.Desk.RecordFollowUp(c.UserContext(), ref, *req.Score, req.Comment, actor)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"ref": t.Ref, "state": t.State, "reopened": reopened})
	case req.DueAt != nil:
		if err := s.d.Desk.ScheduleFollowUp(c.UserContext(), ref, *req.DueAt, actor); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"ref": ref, "due_at": req.DueAt})
	}
	return fmt.Errorf("%w: 请提供 due_at（安排回访）或 score（记录满意度 1–5）", huiyin.ErrInvalid)
}

type promoteRequest struct {
	Situation string `json:"situation"`
}

func (s *server) promote(c *fiber.Ctx) error {
	var req promoteRequest
	if len(c.Body()) > 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.d.Scripts.Promote(c.UserContext(), id, req.Situation, principal(c).Actor)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *server) incidents(c *fiber.Ctx) error {
	list, err := s.d.Desk.Incidents(c.UserContext(), 100)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"incidents": list})
}

func (s *server) incident(c *fiber.Ctx) error {
	in, err := s.d.Desk.Incident(c.UserContext(), c.Params("ref"))
	if err != nil {
		return err
	}
	return c.JSON(in)
}

type incidentReplyRequest struct {
	Text string `json:"text"`
}

func (s *server) replyIncident(c *fiber.Ctx) error {
	var req incidentReplyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	replies, err := s.d.Desk.ReplyIncident(c.UserContext(), c.Params("ref"), req.Text, principal(c).Actor)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"replies": replies})
}

func (s *server) owners(c *fiber.Ctx) error {
	list, err := s.d.Desk.Owners(c.UserContext(), c.Query("q"), 50)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"owners": list})
}

func (s *server) owner(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	o, err := s.d.Desk.GetOwner(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *server) updateOwner(c *fiber.Ctx) error {
	var req ticket.OwnerUpdate
	if err := decode(c, &req); err != nil {
		return err
	}
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	o, err := s.d.Desk.UpdateOwner(c.UserContext(), id, req)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// notifications returns what the caller must be told: managers get
// escalations; everyone gets their department's reminders.
func (s *server) notifications(c *fiber.Ctx) error {
	p := principal(c)
	recipients := []string{p.Department}
	if p.Role.AtLeast(staff.Manager) {
		recipients = append(recipients, "manager")
	}
	list, err := s.d.Desk.Notifications(c.UserContext(), recipients, 100)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"notifications": list})
}

// Labels corrects tickets' labels; ticket.Service is one.
type Labels interface {
	Correct(ctx context.Context, ref string, c triage.Correction, actor string) (ticket.Ticket, []string, error)
}

var _ Labels = (*ticket.Service)(nil)

func (s *server) correctLabels(c *fiber.Ctx) error {
	var req triage.Correction
	if err := decode(c, &req); err != nil {
		return err
	}
	t, fields, err := s.d.Labels.Correct(c.UserContext(), c.Params("ref"), req, principal(c).Actor)
	if err != nil {
		return err
	}
	if fields == nil {
		fields = []string{}
	}
	return c.JSON(fiber.Map{"ref": t.Ref, "changed": fields, "triage": t.Triage})
}

// feedbackExport writes the label corrections as JSON Lines in the
// evaluation data's format (text and labels, wire values), for retraining
// and for measuring the classifier on staff's judgement.
func (s *server) feedbackExport(c *fiber.Ctx) error {
	since := time.Time{}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return fmt.Errorf("%w: since 应为日期，如 2026-11-01", huiyin.ErrInvalid)
		}
		since = t
	}
	list, err := s.d.Desk.Feedback(c.UserContext(), since, 0)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/x-ndjson; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="triage-feedback.jsonl"`)
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, f := range list {
		line := map[string]any{"id": "fb" + strconv.FormatInt(f.ID, 10), "ticket": f.Ticket, "text": f.Text, "fields": f.Fields, "predicted": f.Predicted}
		for k, v := range f.Corrected {
			line[k] = v
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("encode feedback: %w", err)
		}
	}
	return c.SendString(b.String())
}

func (s *server) recentReplies(c *fiber.Ctx) error {
	list, err := s.d.Desk.RecentReplies(c.UserContext(), 100)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"replies": list})
}
