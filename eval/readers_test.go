package eval

import (
	"errors"
	"strings"
	"testing"

	"github.com/huiyin/huiyin"
)

func TestReadQuestionsAndCases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		cases   bool // read as reply cases
		wantN   int
		wantErr bool
	}{
		{"questions", `{"id":"q1","question":"物业费怎么交","doc":"fees","section":"物业费可以通过哪些方式缴纳？"}` + "\n\n" + `{"id":"o1","question":"明天下雨吗","doc":"","section":""}`, false, 2, false},
		{"doc without section", `{"id":"q1","question":"x","doc":"fees","section":""}`, false, 0, true},
		{"repeated id", `{"id":"q1","question":"a"}` + "\n" + `{"id":"q1","question":"b"}`, false, 0, true},
		{"not json", `{"id":`, false, 0, true},
		{"no question", `{"id":"q1"}`, false, 0, true},
		{"cases", `{"id":"p1","text":"电梯坏了","must_mention":["电梯"]}`, true, 1, false},
		{"case without text", `{"id":"p1","text":"  "}`, true, 0, true},
		{"wrong shape", `["p1","电梯坏了"]`, true, 0, true},
	}
	for _, tt := range tests {
		var n int
		var err error
		if tt.cases {
			var cs []ReplyCase
			cs, err = ReadReplyCases(strings.NewReader(tt.in))
			n = len(cs)
		} else {
			var qs []Question
			qs, err = ReadQuestions(strings.NewReader(tt.in))
			n = len(qs)
		}
		if tt.wantErr {
			if !errors.Is(err, huiyin.ErrInvalid) {
				t.Errorf("%s: err %v, want ErrInvalid", tt.name, err)
			}
			continue
		}
		if err != nil || n != tt.wantN {
			t.Errorf("%s: %d, %v; want %d", tt.name, n, err, tt.wantN)
		}
	}
}
