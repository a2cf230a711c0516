package prompts

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
)

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		n       int
		want    AnswerOutput
		wantErr bool
	}{
		{name: "plain", n: 2,
			raw:  `{"answer": "您好，物业费可以通过微信公众号缴纳。", "citations": [1], "handoff": false}`,
			want: AnswerOutput{Answer: "您好，物业费可以通过微信公众号缴纳。", Citations: []int{1}}},
		{name: "code fence", n: 2,
			raw:  "```json\n{\"answer\": \"可以。\", \"citations\": [2, 1, 2], \"handoff\": false}\n```",
			want: AnswerOutput{Answer: "可以。", Citations: []int{2, 1}}},
		{name: "leading text and braces", n: 1,
			raw:  "好的，以下是回答 {工单号} 示例：\n{\"answer\": \" 可以。 \", \"citations\": [1], \"handoff\": false} 以上。",
			want: AnswerOutput{Answer: "可以。", Citations: []int{1}}},
		{name: "extra field ignored", n: 1,
			raw:  `{"answer": "可以。", "citations": [1], "handoff": false, "confidence": 0.9}`,
			want: AnswerOutput{Answer: "可以。", Citations: []int{1}}},
		{name: "handoff without citations", n: 3,
			raw:  `{"answer": "这个问题我们将转交人工客服为您解答。", "citations": [], "handoff": true}`,
			want: AnswerOutput{Answer: "这个问题我们将转交人工客服为您解答。", Handoff: true}},
		{name: "handoff, citations omitted, no sources", n: 0,
			raw:  `{"answer": "", "handoff": true}`,
			want: AnswerOutput{Handoff: true}},
		{name: "empty", n: 1, raw: "", wantErr: true},
		{name: "no object", n: 1, raw: "您好，可以用微信缴费。", wantErr: true},
		{name: "truncated", n: 1, raw: `{"answer": "可以`, wantErr: true},
		{name: "array", n: 1, raw: `[{"answer": "可以"}]`, wantErr: true},
		{name: "missing handoff", n: 1, raw: `{"answer": "可以。", "citations": [1]}`, wantErr: true},
		{name: "missing answer", n: 1, raw: `{"citations": [1], "handoff": false}`, wantErr: true},
		{name: "citation out of range", n: 2, raw: `{"answer": "可以。", "citations": [3], "handoff": false}`, wantErr: true},
		{name: "citation zero", n: 2, raw: `{"answer": "可以。", "citations": [0], "handoff": false}`, wantErr: true},
		{name: "citation as string", n: 2, raw: `{"answer": "可以。", "citations": ["1"], "handoff": false}`, wantErr: true},
		{name: "no citation without handoff", n: 2, raw: `{"answer": "可以。", "citations": [], "handoff": false}`, wantErr: true},
		{name: "empty answer without handoff", n: 2, raw: `{"answer": "  ", "citations": [1], "handoff": false}`, wantErr: true},
		{name: "too long", n: 1, raw: `{"answer": "` + strings.Repeat("长", AnswerMaxRunes+1) + `", "citations": [1], "handoff": false}`, wantErr: true},
		{name: "handoff as string", n: 1, raw: `{"answer": "可以。", "citations": [1], "handoff": "false"}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAnswer(tc.raw, tc.n)
			if tc.wantErr {
				if !errors.Is(err, huiyin.ErrInvalid) {
					t.Fatalf("got %+v, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Answer != tc.want.Answer || got.Handoff != tc.want.Handoff || !slices.Equal(got.Citations, tc.want.Citations) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

const goodReply = "您好，非常抱歉楼上漏水给您的生活带来了困扰。我们已安排工程部维修人员30分钟内到场处理，工单号为{工单号}。处理过程中我们会随时告知您进展，完成后会回访，感谢您的理解。"

func TestParseDraft(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		n       int
		want    DraftOutput
		wantErr bool
	}{
		{name: "plain", n: 2, raw: `{"reply": "` + goodReply + `", "citations": [1]}`,
			want: DraftOutput{Reply: goodReply, Citations: []int{1}}},
		{name: "fenced with preamble", n: 2, raw: "草稿如下：\n```json\n{\"reply\": \"" + goodReply + "\", \"citations\": [2, 2, 1]}\n```",
			want: DraftOutput{Reply: goodReply, Citations: []int{2, 1}}},
		{name: "no sources, no citations", n: 0, raw: `{"reply": "` + goodReply + `"}`,
			want: DraftOutput{Reply: goodReply}},
		{name: "masked tokens kept", n: 1, raw: `{"reply": "【房号1】` + goodReply + `", "citations": [1]}`,
			want: DraftOutput{Reply: "【房号1】" + goodReply, Citations: []int{1}}},
		{name: "missing reply", n: 1, raw: `{"citations": [1]}`, wantErr: true},
		{name: "no placeholder", n: 1, raw: `{"reply": "` + strings.ReplaceAll(goodReply, "{工单号}", "123") + `", "citations": [1]}`, wantErr: true},
		{name: "too short", n: 1, raw: `{"reply": "您好，已收到，工单号{工单号}。", "citations": [1]}`, wantErr: true},
		{name: "too long", n: 1, raw: `{"reply": "` + strings.Repeat(goodReply, 5) + `", "citations": [1]}`, wantErr: true},
		{name: "no citation with sources", n: 2, raw: `{"reply": "` + goodReply + `", "citations": []}`, wantErr: true},
		{name: "citation out of range", n: 2, raw: `{"reply": "` + goodReply + `", "citations": [1, 5]}`, wantErr: true},
		{name: "negative citation", n: 2, raw: `{"reply": "` + goodReply + `", "citations": [-1]}`, wantErr: true},
		{name: "reply not a string", n: 1, raw: `{"reply": 42, "citations": [1]}`, wantErr: true},
		{name: "garbage", n: 1, raw: "}{][", wantErr: true},
		{name: "oversized", n: 1, raw: strings.Repeat(" ", MaxOutputBytes) + `{"reply": "` + goodReply + `", "citations": [1]}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDraft(tc.raw, tc.n)
			if tc.wantErr {
				if !errors.Is(err, huiyin.ErrInvalid) {
					t.Fatalf("got %+v, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reply != tc.want.Reply || !slices.Equal(got.Citations, tc.want.Citations) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// checkCitations checks the citation invariants of a parsed output.
func checkCitations(t *testing.T, cites []int, n int) {
	t.Helper()
	seen := map[int]bool{}
	for _, c := range cites {
		if c < 1 || c > n || seen[c] {
			t.Fatalf("citations %v with %d sources", cites, n)
		}
		seen[c] = true
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add(`{"answer": "您好，物业费可以通过微信公众号缴纳。", "citations": [1], "handoff": false}`, 2)
	f.Add("```json\n{\"answer\": \"可以。\", \"citations\": [2, 1, 2], \"handoff\": false}\n```", 3)
	f.Add(`{"answer": "", "citations": [], "handoff": true}`, 0)
	f.Add(`前言 {工单号} {"answer": "x", "citations": [1], "handoff": false}`, 1)
	f.Add(`{"answer": "x", "citations": [9], "handoff": false}`, 1)
	f.Add(`{"answer": null, "citations": null, "handoff": null}`, 1)
	f.Add(`{{{{{{"answer"`, 1)
	f.Add("\xff{\"answer\": \"\xfe\", \"citations\": [1], \"handoff\": false}", 1)
	f.Fuzz(func(t *testing.T, raw string, n int) {
		out, err := ParseAnswer(raw, n)
		if err != nil {
			if !errors.Is(err, huiyin.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		checkCitations(t, out.Citations, n)
		if utf8.RuneCountInString(out.Answer) > AnswerMaxRunes {
			t.Fatalf("answer of %d characters", utf8.RuneCountInString(out.Answer))
		}
		if !out.Handoff && (out.Answer == "" || len(out.Citations) == 0) {
			t.Fatalf("accepted %+v", out)
		}
	})
}

func FuzzParseDraft(f *testing.F) {
	f.Add(`{"reply": "`+goodReply+`", "citations": [1]}`, 2)
	f.Add("```json\n{\"reply\": \""+goodReply+"\", \"citations\": [2, 2]}\n```", 2)
	f.Add(`{"reply": "`+goodReply+`"}`, 0)
	f.Add(`{"reply": "您好{工单号}", "citations": [1]}`, 1)
	f.Add(`{"reply": "`+goodReply+`", "citations": [1e3]}`, 1)
	f.Add(`}{`, 0)
	f.Fuzz(func(t *testing.T, raw string, n int) {
		out, err := ParseDraft(raw, n)
		if err != nil {
			if !errors.Is(err, huiyin.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		checkCitations(t, out.Citations, n)
		if n > 0 && len(out.Citations) == 0 {
			t.Fatalf("no citation with %d sources", n)
		}
		if !strings.Contains(out.Reply, TicketPlaceholder) {
			t.Fatalf("reply without the placeholder: %q", out.Reply)
		}
		if c := utf8.RuneCountInString(out.Reply); c < DraftMinRunes || c > DraftMaxRunes {
			t.Fatalf("reply of %d characters", c)
		}
	})
}
