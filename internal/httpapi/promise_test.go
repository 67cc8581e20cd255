package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
	"aftersale/internal/judgment"
)

// The service promises over HTTP: the order fact carries its promises; a
// deposit top-up is a fact; a late order is compensated by itself (R-PRM-1);
// the buyer files a claim inside its window (R-PRM-5: refused 1 s after,
// 409 naming the rule) and an agent upholds it, paid from the deposit first
// (R-PRM-5); the shop reads only its own ledger.
func TestPromises_R_PRM_1_R_PRM_5(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), true)
	e.shop("tm", commerce.Tmall)
	e.shop("other", commerce.Tmall)
	paid := e.clock.Now()
	e.facts(commerce.Fact{ID: "dep1", Type: commerce.FactDeposit, Deposit: &commerce.DepositFact{ShopID: "tm", AmountFen: 1000}})
	// The order fact in JSON, as the order system sends it.
	order := map[string]any{"id": "f-o1", "type": "order", "at": paid, "order": map[string]any{
		"id": "o1", "shop_id": "tm", "buyer_id": "b_o1", "paid_fen": 60001, "paid_at": paid, "ship_by": paid.Add(72 * time.Hour),
		"items":    []map[string]any{{"sku": "s1"}},
		"promises": []map[string]any{{"kind": "time", "ship_within": "48h"}, {"kind": "designated_courier"}},
	}}
	var fr httpapi.FactsResult
	e.ok(e.post("/v1/facts", map[string]any{"facts": []any{order}}), http.StatusOK, &fr)
	if fr.Accepted != 1 {
		t.Fatalf("order: %+v", fr)
	}
	var clk httpapi.ClockBody
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "48h1s"}), http.StatusOK, &clk)
	var comp httpapi.Compensation
	e.ok(e.get("/v1/shops/tm/compensation?viewer=shop_main:tm_main"), http.StatusOK, &comp)
	if len(comp.Entries) != 1 || comp.Entries[0].Rule != "R-PRM-1" || comp.Entries[0].AmountFen != 3000 || comp.DepositFen != 1000 {
		t.Fatalf("after the time promise broke: %+v", comp)
	}

	now := e.clock.Now()
	e.facts(commerce.Fact{ID: "ship", Type: commerce.FactShipment, At: now, Shipment: &commerce.ShipmentFact{OrderID: "o1", Carrier: "YTO"}},
		commerce.Fact{ID: "sign", Type: commerce.FactTracking, At: now, Tracking: &commerce.TrackingFact{OrderID: "o1", Status: "signed"}},
		commerce.Fact{ID: "close", Type: commerce.FactOrderClosed, At: now, OrderClosed: &commerce.OrderClosedFact{OrderID: "o1"}})
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "15d1s"}), http.StatusOK, &clk)
	body := map[string]any{"actor": actor("buyer", "b_o1"), "kind": "designated_courier", "description": "sent by another courier", "asked_fen": 1500}
	p := e.wantProblem(e.post("/v1/orders/o1/claims", body), http.StatusConflict, "promise.claim.window_closed", "R-PRM-5", "")
	if p.Title == "" || p.Detail == "" {
		t.Errorf("problem %+v", p)
	}

	// Another order, claimed at the window's last instant.
	e.facts(promisedOrderFact("o2", "tm", e.clock.Now(), commerce.Promise{Kind: "designated_courier"}))
	now = e.clock.Now()
	e.facts(commerce.Fact{ID: "ship2", Type: commerce.FactShipment, At: now, Shipment: &commerce.ShipmentFact{OrderID: "o2"}},
		commerce.Fact{ID: "close2", Type: commerce.FactOrderClosed, At: now, OrderClosed: &commerce.OrderClosedFact{OrderID: "o2"}})
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "15d"}), http.StatusOK, &clk)
	body["actor"] = actor("buyer", "b_o2")
	e.wantProblem(e.post("/v1/orders/o2/claims", map[string]any{"actor": actor("buyer", "b_o2"), "kind": "arrival", "description": "late"}),
		http.StatusConflict, "promise.not_on_order", "R-PRM-6", "")
	var c judgment.Claim
	e.ok(e.post("/v1/orders/o2/claims", body), http.StatusCreated, &c)
	if c.Status != "open" || c.Rule != "R-PRM-5" || c.AskedFen != 1500 {
		t.Fatalf("claim %+v", c)
	}
	e.wantProblem(e.post("/v1/claims/"+c.ID+"/judge", map[string]any{"actor": actor("buyer", "b_o2"), "upheld": true}), http.StatusForbidden, "role", "", "")
	e.ok(e.post("/v1/claims/"+c.ID+"/judge", map[string]any{"actor": actor("agent", "a1"), "upheld": true, "reason": "courier mismatch"}), http.StatusOK, &c)
	if c.Status != "upheld" || c.AwardedFen != 1500 || c.EntryID == "" {
		t.Fatalf("judged %+v", c)
	}
	e.wantProblem(e.post("/v1/claims/"+c.ID+"/judge", map[string]any{"actor": actor("agent", "a1"), "upheld": false}), http.StatusConflict, "claim.judged", "R-PRM-5", "")

	var got judgment.Claim
	e.ok(e.get("/v1/claims/"+c.ID+"?viewer=buyer:b_o2"), http.StatusOK, &got)
	if got.ID != c.ID || got.Status != "upheld" {
		t.Errorf("claim read %+v", got)
	}
	e.wantProblem(e.get("/v1/claims/"+c.ID+"?viewer=buyer:b_o1"), http.StatusForbidden, "not_your_order", "", "")
	e.wantProblem(e.get("/v1/claims/"+c.ID+"?viewer=shop_main:other_main"), http.StatusForbidden, "not_your_shop", "", "")
	e.wantProblem(e.get("/v1/claims/nope"), http.StatusNotFound, "not_found", "", "id")

	e.ok(e.get("/v1/shops/tm/compensation?viewer=shop_main:tm_main"), http.StatusOK, &comp)
	if len(comp.Entries) != 2 || comp.DepositFen != 0 {
		t.Fatalf("ledger %+v", comp)
	}
	if en := comp.Entries[1]; en.ClaimID != c.ID || en.FromDepositFen != 1000 || en.ByShopFen != 500 || en.Rule != "R-PRM-5" {
		t.Errorf("entry %+v, want 1000 fen from the deposit and 500 by the shop", en)
	}
	if comp.TotalFen != 4500 || comp.FromDepositFen != 1000 || comp.ByShopFen != 3500 {
		t.Errorf("totals %+v", comp)
	}
	e.wantProblem(e.get("/v1/shops/tm/compensation?viewer=shop_main:other_main"), http.StatusForbidden, "not_your_shop", "", "viewer")
	e.wantProblem(e.get("/v1/shops/tm/compensation?viewer=buyer:b_o1"), http.StatusForbidden, "viewer.scope", "", "viewer")
	e.wantProblem(e.get("/v1/shops/nope/compensation"), http.StatusNotFound, "not_found", "", "id")
}

func promisedOrderFact(id, shopID string, paid time.Time, ps ...commerce.Promise) commerce.Fact {
	return commerce.Fact{ID: "order-" + id, Type: commerce.FactOrder, At: paid, Order: &commerce.Order{ID: id, ShopID: shopID,
		BuyerID: buyerOf(id), PaidFen: 10000, PaidAt: paid, ShipBy: paid.Add(72 * time.Hour), Items: []commerce.Item{{SKU: "s"}}, Promises: ps}}
}
