package web_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/huiyin/huiyin/web"
)

// TestNoHTMLFromStrings keeps the pages from parsing strings as HTML:
// owners' words reach them through the API, and the only safe way to show
// them is as text.
func TestNoHTMLFromStrings(t *testing.T) {
	sinks := regexp.MustCompile(`innerHTML|outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(`)
	checked := 0
	err := fs.WalkDir(web.Assets(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".js") || strings.Contains(path, "/vendor/") {
			return err
		}
		src, err := fs.ReadFile(web.Assets(), path)
		if err != nil {
			return err
		}
		checked++
		for i, line := range strings.Split(string(src), "\n") {
			if sinks.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s:%d parses a string as HTML or code: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 2 {
		t.Fatalf("checked %d scripts", checked)
	}
}

// TestPagesHaveNoInlineScript keeps the pages within the content security
// policy the server sends, which allows no inline script or style.
func TestPagesHaveNoInlineScript(t *testing.T) {
	inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|\son[a-z]+=|style=`)
	for _, page := range []string{"console/index.html", "h5/index.html"} {
		src, err := fs.ReadFile(web.Assets(), page)
		if err != nil {
			t.Fatal(err)
		}
		if m := inline.FindString(string(src)); m != "" {
			t.Errorf("%s has inline script or style: %q", page, m)
		}
	}
}

// TestVendoredChartJS checks the vendored Chart.js is the version
// package.json pins (make web-vendor copies it).
func TestVendoredChartJS(t *testing.T) {
	raw, err := os.ReadFile("../package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	version := pkg.DevDependencies["chart.js"]
	src, err := fs.ReadFile(web.Assets(), "console/vendor/chart.umd.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if version == "" || !strings.Contains(string(src[:200]), "Chart.js v"+version) {
		t.Fatalf("vendored Chart.js is not v%q: %.120s", version, src)
	}
}
