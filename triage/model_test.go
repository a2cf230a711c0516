package triage

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

func TestDefaultModel(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Features() == 0 || m.TrainedOn() == "" {
		t.Fatalf("empty model: %d features, trained on %q", m.Features(), m.TrainedOn())
	}
	// Lookups go by a 32-bit fingerprint; two features of the model must
	// never share one, or one would silently take the other's weights.
	seen := map[uint32]string{}
	for _, name := range m.file.Features {
		fp := fingerprint(nameHash(name))
		if other, ok := seen[fp]; ok {
			t.Fatalf("features %q and %q share a fingerprint", other, name)
		}
		seen[fp] = name
	}
	for i, name := range m.file.Features[:min(200, len(m.file.Features))] {
		row, ok := m.table.get(nameHash(name))
		if !ok || int(row) != i {
			t.Fatalf("feature %q found at row %d, %v; want %d", name, row, ok, i)
		}
	}
	if _, ok := m.table.get(featureHash('w', "从未见过的词语组合")); ok {
		t.Error("an unknown feature was found")
	}
}

func TestModelRoundTrip(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Write(&buf); err != nil {
		t.Fatal(err)
	}
	again, err := ReadModel(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var buf2 bytes.Buffer
	if err := again.Write(&buf2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		t.Fatal("write, read, write is not stable")
	}
}

func TestReadModelRejects(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	for name, data := range map[string][]byte{
		"not gzip":     []byte("{}"),
		"not json":     gz("nonsense"),
		"wrong format": gz(`{"format":99}`),
		"bad labels":   gz(`{"format":2,"labels":[["x"],[],[],[],[]]}`),
	} {
		if _, err := ReadModel(bytes.NewReader(data)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", name, err)
		}
	}
	if _, err := ReadModel(strings.NewReader("")); err == nil {
		t.Error("empty input accepted")
	}
}
