package staff

import (
	"errors"
	"strings"
	"testing"

	"github.com/huiyin/huiyin"
)

func TestRoles(t *testing.T) {
	tests := []struct {
		role, min Role
		ok        bool
	}{
		{Admin, Agent, true}, {Agent, Agent, true}, {Agent, Lead, false}, {Lead, Manager, false},
		{Manager, Lead, true}, {Role("root"), Agent, false}, {Role(""), Agent, false},
	}
	for _, tt := range tests {
		if got := tt.role.AtLeast(tt.min); got != tt.ok {
			t.Errorf("%q.AtLeast(%q) = %v", tt.role, tt.min, got)
		}
	}
}

func TestNewMemberValidate(t *testing.T) {
	good := NewMember{Username: "agent.li", Role: Agent, Password: "a-long-password"}
	tests := []struct {
		name   string
		change func(*NewMember)
		want   string
	}{
		{"good", func(*NewMember) {}, ""},
		{"uppercase name", func(n *NewMember) { n.Username = "Li" }, "用户名"},
		{"sql in name", func(n *NewMember) { n.Username = "x'; drop table staff; --" }, "用户名"},
		{"unknown role", func(n *NewMember) { n.Role = "boss" }, "角色"},
		{"short password", func(n *NewMember) { n.Password = "123456" }, "至少"},
		{"password is the name", func(n *NewMember) { n.Password = "agent.li-2026-x" }, "用户名"},
		{"over 72 bytes", func(n *NewMember) { n.Password = strings.Repeat("密", 25) }, "过长"},
		{"only spaces", func(n *NewMember) { n.Password = strings.Repeat(" ", 12) }, "过于简单"},
		{"one letter", func(n *NewMember) { n.Password = "aaaaaaaaaaaa" }, "过于简单"},
		{"three letters and spaces", func(n *NewMember) { n.Password = "ab c ab c ab c" }, "过于简单"},
		{"control character", func(n *NewMember) { n.Password = "a-long-pass\x00word" }, "控制字符"},
		{"chinese passphrase", func(n *NewMember) { n.Password = "回音物业二零二六年冬季" }, ""},
	}
	for _, tt := range tests {
		n := good
		tt.change(&n)
		err := n.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, huiyin.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrInvalid mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestPasswordsAndSecrets(t *testing.T) {
	h, err := HashPassword("a-long-password")
	if err != nil || strings.Contains(h, "a-long-password") {
		t.Fatalf("hash %q %v", h, err)
	}
	if CheckPassword(h, "a-long-password") != nil {
		t.Error("the right password is refused")
	}
	for _, tc := range []struct{ hash, pw string }{{h, "wrong-password"}, {"", "a-long-password"}, {"", ""}} {
		if !errors.Is(CheckPassword(tc.hash, tc.pw), ErrBadCredentials) {
			t.Errorf("CheckPassword(%q, %q) accepted", tc.hash, tc.pw)
		}
	}
	a, ha, err := NewSecret(APIKeyPrefix)
	b, _, _ := NewSecret(APIKeyPrefix)
	if err != nil || a == b || !strings.HasPrefix(a, APIKeyPrefix) || string(HashSecret(a)) != string(ha) || len(a) < 40 {
		t.Errorf("secrets %q %q %v", a, b, err)
	}
}
