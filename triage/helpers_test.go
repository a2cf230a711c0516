package triage

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The segmenter takes a second to load its dictionaries, so the tests of a
// package run share one, unpacked in a directory that lives as long as the
// test binary.
var (
	sharedSeg     *Segmenter
	sharedSegErr  error
	sharedSegOnce sync.Once
)

func testSegmenter(tb testing.TB) *Segmenter {
	tb.Helper()
	sharedSegOnce.Do(func() {
		dir, err := os.MkdirTemp("", "huiyin-triage-test-")
		if err != nil {
			sharedSegErr = err
			return
		}
		sharedSeg, sharedSegErr = NewSegmenter(filepath.Join(dir, "cache"))
	})
	if sharedSegErr != nil {
		tb.Fatalf("NewSegmenter: %v", sharedSegErr)
	}
	return sharedSeg
}

func testLexicon(tb testing.TB) *lexicon {
	tb.Helper()
	lex, err := loadLexicon()
	if err != nil {
		tb.Fatalf("loadLexicon: %v", err)
	}
	return lex
}
