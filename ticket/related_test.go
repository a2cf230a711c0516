package ticket

import (
	"testing"
	"time"

	"github.com/huiyin/huiyin/triage"
)

func TestSameProblem(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"3栋电梯坏了", "3栋的电梯又坏了", true},
		{"电梯坏了，困人", "电梯坏了，有人困住", true},
		// Other words for one fault score low; the facility lists catch them.
		{"电梯坏了，困人", "电梯停了，困在里面", false},
		{"楼道灯不亮", "物业费怎么交", false},
		{"", "电梯坏了", false},
		{"！！！", "？？", false},
	}
	for _, tt := range tests {
		if got := SameProblem(tt.a, tt.b) >= SimilarThreshold; got != tt.same {
			t.Errorf("SameProblem(%q, %q) = %.2f", tt.a, tt.b, SameProblem(tt.a, tt.b))
		}
	}
}

func TestRelatedTickets(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	lift := triage.Result{Category: triage.Repair, Problem: "电梯又坏了", Location: triage.Location{Building: "3栋"}}
	prior := Prior{ID: 7, OwnerID: 1, State: New, Category: triage.Repair, Problem: "电梯坏了", Text: "电梯坏了",
		Location: triage.Location{Building: "3栋"}, Received: now.Add(-2 * time.Minute), LastMessage: now.Add(-2 * time.Minute)}
	t.Run("merge", func(t *testing.T) {
		if _, ok := MergeTarget([]Prior{prior}, 1, "快来人", now); !ok {
			t.Error("a short message two minutes later joins the ticket")
		}
		if _, ok := MergeTarget([]Prior{prior}, 2, "快来人", now); ok {
			t.Error("another owner's message never joins")
		}
		if _, ok := MergeTarget([]Prior{prior}, 1, "快来人", now.Add(10*time.Minute)); ok {
			t.Error("ten minutes later is a new message")
		}
		if _, ok := MergeTarget([]Prior{prior}, 1, "楼道灯也坏了", now); ok {
			t.Error("a short message about another installation is another problem")
		}
		if _, ok := MergeTarget([]Prior{prior}, 1, "轿厢里还有人", now); !ok {
			t.Error("more words about the same lift join the ticket")
		}
		taken := prior
		taken.State = InProgress
		if _, ok := MergeTarget([]Prior{taken}, 1, "快来人", now); ok {
			t.Error("a ticket already taken up is not added to")
		}
	})
	t.Run("repeat", func(t *testing.T) {
		old := prior
		old.Received = now.Add(-10 * 24 * time.Hour)
		if p, ok := RepeatOf([]Prior{old}, 1, lift, "3栋电梯又坏了", now, 0); !ok || p.ID != 7 {
			t.Error("the same problem ten days later is a repeat")
		}
		stopped := lift
		stopped.Problem = "梯停在半空"
		if _, ok := RepeatOf([]Prior{old}, 1, stopped, "梯停在半空", now, 0); !ok {
			t.Error("the same facility in other words is a repeat")
		}
		old.Received = now.Add(-31 * 24 * time.Hour)
		if _, ok := RepeatOf([]Prior{old}, 1, lift, "3栋电梯又坏了", now, 0); ok {
			t.Error("31 days later is not a repeat")
		}
		other := prior
		other.Category, other.Problem, other.Text = triage.Fees, "物业费多收了", "物业费多收了"
		if _, ok := RepeatOf([]Prior{other}, 1, lift, "3栋电梯又坏了", now, 0); ok {
			t.Error("another problem is not a repeat")
		}
	})
	t.Run("incident", func(t *testing.T) {
		if p, ok := IncidentWith([]Prior{prior}, 2, lift, "3栋电梯停了", now); !ok || p.ID != 7 {
			t.Error("another owner's report of the lift in the same building is one incident")
		}
		if _, ok := IncidentWith([]Prior{prior}, 1, lift, "3栋电梯停了", now); ok {
			t.Error("the same owner's second report is not an incident")
		}
		elsewhere := lift
		elsewhere.Location.Building = "5栋"
		if _, ok := IncidentWith([]Prior{prior}, 2, elsewhere, "5栋电梯停了", now); ok {
			t.Error("another building is another fault")
		}
		homeA, homeB := prior, lift
		homeA.Problem, homeA.Text, homeA.Location.Room = "卫生间漏水", "卫生间漏水", "301"
		homeB.Problem, homeB.Location.Room = "卫生间漏水", "502"
		if _, ok := IncidentWith([]Prior{homeA}, 2, homeB, "卫生间漏水", now); ok {
			t.Error("leaks in two different homes are two faults")
		}
	})
}
