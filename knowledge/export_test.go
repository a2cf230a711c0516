package knowledge

import (
	"fmt"

	"github.com/huiyin/huiyin"
)

// QueryTermsForTest exposes queryTerms to the tests of package
// knowledge_test.
func QueryTermsForTest(tok Tokenizer, text string) ([]string, []float32) {
	terms, weights, _ := queryTerms(tok, defaultSynonyms, text)
	return terms, weights
}

// ErrChatUnavailableForTest is what a chat model that cannot be reached
// returns.
var ErrChatUnavailableForTest = fmt.Errorf("chat: %w", huiyin.ErrUnavailable)
