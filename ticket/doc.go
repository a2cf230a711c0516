// Package ticket turns owners' messages into tickets: intake (validated,
// triaged, persisted before it is acknowledged, idempotent on the
// channel's message id), ticket states and their history. Its store is
// ticket/ticketstore; the HTTP layer is package api.
package ticket
