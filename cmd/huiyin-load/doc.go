// Command huiyin-load is an open-loop, constant-rate HTTP load generator for
// the huiyin API, bounded both in request count and in time.
//
// Why open loop: a closed-loop tester (N workers, each sending its next
// request when the previous answer arrives) slows down exactly when the
// server does, so it sends fewer requests during a stall and never measures
// the waiting those missing requests would have seen ("coordinated
// omission"). Real owners do not wait for each other. huiyin-load instead
// fires request i at start + i/rate whatever happened to earlier ones, and
// measures each latency from that scheduled send time, not from when the
// request actually left; a stalled server or a lagging generator therefore
// shows up in the percentiles instead of vanishing from them.
//
// In-flight requests are capped by -concurrency. A request due while the cap
// is reached is not queued (queueing would reintroduce the omission); it is
// counted as "dropped", an error, so an overloaded server fails -max-error-rate
// rather than quietly getting a lighter load.
//
// A run is -warmup (excluded from the statistics, to leave out connection
// set-up and cold caches) followed by the measured window, which ends after
// -duration or -n requests, whichever comes first; requests still in flight
// then get at most -timeout to finish. Ctrl-C stops sending and still reports.
//
// Scenarios:
//
//	intake  POST /api/v1/messages  {"channel":"app","message_id":"<run-id>-<i>","owner":"load-owner-<i%500>","text":…}
//	chat    POST /api/v1/chat      {"owner":"load-owner-<i%500>","text":…}
//	queue   GET  /api/v1/tickets?limit=50 with "Authorization: Bearer <-token>"
//	health  GET  /healthz
//
// Message texts come from -messages (JSON Lines with a "text" field; by
// default eval/testdata/triage_heldout.jsonl when run from the repository
// root, else a built-in list), in an order fixed by -seed, so two runs with
// the same flags send the same texts in the same order. -run-id keeps message
// ids of repeated runs apart, so intake's idempotency does not turn a second
// run into duplicates.
//
// Report: scheduled (due in the measured window), sent (scheduled minus
// dropped), completed (a full response, any status), errors by kind (HTTP
// status >= 400 by code, transport, timeout, dropped) and their share of
// scheduled, achieved send rate, throughput (completed per second until the
// last answer), exact latency percentiles of completed requests in ms, and the
// status histogram. -max-p99 and -max-error-rate make the exit status 1 when
// exceeded, for CI gating; bad flags exit 2.
//
// Note that the server limits public intake per client
// (HUIYIN_INTAKE_PER_MIN, default 120/min), so load from one address at
// 200/s mostly measures 429s unless that limit is raised for the test.
//
// Usage:
//
//	huiyin serve &
//	go run ./cmd/huiyin-load -scenario intake -rate 200 -duration 20s
//	go run ./cmd/huiyin-load -scenario health -rate 1000 -n 5000 -json
//	go run ./cmd/huiyin-load -max-p99 250ms -max-error-rate 0.01   # CI gate
package main
