package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/httpapi"
	"aftersale/internal/id"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// fastHash is a cheap argon2id cost for tests.
var fastHash = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const password = "correct horse battery"

// env is the API server (with the console mounted) on a fresh store and a
// manual clock.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	eng   *engine.Engine
	st    store.Store
	clock *clock.Manual
}

// start is after the mid-July 2023 switches (urges need no complaint) and
// R-NTF-2's start.
var start = time.Date(2024, 3, 4, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func newEnv(t *testing.T) *env { return newEnvTB(t) }

func newEnvTB(t testing.TB) *env {
	t.Helper()
	st := httpapi.WrapStore(testkit.OpenStore(t), true)
	reg, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(start)
	eng := engine.New(engine.Config{Store: st, Policy: reg, Clock: clk, IDs: &id.Sequence{}})
	srv := httptestServer(httpapi.New(httpapi.Config{Engine: eng, Sandbox: clk,
		Sessions: httpapi.SessionConfig{Hash: fastHash}}))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, eng: eng, st: st, clock: clk}
}

func (e *env) facts(fs ...commerce.Fact) {
	e.t.Helper()
	for i := range fs {
		if fs[i].At.IsZero() {
			fs[i].At = e.clock.Now()
		}
	}
	res, err := e.eng.Ingest(context.Background(), fs)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != engine.FactAccepted {
			e.t.Fatalf("fact %s: %s %v", r.ID, r.Status, r.Error)
		}
	}
}

// shop ingests shop s1 (main account s1_main) with sub-accounts sub_ok
// (platform_task, online, subscribed to reminders) and sub_no (neither).
func (e *env) shop() {
	e.t.Helper()
	e.facts(testkit.ShopFact("s1", commerce.Taobao,
		commerce.Account{ID: "sub_ok", Permissions: []string{commerce.PermPlatformTask}, SubscribesReminders: true},
		commerce.Account{ID: "sub_no"}))
}

// lateOrder ingests an order of buyer b_<id> whose shipping deadline passed.
func (e *env) lateOrder(id string) {
	e.t.Helper()
	now := e.clock.Now()
	e.facts(testkit.OrderFact(id, "s1", "b_"+id, now.Add(-48*time.Hour), now.Add(-24*time.Hour)))
}

// person creates a login for a role and subject.
func (e *env) person(login string, role auth.Role, subject string) {
	e.t.Helper()
	h, err := auth.HashPassword(password, fastHash)
	if err != nil {
		e.t.Fatal(err)
	}
	p := &auth.Person{Login: login, PasswordHash: h, Role: role, SubjectID: subject}
	if err := e.eng.CreatePerson(context.Background(), task.Actor{Role: task.RoleSystem, ID: "test"}, p); err != nil {
		e.t.Fatal(err)
	}
}

// browser is a signed-in person's cookie jar and CSRF token.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

// signIn signs a person in through POST /v1/sessions, as console.js does.
func (e *env) signIn(login string) *browser {
	e.t.Helper()
	return e.signInWith(login, password)
}

// signInWith signs a person in with a given password.
func (e *env) signInWith(login, password string) *browser {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Post(e.srv.URL+"/v1/sessions", "application/json", strings.NewReader(`{"login":"`+login+`","password":"`+password+`"}`))
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&out) != nil {
		e.t.Fatalf("sign in %s: %d", login, res.StatusCode)
	}
	return &browser{e: e, c: c, csrf: out.CSRF}
}

// page is an answer of the console.
type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(method, path string, form url.Values, csrf bool, headers ...string) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if csrf {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, Header: res.Header, Body: string(data)}
}

func (b *browser) get(path string, headers ...string) page {
	return b.do("GET", path, nil, false, headers...)
}
func (b *browser) post(path string, form url.Values) page { return b.do("POST", path, form, true) }

func (e *env) task(id string) *task.Task {
	e.t.Helper()
	tv, err := e.eng.ReadTask(context.Background(), engine.Viewer{Role: task.RoleAgent}, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return tv.Task
}

func must(t testing.TB, p page, status int, contains ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d\n%s", p.Status, status, p.Body)
	}
	for _, s := range contains {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page lacks %q\n%s", s, p.Body)
		}
	}
}

func mustNot(t *testing.T, p page, absent ...string) {
	t.Helper()
	for _, s := range absent {
		if strings.Contains(p.Body, s) {
			t.Fatalf("page shows %q, which it must not\n%s", s, p.Body)
		}
	}
}

// urgedTask urges a late order as its buyer and returns the task (R-URG-1).
func (e *env) urgedTask(orderID string) *task.Task {
	e.t.Helper()
	res, err := e.eng.Urge(context.Background(), task.Actor{Role: task.RoleBuyer, ID: "b_" + orderID}, orderID)
	if err != nil || res.Task == nil {
		e.t.Fatalf("urge %s: %v %+v", orderID, err, res)
	}
	return res.Task
}

// testkit_order is an order of buyer b_<id> of shop s1, paid two days ago,
// with the given shipping deadline.
func testkit_order(id string, shipBy time.Time) commerce.Fact {
	return testkit.OrderFact(id, "s1", "b_"+id, shipBy.Add(-72*time.Hour), shipBy)
}

// onlyTask returns the order's one task.
func onlyTask(t *testing.T, e *env, orderID string) *task.Task {
	t.Helper()
	var ts []task.Task
	err := e.st.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		ts, err = tx.Tasks(context.Background(), store.TaskFilter{OrderID: orderID})
		return err
	})
	if err != nil || len(ts) != 1 {
		t.Fatalf("tasks of %s: %v %d", orderID, err, len(ts))
	}
	return &ts[0]
}

func httptestServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
