package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/staff"
)

// Auth is what the server needs of staff accounts; staffstore.Store is one.
type Auth interface {
	Login(ctx context.Context, username, password string) (string, time.Time, staff.Member, error)
	Logout(ctx context.Context, token string) error
	Authenticate(ctx context.Context, secret string) (staff.Principal, error)
	Create(ctx context.Context, n staff.NewMember) (staff.Member, error)
	List(ctx context.Context) ([]staff.Member, error)
	CreateAPIKey(ctx context.Context, name string, role staff.Role, createdBy string) (string, staff.APIKey, error)
	APIKeys(ctx context.Context) ([]staff.APIKey, error)
	RevokeAPIKey(ctx context.Context, id int64) error
	Audit(ctx context.Context, e staff.AuditEntry) error
	AuditLog(ctx context.Context, limit int) ([]staff.AuditEntry, error)
}

// SessionCookie carries the console's session token.
const SessionCookie = "huiyin_session"

const principalKey = "principal"

// secretOf reads the caller's token or key: the Authorization header
// (Bearer), X-API-Key, or the console's cookie.
func secretOf(c *fiber.Ctx) string {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		if v, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(v)
		}
	}
	if k := c.Get("X-API-Key"); k != "" {
		return k
	}
	return c.Cookies(SessionCookie)
}

// authenticate resolves the caller and audits every change it makes.
func (s *server) authenticate(c *fiber.Ctx) error {
	secret := secretOf(c)
	if secret == "" {
		return fmt.Errorf("%w: 请先登录", huiyin.ErrUnauthorized)
	}
	p, err := s.d.Auth.Authenticate(c.UserContext(), secret)
	if err != nil {
		return err
	}
	c.Locals(principalKey, p)
	err = c.Next()
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		status := c.Response().StatusCode()
		if err != nil {
			status, _, _ = classify(err)
		}
		s.audit(c, p.Actor, status)
	}
	return err
}

func (s *server) audit(c *fiber.Ctx, actor string, status int) {
	e := staff.AuditEntry{
		Actor: actor, Action: c.Method() + " " + c.Route().Path, Target: c.Path(),
		Status: status, IP: s.clientIP(c), RequestID: requestID(c),
	}
	// Audited even when the request's own context was cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.d.Auth.Audit(ctx, e); err != nil {
		s.log.Error("audit failed", "actor", actor, "action", e.Action, "err", err)
	}
}

func principal(c *fiber.Ctx) staff.Principal {
	p, _ := c.Locals(principalKey).(staff.Principal)
	return p
}

// require lets through callers whose role is at least min.
func require(min staff.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if p := principal(c); !p.Role.AtLeast(min) {
			return fmt.Errorf("%w: 需要%s及以上权限（当前为%s）", huiyin.ErrForbidden, min.Name(), p.Role.Name())
		}
		return c.Next()
	}
}

// decode reads a JSON object body into v; unknown fields are an error, so
// that a misspelt field is not silently ignored.
func decode(c *fiber.Ctx, v any) error {
	// Only JSON: a form or text/plain post from another site (which a
	// browser sends without asking) never reaches a handler with the
	// staff's cookie.
	if ct := c.Get(fiber.HeaderContentType); !strings.HasPrefix(strings.ToLower(ct), fiber.MIMEApplicationJSON) {
		return fmt.Errorf("%w: 请求须为 JSON（Content-Type: application/json）", huiyin.ErrInvalid)
	}
	body := c.Body()
	if err := checkBody(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: 请求体不是有效的 JSON 对象（%s）", huiyin.ErrInvalid, jsonProblem(err))
	}
	// One object: anything after it would otherwise be silently dropped.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: 请求体不是有效的 JSON 对象（对象之后还有多余内容）", huiyin.ErrInvalid)
	}
	if hasNUL(body) {
		return fmt.Errorf("%w: 请求内容含有不允许的控制字符（U+0000 空字符）", huiyin.ErrInvalid)
	}
	return nil
}

// checkBody refuses a body that is not UTF-8, which the JSON decoder
// would otherwise turn silently into U+FFFD.
func checkBody(body []byte) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: 请求体不是有效的 UTF-8 文本", huiyin.ErrInvalid)
	}
	return nil
}

// hasNUL reports whether a JSON text holds the escape \u0000 (JSON can
// carry U+0000 only escaped): PostgreSQL cannot store it in text, so it
// is refused up front rather than failing the query.
func hasNUL(body []byte) bool {
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		if i+5 < len(body) && body[i+1] == 'u' && string(body[i+2:i+6]) == "0000" {
			return true
		}
		i++ // the escaped character: \\u0000 is a backslash and text
	}
	return false
}

func jsonProblem(err error) string {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "未知字段 " + f
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return "须为 JSON 对象"
		}
		return "字段 " + te.Field + " 类型错误"
	}
	return "格式错误"
}

// queryInt reads an integer query parameter, def when absent; anything
// else is ErrInvalid rather than quietly the default.
func queryInt(c *fiber.Ctx, name string, def int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %s 须为整数（收到 %q）", huiyin.ErrInvalid, name, v)
	}
	return n, nil
}

func paramID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: 编号 %q 无效", huiyin.ErrInvalid, c.Params(name))
	}
	return id, nil
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string       `json:"token"`
	ExpiresAt time.Time    `json:"expires_at"`
	Staff     staff.Member `json:"staff"`
}

func (s *server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	token, expires, m, err := s.d.Auth.Login(c.UserContext(), req.Username, req.Password)
	status := fiber.StatusOK
	if err != nil {
		status, _, _ = classify(err)
	}
	s.audit(c, "login:"+clip(req.Username, 40), status)
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: token, Expires: expires, HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: c.Protocol() == "https", Path: "/",
	})
	return c.JSON(loginResponse{Token: token, ExpiresAt: expires, Staff: m})
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func (s *server) logout(c *fiber.Ctx) error {
	if err := s.d.Auth.Logout(c.UserContext(), secretOf(c)); err != nil {
		return err
	}
	c.ClearCookie(SessionCookie)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) me(c *fiber.Ctx) error {
	p := principal(c)
	return c.JSON(fiber.Map{"actor": p.Actor, "role": p.Role, "role_name": p.Role.Name(), "department": p.Department})
}

func (s *server) listStaff(c *fiber.Ctx) error {
	list, err := s.d.Auth.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"staff": list})
}

func (s *server) createStaff(c *fiber.Ctx) error {
	var req staff.NewMember
	if err := decode(c, &req); err != nil {
		return err
	}
	m, err := s.d.Auth.Create(c.UserContext(), req)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

type apiKeyRequest struct {
	Name string     `json:"name"`
	Role staff.Role `json:"role"`
}

func (s *server) createAPIKey(c *fiber.Ctx) error {
	var req apiKeyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	key, k, err := s.d.Auth.CreateAPIKey(c.UserContext(), req.Name, req.Role, principal(c).Actor)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"key": key, "api_key": k, "note": "密钥只显示这一次，请妥善保存"})
}

func (s *server) listAPIKeys(c *fiber.Ctx) error {
	keys, err := s.d.Auth.APIKeys(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"api_keys": keys})
}

func (s *server) revokeAPIKey(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := s.d.Auth.RevokeAPIKey(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) auditLog(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit", 100)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 1000 {
		return fmt.Errorf("%w: limit 须在 1–1000 之间", huiyin.ErrInvalid)
	}
	entries, err := s.d.Auth.AuditLog(c.UserContext(), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"entries": entries})
}
