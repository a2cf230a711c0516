package staff

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/huiyin/huiyin"
)

// Role is what a member of staff may do; each role may do what the roles
// before it may.
type Role string

// The roles, from least to most trusted.
const (
	Agent   Role = "agent"   // 客服: answers owners, approves drafts, works tickets
	Lead    Role = "lead"    // 部门主管: also assigns, promotes replies, sees analytics
	Manager Role = "manager" // 项目经理: also receives escalations
	Admin   Role = "admin"   // 管理员: also manages staff and API keys
)

// Roles lists the roles in order of trust.
var Roles = []Role{Agent, Lead, Manager, Admin}

var roleNames = map[Role]string{Agent: "客服", Lead: "部门主管", Manager: "项目经理", Admin: "管理员"}

// Name is the role's name for staff.
func (r Role) Name() string { return roleNames[r] }

// ParseRole checks a role's wire value.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles, Role(s)) {
		return Role(s), nil
	}
	return "", fmt.Errorf("%w: 未知的角色 %q（可选 agent、lead、manager、admin）", huiyin.ErrInvalid, s)
}

// AtLeast reports whether r may do what min may.
func (r Role) AtLeast(min Role) bool {
	return slices.Index(Roles, r) >= slices.Index(Roles, min) && slices.Contains(Roles, r)
}

// Member is a member of staff.
type Member struct {
	ID         int64     `json:"id"`
	Username   string    `json:"username"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	Department string    `json:"department"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewMember is what creating an account takes.
type NewMember struct {
	Username   string `json:"username"`
	Name       string `json:"name"`
	Role       Role   `json:"role"`
	Department string `json:"department"`
	Password   string `json:"password"`
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// MinPassword is the shortest password accepted, in characters.
const MinPassword = 10

// Validate checks a new account and reports the first problem in Chinese.
func (n NewMember) Validate() error {
	if !usernameRE.MatchString(n.Username) {
		return fmt.Errorf("%w: 用户名须为 2–32 位小写字母、数字或 . _ -，以字母或数字开头", huiyin.ErrInvalid)
	}
	if _, err := ParseRole(string(n.Role)); err != nil {
		return err
	}
	if utf8.RuneCountInString(n.Name) > 50 || utf8.RuneCountInString(n.Department) > 50 {
		return fmt.Errorf("%w: 姓名或部门过长（最多 50 个字符）", huiyin.ErrInvalid)
	}
	return CheckPasswordStrength(n.Password, n.Username)
}

// CheckPasswordStrength rejects passwords too short, or the user name.
func CheckPasswordStrength(password, username string) error {
	if utf8.RuneCountInString(password) < MinPassword {
		return fmt.Errorf("%w: 密码至少 %d 个字符", huiyin.ErrInvalid, MinPassword)
	}
	if len(password) > 72 { // bcrypt reads only the first 72 bytes
		return fmt.Errorf("%w: 密码过长（最多 72 个字节）", huiyin.ErrInvalid)
	}
	if strings.Contains(strings.ToLower(password), username) {
		return fmt.Errorf("%w: 密码不能包含用户名", huiyin.ErrInvalid)
	}
	distinct := map[rune]bool{}
	for _, r := range password {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: 密码不能含有控制字符", huiyin.ErrInvalid)
		}
		if !unicode.IsSpace(r) {
			distinct[r] = true
		}
	}
	// Ten spaces, or "aaaaaaaaaa", pass the length rule but not a guess.
	if len(distinct) < 4 {
		return fmt.Errorf("%w: 密码过于简单（至少含 4 个不同的非空白字符）", huiyin.ErrInvalid)
	}
	return nil
}

// HashCost is bcrypt's work factor: about 50 ms a hash on one core,
// slow for guessing, quick enough for a login.
const HashCost = 11

// HashPassword hashes a password for storage.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), HashCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// ErrBadCredentials is a failed login: unknown user, wrong password or a
// disabled account, which the caller must not tell apart.
var ErrBadCredentials = errors.New("用户名或密码错误")

// dummyHash is compared against when the user does not exist, so that a
// login takes as long for an unknown name as for a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("huiyin-dummy-password"), HashCost)

// CheckPassword compares a password with a stored hash; an empty hash
// (unknown user) still costs one comparison.
func CheckPassword(hash, password string) error {
	h := []byte(hash)
	if hash == "" {
		h = dummyHash
	}
	if err := bcrypt.CompareHashAndPassword(h, []byte(password)); err != nil || hash == "" {
		return ErrBadCredentials
	}
	return nil
}

// Token prefixes tell a session from an API key at a glance, and let
// secret scanners recognise leaked keys.
const (
	SessionPrefix = "hys_"
	APIKeyPrefix  = "hyk_"
)

// NewSecret returns a random secret with prefix and the hash to store.
func NewSecret(prefix string) (secret string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("random secret: %w", err)
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// HashSecret is what is stored of a token or key: secrets are random and
// long, so one SHA-256 is enough (no salt, no slow hash).
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// SessionTTL is how long a login lasts: one working shift and some.
const SessionTTL = 12 * time.Hour

// Principal is who makes a request: a member of staff or an API key.
type Principal struct {
	Actor string // the name recorded in the audit log: a username, or "key:<name>"
	Role  Role
	// StaffID is 0 for an API key.
	StaffID    int64
	Department string
}

// APIKey is an integration's key as listed (never the secret).
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       Role       `json:"role"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// AuditEntry is one staff action.
type AuditEntry struct {
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Status    int       `json:"status"`
	IP        string    `json:"ip"`
	RequestID string    `json:"request_id"`
}
