package prompts

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/huiyin/huiyin"
)

// Limits on the model output the parsers read. Answers are a few hundred
// characters; a longer output, or one that needs many tries to find its
// JSON object, is rejected rather than searched.
const (
	MaxOutputBytes = 16 << 10
	maxObjectTries = 16
)

// decodeObject decodes the first JSON object in raw into a T: models wrap
// it in ```json fences or put a sentence before it. Each { is tried in
// turn until one starts an object that decodes into a T; what follows the
// object is ignored.
func decodeObject[T any](raw string) (T, error) {
	var zero T
	if len(raw) > MaxOutputBytes {
		return zero, fmt.Errorf("%w: model output of %d bytes, more than %d", huiyin.ErrInvalid, len(raw), MaxOutputBytes)
	}
	var firstErr error
	for i, tries := 0, 0; i < len(raw) && tries < maxObjectTries; i, tries = i+1, tries+1 {
		j := strings.IndexByte(raw[i:], '{')
		if j < 0 {
			break
		}
		i += j
		var obj json.RawMessage
		err := json.NewDecoder(strings.NewReader(raw[i:])).Decode(&obj)
		if err == nil {
			var v T
			if err = json.Unmarshal(obj, &v); err == nil {
				return v, nil
			}
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		return zero, fmt.Errorf("%w: no JSON object in the model output", huiyin.ErrInvalid)
	}
	return zero, fmt.Errorf("%w: no usable JSON object in the model output: %v", huiyin.ErrInvalid, firstErr)
}

// citations checks that every cited number names a source (1..nSources)
// and drops duplicates, keeping the first order.
func citations(cited []int, nSources int) ([]int, error) {
	var out []int
	seen := make(map[int]bool, len(cited))
	for _, c := range cited {
		if c < 1 || c > nSources {
			return nil, fmt.Errorf("%w: citation %d is not a source number (1–%d)", huiyin.ErrInvalid, c, nSources)
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}
