package httpapi_test

import (
	"net/http"
	"testing"

	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
	"aftersale/internal/task"
)

// POST /v1/tasks/{id}/actions with action judge: a collaborative task the
// shop let time out is judged by an agent; a worry-free order is refused
// with R-COL-5 (409); forged evidence marks the outcome and costs points
// (R-COL-6, checked in the engine's tests).
func TestJudge_R_COL_5_R_COL_6(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), true)
	e.shop("tm", commerce.Tmall)
	e.pastOrder("tm", "o1")
	e.order("tm", "o2", e.clock.Now().Add(-1), func(o *commerce.Order) { o.WorryFree = true })
	open := func(orderID string) taskJSON {
		var tk taskJSON
		e.ok(e.post("/v1/tasks", map[string]any{"type": "collaborative", "order_id": orderID, "actor": actor("agent", "a1")}), http.StatusCreated, &tk)
		return tk
	}
	t1, t2 := open("o1"), open("o2")
	var clk httpapi.ClockBody
	e.ok(e.req(http.MethodPost, "/v1/sandbox/clock/advance", operatorKey, map[string]any{"by": "24h"}), http.StatusOK, &clk)

	judge := map[string]any{"action": "judge", "actor": actor("agent", "a1"), "judgment": map[string]any{"liable": true, "forged": "general"}}
	e.wantProblem(e.action(t2.ID, judge), http.StatusConflict, "worry_free.no_judgment", "R-COL-5", "")

	var got taskJSON
	e.ok(e.action(t1.ID, judge), http.StatusOK, &got)
	if got.State != string(task.Completed) || got.Outcome != "seller_liable" {
		t.Fatalf("judged: %+v", got)
	}
	bad := map[string]any{"action": "judge", "actor": actor("agent", "a1"), "judgment": map[string]any{"forged": "mild"}}
	e.wantProblem(e.action(t2.ID, bad), http.StatusUnprocessableEntity, "invalid", "R-COL-6", "judgment.forged")
}
