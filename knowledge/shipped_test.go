package knowledge

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/huiyin/huiyin"
)

func TestShippedDocuments(t *testing.T) {
	docs, err := ShippedDocuments()
	if err != nil {
		t.Fatal(err)
	}

	// Every loadable file under kb is a document.
	var files []string
	err = fs.WalkDir(os.DirFS("kb"), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && loadable(d.Name()) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, d := range docs {
		sources = append(sources, d.Source)
	}
	slices.Sort(files)
	if !slices.Equal(sources, files) {
		t.Errorf("sources %q\nwant the files under kb, sorted: %q", sources, files)
	}
	if slices.Contains(sources, "laws/SOURCE.md") {
		t.Error("laws/SOURCE.md loaded as a document")
	}

	chunks := map[Kind]int{}
	for _, d := range docs {
		t.Run(d.Source, func(t *testing.T) {
			checkDocument(t, d)
			dir, _, _ := strings.Cut(d.Source, "/")
			wantKind := map[string]Kind{"standards": KindStandard, "faq": KindFAQ, "scripts": KindScript, "laws": KindLaw}[dir]
			if d.Kind != wantKind {
				t.Errorf("kind %q, want %q", d.Kind, wantKind)
			}
			for _, c := range d.Chunks {
				if (d.Kind == KindFAQ || d.Kind == KindStandard) && c.Category == "" {
					t.Errorf("%q has no category", c.Section)
				}
				if d.Kind == KindFAQ && !strings.HasSuffix(c.Question, "？") && !strings.HasSuffix(c.Question, "?") {
					t.Errorf("FAQ question %q does not end with a question mark", c.Question)
				}
				if d.Kind == KindLaw {
					if _, ok := ArticleNumber(c.Section); !ok {
						t.Errorf("law chunk %q is not an article", c.Section)
					}
				}
			}
		})
		chunks[d.Kind] += len(d.Chunks)
	}
	t.Logf("chunks per kind: %v", chunks)
	if chunks[KindFAQ] < 120 {
		t.Errorf("%d FAQ entries, want at least 120", chunks[KindFAQ])
	}
	for _, k := range Kinds {
		if chunks[k] == 0 {
			t.Errorf("no %s chunks", k)
		}
	}
}

func TestLoadDocuments(t *testing.T) {
	docs, err := LoadDocuments("testdata/load", "testdata/parse/notes.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, d.Source+" "+string(d.Kind))
	}
	want := []string{"faq/parking.md faq", "standards/greening.txt standard", "testdata/parse/notes.txt standard"}
	if !slices.Equal(got, want) {
		t.Errorf("loaded %q, want %q", got, want)
	}

	// The directory of the shipped knowledge base loads as ShippedDocuments.
	fromDir, err := LoadDocuments("kb")
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := ShippedDocuments()
	if err != nil {
		t.Fatal(err)
	}
	if len(fromDir) != len(shipped) {
		t.Fatalf("LoadDocuments(kb): %d documents, ShippedDocuments: %d", len(fromDir), len(shipped))
	}
	for i := range shipped {
		if fromDir[i].Source != shipped[i].Source || len(fromDir[i].Chunks) != len(shipped[i].Chunks) {
			t.Errorf("document %d: %s (%d chunks) vs %s (%d)", i, fromDir[i].Source, len(fromDir[i].Chunks), shipped[i].Source, len(shipped[i].Chunks))
		}
	}
}

func TestLoadDocumentsRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csv := write("a.csv", "a,b\n")
	write("empty/notes.csv", "a,b\n")
	write("bad/x.md", "---\nkind: nonsense\n---\n正文")
	write("one/faq/a.md", "# 甲\n\n正文")
	write("two/faq/a.md", "# 乙\n\n正文")
	big := filepath.Join(dir, "big.txt")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxDocumentBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()

	tests := []struct {
		name  string
		paths []string
		is    error
		want  string
	}{
		{"nothing", nil, huiyin.ErrInvalid, "没有指定"},
		{"missing", []string{filepath.Join(dir, "missing.md")}, huiyin.ErrNotFound, "不存在"},
		{"unsupported file", []string{csv}, huiyin.ErrInvalid, "不支持的文件格式"},
		{"directory without documents", []string{filepath.Join(dir, "empty")}, huiyin.ErrNotFound, "没有可加载的文档"},
		{"bad document in directory", []string{filepath.Join(dir, "bad")}, huiyin.ErrInvalid, "x.md"},
		{"same source twice", []string{filepath.Join(dir, "one"), filepath.Join(dir, "two")}, huiyin.ErrInvalid, "重复"},
		{"too large", []string{big}, huiyin.ErrInvalid, "文件过大"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := LoadDocuments(tt.paths...)
			if err == nil {
				t.Fatalf("no error, loaded %d documents", len(docs))
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %v saying %q", err, tt.is, tt.want)
			}
		})
	}
}
