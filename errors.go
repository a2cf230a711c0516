package huiyin

import "errors"

// Sentinel errors shared by every domain package. Domain code wraps them
// with %w and context; the HTTP layer maps them to status codes in one table
// and the CLI to exit codes, so callers test them with errors.Is.
var (
	// ErrInvalid means the caller sent something the contract rejects:
	// empty or oversized text, invalid UTF-8, an unknown label, a bad file.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request clashes with the current state.
	ErrConflict = errors.New("conflict")
	// ErrUnauthorized means the caller is not signed in, or its session
	// or key is unknown, expired or revoked.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden means the caller is signed in but its role may not do
	// this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable means a dependency (database, LLM endpoint) cannot be
	// reached right now; the request may succeed later.
	ErrUnavailable = errors.New("unavailable")
)
