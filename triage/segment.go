package triage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/yanyiwu/gojieba"
)

// The gojieba dictionaries ship inside the binary: gojieba's default paths
// point into the build machine's module cache, so a binary built with
// -trimpath and copied elsewhere would panic at start-up without them.
// idf.utf8 is a one-line stand-in: cppjieba insists on loading an IDF table
// for keyword extraction, which huiyin does not use, and the real one costs
// 6 MB of binary and tens of MB of memory.
//
//go:embed dict/jieba.dict.utf8 dict/hmm_model.utf8 dict/stop_words.utf8 dict/idf.utf8 dict/user.dict.utf8
var dictFS embed.FS

// Segmenter cuts Chinese text into words with gojieba (mixed max-probability
// and HMM segmentation) plus the property-domain user dictionary. It is safe
// for concurrent use once constructed; words are only added at construction.
type Segmenter struct {
	jieba *gojieba.Jieba
	dir   string
}

// NewSegmenter writes the embedded dictionaries under cacheDir (once per
// dictionary version, in a directory named by their hash) and loads them.
// cacheDir must be writable; the command line passes the user cache
// directory and tests a temporary one.
func NewSegmenter(cacheDir string) (*Segmenter, error) {
	dir, err := writeDictionaries(cacheDir)
	if err != nil {
		return nil, err
	}
	j := gojieba.NewJieba(
		filepath.Join(dir, "jieba.dict.utf8"),
		filepath.Join(dir, "hmm_model.utf8"),
		filepath.Join(dir, "user.dict.utf8"),
		filepath.Join(dir, "idf.utf8"),
		filepath.Join(dir, "stop_words.utf8"),
	)
	return &Segmenter{jieba: j, dir: dir}, nil
}

// Cut returns the words of text in order. The words are substrings of text
// and together cover all of it, spaces and punctuation included, so byte
// offsets can be recovered by summing lengths.
func (s *Segmenter) Cut(text string) []string {
	if text == "" {
		return nil
	}
	return s.jieba.Cut(text, true)
}

// Dir is where the dictionaries were written.
func (s *Segmenter) Dir() string { return s.dir }

// Close frees the C++ segmenter. The Segmenter must not be used afterwards.
func (s *Segmenter) Close() { s.jieba.Free() }

// userWordFreq is the least frequency a domain word gets. Without one,
// cppjieba gives user words the dictionary's median weight, far below that
// of common words, and a word of the main dictionary re-added that way
// loses its natural weight (万一 came out as 万 / 一). So every domain word
// gets the larger of its main-dictionary frequency and this one, which is
// high enough that a domain phrase beats the words it is made of.
const userWordFreq = 2000

// userDictionary is the domain dictionary file followed by every phrase of
// the signal lexicon and the area names, so that they come out of Cut as
// one word and rules can match whole words.
func userDictionary() ([]byte, error) {
	base, err := dictFS.ReadFile("dict/user.dict.utf8")
	if err != nil {
		return nil, fmt.Errorf("read embedded user dictionary: %w", err)
	}
	main, err := dictFS.ReadFile("dict/jieba.dict.utf8")
	if err != nil {
		return nil, fmt.Errorf("read embedded dictionary: %w", err)
	}
	known := map[string]int{}
	for line := range bytes.SplitSeq(main, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) >= 2 {
			n, _ := strconv.Atoi(string(f[1]))
			known[string(f[0])] = n
		}
	}
	lex, err := loadLexicon()
	if err != nil {
		return nil, err
	}
	candidates := []string{}
	for line := range strings.SplitSeq(string(base), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		candidates = append(candidates, strings.Fields(line)[0])
	}
	for w := range lex.words {
		candidates = append(candidates, w)
	}
	candidates = append(candidates, areaNames...)
	sort.Strings(candidates)
	var b bytes.Buffer
	for i, w := range candidates {
		if (i > 0 && candidates[i-1] == w) || len([]rune(w)) < 2 || isASCII(w) {
			continue
		}
		// cppjieba reads "word freq tag"; with two fields the second is a tag.
		fmt.Fprintf(&b, "%s %d n\n", w, max(known[w], userWordFreq))
	}
	return b.Bytes(), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// writeDictionaries materialises the dictionaries in cacheDir/jieba-<hash>
// and returns that directory. The hash covers every input the files are
// built from, so a new build with another dictionary or lexicon gets a new
// directory, and a start-up that finds its directory complete does no work
// beyond hashing. Files are written to a temporary directory and renamed
// into place, so concurrent first starts cannot see half a file.
func writeDictionaries(cacheDir string) (string, error) {
	if cacheDir == "" {
		return "", fmt.Errorf("%w: dictionary cache directory not set", ErrInvalid)
	}
	copied := []string{"jieba.dict.utf8", "hmm_model.utf8", "stop_words.utf8", "idf.utf8"}
	h := sha256.New()
	fmt.Fprintf(h, "user-dict-v%d\n", userWordFreq)
	for _, name := range append(copied, "user.dict.utf8") {
		data, err := dictFS.ReadFile("dict/" + name)
		if err != nil {
			return "", fmt.Errorf("read embedded dictionary %s: %w", name, err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
	}
	h.Write(signalsYAML)
	for _, a := range areaNames {
		fmt.Fprintln(h, a)
	}
	dir := filepath.Join(cacheDir, "jieba-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir, nil
	}
	user, err := userDictionary()
	if err != nil {
		return "", err
	}
	files := map[string][]byte{"user.dict.utf8": user}
	for _, name := range copied {
		files[name], _ = dictFS.ReadFile("dict/" + name)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("create dictionary cache %s: %w", cacheDir, err)
	}
	tmp, err := os.MkdirTemp(cacheDir, "jieba-tmp-")
	if err != nil {
		return "", fmt.Errorf("create dictionary cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return "", fmt.Errorf("write dictionary %s: %w", name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644); err != nil {
		return "", fmt.Errorf("write dictionary marker: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another process may have won the race; its copy is as good as ours.
		if _, statErr := os.Stat(filepath.Join(dir, "complete")); statErr == nil {
			return dir, nil
		}
		return "", fmt.Errorf("install dictionaries in %s: %w", dir, err)
	}
	return dir, nil
}
