package knowledge

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/huiyin/huiyin"
)

// kbFiles is the knowledge base shipped with huiyin: service standards,
// FAQ, the script library and laws.
//
//go:embed kb
var kbFiles embed.FS

// ShippedDocuments parses every document of the knowledge base shipped
// with huiyin (kb/standards, kb/faq, kb/scripts, kb/laws). Source is the
// path relative to kb (faq/fees.md); the result is sorted by source.
func ShippedDocuments() ([]Document, error) {
	kb, err := fs.Sub(kbFiles, "kb")
	if err != nil {
		return nil, err
	}
	docs, err := loadTree(kb)
	if err != nil {
		return nil, fmt.Errorf("内置知识库：%w", err)
	}
	if err := attachVariants(kb, docs); err != nil {
		return nil, fmt.Errorf("内置知识库：%w", err)
	}
	slices.SortFunc(docs, func(a, b Document) int { return strings.Compare(a.Source, b.Source) })
	return docs, nil
}

// LoadDocuments parses documents from files and directories. A file's
// Source is its path as given; a directory is read recursively, skipping
// files of unsupported formats, hidden files and notes such as README.md
// and SOURCE.md, and a document's Source is its path relative to the
// directory (faq/fees.md).
//
// Returns ErrNotFound for a path that does not exist or a directory
// without documents, ErrInvalid for a file named explicitly in an
// unsupported format, any document that does not parse, or two documents
// with the same source.
func LoadDocuments(paths ...string) ([]Document, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: 没有指定要加载的文件或目录", huiyin.ErrInvalid)
	}
	var docs []Document
	seen := map[string]string{}
	for _, p := range paths {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s：文件或目录不存在", huiyin.ErrNotFound, p)
		}
		if err != nil {
			return nil, fmt.Errorf("读取 %s：%w", p, err)
		}
		var loaded []Document
		switch {
		case info.IsDir():
			if loaded, err = loadTree(os.DirFS(p)); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if err := attachVariants(os.DirFS(p), loaded); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if len(loaded) == 0 {
				return nil, fmt.Errorf("%w: %s：目录中没有可加载的文档（支持 .md、.markdown、.txt、.html、.htm、.docx）", huiyin.ErrNotFound, p)
			}
		case info.Mode().IsRegular():
			if _, ok := supportedExts[strings.ToLower(filepath.Ext(p))]; !ok {
				return nil, fmt.Errorf("%w: %s：不支持的文件格式（支持 .md、.markdown、.txt、.html、.htm、.docx）", huiyin.ErrInvalid, p)
			}
			data, err := readFile(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			doc, err := ParseDocument(filepath.ToSlash(p), data)
			if err != nil {
				return nil, err
			}
			loaded = []Document{doc}
		default:
			return nil, fmt.Errorf("%w: %s：不是普通文件或目录", huiyin.ErrInvalid, p)
		}
		for _, d := range loaded {
			if prev, dup := seen[d.Source]; dup {
				return nil, fmt.Errorf("%w: 来源 %s 重复（%s 与 %s）", huiyin.ErrInvalid, d.Source, prev, p)
			}
			seen[d.Source] = p
		}
		docs = append(docs, loaded...)
	}
	return docs, nil
}

// loadTree parses every supported document under the root of fsys, in
// lexical order, with Source the slash-separated path from the root.
func loadTree(fsys fs.FS) ([]Document, error) {
	var docs []Document
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		if name != "." && strings.HasPrefix(base, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !loadable(base) {
			return nil
		}
		data, err := readLimited(fsys, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		doc, err := ParseDocument(name, data)
		if err != nil {
			return err
		}
		docs = append(docs, doc)
		return nil
	})
	return docs, err
}

// loadable reports whether a file met in a directory is loaded: a
// supported format, and not a note about the directory (README.md,
// SOURCE.md, LICENSE.md).
func loadable(base string) bool {
	ext := strings.ToLower(path.Ext(base))
	if _, ok := supportedExts[ext]; !ok {
		return false
	}
	switch strings.ToUpper(strings.TrimSuffix(base, path.Ext(base))) {
	case "README", "SOURCE", "LICENSE":
		return false
	}
	return true
}

// readLimited reads a file of at most MaxDocumentBytes from fsys.
func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimited(f)
}

// readFile reads a file of at most MaxDocumentBytes from the disk.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimited(f)
}

func readAllLimited(f fs.File) ([]byte, error) {
	if info, err := f.Stat(); err == nil && !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: 不是普通文件", huiyin.ErrInvalid)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxDocumentBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("%w: 文件过大（上限 %d MiB）", huiyin.ErrInvalid, MaxDocumentBytes>>20)
	}
	return data, nil
}
