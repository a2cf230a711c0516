package prompts

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
)

// AnswerInput is an owner's question and the sources the chatbot may
// answer from.
type AnswerInput struct {
	// Question is the owner's question, personal data already masked.
	Question string
	// Sources are numbered 1, 2, 3 … in order. With none the model can
	// only hand off.
	Sources []Source
}

// AnswerOutput is the chatbot's answer as the model gave it.
type AnswerOutput struct {
	// Answer is the text for the owner; with Handoff, a sentence saying a
	// person will answer (possibly empty).
	Answer string
	// Citations are source numbers, each in 1..nSources, without
	// duplicates; never empty unless Handoff.
	Citations []int
	// Handoff means the sources do not support an answer: a person must
	// answer.
	Handoff bool
}

// AnswerMaxRunes bounds the answer's length. The prompt asks for at most
// 200 characters; the parser leaves room because models count Chinese
// characters loosely, and rejects only what is clearly not an FAQ answer.
const AnswerMaxRunes = 600

// RenderAnswer renders the grounded-answer prompt. It returns ErrInvalid
// for an empty, oversized or invalid question or misnumbered sources.
func RenderAnswer(in AnswerInput) ([]Message, error) {
	if err := checkText("question", in.Question, MaxMessageRunes, true); err != nil {
		return nil, err
	}
	if err := checkSources(in.Sources); err != nil {
		return nil, err
	}
	return render("answer_system.tmpl", "answer_user.tmpl", in)
}

// ParseAnswer reads the model's output for the answer prompt rendered with
// nSources sources. It returns ErrInvalid when no JSON object with the
// fields answer and handoff is found, when a citation is not a source
// number, or when an answer that is not a handoff is empty, uncited or
// longer than AnswerMaxRunes.
func ParseAnswer(raw string, nSources int) (AnswerOutput, error) {
	v, err := decodeObject[struct {
		Answer    *string `json:"answer"`
		Citations []int   `json:"citations"`
		Handoff   *bool   `json:"handoff"`
	}](raw)
	if err != nil {
		return AnswerOutput{}, fmt.Errorf("answer: %w", err)
	}
	if v.Answer == nil || v.Handoff == nil {
		return AnswerOutput{}, fmt.Errorf("%w: answer: the fields answer and handoff are required", huiyin.ErrInvalid)
	}
	out := AnswerOutput{Answer: strings.TrimSpace(*v.Answer), Handoff: *v.Handoff}
	if out.Citations, err = citations(v.Citations, nSources); err != nil {
		return AnswerOutput{}, fmt.Errorf("answer: %w", err)
	}
	if n := utf8.RuneCountInString(out.Answer); n > AnswerMaxRunes {
		return AnswerOutput{}, fmt.Errorf("%w: answer has %d characters, more than %d", huiyin.ErrInvalid, n, AnswerMaxRunes)
	}
	if !out.Handoff {
		if out.Answer == "" {
			return AnswerOutput{}, fmt.Errorf("%w: answer: empty answer without handoff", huiyin.ErrInvalid)
		}
		if len(out.Citations) == 0 {
			return AnswerOutput{}, fmt.Errorf("%w: answer: no citation without handoff", huiyin.ErrInvalid)
		}
	}
	return out, nil
}
