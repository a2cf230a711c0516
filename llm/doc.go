// Package llm is huiyin's adapter to an OpenAI-compatible endpoint: a chat
// model behind knowledge.Completer and an embedding model behind
// knowledge.Embedder, both through github.com/sashabaranov/go-openai.
//
// # Configuration
//
// Config holds values only; cmd/huiyin reads them from the environment.
// BaseURL is the API root including its version path, as the OpenAI SDKs
// expect it ("https://api.openai.com/v1", "http://localhost:11434/v1");
// empty means OpenAI's. Timeout bounds each HTTP attempt; the caller's
// context bounds the whole call, retries included.
//
// # Errors
//
// Callers fall back to the offline drafter and the offline embedder when the
// endpoint cannot serve them, so the errors are sorted by what the caller
// can do about them:
//
//   - huiyin.ErrUnavailable (wrapped): the endpoint could not be reached,
//     timed out, was rate limited (429), failed (5xx) or answered with
//     something that is not a usable response (a body that does not decode,
//     no choices, too few vectors). 408, 429 and 5xx are retried up to
//     Config.MaxRetries times with a short doubling backoff, never past the
//     context's deadline.
//   - a plain wrapped error: the endpoint rejected the request (any other
//     4xx: a wrong key, an unknown model), or the embedding model returns
//     vectors of another length than Config.Dimensions. Retrying does not
//     help; the configuration must change.
//
// Neither the prompts nor the answers are logged: they may hold owners'
// personal data. Retries are logged at Info with the model, the attempt
// and the HTTP status.
package llm
