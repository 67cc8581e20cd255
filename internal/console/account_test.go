package console_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"aftersale/internal/auth"
)

// The account page (账号设置) shows the person and the change-password
// form; the form's request (what console.js sends: PUT /v1/me/password,
// JSON, by the session cookie) needs the CSRF token, changes the password,
// and the page then shows when. The header links the login to the page.
func TestAccountPage_ChangePassword(t *testing.T) {
	e := newEnv(t)
	e.person("agent.pw", auth.RoleAgent, "a_pw")
	b := e.signIn("agent.pw")
	must(t, b.get("/console/account"), http.StatusOK, "账号设置", `data-login>agent.pw<`, `form class="box" data-password`,
		`autocomplete="current-password"`, "从未修改", `href="/console/account"`)
	must(t, b.get("/console/account", "Cookie", "aftersale_lang=en"), http.StatusOK, "My account", "Change password", "Never")

	put := func(csrf bool) page {
		req, _ := http.NewRequest(http.MethodPut, e.srv.URL+"/v1/me/password",
			strings.NewReader(`{"current_password":"`+password+`","new_password":"another pass phrase"}`))
		req.Header.Set("Content-Type", "application/json")
		if csrf {
			req.Header.Set("X-CSRF-Token", b.csrf)
		}
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return page{Status: res.StatusCode, Body: string(data)}
	}
	must(t, put(false), http.StatusForbidden, "auth.csrf")
	must(t, put(true), http.StatusOK, `"password_changed_at"`)
	p := b.get("/console/account")
	must(t, p, http.StatusOK, "data-pw-changed")
	mustNot(t, p, "从未修改")
	e.signInWith("agent.pw", "another pass phrase") // the new password signs in
}
