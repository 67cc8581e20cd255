package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
	"aftersale/internal/timer"
)

// Health and readiness need no key; the OpenAPI 3.1 document and the docs page are served.
func TestHealthOpenAPIDocs(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	for _, p := range []string{"/healthz", "/readyz"} {
		var h httpapi.HealthBody
		e.ok(e.req(http.MethodGet, p, "", nil), http.StatusOK, &h)
		if !h.Now.Equal(e.clock.Now()) {
			t.Fatalf("%s now %v", p, h.Now)
		}
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	e.ok(e.req(http.MethodGet, "/openapi.json", "", nil), http.StatusOK, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	for _, p := range []string{"/v1/facts", "/v1/orders/{id}/urge", "/v1/orders/{id}/keep-contacting", "/v1/orders/{id}/complaints",
		"/v1/complaints/{id}/finish", "/v1/tasks", "/v1/tasks/{id}", "/v1/tasks/{id}/actions", "/v1/shops/{id}/urged-orders",
		"/v1/sandbox/clock/advance", "/healthz", "/readyz"} {
		if doc.Paths[p] == nil {
			t.Errorf("OpenAPI has no path %s", p)
		}
	}
	if r := e.req(http.MethodGet, "/docs", "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "openapi") {
		t.Fatalf("/docs: %d", r.Status)
	}
	e.wantProblem(e.get("/v1/nothing"), http.StatusNotFound, "route.not_found", "", "")
}

// No key → 401; an unknown key → 401; a key of the wrong role → 403.
func TestAuth(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), true)
	r := e.req(http.MethodPost, "/v1/facts", "", map[string]any{"facts": []any{}})
	e.wantProblem(r, http.StatusUnauthorized, "auth.missing", "", "")
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	e.wantProblem(e.req(http.MethodGet, "/v1/tasks", "not-a-key-of-ours-at-all", nil), http.StatusUnauthorized, "auth.invalid", "", "")
	e.wantProblem(e.req(http.MethodGet, "/v1/tasks", "", nil, "Authorization", "Basic abc"), http.StatusUnauthorized, "auth.invalid", "", "")
	// the operator key does not send facts; the platform key does not move the sandbox clock
	e.wantProblem(e.req(http.MethodPost, "/v1/facts", operatorKey, map[string]any{"facts": []any{}}), http.StatusForbidden, "auth.role", "", "")
	e.wantProblem(e.req(http.MethodPost, "/v1/sandbox/clock/advance", platformKey, map[string]any{"by": "1h"}), http.StatusForbidden, "auth.role", "", "")
	// both keys read; X-API-Key works as well as Bearer
	e.ok(e.req(http.MethodGet, "/v1/tasks", operatorKey, nil), http.StatusOK, nil)
	e.ok(e.req(http.MethodGet, "/v1/tasks", "", nil, "X-API-Key", platformKey), http.StatusOK, nil)
}

