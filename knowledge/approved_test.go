package knowledge

import "testing"

func TestApprovedRepliesParseAsScripts(t *testing.T) {
	doc := ApprovedReplies([]ApprovedReply{
		{Category: "repair", Situation: "电梯停运", Body: "您好，电梯故障已报修，工单号{工单号}，我们会在30分钟内到场。", Ticket: "HY20261123-000001"},
		{Category: "repair", Situation: "电梯停运", Body: "您好，\n电梯已恢复。", Ticket: "HY20261123-000002"},
	})
	if doc.Kind != KindScript || doc.Source != ApprovedSource || len(doc.Chunks) != 2 {
		t.Fatalf("document %+v", doc)
	}
	want := []string{"电梯停运", "电梯停运（2）"}
	for i, c := range doc.Chunks {
		s, err := ParseScript(c)
		if err != nil {
			t.Fatalf("chunk %d does not parse as a script: %v", i, err)
		}
		if s.Situation != want[i] || s.Category != "repair" || s.Example == "" || len(s.Points) != 1 {
			t.Errorf("chunk %d: %+v", i, s)
		}
	}
}
