// Package staffstore keeps staff accounts, sessions, API keys and the
// audit log in PostgreSQL.
package staffstore
