package httpapi_test

// Fuzz target for the JSON bodies of the main write endpoints, sent over
// real HTTP to the API on a fresh SQLite store:
//
//	go test ./internal/httpapi -run '^$' -fuzz '^FuzzAPIBodies$' -fuzztime 10m
//
// The seeds are the bodies below, one or more per endpoint, and
// testdata/fuzz/FuzzAPIBodies; `go test ./...` runs them as a plain test.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
)

// fuzzRoute is an endpoint FuzzAPIBodies posts to; {task} stands for the
// id of a task of the seeded order.
type fuzzRoute struct {
	method, path, key string
}

// fuzzRoutes are indexed by the input's first value (modulo their number).
var fuzzRoutes = []fuzzRoute{
	{http.MethodPost, "/v1/facts", platformKey},
	{http.MethodPost, "/v1/tasks", platformKey},
	{http.MethodPost, "/v1/tasks/{task}/actions", platformKey},
	{http.MethodPost, "/v1/sessions", ""},
	{http.MethodPost, "/v1/orders/o1/urge", platformKey},
	{http.MethodPost, "/v1/orders/o1/complaints", platformKey},
	{http.MethodPost, "/v1/people", operatorKey},
	{http.MethodPost, "/v1/policies/tmall/preview", operatorKey},
}

// apiBodySeeds are realistic bodies per route index: accepted ones and
// refused ones.
var apiBodySeeds = []struct {
	route uint8
	body  string
}{
	{0, `{"facts":[{"id":"ship-o1","type":"shipment","at":"2023-08-01T09:00:00+08:00","shipment":{"order_id":"o1","carrier":"SF","tracking_no":"SF1"}},{"id":"rf-o1","type":"refund","at":"2023-08-01T09:00:00+08:00","refund":{"order_id":"o1","amount_fen":100}}]}`},
	{0, `{"facts":[{"id":"order-o2","type":"order","at":"2023-07-31T09:00:00+08:00","order":{"id":"o2","shop_id":"s1","buyer_id":"b2","buyer_region":"beijing","items":[{"sku":"A","category":"apparel"}],"paid_fen":5000,"paid_at":"2023-07-31T09:00:00+08:00","ship_by":"2023-08-02T09:00:00+08:00"}},{"id":"bad","type":"refund","at":"2023-08-01T09:00:00+08:00","refund":{"order_id":"o1","amount_fen":-1,"colour":"red"}}]}`},
	{1, `{"type":"return_refund","order_id":"o1","actor":{"role":"buyer","id":"b_o1"},"details":{"reason":"quality"},"refund":{"reason":"quality_issue","remedy":"refund"}}`},
	{1, `{"type":"exchange","order_id":"o1","actor":{"role":"buyer","id":"b_o1"}}`},
	{2, `{"action":"reply","actor":{"role":"shop_sub","id":"sub_ok"},"text":"we ship today"}`},
	{2, `{"action":"agent_note","actor":{"role":"agent","id":"ag1"},"text":"called the shop"}`},
	{2, `{"action":"collab_agreed","actor":{"role":"shop_main","id":"s1_main"},"reply":{"text":"agreed","contacted_at":"2023-08-01T09:00:00+08:00","attempts":1}}`},
	{3, `{"login":"tb.cs1","password":"correct horse battery"}`},
	{3, `{"login":"tb.cs1","password":"wrong"}`},
	{4, `{"actor":{"role":"buyer","id":"b_o1"}}`},
	{5, `{"actor":{"role":"buyer","id":"b_o1"},"kind":"shipping","text":"not shipped"}`},
	{6, `{"login":"agent.x","password":"correct horse battery","role":"agent","subject_id":"ag2"}`},
	{7, `{"source":"platform: tmall\nversions:\n  - id: tmall/2031.1\n    effective_from: 2031-01-01T00:00:00+08:00\n    rules: {logistics: {stall_after: 96h}}\n"}`},
}

