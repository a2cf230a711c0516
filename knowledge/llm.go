package knowledge

import "context"

// ChatMessage is one message of a chat completion request.
type ChatMessage struct {
	Role    string // system, user or assistant
	Content string
}

// CompletionRequest asks a chat model for one answer.
type CompletionRequest struct {
	Messages []ChatMessage
	// JSON asks for a JSON object as the answer (response_format
	// json_object where the endpoint supports it).
	JSON        bool
	MaxTokens   int
	Temperature float32
}

// Completer is a chat model. Implementations return ErrUnavailable
// (wrapped) when the endpoint cannot be reached or times out, so that
// callers fall back to the offline drafter.
type Completer interface {
	Complete(ctx context.Context, req CompletionRequest) (string, error)
	// Name identifies the model, for logs and metrics.
	Name() string
}
