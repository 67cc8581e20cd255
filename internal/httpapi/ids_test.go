package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/httpapi"
	"aftersale/internal/testkit"
)

// badIDs are ids that break the one id rule, as they appear in a URL.
var badIDs = map[string]string{
	"NUL":          "%00",
	"129 chars":    strings.Repeat("a", 129),
	"invalid UTF8": "%FF%FE",
	"RLO":          "a%E2%80%AEb",
	"zero-width":   "a%E2%80%8Bb",
	"newline":      "a%0Ab",
}

// Every id the API takes in a path or query is held to the one id rule: a
// 422 id.invalid naming the parameter, the same bytes whatever the store
// (AFTERSALE_TEST_STORE=postgres runs this on PostgreSQL), never a 500 or
// a 404 of a lookup.
func TestIDRule_PathAndQuery(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	for name, id := range badIDs {
		for _, c := range []struct{ path, field string }{
			{"/v1/tasks/" + id, "id"},
			{"/v1/tasks?cursor=" + id, "cursor"},
			{"/v1/tasks?shop_id=" + id, "shop_id"},
			{"/v1/tasks?order_id=" + id, "order_id"},
			{"/v1/tasks?viewer=buyer:" + id, "viewer"},
			{"/v1/tasks/" + id + "/evidence", "id"},
			{"/v1/shops/" + id + "/urged-orders", "id"},
			{"/v1/shops/" + id + "/scorecard", "id"},
			{"/v1/claims/" + id, "id"},
			{"/v1/attachments/" + id, "id"},
			{"/v1/products/" + id + "/questions?cursor=" + id, "id"},
			{"/v1/shops/tb/questions?cursor=" + id, "cursor"},
		} {
			r := e.get(c.path, "Accept-Language", "en")
			p := e.wantProblem(r, http.StatusUnprocessableEntity, "id.invalid", "", c.field)
			if !strings.Contains(p.Detail, c.field) || p.Title == "" {
				t.Errorf("%s (%s): problem %+v", c.path, name, p)
			}
		}
		e.wantProblem(e.post("/v1/orders/"+id+"/urge", map[string]any{"actor": actor("buyer", "b1")}), http.StatusUnprocessableEntity, "id.invalid", "", "id")
	}
}

// Ids in a body and in the X-Actor header obey the same rule.
func TestIDRule_ActorIDs(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	for _, id := range []string{"b\u0000", "b\u202e", "b\u200b"} {
		e.wantProblem(e.post("/v1/orders/o1/urge", map[string]any{"actor": actor("buyer", id)}), http.StatusUnprocessableEntity, "id.invalid", "", "actor.id")
	}
	for _, id := range []string{"b\u202e", "b\u200b", strings.Repeat("b", 129)} { // (an HTTP client sends no NUL in a header)
		e.wantProblem(e.post("/v1/orders/o1/urge", map[string]any{}, "X-Actor", "buyer:"+id), http.StatusUnprocessableEntity, "id.invalid", "", "X-Actor")
	}
	e.wantProblem(e.post("/v1/orders/o1/urge", map[string]any{"actor": actor("buyer", strings.Repeat("b", 129))}), http.StatusUnprocessableEntity, "id.invalid", "", "actor.id")
	// any id member of a body, at any depth: here the order of a new task
	for _, id := range []string{"o\u0000", "o\u202e1", "o\ufffd", strings.Repeat("o", 129)} {
		body := map[string]any{"type": "resend", "order_id": id, "actor": actor("buyer", buyerOf("o1"))}
		e.wantProblem(e.post("/v1/tasks", body), http.StatusUnprocessableEntity, "id.invalid", "", "order_id")
	}
	// invalid UTF-8 in a JSON body is refused, not read as U+FFFD
	e.wantProblem(e.post("/v1/tasks", "{\"type\":\"resend\",\"order_id\":\"o\xff1\",\"actor\":{\"role\":\"buyer\",\"id\":\"b_o1\"}}"),
		http.StatusUnprocessableEntity, "id.invalid", "", "order_id")
	// a well-formed one still opens the task
	e.ok(e.post("/v1/tasks", map[string]any{"type": "resend", "order_id": "o1", "actor": actor("buyer", buyerOf("o1"))}), http.StatusCreated, nil)
}

// factBody is a batch of raw facts.
func factBody(facts ...string) string { return `{"facts":[` + strings.Join(facts, ",") + `]}` }

func postFacts(e *apiEnv, body string) httpapi.FactsResult {
	e.t.Helper()
	var out httpapi.FactsResult
	e.ok(e.post("/v1/facts", body, "Accept-Language", "en"), http.StatusOK, &out)
	return out
}

