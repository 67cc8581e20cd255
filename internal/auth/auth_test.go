package auth_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// A password hashes to an argon2id PHC string with a per-hash salt, verifies,
// and a wrong password does not; the parameters come from the string, so a
// hash made at another cost still verifies.
func TestPassword_RoundTripAndWrongPassword(t *testing.T) {
	h1, err := auth.HashPassword("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h1) {
		t.Fatalf("not a PHC argon2id string: %q", h1)
	}
	h2, _ := auth.HashPassword("correct horse", cheap)
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not per hash")
	}
	for _, c := range []struct {
		pw, hash string
		want     bool
	}{
		{"correct horse", h1, true},
		{"correct horse", h2, true},
		{"correct horsE", h1, false},
		{"", h1, false},
		{"correct horse ", h1, false},
	} {
		got, err := auth.VerifyPassword(c.pw, c.hash)
		if err != nil || got != c.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", c.pw, got, err, c.want)
		}
	}
	other, _ := auth.HashPassword("correct horse", auth.Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 16})
	if ok, err := auth.VerifyPassword("correct horse", other); !ok || err != nil {
		t.Fatalf("a hash of another cost: %v %v", ok, err)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$!!"} {
		if ok, err := auth.VerifyPassword("x", bad); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

func TestPasswordAndLoginChecks(t *testing.T) {
	for pw, ok := range map[string]bool{"1234567": false, "12345678": true, "密码密码密码密码": true, strings.Repeat("x", 256): true, strings.Repeat("x", 257): false} {
		if err := auth.CheckPassword(pw); (err == nil) != ok {
			t.Errorf("CheckPassword(%d chars) = %v", len([]rune(pw)), err)
		} else if err != nil {
			if ae, _ := apperr.As(err); ae.Field != "password" || ae.Reason != "password.length" {
				t.Errorf("refusal %+v", ae)
			}
		}
	}
	if l, err := auth.NormalizeLogin("  Shop.A@tb "); err != nil || l != "shop.a@tb" {
		t.Fatalf("NormalizeLogin = %q, %v", l, err)
	}
	for _, bad := range []string{"ab", "with space", "中文名", strings.Repeat("a", 65)} {
		if _, err := auth.NormalizeLogin(bad); apperr.CodeOf(err) != apperr.EINVALID {
			t.Errorf("NormalizeLogin(%q) = %v", bad, err)
		}
	}
}

// A session works up to and including LastSeen+Idle and ExpiresAt, and not a second later.
func TestSessionAlive_Boundaries(t *testing.T) {
	t0 := time.Date(2023, 8, 1, 10, 0, 0, 0, time.UTC)
	l := auth.Lifetimes{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}
	s := &auth.Session{CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(l.Absolute)}
	if !s.Alive(t0.Add(30*time.Minute), l) || s.Alive(t0.Add(30*time.Minute+time.Second), l) {
		t.Fatal("idle boundary")
	}
	s.LastSeen = t0.Add(12*time.Hour - time.Minute)
	if !s.Alive(t0.Add(12*time.Hour), l) || s.Alive(t0.Add(12*time.Hour+time.Second), l) {
		t.Fatal("absolute boundary")
	}
	if a, b := auth.NewToken(auth.TokenPrefix), auth.NewToken(auth.TokenPrefix); a == b || !strings.HasPrefix(a, "ses_") || len(a) != 4+43 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if h := auth.HashToken("ses_x"); len(h) != 64 || h == auth.HashToken("ses_y") {
		t.Fatalf("HashToken %q", h)
	}
}

// The permission table: a sub-account works tasks only with platform_task
// (R-ACC-1), refused with a reason naming it; roles outside a row are
// refused with permission.denied; an action not in the table is refused to all.
func TestCheck_R_ACC_1(t *testing.T) {
	sub := &commerce.Account{ID: "s1", Role: commerce.RoleSub}
	subOK := &commerce.Account{ID: "s2", Role: commerce.RoleSub, Permissions: []string{commerce.PermPlatformTask}}
	main := &commerce.Account{ID: "m", Role: commerce.RoleMain}
	reply := auth.TaskAction(task.ActReply)
	err := auth.Check(auth.RoleShopSub, sub, reply)
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.EFORBIDDEN || ae.Reason != "permission.platform_task" || ae.Rule != "R-ACC-1" ||
		!strings.Contains(ae.Message, "platform_task") {
		t.Fatalf("sub without permission: %v", err)
	}
	for _, c := range []struct {
		role auth.Role
		acc  *commerce.Account
		act  auth.Action
		want string
	}{
		{auth.RoleShopSub, subOK, reply, ""},
		{auth.RoleShopMain, main, reply, ""},
		{auth.RoleBuyer, nil, reply, "permission.denied"},
		{auth.RoleAgent, nil, reply, "permission.denied"},
		{auth.RoleAgent, nil, auth.TaskAction(task.ActJudge), ""},
		{auth.RoleShopMain, main, auth.TaskAction(task.ActJudge), "permission.denied"},
		{auth.RoleBuyer, nil, auth.ActUrge, ""},
		{auth.RoleShopSub, subOK, auth.ActManageAccounts, "permission.denied"},
		{auth.RoleShopMain, main, auth.ActManageAccounts, ""},
		{auth.RoleOperator, nil, auth.ActSandboxClock, ""},
		{auth.RoleAgent, nil, auth.ActSandboxClock, "permission.denied"},
		{auth.RoleOperator, nil, auth.ActIngestFacts, "permission.denied"},
		{auth.RoleOperator, nil, "no.such.action", "permission.denied"},
		// reads of a shop's standing: its own accounts, never buyers; the
		// compensation ledger and claims need platform_task like task reads
		{auth.RoleShopSub, sub, auth.ActReadStanding, ""},
		{auth.RoleBuyer, nil, auth.ActReadStanding, "permission.denied"},
		{auth.RoleShopSub, sub, auth.ActReadCompensation, "permission.platform_task"},
		{auth.RoleShopSub, subOK, auth.ActReadCompensation, ""},
		{auth.RoleBuyer, nil, auth.ActReadCompensation, "permission.denied"},
		{auth.RoleShopSub, sub, auth.TaskAction(task.ActProvideEvidence), "permission.platform_task"},
		{auth.RoleBuyer, nil, auth.TaskAction(task.ActProvideEvidence), ""},
		{auth.RoleBuyer, nil, auth.TaskAction(task.ActMarkEvidence), "permission.denied"},
		// R-QA-1, R-QA-2: sub-accounts neither answer nor subscribe
		{auth.RoleShopSub, subOK, auth.ActAnswer, "permission.denied"},
		{auth.RoleShopSub, subOK, auth.ActSubscribe, "permission.denied"},
		{auth.RoleBuyer, nil, auth.ActAnswer, ""},
		// every person streams; only operators manage webhooks
		{auth.RoleShopSub, sub, auth.ActStream, ""},
		{auth.RoleBuyer, nil, auth.ActStream, ""},
		{auth.RoleOperator, nil, auth.ActManageWebhooks, ""},
		{auth.RoleAgent, nil, auth.ActManageWebhooks, "permission.denied"},
	} {
		err := auth.Check(c.role, c.acc, c.act)
		got := ""
		if ae, ok := apperr.As(err); ok {
			got = ae.Reason
		}
		if got != c.want {
			t.Errorf("Check(%s, %s) = %v, want %q", c.role, c.act, err, c.want)
		}
	}
}

// docs/api.md shows the permission table exactly as the code has it.
func TestPermissionTableInDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), auth.Markdown()) {
		t.Fatalf("docs/api.md does not contain the permission table; paste:\n%s", auth.Markdown())
	}
}