// Facts: per-item results (accepted, duplicate, refused with the problem
// members), one transaction; more than 1000 → 413 naming the limit.
func TestFacts(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	now := e.clock.Now()
	shop := testkit.ShopFact("tb", commerce.Taobao)
	shop.At = now
	orphan := commerce.Fact{ID: "o-orphan", Type: commerce.FactOrder, At: now, Order: &commerce.Order{ID: "o9", ShopID: "nope", BuyerID: "b",
		PaidFen: 100, PaidAt: now.Add(-time.Hour), ShipBy: now.Add(time.Hour), Items: []commerce.Item{{SKU: "x"}}}}
	var out httpapi.FactsResult
	e.ok(e.post("/v1/facts", map[string]any{"facts": []commerce.Fact{shop, shop, orphan}}, "Accept-Language", "en"), http.StatusOK, &out)
	if out.Accepted != 1 || out.Duplicate != 1 || out.Refused != 1 || len(out.Results) != 3 {
		t.Fatalf("%+v", out)
	}
	if r := out.Results; r[0].Status != "accepted" || r[1].Status != "duplicate" || r[2].Status != "refused" {
		t.Fatalf("%+v", r)
	}
	p := out.Results[2].Problem
	if p == nil || p.Status != 404 || p.Reason != "not_found" || p.Field != "order.shop_id" || p.Type != httpapi.ProblemBase+"not_found" || p.Title != "Not found" {
		t.Fatalf("refusal %+v", p)
	}
	// a fact refused by a rule carries the rule: a tracking status outside R-LOG-1's
	bad := commerce.Fact{ID: "trk", Type: commerce.FactTracking, At: now, Tracking: &commerce.TrackingFact{OrderID: "o9", Status: "lost"}}
	e.ok(e.post("/v1/facts", map[string]any{"facts": []commerce.Fact{bad}}), http.StatusOK, &out)
	if p := out.Results[0].Problem; p == nil || p.Rule != "R-LOG-1" || p.Field != "tracking.status" || p.Status != 422 {
		t.Fatalf("%+v", out.Results[0])
	}

	many := make([]map[string]any, httpapi.MaxFacts+1)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprint(i), "type": "presence", "at": now, "presence": map[string]any{"account_id": "x", "online": true}}
	}
	pr := e.wantProblem(e.post("/v1/facts", map[string]any{"facts": many}), http.StatusRequestEntityTooLarge, "facts.too_many", "", "facts")
	if !strings.Contains(pr.Detail, "1000") {
		t.Fatalf("detail does not name the limit: %q", pr.Detail)
	}
	// a malformed body is 400, a schema violation 422 with the location
	e.wantProblem(e.post("/v1/facts", `{"facts": [`), http.StatusBadRequest, "request.invalid", "", "")
	e.wantProblem(e.post("/v1/facts", map[string]any{}), http.StatusUnprocessableEntity, "request.validation", "", "body")
}

// R-URG-1 creates a task after the deadline; R-URG-2 (5): a staged presale
// order before the mid-July switch is refused with 409, the rule and the
// presale type, titled in zh-CN by default and in English on request.
func TestUrge_R_URG_2_PresaleRefused(t *testing.T) {
	e := newAPI(t, bj(t, "2023-07-14T20:00:00"), false)
	e.shop("tm", commerce.Tmall)
	shipBy := bj(t, "2023-07-14T21:00:00")
	e.order("tm", "staged", shipBy, func(o *commerce.Order) { o.Presale = commerce.PresaleStaged })
	e.order("tm", "plain", shipBy)
	// a complaint on each, so that exemption (4) is not what refuses
	for _, id := range []string{"staged", "plain"} {
		var c struct{ ID, Status, Kind string }
		e.ok(e.post("/v1/orders/"+id+"/complaints", map[string]any{"actor": actor("buyer", buyerOf(id)), "kind": "shipping"}), http.StatusCreated, &c)
		if c.Status != "open" || c.Kind != "shipping" {
			t.Fatalf("complaint %+v", c)
		}
	}
	e.clock.Set(bj(t, "2023-07-14T23:59:59"))

	body := map[string]any{"actor": actor("buyer", buyerOf("staged"))}
	zh := e.wantProblem(e.post("/v1/orders/staged/urge", body), http.StatusConflict, "urge.exempt.presale", "R-URG-2", "")
	en := e.wantProblem(e.post("/v1/orders/staged/urge", body, "Accept-Language", "en-US,en;q=0.9"), http.StatusConflict, "urge.exempt.presale", "R-URG-2", "")
	if zh.Title != "预售订单，催发货不生成工单" || en.Title != "Urge refused: presale order" {
		t.Fatalf("titles zh %q en %q", zh.Title, en.Title)
	}
	if zh.Code != "conflict" || !strings.Contains(zh.Detail, "exemption (5)") {
		t.Fatalf("problem %+v", zh)
	}
	// a language neither zh nor en gets the default zh-CN
	if fr := e.wantProblem(e.post("/v1/orders/staged/urge", body, "Accept-Language", "fr-FR"), http.StatusConflict, "urge.exempt.presale", "R-URG-2", ""); fr.Title != zh.Title {
		t.Fatalf("fr title %q", fr.Title)
	}

	// R-URG-1: the plain order gets a task; the actor may come from the X-Actor header
	var u httpapi.UrgeBody
	e.ok(e.post("/v1/orders/plain/urge", nil, "X-Actor", "buyer:"+buyerOf("plain")), http.StatusOK, &u)
	if u.Outcome != "task_created" || u.Task == nil || u.Task.Type != task.UrgeShipment || u.Task.State != task.AwaitingSellerReply {
		t.Fatalf("urge %+v", u)
	}
	// another buyer may not urge it
	e.wantProblem(e.post("/v1/orders/plain/urge", map[string]any{"actor": actor("buyer", "someone")}), http.StatusForbidden, "not_your_order", "R-URG-1", "")
	// no actor at all
	e.wantProblem(e.post("/v1/orders/plain/urge", nil), http.StatusUnprocessableEntity, "invalid", "", "actor")
	e.wantProblem(e.post("/v1/orders/nope/urge", body), http.StatusNotFound, "not_found", "", "order_id")
}