func wantItem(t *testing.T, it httpapi.FactItem, status, reason, field string) {
	t.Helper()
	if it.Status != status {
		t.Fatalf("item %+v (problem %+v), want %s", it, it.Problem, status)
	}
	if status == engine.FactRefused && (it.Problem == nil || it.Problem.Reason != reason || it.Problem.Field != field ||
		it.Problem.Status != http.StatusUnprocessableEntity || !strings.Contains(it.Problem.Detail, field)) {
		t.Fatalf("item %+v, problem %+v, want %s naming %s", it, it.Problem, reason, field)
	}
}

func rawFact(t *testing.T, f commerce.Fact) string {
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Facts are held to the strict format: an unknown member, a 1 MB id, a
// 10 MB title, a ship_within of 2562047h, a deposit of MaxInt64 fen are each
// their fact's own refusal naming the field; the good facts of the batch
// are applied.
func TestFacts_StrictAndBounded(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	now := e.clock.Now().UTC().Format(time.RFC3339)
	refund := func(id string, fen int64) string {
		return fmt.Sprintf(`{"id":%q,"type":"refund","at":%q,"refund":{"order_id":"o1","amount_fen":%d}}`, id, now, fen)
	}
	deposit := func(id string, fen string) string {
		return fmt.Sprintf(`{"id":%q,"type":"deposit","at":%q,"deposit":{"shop_id":"tb","amount_fen":%s}}`, id, now, fen)
	}
	withPromise := testkit.OrderFact("o2", "tb", "b2", e.clock.Now().Add(-time.Hour), e.clock.Now().Add(time.Hour))
	withPromise.At = e.clock.Now()
	withPromise.Order.Promises = []commerce.Promise{{Kind: commerce.PromiseTime, ShipWithin: commerce.Duration(2562047 * time.Hour)}}
	out := postFacts(e, factBody(
		refund("rf1", 100),
		`{"id":"rf2","type":"refund","at":"`+now+`","refund":{"order_id":"o1","amount_fen":1,"currency":"CNY"}}`,
		refund(strings.Repeat("x", 1<<20), 1),
		`{"id":"p1","type":"product","at":"`+now+`","product":{"id":"p1","shop_id":"tb","title":"`+strings.Repeat("t", 10<<20)+`"}}`,
		rawFact(t, withPromise),
		deposit("dep-huge", "9223372036854775807"),
		deposit("dep-1", "5000"),
		`{"id":"rf3","type":"refund","at":"`+now+`","refund":{"order_id":"o\u0000","amount_fen":1}}`,
		refund("rf4", 200),
	))
	if out.Accepted != 3 || out.Refused != 6 {
		t.Fatalf("batch %+v", out)
	}
	wantItem(t, out.Results[0], engine.FactAccepted, "", "")
	wantItem(t, out.Results[1], engine.FactRefused, "fact.unknown_field", "refund.currency")
	if out.Results[1].ID != "rf2" {
		t.Errorf("the refused fact's id: %q", out.Results[1].ID)
	}
	wantItem(t, out.Results[2], engine.FactRefused, "id.invalid", "id")
	if out.Results[2].ID != "" {
		t.Errorf("a 1 MB id is echoed (%d bytes)", len(out.Results[2].ID))
	}
	wantItem(t, out.Results[3], engine.FactRefused, "invalid", "product.title")
	wantItem(t, out.Results[4], engine.FactRefused, "invalid", "order.promises[0].ship_within")
	wantItem(t, out.Results[5], engine.FactRefused, "invalid", "deposit.amount_fen")
	wantItem(t, out.Results[6], engine.FactAccepted, "", "")
	wantItem(t, out.Results[7], engine.FactRefused, "id.invalid", "refund.order_id")
	wantItem(t, out.Results[8], engine.FactAccepted, "", "")
	// the shop's deposits still work
	out = postFacts(e, factBody(deposit("dep-2", "7000")))
	wantItem(t, out.Results[0], engine.FactAccepted, "", "")
	// an unknown member of the envelope is the request's refusal, naming it
	e.wantProblem(e.post("/v1/facts", `{"facts":[],"fact":[]}`), http.StatusUnprocessableEntity, "request.unknown_field", "", "fact")
}

// A facts body beyond the 16 MiB cap is refused whole with a clear 413.
func TestFacts_BodyBeyondTheCap(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	big := factBody(`{"id":"p1","type":"product","at":"2023-08-01T02:00:00Z","product":{"id":"p1","shop_id":"tb","title":"` + strings.Repeat("t", 17<<20) + `"}}`)
	p := e.wantProblem(e.post("/v1/facts", big, "Accept-Language", "en"), http.StatusRequestEntityTooLarge, "request.too_large", "", "")
	if !strings.Contains(p.Detail, "16777216") {
		t.Fatalf("the detail does not name the limit: %q", p.Detail)
	}
}
