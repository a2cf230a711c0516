package api

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin"
)

// period reads from and to (dates such as 2026-11-01, or RFC 3339 times);
// the default is the last 30 days. A date as to includes that whole day.
func period(c *fiber.Ctx, now time.Time) (time.Time, time.Time, error) {
	to, from := now, now.AddDate(0, 0, -30)
	parse := func(name string, endOfDay bool) (time.Time, error) {
		v := c.Query(name)
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		t, err := time.ParseInLocation(time.DateOnly, v, shanghai)
		if err != nil {
			return t, fmt.Errorf("%w: %s 须为日期（2026-11-01）或 RFC 3339 时间", huiyin.ErrInvalid, name)
		}
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	var err error
	if c.Query("from") != "" {
		if from, err = parse("from", false); err != nil {
			return from, to, err
		}
	}
	if c.Query("to") != "" {
		if to, err = parse("to", true); err != nil {
			return from, to, err
		}
	}
	if !from.Before(to) || to.Sub(from) > 366*24*time.Hour {
		return from, to, fmt.Errorf("%w: 时间范围须为 1 天到 1 年", huiyin.ErrInvalid)
	}
	return from, to, nil
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

func (s *server) analytics(c *fiber.Ctx) error {
	from, to, err := period(c, time.Now())
	if err != nil {
		return err
	}
	a, err := s.d.Desk.Analytics(c.UserContext(), from, to)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// MaxExportRows bounds one CSV export.
const MaxExportRows = 50000

// exportCSV writes the period's tickets as CSV, with a byte-order mark so
// that Excel, which most property offices open it with, reads the Chinese
// correctly.
func (s *server) exportCSV(c *fiber.Ctx) error {
	from, to, err := period(c, time.Now())
	if err != nil {
		return err
	}
	rows, err := s.d.Desk.Export(c.UserContext(), from, to, MaxExportRows)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="huiyin-tickets-%s-%s.csv"`,
		from.In(shanghai).Format("20060102"), to.Add(-time.Second).In(shanghai).Format("20060102")))
	w := csv.NewWriter(c.Response().BodyWriter())
	_, _ = c.Response().BodyWriter().Write([]byte("\uFEFF"))
	_ = w.Write([]string{"工单号", "创建时间", "状态", "类别", "紧急程度", "部门", "楼栋", "单元", "房号", "问题",
		"处理人", "响应时限", "首次响应", "处理时限", "解决时间", "重复投诉", "已升级", "事件", "满意度"})
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(shanghai).Format("2006-01-02 15:04")
	}
	for _, r := range rows {
		score := ""
		if r.Score != nil {
			score = strconv.Itoa(*r.Score)
		}
		_ = w.Write([]string{r.Ref, ts(&r.CreatedAt), r.State.Name(), r.Category, r.Urgency, r.Department,
			csvSafe(r.Building), csvSafe(r.Unit), csvSafe(r.Room), csvSafe(r.Problem), r.Assignee,
			ts(&r.FirstResponseBy), ts(r.FirstRespondedAt), ts(&r.ResolutionBy), ts(r.ResolvedAt),
			yesNo(r.Repeat), yesNo(r.Escalated), r.Incident, score})
	}
	w.Flush()
	return w.Error()
}

// csvSafe keeps owners' words from running as spreadsheet formulas
// (CSV injection): a leading = + - @ gets a quote mark.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}