// R-URG-3: an urge within the deadline marks the order, listed under the
// shop's urged orders; R-URG-4: keep contacting sends the chat card.
func TestUrge_R_URG_3_UrgedOrders_R_URG_4_KeepContacting(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T08:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.order("tb", "o1", bj(t, "2023-08-01T20:00:00"))
	e.order("tb", "o2", bj(t, "2023-08-01T20:00:00"))
	b1 := map[string]any{"actor": actor("buyer", buyerOf("o1"))}

	// R-URG-4: nothing to follow up before an urge
	e.wantProblem(e.post("/v1/orders/o1/keep-contacting", b1), http.StatusConflict, "order.not_urged", "R-URG-4", "")
	var u httpapi.UrgeBody
	e.ok(e.post("/v1/orders/o1/urge", b1), http.StatusOK, &u)
	if u.Outcome != "marked" || u.Task != nil {
		t.Fatalf("urge %+v", u)
	}
	var list httpapi.OrderList
	e.ok(e.get("/v1/shops/tb/urged-orders"), http.StatusOK, &list)
	if len(list.Orders) != 1 || list.Orders[0].ID != "o1" || list.Orders[0].UrgeCount != 1 {
		t.Fatalf("urged orders %+v", list)
	}
	e.ok(e.get("/v1/shops/tb/urged-orders?viewer=shop_main:tb_main"), http.StatusOK, &list)
	e.wantProblem(e.get("/v1/shops/tb/urged-orders?viewer=buyer:"+buyerOf("o1")), http.StatusForbidden, "viewer.scope", "R-URG-3", "viewer")
	e.wantProblem(e.get("/v1/shops/nope/urged-orders"), http.StatusNotFound, "not_found", "", "id")

	var c httpapi.ContactBody
	e.ok(e.post("/v1/orders/o1/keep-contacting", b1), http.StatusOK, &c)
	if c.Outcome != "chat_card_sent" {
		t.Fatalf("%+v", c)
	}
	var cards int
	e.st.View(t.Context(), func(tx store.ReadTx) error {
		ms, err := tx.Outbox(t.Context(), 0, 100)
		for _, m := range ms {
			if m.Kind == "chat_card" && m.OrderID == "o1" && m.Rule == "R-URG-4" {
				cards++
			}
		}
		return err
	})
	if cards != 1 {
		t.Fatalf("%d chat cards", cards)
	}
}

