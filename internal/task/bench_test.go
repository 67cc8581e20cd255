package task_test

import (
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

// BenchmarkDecide measures the pure interpreter for the most common command:
// a shop's main account replying (R-ST-1) to an existing task awaiting its
// reply, with the rule set resolved beforehand (the engine resolves it once
// per command). Target: ≥ 1,000,000 decides/s on one core.
//
//	go test ./internal/task -run '^$' -bench Decide -benchmem
func BenchmarkDecide(b *testing.B) {
	reg, err := policy.Default()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)
	rules, err := reg.At(commerce.Tmall, now)
	if err != nil {
		b.Fatal(err)
	}
	created := now.Add(-3 * time.Hour)
	due := created.Add(24 * time.Hour)
	t := &task.Task{ID: "tsk_00000001", Type: task.ReturnRefund, State: task.AwaitingSellerReply, OrderID: "ord_1",
		ShopID: "shp_1", BuyerID: "byr_1", Platform: "tmall", CreatedAt: created, UpdatedAt: created, DueAt: &due,
		PolicyVersion: rules.Version, Details: map[string]string{"reason": "wrong size"}, Rev: 1}
	in := &task.Input{
		Task:    t,
		Cmd:     task.Command{Action: task.ActReply, Actor: task.Actor{Role: task.RoleShopMain, ID: "shp_1_main"}, TaskID: t.ID, Text: "will refund today"},
		Order:   &commerce.Order{ID: "ord_1", ShopID: "shp_1", BuyerID: "byr_1", PaidFen: 12900, PaidAt: created, ShipBy: created.Add(48 * time.Hour), Items: []commerce.Item{{SKU: "sku-1"}}},
		Shop:    &commerce.Shop{ID: "shp_1", Platform: commerce.Tmall, MainAccount: "shp_1_main"},
		Account: &commerce.Account{ID: "shp_1_main", ShopID: "shp_1", Role: commerce.RoleMain},
		Rules:   rules,
		Now:     now,
	}
	if d, err := task.Decide(in); err != nil || d.Task.State != task.AwaitingSellerAction {
		b.Fatalf("decide: %v %v", d.Task.State, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := task.Decide(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decides/s")
}
