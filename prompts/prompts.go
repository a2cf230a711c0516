package prompts

import (
	"bytes"
	"embed"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/huiyin/huiyin"
)

// Message is one chat message of a rendered prompt.
type Message struct {
	Role    string // RoleSystem or RoleUser
	Content string
}

// The roles of the rendered messages.
const (
	RoleSystem = "system"
	RoleUser   = "user"
)

// Source is one numbered knowledge-base passage a prompt may cite.
type Source struct {
	// N is the number the model cites; the sources of one prompt are
	// numbered 1, 2, 3 … in order.
	N       int
	Doc     string // the document's title
	Section string // the section, FAQ question or law article
	Text    string
}

// Input limits, in characters. The owner's message and each source are
// cut to size by the caller; these bounds only keep a runaway input from
// reaching the model.
const (
	MaxMessageRunes = 4000
	MaxSourceRunes  = 4000
	MaxSources      = 20
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("prompts").Funcs(template.FuncMap{
	"data":  escapeData,
	"field": escapeField,
}).ParseFS(templateFS, "templates/*.tmpl"))

// render executes the system and the user template of one prompt.
func render(system, user string, in any) ([]Message, error) {
	var msgs []Message
	for _, t := range []struct{ role, name string }{{RoleSystem, system}, {RoleUser, user}} {
		var b bytes.Buffer
		if err := templates.ExecuteTemplate(&b, t.name, in); err != nil {
			return nil, fmt.Errorf("render %s: %w", t.name, err)
		}
		msgs = append(msgs, Message{Role: t.role, Content: b.String()})
	}
	return msgs, nil
}

// angle turns the characters that could open or close a delimiter tag
// into their full-width forms.
var angle = strings.NewReplacer("<", "＜", ">", "＞")

// escapeData prepares untrusted text for the inside of a tag: no < or >
// survives, line endings are \n, and surrounding blank space is trimmed.
func escapeData(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return angle.Replace(strings.TrimSpace(s))
}

// escapeField prepares a value for one line of the prompt or an
// attribute: as escapeData, with line breaks as spaces and double quotes
// as full-width ones.
func escapeField(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(angle.Replace(s), `"`, "＂")
}

// checkText checks one untrusted text: valid UTF-8, within max characters,
// and not blank when required.
func checkText(what, s string, max int, required bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", huiyin.ErrInvalid, what)
	}
	if required && strings.TrimSpace(s) == "" {
		return fmt.Errorf("%w: %s is empty", huiyin.ErrInvalid, what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%w: %s has %d characters, more than %d", huiyin.ErrInvalid, what, n, max)
	}
	return nil
}

// checkSources checks that the sources are numbered 1..n in order and
// carry text.
func checkSources(sources []Source) error {
	if len(sources) > MaxSources {
		return fmt.Errorf("%w: %d sources, more than %d", huiyin.ErrInvalid, len(sources), MaxSources)
	}
	for i, s := range sources {
		if s.N != i+1 {
			return fmt.Errorf("%w: source %d is numbered %d; sources are numbered 1, 2, 3 … in order", huiyin.ErrInvalid, i+1, s.N)
		}
		what := "source " + strconv.Itoa(s.N)
		if err := checkText(what, s.Text, MaxSourceRunes, true); err != nil {
			return err
		}
		if err := checkText(what+" title", s.Doc+s.Section, MaxSourceRunes, false); err != nil {
			return err
		}
	}
	return nil
}