// R-ACC-1: a sub-account without the platform-task permission is refused
// 403 with the rule; with it the reply moves the task (R-ST-1).
func TestActions_R_ACC_1_SubAccountPermission(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao, subAcc("tb_no", false), subAcc("tb_ok", true))
	e.pastOrder("tb", "o1")
	tk := e.createTask("exchange", "o1")
	if tk.State != "awaiting_seller_reply" || tk.BuyerID != buyerOf("o1") || tk.DueAt == nil {
		t.Fatalf("task %+v", tk)
	}
	p := e.wantProblem(e.action(tk.ID, map[string]any{"action": "reply", "actor": actor("shop_sub", "tb_no"), "text": "ok"}),
		http.StatusForbidden, "permission.platform_task", "R-ACC-1", "")
	if p.Code != "forbidden" || p.Title != "子账号没有“平台任务”权限" {
		t.Fatalf("%+v", p)
	}
	// a buyer may not reply for the seller
	e.wantProblem(e.action(tk.ID, map[string]any{"action": "reply", "actor": actor("buyer", buyerOf("o1"))}), http.StatusForbidden, "role", "R-ACC-1", "")
	// the API never acts as the system
	e.wantProblem(e.action(tk.ID, map[string]any{"action": "reply_timeout", "actor": actor("system", "x")}), http.StatusForbidden, "role", "", "")

	var got taskJSON
	e.ok(e.action(tk.ID, map[string]any{"action": "reply", "actor": actor("shop_sub", "tb_ok"), "text": "will exchange"}), http.StatusOK, &got)
	if got.State != "awaiting_seller_action" {
		t.Fatalf("after reply %+v", got)
	}
	// R-ST-4 / lifecycle: replying again is a state conflict naming the rule
	e.wantProblem(e.action(tk.ID, map[string]any{"action": "reply", "actor": actor("shop_main", "tb_main")}), http.StatusConflict, "task.state", "R-ST-1", "")
	e.wantProblem(e.action(tk.ID, map[string]any{"action": "fly"}, "X-Actor", "shop_main:tb_main"), http.StatusUnprocessableEntity, "invalid", "", "action")
	e.wantProblem(e.action("tsk_nope", map[string]any{"action": "reply", "actor": actor("shop_main", "tb_main")}), http.StatusNotFound, "not_found", "", "task_id")
	// one open task per order and type
	e.wantProblem(e.post("/v1/tasks", map[string]any{"type": "exchange", "order_id": "o1", "actor": actor("buyer", buyerOf("o1"))}), http.StatusConflict, "task.open_exists", "", "type")
	e.wantProblem(e.post("/v1/tasks", map[string]any{"type": "teleport", "order_id": "o1", "actor": actor("buyer", buyerOf("o1"))}), http.StatusUnprocessableEntity, "invalid", "", "type")
}

// R-MSG-2: a shop's message to the agent and an agent note are never shown
// to the buyer; the shop sees its message but not the agent note; agents
// (and the platform key without a viewer) see everything.
func TestGetTask_R_MSG_2_Visibility(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.shop("other", commerce.Taobao)
	e.pastOrder("tb", "o1")
	tk := e.createTask("return_refund", "o1")
	e.ok(e.action(tk.ID, map[string]any{"action": "refuse", "actor": actor("shop_main", "tb_main"), "text": "no"}), http.StatusOK, nil)
	// R-MSG-1: while the platform intervenes the shop may leave the agent a message
	e.ok(e.action(tk.ID, map[string]any{"action": "message_agent", "actor": actor("shop_main", "tb_main"), "text": "to the agent only"}), http.StatusOK, nil)
	e.ok(e.action(tk.ID, map[string]any{"action": "agent_note", "actor": actor("agent", "a1"), "text": "internal"}), http.StatusOK, nil)

	actions := func(viewer string) []string {
		t.Helper()
		path := "/v1/tasks/" + tk.ID
		if viewer != "" {
			path += "?viewer=" + url.QueryEscape(viewer)
		}
		var d httpapi.TaskDetail
		e.ok(e.get(path), http.StatusOK, &d)
		if d.Task == nil || d.Task.State != task.PlatformIntervening {
			t.Fatalf("task %+v", d.Task)
		}
		var out []string
		for _, ev := range d.Events {
			out = append(out, ev.Action)
		}
		return out
	}
	want := map[string]string{
		"":                       "create,refuse,message_agent,agent_note",
		"agent:a1":               "create,refuse,message_agent,agent_note",
		"shop_main:tb_main":      "create,refuse,message_agent",
		"buyer:" + buyerOf("o1"): "create,refuse",
	}
	for v, w := range want {
		if got := strings.Join(actions(v), ","); got != w {
			t.Errorf("viewer %q sees %s, want %s", v, got, w)
		}
	}
	// viewers outside the task: another tenant's task is 404 like an unknown one (ids do not leak)
	e.wantProblem(e.get("/v1/tasks/"+tk.ID+"?viewer=buyer:someone"), http.StatusNotFound, "not_found", "", "id")
	e.wantProblem(e.get("/v1/tasks/"+tk.ID+"?viewer=shop_main:other_main"), http.StatusNotFound, "not_found", "", "id")
	e.wantProblem(e.get("/v1/tasks/"+tk.ID+"?viewer=king:x"), http.StatusUnprocessableEntity, "invalid", "", "viewer")
	e.wantProblem(e.get("/v1/tasks/"+tk.ID+"?viewer=shop_sub:tb_main"), http.StatusForbidden, "role", "", "viewer")
	e.wantProblem(e.get("/v1/tasks/tsk_nope"), http.StatusNotFound, "not_found", "", "id")
}

