// Package ticketstore keeps owners, messages, tickets and their history in
// PostgreSQL; all of intake's SQL lives here.
package ticketstore
