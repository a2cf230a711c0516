package knowledge

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/huiyin/huiyin"
)

// Script is one situation of the script library (话术库): when it applies,
// the points a reply must make, and an example reply with placeholders
// (ScriptPlaceholders) that the drafter fills in.
type Script struct {
	Category  string   // taxonomy category, empty for the general scripts
	Situation string   // the situation's name (报修受理)
	AppliesTo string   // 适用：when to use it
	Points    []string // 要点：what the reply must do
	Example   string   // 范例：an example reply
}

// ScriptPlaceholders are the placeholders a script may use, in braces as
// written in the scripts.
var ScriptPlaceholders = []string{"{称呼}", "{位置}", "{问题}", "{工单号}", "{时限}", "{部门}"}

// The labels of a script's fields.
const (
	scriptApplies = "适用"
	scriptPoints  = "要点"
	scriptExample = "范例"
)

var (
	scriptLabelRE = regexp.MustCompile(`^(适用|要点|范例)\s*[:：]\s*(.*)$`)
	bulletRE      = regexp.MustCompile(`^(?:[-*+•·]|\d{1,2}[.、)）])\s*`)
	placeholderRE = regexp.MustCompile(`\{[^{}\n]*\}`)
)

// ParseScript reads a situation of the script library from its chunk:
//
//	适用：业主报修户内或公共区域的一般故障……
//
//	要点：
//	- 复述业主报修的位置……
//
//	范例：{称呼}您好，您反映的{位置}{问题}已经登记，工单号{工单号}。
//
// Situation is the chunk's section, Category its category. A field may go
// on over several lines; points are list items (-, *, 1.). Returns
// ErrInvalid when a field is missing or repeated, text stands outside the
// fields, or a placeholder is not one of ScriptPlaceholders.
func ParseScript(c Chunk) (Script, error) {
	s := Script{Category: c.Category, Situation: strings.TrimSpace(c.Section)}
	if s.Situation == "" {
		return s, fmt.Errorf("%w: 话术缺少情形名称（## 标题）", huiyin.ErrInvalid)
	}
	var (
		field   string
		seen    = map[string]bool{}
		applies []string
		example []string
	)
	for _, line := range strings.Split(c.Text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if m := scriptLabelRE.FindStringSubmatch(line); m != nil {
			field = m[1]
			if seen[field] {
				return s, fmt.Errorf("%w: 话术“%s”中“%s：”出现了两次", huiyin.ErrInvalid, s.Situation, field)
			}
			seen[field] = true
			line = m[2]
			if line == "" {
				continue
			}
		}
		switch field {
		case scriptApplies:
			applies = append(applies, line)
		case scriptExample:
			example = append(example, line)
		case scriptPoints:
			if loc := bulletRE.FindStringIndex(line); loc != nil {
				if p := strings.TrimSpace(line[loc[1]:]); p != "" {
					s.Points = append(s.Points, p)
				}
			} else if n := len(s.Points); n > 0 {
				s.Points[n-1] += line // a point wrapped over two lines
			} else {
				s.Points = append(s.Points, line)
			}
		default:
			return s, fmt.Errorf("%w: 话术“%s”的内容必须写在“适用：”“要点：”“范例：”之下，不能出现在它们之前：%q", huiyin.ErrInvalid, s.Situation, line)
		}
	}
	s.AppliesTo = strings.Join(applies, "\n")
	s.Example = strings.Join(example, "\n")
	switch {
	case s.AppliesTo == "":
		return s, fmt.Errorf("%w: 话术“%s”缺少“适用：”", huiyin.ErrInvalid, s.Situation)
	case len(s.Points) == 0:
		return s, fmt.Errorf("%w: 话术“%s”缺少“要点：”（至少一条）", huiyin.ErrInvalid, s.Situation)
	case s.Example == "":
		return s, fmt.Errorf("%w: 话术“%s”缺少“范例：”", huiyin.ErrInvalid, s.Situation)
	}
	for _, text := range append([]string{s.AppliesTo, s.Example}, s.Points...) {
		for _, ph := range placeholderRE.FindAllString(text, -1) {
			if !slices.Contains(ScriptPlaceholders, ph) {
				return s, fmt.Errorf("%w: 话术“%s”使用了未知的占位符 %s（可用：%s）", huiyin.ErrInvalid, s.Situation, ph, strings.Join(ScriptPlaceholders, ""))
			}
		}
	}
	return s, nil
}
