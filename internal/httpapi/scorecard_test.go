package httpapi_test

import (
	"net/http"
	"testing"

	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
)

// GET /v1/shops/{id}/scorecard and /points after a judgment with forged
// evidence, then POST /v1/tasks/{id}/overturn-judgment: the liable case
// leaves the scorecard (R-LIA-1) and the 12 points are reversed (R-COL-6).
// A buyer may not read a shop's standing, another shop may not either.
func TestScorecard_R_LIA_1_R_COL_6_OverHTTP(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), true)
	e.shop("tm", commerce.Tmall)
	e.shop("other", commerce.Tmall)
	e.pastOrder("tm", "o1")
	var tk taskJSON
	e.ok(e.post("/v1/tasks", map[string]any{"type": "collaborative", "order_id": "o1", "actor": actor("agent", "a1")}), http.StatusCreated, &tk)
	var clk httpapi.ClockBody
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "24h"}), http.StatusOK, &clk)
	e.ok(e.action(tk.ID, map[string]any{"action": "judge", "actor": actor("agent", "a1"),
		"judgment": map[string]any{"liable": true, "forged": "general"}}), http.StatusOK, nil)

	var sc httpapi.Scorecard
	e.ok(e.get("/v1/shops/tm/scorecard?viewer=shop_main:tm_main"), http.StatusOK, &sc)
	if sc.Liability.Liable != 1 || sc.Disputes.Judged != 1 || sc.Disputes.Metric != "platform_dispute_rate" || sc.Takeover.Active {
		t.Fatalf("scorecard %+v", sc.Card)
	}
	var pts httpapi.PointsLedger
	e.ok(e.get("/v1/shops/tm/points"), http.StatusOK, &pts)
	if pts.General != 12 || len(pts.Entries) != 1 || pts.Entries[0].Rule != "R-COL-6" {
		t.Fatalf("points %+v", pts)
	}
	e.wantProblem(e.get("/v1/shops/tm/scorecard?viewer=buyer:"+buyerOf("o1")), http.StatusForbidden, "not_your_shop", "", "viewer")
	e.wantProblem(e.get("/v1/shops/tm/points?viewer=shop_main:other_main"), http.StatusForbidden, "not_your_shop", "", "viewer")
	e.wantProblem(e.get("/v1/shops/nope/scorecard"), http.StatusNotFound, "not_found", "", "id")
	e.wantProblem(e.get("/v1/shops/tm/scorecard?as_of=yesterday"), http.StatusUnprocessableEntity, "invalid", "", "as_of")

	e.wantProblem(e.post("/v1/tasks/"+tk.ID+"/overturn-judgment", map[string]any{"actor": actor("buyer", buyerOf("o1")), "reason": "no"}),
		http.StatusForbidden, "role", "", "")
	e.ok(e.post("/v1/tasks/"+tk.ID+"/overturn-judgment", map[string]any{"actor": actor("agent", "a2"), "reason": "evidence genuine"}), http.StatusOK, nil)
	e.ok(e.get("/v1/shops/tm/scorecard"), http.StatusOK, &sc)
	if sc.Liability.Liable != 0 || sc.Disputes.Judged != 0 {
		t.Fatalf("after overturn %+v", sc.Card)
	}
	e.ok(e.get("/v1/shops/tm/points"), http.StatusOK, &pts)
	if pts.General != 0 || len(pts.Entries) != 2 || pts.Entries[1].ReversalOf != pts.Entries[0].ID {
		t.Fatalf("points after overturn %+v", pts)
	}
}

