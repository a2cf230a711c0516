package knowledge

import (
	_ "embed"
	"slices"
	"strings"
)

// Keyword terms are what the BM25 index holds: the content words of the
// jieba segmentation, and every pair of adjacent characters within a run of
// letters. Words carry meaning; pairs catch what segmentation cuts
// differently (出不去 and 开不出去 share 出去) and typos. A pair counts for
// half a word.
const pairWeight = 0.5

// Terms cuts text into keyword terms with their weighted frequencies and
// the text's length in words (for BM25's length normalisation). Pairs are
// taken across runs of content words, so that the words of asking (怎么,
// 可以吗) add nothing.
func Terms(tok Tokenizer, text string) (map[string]float32, int) {
	tf := map[string]float32{}
	n := 0
	var prev rune = -1
	for _, w := range tok.Cut(text) {
		w = strings.ToLower(strings.TrimSpace(w))
		if !contentWord(w) || stopWords[w] || askingWords[w] {
			prev = -1
			continue
		}
		tf[w]++
		n++
		for _, r := range w {
			if !isContentRune(r) {
				prev = -1
				continue
			}
			if prev >= 0 {
				tf[pairKey(prev, r)] += pairWeight
			}
			prev = r
		}
	}
	return tf, n
}

// askingWords are how a question is asked, not what about; they would
// make 红烧肉怎么做 look like 表扬该怎么做.
var askingWords = map[string]bool{
	"怎么": true, "怎么做": true, "怎么办": true, "怎样": true, "如何": true, "什么": true, "啥": true,
	"多少": true, "可以": true, "能不能": true, "会不会": true, "是不是": true, "有没有": true,
	"哪里": true, "哪儿": true, "哪些": true, "为什么": true, "为啥": true, "咋": true, "咋办": true,
	"能": true, "会": true, "要": true, "好": true, "想": true, "一个": true, "请": true, "帮": true,
	"帮我": true, "告诉": true, "知道": true, "问问": true, "问": true, "下": true, "吧": true,
}

// pairKey marks a character pair so that it never equals a word of two
// characters: the word 物业 and the pair 物业 weigh differently.
func pairKey(a, b rune) string { return "~" + string(a) + string(b) }

//go:embed synonyms.txt
var synonymsText string

// synonyms maps a word to the other words of its group.
type synonyms map[string][]string

func parseSynonyms(text string) synonyms {
	s := synonyms{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		group := strings.Fields(line)
		for _, w := range group {
			for _, o := range group {
				if o != w {
					s[w] = append(s[w], o)
				}
			}
		}
	}
	return s
}

var defaultSynonyms = parseSynonyms(synonymsText)

// synonymWeight is how much an expansion counts against the owner's own
// word.
const synonymWeight = 0.6

// queryTerms turns a question into weighted keyword terms: its own terms,
// then the synonyms of its words that it does not already use.
func queryTerms(tok Tokenizer, syn synonyms, text string) (terms []string, weights []float32, words []string) {
	tf, _ := Terms(tok, text)
	seen := map[string]bool{}
	add := func(t string, w float32) {
		if seen[t] {
			return
		}
		seen[t] = true
		terms = append(terms, t)
		weights = append(weights, w)
	}
	for _, w := range tok.Cut(text) {
		w = strings.ToLower(strings.TrimSpace(w))
		if tf[w] >= 1 && !seen[w] {
			words = append(words, w)
			add(w, 1)
		}
	}
	pairs := make([]string, 0, len(tf))
	for t := range tf {
		if strings.HasPrefix(t, "~") {
			pairs = append(pairs, t)
		}
	}
	slices.Sort(pairs)
	for _, t := range pairs {
		add(t, pairWeight)
	}
	for _, w := range words {
		for _, o := range syn[w] {
			add(o, synonymWeight)
		}
	}
	return terms, weights, words
}
