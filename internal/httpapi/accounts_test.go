package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/httpapi"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

const testPassword = "correct horse battery"

// person creates a login with the operator key.
func (e *apiEnv) person(login string, role auth.Role, subject string) httpapi.PersonBody {
	e.t.Helper()
	var p httpapi.PersonBody
	e.ok(e.req(http.MethodPost, "/v1/people", operatorKey, map[string]any{"login": login, "password": testPassword, "role": role, "subject_id": subject}),
		http.StatusCreated, &p)
	return p
}

// login signs in and returns the answer.
func (e *apiEnv) login(login, password string) resp {
	e.t.Helper()
	return e.req(http.MethodPost, "/v1/sessions", "", map[string]any{"login": login, "password": password})
}

// session signs in and returns the session.
func (e *apiEnv) session(login string) httpapi.SessionBody {
	e.t.Helper()
	var s httpapi.SessionBody
	e.ok(e.login(login, testPassword), http.StatusCreated, &s)
	return s
}

// withCookie sends a request with the session cookie (and headers).
func (e *apiEnv) withCookie(method, path, token string, body any, headers ...string) resp {
	e.t.Helper()
	return e.req(method, path, "", body, append([]string{"Cookie", httpapi.SessionCookie + "=" + token}, headers...)...)
}

// Sign in: the token comes in the body and as an HttpOnly, SameSite=Lax
// cookie (Secure only over TLS), with a readable CSRF cookie; GET /v1/me
// answers who it is by bearer or cookie; sign-out ends the session.
func TestSessions_LoginMeLogout(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao, subAcc("tb_s1", true))
	e.person("Shop.Main", auth.RoleShopMain, "tb_main")
	r := e.login("shop.main", testPassword) // logins are case-insensitive
	var s httpapi.SessionBody
	e.ok(r, http.StatusCreated, &s)
	if !strings.HasPrefix(s.Token, "ses_") || s.CSRFToken == "" || s.Person.Role != auth.RoleShopMain || s.Person.ShopID != "tb" ||
		!s.ExpiresAt.Equal(e.clock.Now().Add(12*time.Hour)) || s.IdleFor != "30m0s" {
		t.Fatalf("session %+v", s)
	}
	if strings.Contains(string(r.Body), "argon2id") {
		t.Fatal("the answer shows the password hash")
	}
	cookies := (&http.Response{Header: r.Header}).Cookies()
	byName := map[string]*http.Cookie{}
	for _, c := range cookies {
		byName[c.Name] = c
	}
	sc, cc := byName[httpapi.SessionCookie], byName[httpapi.CSRFCookie]
	if sc == nil || sc.Value != s.Token || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure || sc.Path != "/" {
		t.Fatalf("session cookie %+v", sc)
	}
	if cc == nil || cc.Value != s.CSRFToken || cc.HttpOnly {
		t.Fatalf("csrf cookie %+v", cc)
	}

	var me httpapi.MeBody
	e.ok(e.req(http.MethodGet, "/v1/me", s.Token, nil), http.StatusOK, &me)
	if me.Kind != "person" || me.Role != "shop_main" || me.ShopID != "tb" || me.Actor == nil || *me.Actor != (task.Actor{Role: task.RoleShopMain, ID: "tb_main"}) ||
		strings.Join(me.Permissions, ",") != "platform_task" || me.CSRFToken != s.CSRFToken || !contains(me.Actions, "account.manage") || contains(me.Actions, "task.judge") {
		t.Fatalf("me %+v", me)
	}
	e.ok(e.withCookie(http.MethodGet, "/v1/me", s.Token, nil), http.StatusOK, &me)
	e.ok(e.req(http.MethodGet, "/v1/me", platformKey, nil), http.StatusOK, &me)
	if me.Kind != "api_key" || me.Role != "platform" || me.KeyID == "" {
		t.Fatalf("me (key) %+v", me)
	}
	// a key has no session to close
	e.wantProblem(e.req(http.MethodDelete, "/v1/sessions", platformKey, nil), http.StatusUnprocessableEntity, "session.none", "", "Authorization")

	// sign out by cookie: needs the CSRF token; then the token is dead
	e.wantProblem(e.withCookie(http.MethodDelete, "/v1/sessions", s.Token, nil), http.StatusForbidden, "auth.csrf", "", httpapi.CSRFHeader)
	out := e.withCookie(http.MethodDelete, "/v1/sessions", s.Token, nil, httpapi.CSRFHeader, s.CSRFToken)
	if out.Status != http.StatusNoContent || !strings.Contains(strings.Join(out.Header.Values("Set-Cookie"), ";"), httpapi.SessionCookie+"=;") {
		t.Fatalf("logout %d %v", out.Status, out.Header.Values("Set-Cookie"))
	}
	e.wantProblem(e.req(http.MethodGet, "/v1/me", s.Token, nil), http.StatusUnauthorized, "auth.invalid", "", "")
	// a stale cookie is no credential: a public operation still answers
	e.ok(e.withCookie(http.MethodGet, "/healthz", s.Token, nil), http.StatusOK, nil)
	e.wantProblem(e.withCookie(http.MethodGet, "/v1/me", s.Token, nil), http.StatusUnauthorized, "auth.missing", "", "")

	// over TLS the cookies are Secure
	tls := httptest.NewTLSServer(e.srv.Config.Handler)
	defer tls.Close()
	req, _ := http.NewRequest(http.MethodPost, tls.URL+"/v1/sessions", strings.NewReader(`{"login":"shop.main","password":"`+testPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := tls.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if cs := res.Cookies(); res.StatusCode != http.StatusCreated || len(cs) != 2 || !cs[0].Secure || !cs[1].Secure {
		t.Fatalf("TLS sign-in %d %+v", res.StatusCode, cs)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// An unknown login and a wrong password answer exactly alike; after 5
// failures from one client address within the window, that address answers
// 429 with Retry-After (even with the right password, for any login) until
// the window ends. A success does not clear the address's count. (Other
// addresses are not slowed: TestSignIn_ThrottlesTheAddressNotTheAccount.)
func TestLogin_SameAnswerAndThrottle(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00") // 02:00 UTC: a 15-minute window starts here
	e := newAPI(t, start, false)
	e.person("agent.one", auth.RoleAgent, "a1")
	unknown := e.login("nobody.here", testPassword)
	wrong := e.login("agent.one", "not the password")
	e.wantProblem(unknown, http.StatusUnauthorized, "auth.login_failed", "", "")
	e.wantProblem(wrong, http.StatusUnauthorized, "auth.login_failed", "", "")
	if string(unknown.Body) != string(wrong.Body) {
		t.Fatalf("answers differ:\n%s\n%s", unknown.Body, wrong.Body)
	}
	e.wantProblem(e.login("x", testPassword), http.StatusUnauthorized, "auth.login_failed", "", "") // not even a valid login name
	// a success does not reset the address's count: two failures so far
	e.session("agent.one")
	for i := range 3 {
		e.wantProblem(e.login("agent.one", fmt.Sprint("wrong ", i)), http.StatusUnauthorized, "auth.login_failed", "", "")
	}
	e.clock.Set(start.Add(10 * time.Minute))
	r := e.login("agent.one", testPassword)
	e.wantProblem(r, http.StatusTooManyRequests, "auth.throttled", "", "login")
	if ra := r.Header.Get("Retry-After"); ra != "300" {
		t.Fatalf("Retry-After %q, want 300", ra)
	}
	// the address is throttled for every login, known or not
	e.person("agent.two", auth.RoleAgent, "a2")
	e.wantProblem(e.login("agent.two", testPassword), http.StatusTooManyRequests, "auth.throttled", "", "login")
	e.wantProblem(e.login("ghost.user", "x"), http.StatusTooManyRequests, "auth.throttled", "", "login")
	e.clock.Set(start.Add(15 * time.Minute)) // the next window
	e.session("agent.one")
}

// Session expiry at the boundary: a session unused for exactly the idle
// lifetime still works, one unused a second longer does not; use extends
// it, but never past the absolute lifetime. Sessions survive a restart
// (they are in the store, not in the process).
func TestSessionExpiry_Boundaries(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	e := newAPIWith(t, start, false, nil, func(c *httpapi.Config) {
		c.Sessions.Lifetimes = auth.Lifetimes{Idle: 10 * time.Minute, Absolute: time.Hour}
	})
	e.person("buyer.one", auth.RoleBuyer, "b1")
	a, b, c := e.session("buyer.one"), e.session("buyer.one"), e.session("buyer.one")
	me := func(tok string) resp { return e.req(http.MethodGet, "/v1/me", tok, nil) }
	e.clock.Set(start.Add(10 * time.Minute))
	e.ok(me(a.Token), http.StatusOK, nil)
	e.clock.Set(start.Add(10*time.Minute + time.Second))
	e.wantProblem(me(b.Token), http.StatusUnauthorized, "auth.session_expired", "", "")
	e.ok(me(a.Token), http.StatusOK, nil) // a was used at +10m: alive until +20m

	// a restart: a new server on the same store knows the session
	restarted := httptest.NewServer(httpapi.New(httpapi.Config{Engine: e.eng, Keys: []httpapi.Key{httpapi.NewKey(httpapi.RoleOperator, operatorKey)},
		Sessions: httpapi.SessionConfig{Clock: e.clock, Hash: fastHash, Lifetimes: auth.Lifetimes{Idle: 10 * time.Minute, Absolute: time.Hour}}}))
	defer restarted.Close()
	req, _ := http.NewRequest(http.MethodGet, restarted.URL+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+a.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("after restart: %d", res.StatusCode)
	}

	for m := 20 * time.Minute; m <= time.Hour; m += 10 * time.Minute {
		e.clock.Set(start.Add(m))
		e.ok(me(a.Token), http.StatusOK, nil)
	}
	e.clock.Set(start.Add(time.Hour + time.Second))
	e.wantProblem(me(a.Token), http.StatusUnauthorized, "auth.session_expired", "", "")
	e.wantProblem(me(c.Token), http.StatusUnauthorized, "auth.session_expired", "", "")
	// expired sessions are dropped at the next sign-in
	e.session("buyer.one")
	e.st.View(t.Context(), func(tx store.ReadTx) error {
		for _, s := range []httpapi.SessionBody{a, b, c} {
			if _, err := tx.Session(t.Context(), auth.HashToken(s.Token)); err == nil {
				t.Errorf("session %s not dropped", s.Token[:8])
			}
		}
		return nil
	})
}

// CSRF: a cookie-authenticated unsafe request needs the session's token in
// X-CSRF-Token; a wrong one is refused; a bearer request and a safe request need none.
func TestCSRF_CookieRequests(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	e.person("buyer.o1", auth.RoleBuyer, buyerOf("o1"))
	s := e.session("buyer.o1")
	body := map[string]any{"type": "resend", "order_id": "o1"}
	e.wantProblem(e.withCookie(http.MethodPost, "/v1/tasks", s.Token, body), http.StatusForbidden, "auth.csrf", "", httpapi.CSRFHeader)
	e.wantProblem(e.withCookie(http.MethodPost, "/v1/tasks", s.Token, body, httpapi.CSRFHeader, "forged"), http.StatusForbidden, "auth.csrf", "", httpapi.CSRFHeader)
	var n int
	e.st.View(t.Context(), func(tx store.ReadTx) error {
		ts, err := tx.Tasks(t.Context(), store.TaskFilter{})
		n = len(ts)
		return err
	})
	if n != 0 {
		t.Fatalf("a refused request opened %d tasks", n)
	}
	var tk taskJSON
	e.ok(e.withCookie(http.MethodPost, "/v1/tasks", s.Token, body, httpapi.CSRFHeader, s.CSRFToken), http.StatusCreated, &tk)
	if tk.BuyerID != buyerOf("o1") {
		t.Fatalf("task %+v", tk)
	}
	e.ok(e.withCookie(http.MethodGet, "/v1/tasks/"+tk.ID, s.Token, nil), http.StatusOK, nil)
	e.wantProblem(e.req(http.MethodPost, "/v1/tasks", s.Token, body), http.StatusConflict, "task.open_exists", "", "") // bearer: no CSRF needed
}

// Who acts: a signed-in person acts as themselves; the event names them;
// an actor (body or X-Actor) or a viewer that is someone else is refused
// with actor.mismatch naming the field, and changes nothing.
func TestWhoActs_PersonIsTheActor(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	e.person("buyer.o1", auth.RoleBuyer, buyerOf("o1"))
	tok := e.session("buyer.o1").Token
	e.wantProblem(e.req(http.MethodPost, "/v1/tasks", tok, map[string]any{"type": "resend", "order_id": "o1", "actor": actor("buyer", "b_else")}),
		http.StatusForbidden, "actor.mismatch", "", "actor")
	e.wantProblem(e.req(http.MethodPost, "/v1/tasks", tok, map[string]any{"type": "resend", "order_id": "o1"}, "X-Actor", "agent:a1"),
		http.StatusForbidden, "actor.mismatch", "", "X-Actor")
	e.wantProblem(e.req(http.MethodGet, "/v1/tasks?viewer=agent:a1", tok, nil), http.StatusForbidden, "actor.mismatch", "", "viewer")
	var tk taskJSON
	open := map[string]any{"type": "resend", "order_id": "o1", "actor": actor("buyer", buyerOf("o1"))}
	e.ok(e.req(http.MethodPost, "/v1/tasks", tok, open, "Idempotency-Key", "k1"), http.StatusCreated, &tk)
	// Idempotency-Key works per person: a repeat replays the answer and opens nothing more
	again := e.req(http.MethodPost, "/v1/tasks", tok, open, "Idempotency-Key", "k1")
	if again.Status != http.StatusCreated || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeat: %d %v", again.Status, again.Header)
	}
	var d httpapi.TaskDetail
	e.ok(e.get("/v1/tasks/"+tk.ID), http.StatusOK, &d)
	if len(d.Events) != 1 || d.Events[0].Actor != (task.Actor{Role: task.RoleBuyer, ID: buyerOf("o1")}) {
		t.Fatalf("events %+v", d.Events)
	}
	// the platform key still acts for anyone it names
	e.ok(e.action(tk.ID, map[string]any{"action": "reply", "actor": actor("shop_main", "tb_main")}), http.StatusOK, nil)
}

// Sub-account management (R-ACC-1): the main account creates a
// sub-account with a login; without platform_task it may not reply (the
// refusal names the permission); the main account grants it (an event on
// the shop's account stream) and the same session may reply; revoking
// refuses it again. A sub-account manages nothing; another shop's main
// account sees the account as unknown.
func TestSubAccounts_R_ACC_1(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.shop("tm", commerce.Tmall)
	e.pastOrder("tb", "o1")
	e.person("tb.main", auth.RoleShopMain, "tb_main")
	e.person("tm.main", auth.RoleShopMain, "tm_main")
	mainTok, tmTok := e.session("tb.main").Token, e.session("tm.main").Token
	var sa httpapi.SubAccountBody
	e.ok(e.req(http.MethodPost, "/v1/shops/tb/accounts", mainTok, map[string]any{"account_id": "tb_s9", "login": "tb.s9", "password": testPassword}),
		http.StatusCreated, &sa)
	if sa.Account.Role != commerce.RoleSub || sa.Account.ShopID != "tb" || len(sa.Account.Permissions) != 0 || sa.Person.Role != auth.RoleShopSub ||
		sa.Person.SubjectID != "tb_s9" || sa.Person.CreatedBy != "shop_main:tb_main" {
		t.Fatalf("sub-account %+v", sa)
	}
	e.wantProblem(e.req(http.MethodPost, "/v1/shops/tb/accounts", mainTok, map[string]any{"account_id": "tb_s9", "login": "tb.s10", "password": testPassword}),
		http.StatusConflict, "account.exists", "", "account_id")
	e.wantProblem(e.req(http.MethodPost, "/v1/shops/tb/accounts", mainTok, map[string]any{"account_id": "tb_s10", "login": "tb.s9", "password": testPassword}),
		http.StatusConflict, "person.login_taken", "", "login")
	e.wantProblem(e.req(http.MethodPost, "/v1/shops/tb/accounts", mainTok, map[string]any{"account_id": "tb_s10", "login": "tb.s10", "password": "short"}),
		http.StatusUnprocessableEntity, "password.length", "", "password")
	e.wantProblem(e.req(http.MethodPost, "/v1/shops/tb/accounts", tmTok, map[string]any{"account_id": "tb_s11", "login": "tb.s11", "password": testPassword}),
		http.StatusNotFound, "not_found", "", "id")

	subTok := e.session("tb.s9").Token
	tk := e.createTask("resend", "o1")
	p := e.wantProblem(e.req(http.MethodPost, "/v1/tasks/"+tk.ID+"/actions", subTok, map[string]any{"action": "reply"}), http.StatusForbidden, "permission.platform_task", "R-ACC-1", "permissions")
	if !strings.Contains(p.Detail, "platform_task") || p.Title != "子账号没有“平台任务”权限" {
		t.Fatalf("refusal %+v", p)
	}
	e.wantProblem(e.req(http.MethodPut, "/v1/accounts/tb_s9/permissions/platform_task", subTok, nil), http.StatusForbidden, "permission.denied", "", "")
	e.wantProblem(e.req(http.MethodPut, "/v1/accounts/tb_s9/permissions/platform_task", tmTok, nil), http.StatusNotFound, "not_found", "", "id")
	e.wantProblem(e.req(http.MethodPut, "/v1/accounts/tb_main/permissions/platform_task", mainTok, nil), http.StatusUnprocessableEntity, "invalid", "R-ACC-1", "id")

	var acc commerce.Account
	e.ok(e.req(http.MethodPut, "/v1/accounts/tb_s9/permissions/platform_task", mainTok, nil), http.StatusOK, &acc)
	if !acc.Has(commerce.PermPlatformTask) {
		t.Fatalf("after grant %+v", acc)
	}
	e.ok(e.req(http.MethodPut, "/v1/accounts/tb_s9/permissions/platform_task", mainTok, nil), http.StatusOK, &acc) // again: no change
	e.ok(e.req(http.MethodPost, "/v1/tasks/"+tk.ID+"/actions", subTok, map[string]any{"action": "reply"}), http.StatusOK, nil)
	e.ok(e.req(http.MethodDelete, "/v1/accounts/tb_s9/permissions/platform_task", mainTok, nil), http.StatusOK, &acc)
	e.wantProblem(e.req(http.MethodPost, "/v1/tasks/"+tk.ID+"/actions", subTok, map[string]any{"action": "perform"}), http.StatusForbidden, "permission.platform_task", "R-ACC-1", "")

	var evs []task.Event
	e.st.View(t.Context(), func(tx store.ReadTx) (err error) {
		evs, err = tx.Events(t.Context(), engine.AccountStream("tb"))
		return err
	})
	var got []string
	for _, ev := range evs {
		if ev.Actor != (task.Actor{Role: task.RoleShopMain, ID: "tb_main"}) || ev.Rule != "R-ACC-1" || ev.Visibility != task.ShopAgent || ev.PolicyVersion == "" || ev.ShopID != "tb" {
			t.Errorf("event %+v", ev)
		}
		got = append(got, ev.Action)
	}
	if strings.Join(got, ",") != "sub_account_created,permission_granted,permission_revoked" {
		t.Fatalf("account events %v", got)
	}

	var list httpapi.AccountList
	e.ok(e.req(http.MethodGet, "/v1/shops/tb/accounts", mainTok, nil), http.StatusOK, &list)
	if len(list.Accounts) != 2 || list.Accounts[0].ID != "tb_main" || list.Accounts[0].Login != "tb.main" || list.Accounts[1].ID != "tb_s9" ||
		list.Accounts[1].Login != "tb.s9" || len(list.Accounts[1].Permissions) != 0 {
		t.Fatalf("accounts %+v", list)
	}
	e.wantProblem(e.req(http.MethodGet, "/v1/shops/tb/accounts", tmTok, nil), http.StatusNotFound, "not_found", "", "id")
	// the platform key acts for the main account it names
	e.ok(e.req(http.MethodPut, "/v1/accounts/tb_s9/permissions/platform_task", platformKey, nil, "X-Actor", "shop_main:tb_main"), http.StatusOK, &acc)
	e.wantProblem(e.req(http.MethodPut, "/v1/accounts/tb_s9/permissions/platform_task", platformKey, nil, "X-Actor", "shop_sub:tb_s9"), http.StatusForbidden, "permission.denied", "R-ACC-1", "")
}

// Operators manage people (the operator key and operator people alike);
// an operator person moves the sandbox clock; people made for demos sign
// in and act in their role.
func TestPeople_OperatorsManage(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), true)
	e.shop("tb", commerce.Taobao)
	op := e.person("ops.one", auth.RoleOperator, "")
	if op.SubjectID != op.ID || op.CreatedBy != "operator:key:"+httpapi.NewKey(httpapi.RoleOperator, operatorKey).ID() {
		t.Fatalf("operator %+v", op)
	}
	opTok := e.session("ops.one").Token
	var ag httpapi.PersonBody
	e.ok(e.req(http.MethodPost, "/v1/people", opTok, map[string]any{"login": "agent.x", "password": testPassword, "role": "agent", "subject_id": "ax"}), http.StatusCreated, &ag)
	if ag.CreatedBy != "operator:"+op.ID {
		t.Fatalf("agent %+v", ag)
	}
	e.wantProblem(e.req(http.MethodPost, "/v1/people", opTok, map[string]any{"login": "agent.y", "password": testPassword, "role": "agent", "subject_id": "ax"}),
		http.StatusConflict, "person.subject_taken", "", "subject_id")
	e.wantProblem(e.req(http.MethodPost, "/v1/people", opTok, map[string]any{"login": "sub.y", "password": testPassword, "role": "shop_sub", "subject_id": "tb_main"}),
		http.StatusUnprocessableEntity, "invalid", "", "role")
	e.wantProblem(e.req(http.MethodPost, "/v1/people", opTok, map[string]any{"login": "sub.y", "password": testPassword, "role": "shop_sub", "subject_id": "nope"}),
		http.StatusNotFound, "not_found", "", "subject_id")
	e.wantProblem(e.req(http.MethodPost, "/v1/people", opTok, map[string]any{"login": "b y", "password": testPassword, "role": "buyer", "subject_id": "b9"}),
		http.StatusUnprocessableEntity, "login.invalid", "", "login")
	var ps httpapi.PeopleList
	e.ok(e.req(http.MethodGet, "/v1/people", opTok, nil), http.StatusOK, &ps)
	if len(ps.People) != 2 || strings.Contains(mustJSON(t, ps), "argon2") {
		t.Fatalf("people %+v", ps)
	}
	var ck httpapi.ClockBody
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", opTok, map[string]any{"by": "1h"}), http.StatusOK, &ck)
	if !ck.Now.Equal(bj(t, "2023-08-01T11:00:00")) {
		t.Fatalf("clock %v", ck.Now)
	}
	agTok := e.session("agent.x").Token
	e.wantProblem(e.req(http.MethodPost, "/v1/people", agTok, map[string]any{"login": "agent.z", "password": testPassword, "role": "agent", "subject_id": "az"}),
		http.StatusForbidden, "permission.denied", "", "")
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Passwords: a person changes their own by proving the current one (the
// session of the request stays, their others end; a wrong current password
// counts as a failed sign-in from the address, so the sixth is throttled); an operator
// resets anyone's (the person's sessions all end). Bad input names its
// field and changes nothing; an API key has no password to change.
func TestPasswords_ChangeAndReset(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	me := e.person("agent.one", auth.RoleAgent, "a1")
	s1, s2 := e.session("agent.one"), e.session("agent.one")
	change := func(token, current, next string) resp {
		return e.req(http.MethodPut, "/v1/me/password", token, map[string]any{"current_password": current, "new_password": next})
	}
	const next = "a brand new pass phrase"
	e.wantProblem(change(s1.Token, "not it", next), http.StatusUnprocessableEntity, "password.current_wrong", "", "current_password")
	e.wantProblem(change(s1.Token, testPassword, testPassword), http.StatusUnprocessableEntity, "password.unchanged", "", "new_password")
	e.wantProblem(change(s1.Token, testPassword, "short"), http.StatusUnprocessableEntity, "password.length", "", "new_password")
	e.wantProblem(change(operatorKey, testPassword, next), http.StatusUnprocessableEntity, "session.none", "", "Authorization")
	e.session("agent.one") // nothing changed

	var changed httpapi.PersonBody
	e.ok(change(s1.Token, testPassword, next), http.StatusOK, &changed)
	if changed.ID != me.ID || changed.PasswordChangedAt == nil || !changed.PasswordChangedAt.Equal(e.clock.Now()) {
		t.Fatalf("after the change: %+v", changed)
	}
	if r := e.req(http.MethodGet, "/v1/me", s1.Token, nil); r.Status != http.StatusOK {
		t.Fatalf("the session of the change ended: %d %s", r.Status, r.Body)
	}
	if r := e.req(http.MethodGet, "/v1/me", s2.Token, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("another session of the person still works: %d %s", r.Status, r.Body)
	}
	e.wantProblem(e.login("agent.one", testPassword), http.StatusUnauthorized, "auth.login_failed", "", "")
	e.ok(e.login("agent.one", next), http.StatusCreated, nil)

	// three more wrong current passwords (with the wrong one and the old
	// password's sign-in above, five failures from this address), then
	// throttled even with the right one
	for i := range 3 {
		e.wantProblem(change(s1.Token, fmt.Sprint("wrong ", i), "whatever it is now"), http.StatusUnprocessableEntity, "password.current_wrong", "", "current_password")
	}
	e.wantProblem(change(s1.Token, next, "whatever it is now"), http.StatusTooManyRequests, "auth.throttled", "", "current_password")
	e.wantProblem(e.login("agent.one", next), http.StatusTooManyRequests, "auth.throttled", "", "login") // the sign-in form too
	e.clock.Set(e.clock.Now().Add(15 * time.Minute))                                                     // the next window

	// an operator's reset: every session of the person ends
	e.person("ops.one", auth.RoleOperator, "")
	opSess := e.session("ops.one")
	const reset = "set by the operator"
	agent := e.session2("agent.one", next)
	e.wantProblem(e.req(http.MethodPut, "/v1/people/"+me.ID+"/password", agent.Token, map[string]any{"new_password": reset}),
		http.StatusForbidden, "permission.denied", "", "")
	e.wantProblem(e.req(http.MethodPut, "/v1/people/usr_nobody/password", opSess.Token, map[string]any{"new_password": reset}),
		http.StatusNotFound, "not_found", "", "person_id")
	e.wantProblem(e.req(http.MethodPut, "/v1/people/"+me.ID+"/password", opSess.Token, map[string]any{"new_password": "short"}),
		http.StatusUnprocessableEntity, "password.length", "", "new_password")
	if r := e.req(http.MethodGet, "/v1/me", s1.Token, nil); r.Status != http.StatusOK {
		t.Fatalf("before the reset: %d %s", r.Status, r.Body)
	}
	e.ok(e.req(http.MethodPut, "/v1/people/"+me.ID+"/password", opSess.Token, map[string]any{"new_password": reset}), http.StatusOK, nil)
	for _, tok := range []string{s1.Token, agent.Token} {
		if r := e.req(http.MethodGet, "/v1/me", tok, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a session survived the reset: %d %s", r.Status, r.Body)
		}
	}
	e.ok(e.login("agent.one", reset), http.StatusCreated, nil)
	if r := e.req(http.MethodGet, "/v1/me", opSess.Token, nil); r.Status != http.StatusOK {
		t.Fatalf("the operator's own session ended: %d", r.Status)
	}
}

// session2 signs in with a password other than testPassword.
func (e *apiEnv) session2(login, password string) httpapi.SessionBody {
	e.t.Helper()
	var s httpapi.SessionBody
	e.ok(e.login(login, password), http.StatusCreated, &s)
	return s
}