// fuzzPassword is the password of the login the seeds sign in with.
const fuzzPassword = "correct horse battery"

// FuzzAPIBodies posts the input body to one of the main write endpoints
// (facts, tasks, task actions and replies, sessions, urge, complaints,
// people, policy preview), on a store with a shop, a late order, a task and
// a login, checking:
//
//   - the status is never 5xx: a body the API cannot use is the client's
//     error, never the server's;
//   - an error is application/problem+json: a JSON object with a type, a
//     title and the status it was sent with;
//   - a success answers JSON; for a batch of facts, one result per fact
//     sent, in order, each refused one with a problem (type and title), so
//     the refusal of one fact does not drop the others.
func FuzzAPIBodies(f *testing.F) {
	for _, s := range apiBodySeeds {
		f.Add(s.route, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
		e.shop("s1", commerce.Tmall, subAcc("sub_ok", true), subAcc("sub_no", false))
		e.pastOrder("s1", "o1")
		tk := e.createTask("exchange", "o1")
		e.ok(e.req(http.MethodPost, "/v1/people", operatorKey, map[string]any{"login": "tb.cs1", "password": fuzzPassword,
			"role": "shop_sub", "subject_id": "sub_ok"}), http.StatusCreated, nil)

		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.ReplaceAll(rt.path, "{task}", tk.ID)
		r := e.req(rt.method, path, rt.key, string(body))
		t.Logf("%s %s: %d", rt.method, path, r.Status)
		checkAnswer(t, rt.method+" "+path, r, body)
		if rt.path == "/v1/facts" && r.Status == http.StatusOK {
			checkFactsResult(t, r, body)
		}
	})
}

// checkFactsResult checks a 200 answer of POST /v1/facts: one result per
// fact sent, in order, the counts adding up, and every refused fact with a
// problem that has a type and a title.
func checkFactsResult(t *testing.T, r resp, body []byte) {
	t.Helper()
	var sent struct {
		Facts []json.RawMessage `json:"facts"`
	}
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatalf("POST /v1/facts answered 200 to a body that is not a batch: %v\n%q", err, body)
	}
	var out httpapi.FactsResult
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("facts result: %v\n%s", err, r.Body)
	}
	if len(out.Results) != len(sent.Facts) || out.Accepted+out.Duplicate+out.Refused != len(sent.Facts) {
		t.Fatalf("%d facts sent, %d results (%d accepted, %d duplicate, %d refused):\n%s",
			len(sent.Facts), len(out.Results), out.Accepted, out.Duplicate, out.Refused, r.Body)
	}
	for i, it := range out.Results {
		if it.Status == "refused" && (it.Problem == nil || it.Problem.Type == "" || it.Problem.Title == "") {
			t.Fatalf("fact %d refused without a problem with a type and a title:\n%s", i, r.Body)
		}
	}
}

// checkAnswer checks one answer of the API to a fuzzed body.
func checkAnswer(t *testing.T, what string, r resp, body []byte) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("%s: status %d for body %q:\n%s", what, r.Status, body, r.Body)
	}
	if r.Status >= 400 {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("%s: %d with content type %q, want application/problem+json: %s", what, r.Status, ct, r.Body)
		}
		var p problem
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatalf("%s: %d problem is not JSON: %v\n%s", what, r.Status, err, r.Body)
		}
		if p.Type == "" || p.Title == "" || p.Status != r.Status {
			t.Fatalf("%s: %d problem without a type, a title or its status: %s", what, r.Status, r.Body)
		}
		if !strings.HasPrefix(p.Type, httpapi.ProblemBase) && p.Type != "about:blank" {
			t.Fatalf("%s: problem type %q is not one of ours (%s…)", what, p.Type, httpapi.ProblemBase)
		}
		return
	}
	if len(r.Body) > 0 && !json.Valid(r.Body) {
		t.Fatalf("%s: %d answer is not JSON: %s", what, r.Status, r.Body)
	}
}
