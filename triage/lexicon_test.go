package triage

import (
	"strings"
	"testing"
)

func TestLexiconLoads(t *testing.T) {
	lex := testLexicon(t)
	for _, tc := range []struct {
		word string
		sig  signal
	}{
		{"着火", sigFire}, {"12345", sigRegulator}, {"忍无可忍", sigAnger}, {"ignore", sigInjectVerb}, {"又", sigRepeat},
	} {
		if !lex.words[tc.word].has(tc.sig) {
			t.Errorf("%q does not carry %s", tc.word, tc.sig)
		}
	}
}

func TestParseLexiconRejects(t *testing.T) {
	for name, yaml := range map[string]string{
		"unknown signal": string(signalsYAML) + "\nrumour: [听说]\n",
		"missing signal": strings.Replace(string(signalsYAML), "\nfire:", "\nfyre:", 1),
		"not yaml":       "fire: [",
	} {
		if _, err := parseLexicon([]byte(yaml)); err == nil {
			t.Errorf("%s: parseLexicon accepted it", name)
		}
	}
}

// Rules match whole words, so the phrases they rely on must come out of
// segmentation whole.
func TestKeyPhrasesSegmentWhole(t *testing.T) {
	seg := testSegmenter(t)
	for _, phrase := range []string{"万一", "要是", "电梯困人", "化粪池", "物业费", "车位", "违建", "燃气泄漏", "煤气味", "高空抛物", "飞线充电", "市长热线", "忍无可忍", "地下车库", "儿童游乐区"} {
		words := seg.Cut("昨天" + phrase + "。")
		found := false
		for _, w := range words {
			if w == phrase {
				found = true
			}
		}
		if !found {
			t.Errorf("%q is not one word in %q", phrase, words)
		}
	}
}
