package prompts

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
)

// TicketPlaceholder is the placeholder a draft carries where the ticket
// number goes; it is filled in when the reply is sent.
const TicketPlaceholder = "{工单号}"

// DraftInput is what the model needs to draft a reply to an owner's
// message: the message, its triage, the policy's deadlines in words, the
// script library's example and the sources.
type DraftInput struct {
	// Message is the owner's message, personal data already masked.
	Message string
	// Category, Urgency: taxonomy wire values; CategoryName, UrgencyName:
	// their Chinese names; Department: the department that handles it.
	Category, CategoryName string
	Urgency, UrgencyName   string
	Department             string
	// FirstResponse and Resolution are the deadlines in words, as the
	// reply must state them (15分钟内回复, 30分钟内到场处理). Empty: the
	// reply promises no time.
	FirstResponse, Resolution string
	// Escalate: the matter went to the project manager (第一负责人).
	Escalate bool
	// Apologise: the reply must apologise.
	Apologise bool
	// Script is the script library's example reply for the situation.
	Script string
	// Sources are numbered 1, 2, 3 … in order.
	Sources []Source
}

// DraftOutput is the reply draft as the model gave it.
type DraftOutput struct {
	// Reply contains TicketPlaceholder and has DraftMinRunes to
	// DraftMaxRunes characters.
	Reply string
	// Citations are source numbers, each in 1..nSources, without
	// duplicates; never empty when there were sources.
	Citations []int
}

// Draft length bounds. The prompt asks for 80 to 300 characters; the
// parser leaves room because models count Chinese characters loosely.
// These are the bounds of the reply rubric (knowledge.CheckReply).
const (
	DraftMinRunes = 40
	DraftMaxRunes = 400
)

// RenderDraft renders the reply-draft prompt. It returns ErrInvalid for an
// empty, oversized or invalid message or script, or misnumbered sources.
func RenderDraft(in DraftInput) ([]Message, error) {
	if err := checkText("message", in.Message, MaxMessageRunes, true); err != nil {
		return nil, err
	}
	if err := checkText("script", in.Script, MaxSourceRunes, false); err != nil {
		return nil, err
	}
	fields := in.Category + in.CategoryName + in.Urgency + in.UrgencyName + in.Department + in.FirstResponse + in.Resolution
	if err := checkText("ticket fields", fields, MaxSourceRunes, false); err != nil {
		return nil, err
	}
	if err := checkSources(in.Sources); err != nil {
		return nil, err
	}
	return render("draft_system.tmpl", "draft_user.tmpl", in)
}

// ParseDraft reads the model's output for the draft prompt rendered with
// nSources sources. It returns ErrInvalid when no JSON object with the
// field reply is found, when the reply lacks TicketPlaceholder or is
// outside DraftMinRunes..DraftMaxRunes, or when a citation is not a source
// number or, with sources, there is none.
func ParseDraft(raw string, nSources int) (DraftOutput, error) {
	v, err := decodeObject[struct {
		Reply     *string `json:"reply"`
		Citations []int   `json:"citations"`
	}](raw)
	if err != nil {
		return DraftOutput{}, fmt.Errorf("draft: %w", err)
	}
	if v.Reply == nil {
		return DraftOutput{}, fmt.Errorf("%w: draft: the field reply is required", huiyin.ErrInvalid)
	}
	out := DraftOutput{Reply: strings.TrimSpace(*v.Reply)}
	if out.Citations, err = citations(v.Citations, nSources); err != nil {
		return DraftOutput{}, fmt.Errorf("draft: %w", err)
	}
	if nSources > 0 && len(out.Citations) == 0 {
		return DraftOutput{}, fmt.Errorf("%w: draft: no citation", huiyin.ErrInvalid)
	}
	if !strings.Contains(out.Reply, TicketPlaceholder) {
		return DraftOutput{}, fmt.Errorf("%w: draft: the reply lacks the placeholder %s", huiyin.ErrInvalid, TicketPlaceholder)
	}
	if n := utf8.RuneCountInString(out.Reply); n < DraftMinRunes || n > DraftMaxRunes {
		return DraftOutput{}, fmt.Errorf("%w: draft: the reply has %d characters, outside %d–%d", huiyin.ErrInvalid, n, DraftMinRunes, DraftMaxRunes)
	}
	return out, nil
}