// POST /v1/complaints/{id}/withdraw by the buyer after agreement and
// /overturn by an agent (R-GLD-1: a withdrawn complaint does not count).
func TestComplaints_R_GLD_1_WithdrawOverturnOverHTTP(t *testing.T) {
	e := newAPI(t, bj(t, "2023-01-03T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	e.pastOrder("tb", "o2")
	file := func(orderID string) string {
		var c struct{ ID string }
		e.ok(e.post("/v1/orders/"+orderID+"/complaints", map[string]any{"actor": actor("buyer", buyerOf(orderID)), "kind": "invoice"}), http.StatusCreated, &c)
		e.ok(e.post("/v1/complaints/"+c.ID+"/finish", map[string]any{"actor": actor("agent", "a1"), "status": "upheld"}), http.StatusOK, nil)
		return c.ID
	}
	c1, c2 := file("o1"), file("o2")
	e.wantProblem(e.post("/v1/complaints/"+c1+"/withdraw", map[string]any{"actor": actor("buyer", buyerOf("o2"))}), http.StatusForbidden, "not_your_order", "", "")
	var got struct{ Status string }
	e.ok(e.post("/v1/complaints/"+c1+"/withdraw", map[string]any{"actor": actor("buyer", buyerOf("o1")), "reason": "agreed"}), http.StatusOK, &got)
	if got.Status != "withdrawn" {
		t.Fatalf("withdrawn: %+v", got)
	}
	e.wantProblem(e.post("/v1/complaints/"+c2+"/overturn", map[string]any{"actor": actor("agent", "a1")}), http.StatusUnprocessableEntity, "invalid", "", "reason")
	e.ok(e.post("/v1/complaints/"+c2+"/overturn", map[string]any{"actor": actor("agent", "a1"), "reason": "appeal upheld"}), http.StatusOK, &got)
	if got.Status != "dismissed" {
		t.Fatalf("overturned: %+v", got)
	}
	e.wantProblem(e.post("/v1/complaints/"+c1+"/overturn", map[string]any{"actor": actor("agent", "a1"), "reason": "x"}), http.StatusConflict, "complaint.not_upheld", "", "")
	var sc httpapi.Scorecard
	e.ok(e.get("/v1/shops/tb/scorecard?as_of=2023-01-16T00:00:00%2B08:00"), http.StatusOK, &sc)
	if len(sc.Gold) == 0 || sc.Gold[len(sc.Gold)-1].Verdicts[0].Value != 0 || sc.Gold[len(sc.Gold)-1].Withheld {
		t.Fatalf("gold after withdraw and overturn %+v", sc.Gold)
	}
}

// GET /v1/tasks?order=due: the intervention queue by deadline, soonest
// first, tasks without one last, paged with the cursor in that order.
func TestListTasks_OrderByDue(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), true)
	e.shop("tm", commerce.Tmall)
	var ids []string
	for i, o := range []string{"o1", "o2", "o3"} {
		e.pastOrder("tm", o)
		var tk taskJSON
		e.ok(e.post("/v1/tasks", map[string]any{"type": "collaborative", "order_id": o, "actor": actor("agent", "a1")}), http.StatusCreated, &tk)
		ids = append(ids, tk.ID)
		if i < 2 {
			var clk httpapi.ClockBody
			e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "1h"}), http.StatusOK, &clk)
		}
	}
	// o1's task intervenes (no deadline any more) once its 24 h pass; the others still wait.
	var clk httpapi.ClockBody
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "22h30m"}), http.StatusOK, &clk)
	var page httpapi.TaskList
	e.ok(e.get("/v1/tasks?order=due&limit=2"), http.StatusOK, &page)
	if len(page.Tasks) != 2 || page.Tasks[0].ID != ids[1] || page.Tasks[1].ID != ids[2] || page.NextCursor == "" {
		t.Fatalf("first page %+v", page)
	}
	cursor := page.NextCursor
	page = httpapi.TaskList{}
	e.ok(e.get("/v1/tasks?order=due&limit=2&cursor="+cursor), http.StatusOK, &page)
	if len(page.Tasks) != 1 || page.Tasks[0].ID != ids[0] || page.NextCursor != "" {
		t.Fatalf("second page %+v", page)
	}
	e.wantProblem(e.get("/v1/tasks?order=soon"), http.StatusUnprocessableEntity, "request.validation", "", "query.order")
}