// Cursor pagination and filters of GET /v1/tasks.
func TestListTasks_PaginationFilters(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.shop("tm", commerce.Tmall)
	var ids []string
	for i := range 5 {
		oid := fmt.Sprintf("o%d", i)
		shop := "tb"
		if i == 4 {
			shop = "tm"
		}
		e.pastOrder(shop, oid)
		ids = append(ids, e.createTask("repair", oid).ID)
		e.clock.Set(e.clock.Now().Add(time.Minute))
	}
	var got []string
	cursor, pages := "", 0
	for {
		var page httpapi.TaskList
		e.ok(e.get("/v1/tasks?limit=2&cursor="+cursor), http.StatusOK, &page)
		pages++
		for _, tk := range page.Tasks {
			got = append(got, tk.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") || pages != 3 {
		t.Fatalf("pages %d, ids %v, want %v", pages, got, ids)
	}
	count := func(q string) int {
		t.Helper()
		var page httpapi.TaskList
		e.ok(e.get("/v1/tasks?"+q), http.StatusOK, &page)
		return len(page.Tasks)
	}
	// the first task moves on; deadlines are 24 h after creation (R-SLA-1)
	e.ok(e.action(ids[0], map[string]any{"action": "reply", "actor": actor("shop_main", "tb_main")}), http.StatusOK, nil)
	due := e.clock.Now().Add(24*time.Hour - 150*time.Second).UTC().Format(time.RFC3339)
	for q, want := range map[string]int{
		"shop_id=tb": 4, "shop_id=tm": 1, "buyer_id=" + buyerOf("o2"): 1, "order_id=o3": 1, "type=repair": 5, "type=exchange": 0,
		"state=awaiting_seller_reply": 4, "state=awaiting_seller_action": 1, "due_before=" + url.QueryEscape(due): 2,
		"viewer=buyer:" + buyerOf("o1"): 1, "viewer=shop_main:tm_main": 1, "shop_id=tb&state=awaiting_seller_reply&limit=1": 1,
	} {
		if n := count(q); n != want {
			t.Errorf("%s: %d tasks, want %d", q, n, want)
		}
	}
	e.wantProblem(e.get("/v1/tasks?cursor=tsk_nope"), http.StatusUnprocessableEntity, "invalid", "", "cursor")
	e.wantProblem(e.get("/v1/tasks?state=lost"), http.StatusUnprocessableEntity, "invalid", "", "state")
	e.wantProblem(e.get("/v1/tasks?limit=501"), http.StatusUnprocessableEntity, "request.validation", "", "")
	e.wantProblem(e.get("/v1/tasks?viewer=buyer:x&buyer_id=y"), http.StatusForbidden, "viewer.scope", "", "buyer_id")
	e.wantProblem(e.get("/v1/tasks?viewer=shop_main:tb_main&shop_id=tm"), http.StatusForbidden, "viewer.scope", "", "shop_id")
}

// Idempotency-Key: a repeat with the same body returns the stored response
// and applies once; with another body it is 409; a refusal is replayed too.
func TestIdempotencyKey(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	e.pastOrder("tb", "o2")
	body := map[string]any{"type": "resend", "order_id": "o1", "actor": actor("buyer", buyerOf("o1"))}
	first := e.post("/v1/tasks", body, "Idempotency-Key", "k1")
	e.ok(first, http.StatusCreated, nil)
	e.clock.Set(e.clock.Now().Add(time.Minute))
	again := e.post("/v1/tasks", body, "Idempotency-Key", "k1")
	if again.Status != http.StatusCreated || string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay %d %s (replayed %q), want %s", again.Status, again.Body, again.Header.Get("Idempotent-Replayed"), first.Body)
	}
	var tk taskJSON
	json.Unmarshal(first.Body, &tk)
	var events int
	e.st.View(t.Context(), func(tx store.ReadTx) error {
		ts, err := tx.Tasks(t.Context(), store.TaskFilter{OrderID: "o1"})
		if len(ts) != 1 {
			t.Errorf("%d tasks on o1 after a replay, want 1", len(ts))
		}
		evs, _ := tx.Events(t.Context(), tk.ID)
		events = len(evs)
		return err
	})
	if events != 1 {
		t.Fatalf("%d events, want 1", events)
	}
	// same key, another body
	other := map[string]any{"type": "resend", "order_id": "o2", "actor": actor("buyer", buyerOf("o2"))}
	e.wantProblem(e.post("/v1/tasks", other, "Idempotency-Key", "k1"), http.StatusConflict, "idempotency.mismatch", "", "Idempotency-Key")
	// same key, same body, another path
	e.wantProblem(e.post("/v1/orders/o1/urge", body, "Idempotency-Key", "k1"), http.StatusConflict, "idempotency.mismatch", "", "")
	// keys are per API key: the operator's k1 is another key (and refused for its role)
	e.wantProblem(e.req(http.MethodPost, "/v1/tasks", operatorKey, body, "Idempotency-Key", "k1"), http.StatusForbidden, "auth.role", "", "")

	// an engine refusal is stored and replayed as it was
	dup := e.post("/v1/tasks", body, "Idempotency-Key", "k2")
	e.wantProblem(dup, http.StatusConflict, "task.open_exists", "", "")
	dup2 := e.post("/v1/tasks", body, "Idempotency-Key", "k2")
	if string(dup2.Body) != string(dup.Body) || dup2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("refusal replay %s", dup2.Body)
	}
	// a validation failure is not stored: the key can be used once the request is fixed
	e.wantProblem(e.post("/v1/tasks", map[string]any{"order_id": "o2"}, "Idempotency-Key", "k3"), http.StatusUnprocessableEntity, "request.validation", "", "")
	e.ok(e.post("/v1/tasks", other, "Idempotency-Key", "k3"), http.StatusCreated, nil)

	// facts: a replayed batch answers as the first time (accepted), not "duplicate"
	f := map[string]any{"facts": []commerce.Fact{{ID: "p1", Type: commerce.FactShipment, At: e.clock.Now(),
		Shipment: &commerce.ShipmentFact{OrderID: "o2", Carrier: "SF", TrackingNo: "1"}}}}
	r1 := e.post("/v1/facts", f, "Idempotency-Key", "f1")
	r2 := e.post("/v1/facts", f, "Idempotency-Key", "f1")
	if string(r1.Body) != string(r2.Body) || !strings.Contains(string(r2.Body), `"accepted":1`) {
		t.Fatalf("facts replay %s vs %s", r1.Body, r2.Body)
	}
}

