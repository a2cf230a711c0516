package llm

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/knowledge"
	openai "github.com/sashabaranov/go-openai"
)

// Chat is a chat model behind an OpenAI-compatible /chat/completions
// endpoint.
type Chat struct {
	c *client
}

var _ knowledge.Completer = (*Chat)(nil)

// NewChat returns the chat model cfg.ChatModel at cfg.BaseURL. It returns
// ErrInvalid when the model is not named or the configuration is out of
// range. log may be nil.
func NewChat(cfg Config, log *slog.Logger) (*Chat, error) {
	model := strings.TrimSpace(cfg.ChatModel)
	if model == "" {
		return nil, fmt.Errorf("%w: no chat model configured", huiyin.ErrInvalid)
	}
	c, err := newClient(cfg, model, log)
	if err != nil {
		return nil, err
	}
	return &Chat{c: c}, nil
}

// Name identifies the model: "openai:" and the model's name.
func (ch *Chat) Name() string { return "openai:" + ch.c.model }

// Complete returns the content of the model's first choice. With req.JSON
// it asks for a JSON object (response_format json_object); the caller still
// parses and checks what comes back. It returns ErrInvalid for a request
// without messages, ErrUnavailable when the endpoint cannot answer (see the
// package documentation) or answers with no choice or an empty one.
//
// A zero Temperature is not sent (go-openai omits zero values), so the
// endpoint's default applies; ask for a small positive value instead.
func (ch *Chat) Complete(ctx context.Context, req knowledge.CompletionRequest) (string, error) {
	if len(req.Messages) == 0 {
		return "", fmt.Errorf("%w: chat completion without messages", huiyin.ErrInvalid)
	}
	r := openai.ChatCompletionRequest{Model: ch.c.model}
	for _, m := range req.Messages {
		r.Messages = append(r.Messages, openai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	if reasoningModel(ch.c.model) {
		// Reasoning models take neither max_tokens nor a temperature.
		r.MaxCompletionTokens = req.MaxTokens
	} else {
		//lint:ignore SA1019 max_completion_tokens is unknown to most compatible endpoints
		r.MaxTokens = req.MaxTokens
		r.Temperature = req.Temperature
	}
	if req.JSON {
		r.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	}
	const op = "chat completion"
	var resp openai.ChatCompletionResponse
	err := ch.c.do(ctx, op, func(ctx context.Context) error {
		var err error
		resp, err = ch.c.api.CreateChatCompletion(ctx, r)
		return err
	})
	if err != nil {
		return "", err
	}
	if len(resp.Choices) == 0 {
		return "", malformed(op, ch.c.model, "the answer has no choices")
	}
	content := resp.Choices[0].Message.Content
	if strings.TrimSpace(content) == "" {
		return "", malformed(op, ch.c.model, "the answer is empty (finish reason %q)", resp.Choices[0].FinishReason)
	}
	return content, nil
}

// reasoningModel reports OpenAI's reasoning models, which go-openai checks
// for parameters they refuse.
func reasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}
