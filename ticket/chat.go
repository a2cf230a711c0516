package ticket

import (
	"time"

	"github.com/huiyin/huiyin/knowledge"
)

// Turn is one message of the owners' web chat.
type Turn struct {
	Role      string               `json:"role"` // owner or assistant
	Body      string               `json:"body"`
	Citations []knowledge.Citation `json:"citations"`
	Ticket    string               `json:"ticket,omitempty"`
	CreatedAt time.Time            `json:"created_at"`
}

// Progress is what an owner sees of a ticket: its state and the replies
// staff sent.
type Progress struct {
	Ref          string    `json:"ref"`
	State        State     `json:"state"`
	StateName    string    `json:"state_name"`
	Problem      string    `json:"problem"`
	Department   string    `json:"department"`
	ResolutionBy time.Time `json:"resolution_by"`
	Replies      []string  `json:"replies"`
	CreatedAt    time.Time `json:"created_at"`
}

// Conversation is one owner's web chat with its tickets.
type Conversation struct {
	ID       int64      `json:"-"`
	OwnerRef string     `json:"owner"`
	Turns    []Turn     `json:"turns"`
	Tickets  []Progress `json:"tickets"`
}
