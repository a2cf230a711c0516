package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/huiyin/huiyin"
	openai "github.com/sashabaranov/go-openai"
)

// Config configures the OpenAI-compatible endpoint.
type Config struct {
	// BaseURL is the API root including its version path; empty means
	// DefaultBaseURL.
	BaseURL string
	APIKey  string
	// ChatModel is the chat model's name; NewChat requires it.
	ChatModel string
	// EmbedModel is the embedding model's name; NewEmbedder requires it.
	EmbedModel string
	// Dimensions is the length of the embedding vectors, passed to the
	// endpoint as `dimensions`; NewEmbedder requires it, since the index
	// is built for one length.
	Dimensions int
	// Timeout bounds each HTTP attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times a 408, 429 or 5xx answer is retried
	// (0: never).
	MaxRetries int
}

// Defaults for the zero values of Config.
const (
	DefaultBaseURL = "https://api.openai.com/v1"
	DefaultTimeout = 30 * time.Second
)

// firstBackoff is the wait before the first retry; each further retry
// waits twice as long.
const firstBackoff = 250 * time.Millisecond

// client is what Chat and Embedder share: the go-openai client and the
// retry loop.
type client struct {
	api     *openai.Client
	model   string
	timeout time.Duration
	retries int
	backoff time.Duration
	log     *slog.Logger
}

func newClient(cfg Config, model string, log *slog.Logger) (*client, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: LLM base URL %q is not an http(s) URL", huiyin.ErrInvalid, cfg.BaseURL)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: LLM timeout %v is negative", huiyin.ErrInvalid, cfg.Timeout)
	}
	if cfg.MaxRetries < 0 {
		return nil, fmt.Errorf("%w: LLM max retries %d is negative", huiyin.ErrInvalid, cfg.MaxRetries)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = base
	// No client-wide timeout: each attempt carries its own deadline in
	// its context.
	oc.HTTPClient = &http.Client{}
	return &client{
		api:     openai.NewClientWithConfig(oc),
		model:   model,
		timeout: timeout,
		retries: cfg.MaxRetries,
		backoff: firstBackoff,
		log:     log,
	}, nil
}

// do runs call, each attempt under the per-attempt timeout, and retries
// the answers worth retrying while the context's deadline leaves room.
// The error it returns is already sorted (see classify).
func (c *client) do(ctx context.Context, op string, call func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, c.timeout)
		err := call(actx)
		cancel()
		if err == nil {
			return nil
		}
		status := statusOf(err)
		if !retryable(status) || attempt >= c.retries {
			return classify(op, c.model, status, err)
		}
		wait := c.backoff << attempt
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return classify(op, c.model, status, err)
		}
		c.log.Info("llm retry", "op", op, "model", c.model, "attempt", attempt+1, "status", status, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return classify(op, c.model, status, errors.Join(err, ctx.Err()))
		case <-t.C:
		}
	}
}

// statusOf is the HTTP status of a failed request, 0 when there was no
// HTTP answer (network error, timeout) or it did not decode.
func statusOf(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// retryable says whether an HTTP status may succeed if asked again soon.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// classify wraps err: ErrUnavailable for what the endpoint may serve
// later, a plain error for a request it rejects.
func classify(op, model string, status int, err error) error {
	if status != 0 && !retryable(status) {
		return fmt.Errorf("%s (%s): %w", op, model, err)
	}
	return fmt.Errorf("%w: %s (%s): %w", huiyin.ErrUnavailable, op, model, err)
}

// malformed reports an answer that is not a usable response.
func malformed(op, model, format string, args ...any) error {
	return fmt.Errorf("%w: %s (%s): %s", huiyin.ErrUnavailable, op, model, fmt.Sprintf(format, args...))
}
