// Package api is huiyin's HTTP service on Fiber: owner intake, health,
// readiness and metrics, with request ids, structured access logs, panic
// recovery, body-size and rate limits and security headers. Errors from
// the domain packages map to HTTP status in one table (errors.go); a 5xx
// body says nothing internal, the log says all.
package api
