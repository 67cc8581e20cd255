package console_test

// Fuzz target for the console's url-encoded forms, posted by a signed-in
// person over real HTTP to the API server with the console mounted:
//
//	go test ./internal/console -run '^$' -fuzz '^FuzzConsoleForms$' -fuzztime 10m
//
// The seeds are the forms below and testdata/fuzz/FuzzConsoleForms; `go
// test ./...` runs them as a plain test.

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"aftersale/internal/auth"
)

// formPeople are the logins FuzzConsoleForms signs in as, indexed by the
// input's first value (modulo their number).
var formPeople = []struct {
	login   string
	role    auth.Role
	subject string
}{
	{"main1", auth.RoleShopMain, "s1_main"},
	{"subok", auth.RoleShopSub, "sub_ok"},
	{"agent1", auth.RoleAgent, "a1"},
	{"buyer1", auth.RoleBuyer, "b_o1"},
	{"op1", auth.RoleOperator, ""},
}

// formRoutes are the console's form posts, indexed by the input's second
// value; {task} is the urge task of order o1.
var formRoutes = []string{
	"/console/tasks/{task}/act",
	"/console/orders/o1/urge",
	"/console/orders/o1/open",
	"/console/orders/o1/claim",
	"/console/orders/o1/chase",
	"/console/qa/ask",
	"/console/qa/q1/answer",
	"/console/accounts/sub_no/permission",
	"/console/accounts/sub_no/reminders",
	"/console/tasks/{task}/invoice",
	"/console/policy/load",
}

// formSeeds are forms as the console's pages send them.
var formSeeds = []struct {
	who, route uint8
	form       string
}{
	{0, 0, "action=reply&text=%E4%BB%8A%E5%A4%A9%E5%8F%91%E8%B4%A7"},
	{1, 0, "action=propose_plan&text=resend+tomorrow"},
	{2, 0, "action=agent_note&text=called+the+shop"},
	{2, 0, "action=resolve&outcome=shipped&text=done"},
	{0, 0, "action=collab_agreed&text=ok&contacted_at=2024-03-04T09%3A30&attempts=2&evidence_ref=ev1"},
	{3, 0, "action=accept_plan"},
	{3, 1, ""},
	{3, 2, "type=return_refund&reason=quality_issue&text=broken"},
	{3, 3, "kind=time&asked_yuan=12.50&description=late"},
	{3, 4, ""},
	{3, 5, "product=p1&text=%E5%B0%BA%E7%A0%81%E5%87%86%E5%90%97%EF%BC%9F"},
	{0, 6, "text=%E5%87%86"},
	{0, 7, "grant=true"},
	{0, 8, "on=false"},
	{0, 9, "invoice_no=INV-1"},
	{4, 10, "platform=taobao&yaml=platform%3A+taobao%0Aversions%3A%0A++-+id%3A+taobao%2F2030%0A++++effective_from%3A+2030-01-01T00%3A00%3A00%2B08%3A00%0A++++rules%3A%0A++++++tasks%3A%0A++++++++reply_deadline%3A+48h%0A"},
}

// FuzzConsoleForms posts the input, as an application/x-www-form-urlencoded
// body, to one of the console's forms as one of a shop's main account, a
// sub-account, an agent, a buyer or an operator, on a store with a shop, a
// late order and its urge task, checking:
//
//   - the status is never 5xx: a form the console cannot use is refused
//     (a 4xx, or the page again with the problem), never a server error;
//   - the answer has a body.
func FuzzConsoleForms(f *testing.F) {
	for _, s := range formSeeds {
		f.Add(s.who, s.route, []byte(s.form))
	}
	f.Fuzz(func(t *testing.T, who, route uint8, form []byte) {
		e := newEnv(t)
		e.shop()
		e.lateOrder("o1")
		tk := e.urgedTask("o1")
		p := formPeople[int(who)%len(formPeople)]
		e.person(p.login, p.role, p.subject)
		b := e.signIn(p.login)

		path := strings.ReplaceAll(formRoutes[int(route)%len(formRoutes)], "{task}", tk.ID)
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(string(form)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", b.csrf)
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s as %s: %d %s", path, p.login, res.StatusCode, res.Header.Get("X-Console-Problem"))
		if res.StatusCode >= 500 {
			t.Fatalf("POST %s as %s (%s): status %d for form %q:\n%s", path, p.login, p.role, res.StatusCode, form, body)
		}
		if len(body) == 0 && res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
			t.Fatalf("POST %s as %s: %d with an empty body", path, p.login, res.StatusCode)
		}
	})
}
