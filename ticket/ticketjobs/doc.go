// Package ticketjobs runs the tickets' background work on River: drafting
// each ticket's reply, checking its deadlines when they come (escalating a
// missed one), and reminding staff of follow-up visits. The jobs are
// enqueued by ticketstore in the transaction of the change they follow, so
// they survive a crash between acknowledgement and drafting.
package ticketjobs
