package knowledge

import (
	"slices"
	"testing"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		text      string
		want      []string // terms that must be there
		wantNot   []string // terms that must not
		wantCount int      // content words
	}{
		{"物业管理费怎么交？", []string{"物业管理费", "~物业", "~管理"}, []string{"？", "怎么交？"}, 0},
		{"我的车位被占了", []string{"车位"}, []string{"的", "我"}, 0},
		{"APP 里怎么开发票", []string{"app", "~发票"}, []string{" "}, 0},
		{"", nil, nil, 0},
		{"？？！！", nil, []string{"？"}, 0},
	}
	for _, tt := range tests {
		tf, n := Terms(testSegmenter(t), tt.text)
		for _, w := range tt.want {
			if tf[w] == 0 {
				t.Errorf("Terms(%q) lacks %q: %v", tt.text, w, tf)
			}
		}
		for _, w := range tt.wantNot {
			if tf[w] != 0 {
				t.Errorf("Terms(%q) has %q: %v", tt.text, w, tf)
			}
		}
		if tt.text == "" && (n != 0 || len(tf) != 0) {
			t.Errorf("Terms of empty text: %v %d", tf, n)
		}
	}
}

func TestQueryTermsExpandSynonyms(t *testing.T) {
	terms, weights, words := queryTerms(testSegmenter(t), defaultSynonyms, "管理费能微信交吗")
	if !slices.Contains(words, "管理费") {
		t.Fatalf("words %v lack 管理费", words)
	}
	i := slices.Index(terms, "物业费")
	if i < 0 {
		t.Fatalf("terms %v lack the synonym 物业费", terms)
	}
	if weights[i] != synonymWeight {
		t.Errorf("synonym weight %v, want %v", weights[i], synonymWeight)
	}
	if j := slices.Index(terms, "管理费"); j < 0 || weights[j] != 1 {
		t.Errorf("the owner's own word must weigh 1: %v %v", terms, weights)
	}
	seen := map[string]bool{}
	for _, term := range terms {
		if seen[term] {
			t.Errorf("term %q repeats", term)
		}
		seen[term] = true
	}
}

func TestSynonymGroupsAreSymmetric(t *testing.T) {
	for w, others := range defaultSynonyms {
		for _, o := range others {
			if !slices.Contains(defaultSynonyms[o], w) {
				t.Errorf("%s → %s but not back", w, o)
			}
		}
	}
}