// Complaints: an agent finishes one (R-ST-3 completes a task waiting on it);
// only agents may.
func TestFinishComplaint(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	var c struct{ ID, Status string }
	e.ok(e.post("/v1/orders/o1/complaints", map[string]any{"actor": actor("buyer", buyerOf("o1")), "kind": "invoice"}), http.StatusCreated, &c)
	e.wantProblem(e.post("/v1/complaints/"+c.ID+"/finish", map[string]any{"actor": actor("buyer", buyerOf("o1")), "status": "withdrawn"}), http.StatusForbidden, "role", "", "")
	e.wantProblem(e.post("/v1/complaints/"+c.ID+"/finish", map[string]any{"actor": actor("agent", "a1"), "status": "maybe"}), http.StatusUnprocessableEntity, "request.validation", "", "")
	var done struct{ ID, Status string }
	e.ok(e.post("/v1/complaints/"+c.ID+"/finish", map[string]any{"actor": actor("agent", "a1"), "status": "withdrawn"}), http.StatusOK, &done)
	if done.Status != "withdrawn" {
		t.Fatalf("%+v", done)
	}
	e.wantProblem(e.post("/v1/complaints/"+c.ID+"/finish", map[string]any{"actor": actor("agent", "a1"), "status": "upheld"}), http.StatusConflict, "complaint.finished", "", "")
	e.wantProblem(e.post("/v1/complaints/cmp_nope/finish", map[string]any{"actor": actor("agent", "a1"), "status": "upheld"}), http.StatusNotFound, "not_found", "", "complaint_id")
}

