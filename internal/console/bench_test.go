package console_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// benchTasks is how many tasks the render benchmark seeds.
const benchTasks = 100_000

// seedMany puts n orders and n tasks of shop s1 straight into the store
// (1000 per transaction), spread over the five states, with deadlines on
// the open ones, so that the pages read a store of that size.
func seedMany(tb testing.TB, e *env, n int) {
	tb.Helper()
	now := e.clock.Now()
	states := []task.State{task.AwaitingSellerReply, task.AwaitingSellerReply, task.AwaitingSellerAction, task.AwaitingBuyerConfirmation,
		task.PlatformIntervening, task.Completed, task.Completed, task.Completed}
	types := []task.Type{task.UrgeShipment, task.ReturnRefund, task.Resend, task.LogisticsStall, task.UrgeInvoice}
	for start := 0; start < n; start += 1000 {
		err := e.st.Update(context.Background(), func(tx store.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				oid, buyer := fmt.Sprintf("bo%06d", i), fmt.Sprintf("bb%05d", i%20000)
				f := testkit.OrderFact(oid, "s1", buyer, now.Add(-72*time.Hour), now.Add(-24*time.Hour))
				if err := tx.PutOrder(context.Background(), f.Order); err != nil {
					return err
				}
				created := now.Add(-time.Duration(n-i) * time.Second)
				t := &task.Task{ID: fmt.Sprintf("tsk_b%06d", i), Type: types[i%len(types)], State: states[i%len(states)], OrderID: oid,
					ShopID: "s1", BuyerID: buyer, Platform: "taobao", CreatedAt: created, UpdatedAt: created, PolicyVersion: "bench"}
				if t.State.Open() {
					due := created.Add(24 * time.Hour)
					t.DueAt = &due
				}
				if err := tx.InsertTask(context.Background(), t); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkPages100k measures the server time of the console's pages with
// 100,000 tasks (and orders) of one shop in the store (SQLite), through
// the real HTTP stack (session cookie, middleware, render). Target: each
// page under 100 ms (docs/performance.md, "Console").
//
//	go test ./internal/console -run '^$' -bench Pages100k -benchtime 20x
func BenchmarkPages100k(b *testing.B) {
	e := newEnvTB(b)
	e.shop()
	e.lateOrder("o1")
	tk := e.urgedTask("o1")
	seedMany(b, e, benchTasks)
	e.person("main1", auth.RoleShopMain, "s1_main")
	e.person("agent1", auth.RoleAgent, "a1")
	e.person("buyer1", auth.RoleBuyer, "b_o1")
	main, agent, buyer := e.signIn("main1"), e.signIn("agent1"), e.signIn("buyer1")
	for _, c := range []struct {
		name string
		b    *browser
		path string
	}{
		{"workbench", main, "/console/tasks"},
		{"workbench_completed", main, "/console/tasks?state=completed"},
		{"urged_filter", main, "/console/tasks?filter=urged"},
		{"task_detail", main, "/console/tasks/" + tk.ID},
		{"task_fragment", main, "/console/tasks/" + tk.ID},
		{"agent_queue", agent, "/console/queue"},
		{"scorecard", main, "/console/scorecard"},
		{"buyer_orders", buyer, "/console/orders"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var hdr []string
			if c.name == "task_fragment" {
				hdr = []string{"HX-Request", "true", "HX-Target", "detail"}
			}
			for b.Loop() {
				p := c.b.get(c.path, hdr...)
				if p.Status != http.StatusOK {
					b.Fatalf("%s: %d %s", c.path, p.Status, p.Body)
				}
			}
		})
	}
}
