package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

func init() {
	register("BuyerOrders", testBuyerOrders)
	register("CountTasksUpTo", testCountTasksUpTo)
	register("QueueTasks", testQueueTasks)
}

func consoleTask(id, shop string, s task.State, created time.Duration, due *time.Duration) *task.Task {
	t := &task.Task{ID: id, Type: task.ReturnRefund, State: s, OrderID: "ord_" + id, ShopID: shop, BuyerID: "b1", Platform: "taobao",
		CreatedAt: at(created), UpdatedAt: at(created), PolicyVersion: "v1"}
	if due != nil {
		d := at(*due)
		t.DueAt = &d
	}
	return t
}

// CountTasksUpTo: per state, per shop or all, each count capped at limit.
func testCountTasksUpTo(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for i, st := range []task.State{task.AwaitingSellerReply, task.AwaitingSellerReply, task.AwaitingSellerReply, task.Completed, task.AwaitingSellerReply} {
			shop := "shp_1"
			if i == 4 {
				shop = "shp_2"
			}
			must(t, tx.InsertTask(ctx, consoleTask("tsk_c"+string(rune('a'+i)), shop, st, time.Duration(i)*time.Minute, nil)))
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got, err := tx.CountTasksUpTo(ctx, "shp_1", 2)
		must(t, err)
		if got[task.AwaitingSellerReply] != 2 || got[task.Completed] != 1 || got[task.PlatformIntervening] != 0 {
			t.Fatalf("shp_1 capped at 2: %v", got)
		}
		got, err = tx.CountTasksUpTo(ctx, "shp_1", 100)
		must(t, err)
		if got[task.AwaitingSellerReply] != 3 {
			t.Fatalf("shp_1: %v", got)
		}
		got, err = tx.CountTasksUpTo(ctx, "", 100)
		must(t, err)
		if got[task.AwaitingSellerReply] != 4 || got[task.Completed] != 1 {
			t.Fatalf("all shops: %v", got)
		}
	})
}

// QueueTasks: intervening tasks only, nearest deadline first, then those
// without a deadline by id; at most limit.
func testQueueTasks(t *testing.T, s store.Store) {
	d := func(h int) *time.Duration { x := time.Duration(h) * time.Hour; return &x }
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.InsertTask(ctx, consoleTask("tsk_q1", "shp_1", task.PlatformIntervening, 0, d(30))))
		must(t, tx.InsertTask(ctx, consoleTask("tsk_q2", "shp_2", task.PlatformIntervening, time.Minute, d(5))))
		must(t, tx.InsertTask(ctx, consoleTask("tsk_q3", "shp_1", task.PlatformIntervening, 2*time.Minute, nil)))
		must(t, tx.InsertTask(ctx, consoleTask("tsk_q4", "shp_1", task.AwaitingSellerReply, 3*time.Minute, d(1))))
		must(t, tx.InsertTask(ctx, consoleTask("tsk_q0", "shp_1", task.PlatformIntervening, 4*time.Minute, nil)))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got, err := tx.QueueTasks(ctx, 10)
		must(t, err)
		if want := []string{"tsk_q2", "tsk_q1", "tsk_q0", "tsk_q3"}; strings.Join(ids(got), ",") != strings.Join(want, ",") {
			t.Fatalf("queue = %v, want %v", ids(got), want)
		}
		got, err = tx.QueueTasks(ctx, 3)
		must(t, err)
		if len(got) != 3 || got[2].ID != "tsk_q0" {
			t.Fatalf("queue limit 3 = %v", ids(got))
		}
	})
}

// BuyerOrders: a buyer's orders only, newest id first, at most limit.
func testBuyerOrders(t *testing.T, s store.Store) {
	put := func(id, buyer string) *commerce.Order {
		return &commerce.Order{ID: id, ShopID: "shp_1", BuyerID: buyer, PaidFen: 100, PaidAt: at(0), ShipBy: at(48 * time.Hour),
			Items: []commerce.Item{{SKU: "s"}}}
	}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, o := range []*commerce.Order{put("ord_1", "b1"), put("ord_3", "b1"), put("ord_2", "b2"), put("ord_4", "b1")} {
			must(t, tx.PutOrder(ctx, o))
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		os, err := tx.BuyerOrders(ctx, "b1", 2)
		must(t, err)
		if len(os) != 2 || os[0].ID != "ord_4" || os[1].ID != "ord_3" {
			t.Fatalf("b1 limit 2 = %v, want ord_4, ord_3", orderIDs(os))
		}
		os, err = tx.BuyerOrders(ctx, "b2", 10)
		must(t, err)
		if len(os) != 1 || os[0].ID != "ord_2" || os[0].BuyerID != "b2" {
			t.Fatalf("b2 = %v, want ord_2", orderIDs(os))
		}
		os, err = tx.BuyerOrders(ctx, "nobody", 10)
		must(t, err)
		if len(os) != 0 {
			t.Fatalf("unknown buyer = %v, want none", orderIDs(os))
		}
	})
}

func orderIDs(os []commerce.Order) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.ID
	}
	return out
}
