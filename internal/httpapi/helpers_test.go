package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
	"aftersale/internal/testkit"
)

// Test API keys.
const (
	platformKey = "platform-test-key-0123456789"
	operatorKey = "operator-test-key-0123456789"
)

// beijing is the business time zone of the seeds (+08:00).
var beijing = time.FixedZone("CST", 8*3600)

func bj(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02T15:04:05", s, beijing)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// apiEnv is a real API over real HTTP on a fresh SQLite store, with the
// engine on a manual clock the test moves.
type apiEnv struct {
	t     *testing.T
	srv   *httptest.Server
	eng   *engine.Engine
	st    store.Store
	clock *clock.Manual
}

// newAPI starts the API with the engine clock at start; sandbox exposes
// that clock through the sandbox endpoints.
func newAPI(t *testing.T, start time.Time, sandbox bool) *apiEnv {
	t.Helper()
	return newAPIOn(t, start, sandbox, nil)
}

// newAPIOn is newAPI with the SQLite store wrapped by wrap (when not nil).
func newAPIOn(t *testing.T, start time.Time, sandbox bool, wrap func(store.Store) store.Store) *apiEnv {
	t.Helper()
	return newAPIWith(t, start, sandbox, wrap, nil)
}

// fastHash is a cheap argon2id cost for tests (the PHC string records it).
var fastHash = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// newAPIWith is newAPIOn with the Config adjusted by conf (when not nil).
// Sessions run on the engine's manual clock, with a cheap password hash.
func newAPIWith(t *testing.T, start time.Time, sandbox bool, wrap func(store.Store) store.Store, conf func(*httpapi.Config)) *apiEnv {
	t.Helper()
	// SQLite in a temporary directory (AFTERSALE_TEST_STORE=postgres: a fresh PostgreSQL schema)
	raw := testkit.OpenStore(t)
	if wrap != nil {
		raw = wrap(raw)
	}
	st := httpapi.WrapStore(raw, sandbox)
	reg, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(start)
	eng := engine.New(engine.Config{Store: st, Policy: reg, Clock: clk, IDs: &id.Sequence{}})
	cfg := httpapi.Config{Engine: eng, Keys: []httpapi.Key{
		httpapi.NewKey(httpapi.RolePlatform, platformKey), httpapi.NewKey(httpapi.RoleOperator, operatorKey)}}
	if sandbox {
		cfg.Sandbox = clk
	}
	cfg.Sessions = httpapi.SessionConfig{Clock: clk, Hash: fastHash}
	if conf != nil {
		conf(&cfg)
	}
	srv := httptest.NewServer(httpapi.New(cfg))
	t.Cleanup(srv.Close)
	return &apiEnv{t: t, srv: srv, eng: eng, st: st, clock: clk}
}

// resp is an HTTP answer.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem is an error body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
	Field  string `json:"field"`
	Rule   string `json:"rule"`
	Errors []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
	} `json:"errors"`
}

// req sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON). headers are name, value pairs.
func (e *apiEnv) req(method, path, key string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (e *apiEnv) post(path string, body any, headers ...string) resp {
	e.t.Helper()
	return e.req(http.MethodPost, path, platformKey, body, headers...)
}

func (e *apiEnv) get(path string, headers ...string) resp {
	e.t.Helper()
	return e.req(http.MethodGet, path, platformKey, nil, headers...)
}

// ok decodes a 2xx answer of the wanted status into v.
func (e *apiEnv) ok(r resp, status int, v any) {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			e.t.Fatalf("decode %s: %v", r.Body, err)
		}
	}
}

// wantProblem checks a problem+json answer: status, reason (its type is
// ProblemBase+reason) and, when not empty, the rule and field.
func (e *apiEnv) wantProblem(r resp, status int, reason, rule, field string) problem {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		e.t.Fatalf("content type %q, want application/problem+json: %s", ct, r.Body)
	}
	var p problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		e.t.Fatalf("decode problem %s: %v", r.Body, err)
	}
	if p.Status != status || p.Reason != reason || p.Type != httpapi.ProblemBase+reason || p.Title == "" {
		e.t.Fatalf("problem %+v, want status %d reason %s", p, status, reason)
	}
	if rule != "" && p.Rule != rule {
		e.t.Fatalf("problem rule %q, want %q: %s", p.Rule, rule, r.Body)
	}
	if field != "" && p.Field != field {
		e.t.Fatalf("problem field %q, want %q: %s", p.Field, field, r.Body)
	}
	return p
}

// facts posts facts and fails unless every one is accepted.
func (e *apiEnv) facts(fs ...commerce.Fact) {
	e.t.Helper()
	for i := range fs {
		if fs[i].At.IsZero() {
			fs[i].At = e.clock.Now()
		}
	}
	var out httpapi.FactsResult
	e.ok(e.post("/v1/facts", map[string]any{"facts": fs}), http.StatusOK, &out)
	if out.Accepted != len(fs) {
		e.t.Fatalf("facts: %+v", out)
	}
}

// shop ingests a shop (main account <id>_main) with sub-accounts.
func (e *apiEnv) shop(id string, p commerce.Platform, subs ...commerce.Account) {
	e.t.Helper()
	e.facts(testkit.ShopFact(id, p, subs...))
}

// order ingests an order of buyer b_<id> paid an hour ago with the given deadline.
func (e *apiEnv) order(shopID, orderID string, shipBy time.Time, mod ...func(*commerce.Order)) {
	e.t.Helper()
	f := testkit.OrderFact(orderID, shopID, buyerOf(orderID), e.clock.Now().Add(-time.Hour), shipBy)
	for _, m := range mod {
		m(f.Order)
	}
	e.facts(f)
}

// pastOrder ingests an order whose shipping deadline passed a day ago.
func (e *apiEnv) pastOrder(shopID, orderID string) {
	e.t.Helper()
	now := e.clock.Now()
	f := testkit.OrderFact(orderID, shopID, buyerOf(orderID), now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	e.facts(f)
}

func buyerOf(orderID string) string { return "b_" + orderID }

func actor(role, id string) map[string]string { return map[string]string{"role": role, "id": id} }

func subAcc(id string, perm bool) commerce.Account {
	a := commerce.Account{ID: id}
	if perm {
		a.Permissions = []string{commerce.PermPlatformTask}
	}
	return a
}

// taskJSON is the part of a task the tests read.
type taskJSON struct {
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	State        string     `json:"state"`
	OrderID      string     `json:"order_id"`
	ShopID       string     `json:"shop_id"`
	BuyerID      string     `json:"buyer_id"`
	DueAt        *time.Time `json:"due_at"`
	Outcome      string     `json:"outcome"`
	ComplaintIDs []string   `json:"complaint_ids"`
	Rev          int        `json:"rev"`
}

// createTask opens a task for the order's buyer.
func (e *apiEnv) createTask(typ, orderID string) taskJSON {
	e.t.Helper()
	var tk taskJSON
	e.ok(e.post("/v1/tasks", map[string]any{"type": typ, "order_id": orderID, "actor": actor("buyer", buyerOf(orderID))}), http.StatusCreated, &tk)
	return tk
}

// action takes an action on a task.
func (e *apiEnv) action(taskID string, body map[string]any, headers ...string) resp {
	e.t.Helper()
	return e.post("/v1/tasks/"+taskID+"/actions", body, headers...)
}
