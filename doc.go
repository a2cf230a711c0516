// Package huiyin holds what every part of the service shares: the sentinel
// errors that domain packages wrap and that the API and CLI map to status
// codes. The domain lives in triage (labels, routing, deadlines) and
// knowledge (documents, retrieval, answers); cmd/huiyin wires the adapters.
package huiyin
