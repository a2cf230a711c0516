package knowledge

// QueryTermsForTest exposes queryTerms to the tests of package
// knowledge_test.
func QueryTermsForTest(tok Tokenizer, text string) ([]string, []float32) {
	terms, weights, _ := queryTerms(tok, defaultSynonyms, text)
	return terms, weights
}