// The sandbox clock: advancing 24 h fires the reply deadline of an urge
// task, which files a complaint and turns it platform_intervening (R-SLA-3);
// shipping then waits for the complaint (R-ST-3), finished by an agent.
func TestSandbox_R_SLA_3_AdvanceIntervenes(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), true)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	var u httpapi.UrgeBody
	e.ok(e.post("/v1/orders/o1/urge", map[string]any{"actor": actor("buyer", buyerOf("o1"))}), http.StatusOK, &u)
	if u.Task == nil {
		t.Fatalf("%+v", u)
	}
	start := e.clock.Now()
	var clk httpapi.ClockBody
	e.ok(e.req(http.MethodGet, "/v1/sandbox/clock", operatorKey, nil), http.StatusOK, &clk)
	if !clk.Now.Equal(start) {
		t.Fatalf("clock %v", clk.Now)
	}
	// 23 h: only the reminder (if any) is due; still waiting for the seller
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "23h"}), http.StatusOK, &clk)
	var d httpapi.TaskDetail
	e.ok(e.get("/v1/tasks/"+u.Task.ID), http.StatusOK, &d)
	if d.Task.State != task.AwaitingSellerReply {
		t.Fatalf("after 23 h: %s", d.Task.State)
	}
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"to": start.Add(24 * time.Hour)}), http.StatusOK, &clk)
	if !clk.Now.Equal(start.Add(24*time.Hour)) || clk.Fired < 1 {
		t.Fatalf("advance %+v", clk)
	}
	e.ok(e.get("/v1/tasks/"+u.Task.ID), http.StatusOK, &d)
	if d.Task.State != task.PlatformIntervening || len(d.Task.ComplaintIDs) != 1 {
		t.Fatalf("after 24 h: %+v", d.Task)
	}
	var timeout *task.Event
	for i, ev := range d.Events {
		if ev.Action == string(task.ActReplyTimeout) {
			timeout = &d.Events[i]
		}
	}
	if timeout == nil || !timeout.At.Equal(start.Add(24*time.Hour)) || timeout.Rule != "R-SLA-3" {
		t.Fatalf("timeout event %+v", timeout)
	}
	// R-ST-3: shipping completes the task only once the complaint is finished
	e.facts(commerce.Fact{ID: "ship-o1", Type: commerce.FactShipment, Shipment: &commerce.ShipmentFact{OrderID: "o1", Carrier: "SF", TrackingNo: "1"}})
	e.ok(e.get("/v1/tasks/"+u.Task.ID), http.StatusOK, &d)
	if d.Task.State != task.PlatformIntervening || d.Task.CompletionPending != "shipped" {
		t.Fatalf("after shipping: %+v", d.Task)
	}
	e.ok(e.post("/v1/complaints/"+d.Task.ComplaintIDs[0]+"/finish", map[string]any{"actor": actor("agent", "a1"), "status": "upheld"}), http.StatusOK, nil)
	e.ok(e.get("/v1/tasks/"+u.Task.ID), http.StatusOK, &d)
	if d.Task.State != task.Completed || d.Task.Outcome != "shipped" {
		t.Fatalf("after the complaint: %+v", d.Task)
	}

	e.wantProblem(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"to": start}), http.StatusUnprocessableEntity, "sandbox.clock_backwards", "", "to")
	e.wantProblem(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "-1h"}), http.StatusUnprocessableEntity, "sandbox.clock_backwards", "", "by")
	e.wantProblem(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{}), http.StatusUnprocessableEntity, "invalid", "", "to")
	e.wantProblem(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "soon"}), http.StatusUnprocessableEntity, "invalid", "", "by")
}

