package knowledge

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/huiyin/huiyin"
)

// Variants (相似问) are the ways owners ask for an entry, kept beside the
// documents in questions/<dir>/<stem>.yaml: for faq/fees.md the file is
// questions/faq/fees.yaml, a map from a section (an FAQ question, a
// standard's heading, a law article such as 第九百四十四条) to owner
// phrasings. They are indexed with the chunk, so that retrieval finds an
// entry whatever words the owner uses, while the document itself (a law's
// text above all) stays exactly as published.
const variantsDir = "questions"

// attachVariants reads the variants of each document from fsys and puts
// them on its chunks. A variants file naming a section the document does
// not have is an error, so that the two cannot drift apart.
func attachVariants(fsys fs.FS, docs []Document) error {
	for i := range docs {
		d := &docs[i]
		name := path.Join(variantsDir, strings.TrimSuffix(d.Source, path.Ext(d.Source))+".yaml")
		data, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("读取 %s：%w", name, err)
		}
		var variants map[string][]string
		if err := yaml.Unmarshal(data, &variants); err != nil {
			return fmt.Errorf("%w: %s 不是有效的 YAML：%v", huiyin.ErrInvalid, name, err)
		}
		used := map[string]bool{}
		for j := range d.Chunks {
			c := &d.Chunks[j]
			if v, ok := variants[c.Section]; ok {
				c.Variants = append(c.Variants, v...)
				used[c.Section] = true
			}
		}
		for section := range variants {
			if !used[section] {
				return fmt.Errorf("%w: %s 中的条目 %q 在 %s 中不存在", huiyin.ErrInvalid, name, section, d.Source)
			}
		}
	}
	return nil
}