// Without --sandbox the sandbox endpoints answer 404.
func TestSandboxDisabled(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.wantProblem(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "24h"}), http.StatusNotFound, "sandbox.disabled", "", "")
	e.wantProblem(e.req(http.MethodGet, "/v1/sandbox/clock", operatorKey, nil), http.StatusNotFound, "sandbox.disabled", "", "")
}

// The sandbox advance fires every timer at its own due time even while the
// timer sweeper runs on the same clock (the store holds the sweeper's writes
// during an advance); an Idempotency-Key moves the clock once.
func TestSandbox_AdvanceWithSweeperFiresAtDueTimes(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), true)
	sw := &timer.Sweeper{Engine: e.eng, Clock: e.clock}
	e.eng.SetOnTimerSet(sw.Wake)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { sw.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	e.shop("tb", commerce.Taobao)
	created := map[string]time.Time{}
	for i := range 10 {
		oid := fmt.Sprintf("o%d", i)
		e.pastOrder("tb", oid)
		tk := e.createTask("delivery_problem", oid)
		created[tk.ID] = e.clock.Now()
		e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "7m"}), http.StatusOK, nil)
	}
	start := e.clock.Now()
	var c1, c2 httpapi.ClockBody
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "30h"}, "Idempotency-Key", "adv1"), http.StatusOK, &c1)
	r := e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "30h"}, "Idempotency-Key", "adv1")
	e.ok(r, http.StatusOK, &c2)
	if !c1.Now.Equal(start.Add(30*time.Hour)) || !c2.Now.Equal(c1.Now) || !e.clock.Now().Equal(c1.Now) || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("advance %+v, replay %+v, clock %v", c1, c2, e.clock.Now())
	}
	// an advance that fires nothing takes its key too
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "1m"}, "Idempotency-Key", "adv2"), http.StatusOK, nil)
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "1m"}, "Idempotency-Key", "adv2"), http.StatusOK, nil)
	if want := start.Add(30*time.Hour + time.Minute); !e.clock.Now().Equal(want) {
		t.Fatalf("clock %v, want %v", e.clock.Now(), want)
	}
	for id, at := range created {
		var d httpapi.TaskDetail
		e.ok(e.get("/v1/tasks/"+id), http.StatusOK, &d)
		if d.Task.State != task.PlatformIntervening {
			t.Fatalf("%s: %s", id, d.Task.State)
		}
		for _, ev := range d.Events {
			if ev.Action == string(task.ActReplyTimeout) && !ev.At.Equal(at.Add(24*time.Hour)) {
				t.Errorf("%s: reply timeout at %v, want its due time %v (R-SLA-1)", id, ev.At, at.Add(24*time.Hour))
			}
		}
	}
}
