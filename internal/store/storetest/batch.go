package storetest

// Batch reads (store.BatchReader) and the write sequences a store that
// queues writes (PostgreSQL sends them together with the next read or at
// commit) must still get right: within one transaction reads see every
// earlier write, the last write of a key wins, and stopping a subject's
// timers affects only what was set before.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

func init() {
	register("OpenTasksOfOrders", testOpenTasksOfOrders)
	register("ShopsByID", testShopsByID)
	register("QueuedWritesReadBack", testQueuedWritesReadBack)
	register("TimerChangesInOrder", testTimerChangesInOrder)
	register("RecordFactAfterFactsSeen", testRecordFactAfterFactsSeen)
}

func taskIDs(ts []task.Task) []string {
	var ids []string
	for _, x := range ts {
		ids = append(ids, x.ID)
	}
	slices.Sort(ids)
	return ids
}

// OpenTasksOfOrders returns only open tasks of the named orders, and sees
// the transaction's own inserts and updates.
func testOpenTasksOfOrders(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.InsertTask(ctx, newTask("tsk_1", "ord_1", "shp_1", "byr_1", task.UrgeShipment, task.AwaitingSellerReply, at(0))))
		must(t, tx.InsertTask(ctx, newTask("tsk_2", "ord_1", "shp_1", "byr_1", task.Exchange, task.Completed, at(0))))
		must(t, tx.InsertTask(ctx, newTask("tsk_3", "ord_2", "shp_1", "byr_1", task.Exchange, task.AwaitingSellerReply, at(0))))
		must(t, tx.InsertTask(ctx, newTask("tsk_4", "ord_3", "shp_1", "byr_1", task.Exchange, task.AwaitingSellerReply, at(0))))
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		got := get[[]task.Task](t)(tx.OpenTasksOfOrders(ctx, []string{"ord_1", "ord_2", "ord_none"}))
		equal(t, "open tasks of ord_1, ord_2", taskIDs(got), []string{"tsk_1", "tsk_3"})
		equal(t, "no orders", len(get[[]task.Task](t)(tx.OpenTasksOfOrders(ctx, nil))), 0)
		// Completing one (an update a store may queue) is seen by the next read.
		x := got[slices.IndexFunc(got, func(x task.Task) bool { return x.ID == "tsk_3" })]
		x.State, x.Rev = task.Completed, x.Rev+1
		must(t, tx.UpdateTask(ctx, &x))
		got = get[[]task.Task](t)(tx.OpenTasksOfOrders(ctx, []string{"ord_1", "ord_2"}))
		equal(t, "after completing tsk_3", taskIDs(got), []string{"tsk_1"})
		// A second update of the same task in the transaction: the last one wins.
		x.Outcome, x.Rev = "second", x.Rev+1
		must(t, tx.UpdateTask(ctx, &x))
		equal(t, "Task after two updates", get[*task.Task](t)(tx.Task(ctx, "tsk_3")).Outcome, "second")
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got := get[*task.Task](t)(tx.Task(ctx, "tsk_3"))
		if got.State != task.Completed || got.Rev != 3 || got.Outcome != "second" {
			t.Errorf("committed tsk_3 = state %s rev %d outcome %q, want completed rev 3 second", got.State, got.Rev, got.Outcome)
		}
	})
}

func testShopsByID(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutShop(ctx, newShop("shp_1")))
		must(t, tx.PutShop(ctx, newShop("shp_2")))
		// Read back in the writing transaction, after a second put of shp_2.
		s2 := newShop("shp_2")
		s2.Industry = "food"
		must(t, tx.PutShop(ctx, s2))
		got := get[[]commerce.Shop](t)(tx.ShopsByID(ctx, []string{"shp_2", "shp_1", "shp_none"}))
		slices.SortFunc(got, func(a, b commerce.Shop) int { return strings.Compare(a.ID, b.ID) })
		equal(t, "ShopsByID", got, []commerce.Shop{*newShop("shp_1"), *s2})
	})
}

// Writes of many kinds in one transaction, then reads of each: every read
// sees every earlier write, and the last put of a key wins.
func testQueuedWritesReadBack(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		o := newOrder("ord_1", "shp_1", "byr_1")
		must(t, tx.PutOrder(ctx, o))
		must(t, tx.PutShop(ctx, newShop("shp_1")))
		o.UrgeCount = 2
		must(t, tx.PutOrder(ctx, o))
		evs := []task.Event{newEvent("tsk_1", 1, ""), newEvent("tsk_1", 2, `{"k":1}`)}
		must(t, tx.AppendEvents(ctx, evs))
		more := []task.Event{newEvent("tsk_1", 3, "")}
		must(t, tx.AppendEvents(ctx, more))
		if !(evs[0].Seq < evs[1].Seq && evs[1].Seq < more[0].Seq) {
			t.Errorf("seqs %d %d %d are not increasing in append order", evs[0].Seq, evs[1].Seq, more[0].Seq)
		}
		must(t, tx.PutIdempotent(ctx, "k1", []byte("a")))
		must(t, tx.PutIdempotent(ctx, "k1", []byte("b")))
		must(t, tx.RecordFirings(ctx, []task.Firing{{Subject: "tsk_1", Kind: "reply", DueAt: at(0), FiredAt: at(time.Second), Late: time.Second}}))
		// The reads, each after the writes above.
		equal(t, "Order", get[*commerce.Order](t)(tx.Order(ctx, "ord_1")).UrgeCount, 2)
		equal(t, "Events", get[[]task.Event](t)(tx.Events(ctx, "tsk_1")), append(slices.Clone(evs), more...))
		resp, ok, err := tx.Idempotent(ctx, "k1")
		must(t, err)
		equal(t, "Idempotent", [2]any{string(resp), ok}, [2]any{"b", true})
		equal(t, "Firings", len(get[[]task.Firing](t)(tx.Firings(ctx, 0))), 1)
		equal(t, "Shop", get[*commerce.Shop](t)(tx.Shop(ctx, "shp_1")).ID, "shp_1")
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "committed Order", get[*commerce.Order](t)(tx.Order(ctx, "ord_1")).UrgeCount, 2)
		equal(t, "committed Events", len(get[[]task.Event](t)(tx.Events(ctx, "tsk_1"))), 3)
	})
}

// Timer changes take effect in the order they were made, within a
// transaction and across its reads.
func testTimerChangesInOrder(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.SetTimer(ctx, tm("tsk_1", "reply", time.Hour)))
		must(t, tx.SetTimer(ctx, tm("tsk_1", "remind", time.Hour)))
		must(t, tx.SetTimer(ctx, tm("tsk_2", "reply", time.Hour)))
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		// Set, stop all, set again: only the last set stays.
		must(t, tx.SetTimer(ctx, tm("tsk_1", "action", 2*time.Hour)))
		must(t, tx.StopTimers(ctx, "tsk_1"))
		must(t, tx.SetTimer(ctx, tm("tsk_1", "reply", 3*time.Hour)))
		// Stop one, then set it again; set one, then stop it.
		must(t, tx.StopTimer(ctx, "tsk_2", "reply"))
		must(t, tx.SetTimer(ctx, tm("tsk_2", "reply", 4*time.Hour)))
		must(t, tx.SetTimer(ctx, tm("tsk_3", "reply", time.Hour)))
		must(t, tx.StopTimer(ctx, "tsk_3", "reply"))
		// Moving a timer twice keeps the last due time.
		must(t, tx.SetTimer(ctx, tm("tsk_4", "reply", 5*time.Hour)))
		must(t, tx.SetTimer(ctx, tm("tsk_4", "reply", 6*time.Hour)))
		equal(t, "Timers in the transaction", get[[]task.Timer](t)(tx.Timers(ctx, "")),
			[]task.Timer{tm("tsk_1", "reply", 3*time.Hour), tm("tsk_2", "reply", 4*time.Hour), tm("tsk_4", "reply", 6*time.Hour)})
		// After that read, a stop of everything and one more set.
		must(t, tx.StopTimers(ctx, "tsk_4"))
		must(t, tx.SetTimer(ctx, tm("tsk_5", "reply", time.Minute)))
	})
	equal(t, "committed timers", timerList(t, s, ""),
		[]task.Timer{tm("tsk_5", "reply", time.Minute), tm("tsk_1", "reply", 3*time.Hour), tm("tsk_2", "reply", 4*time.Hour)})
}

// RecordFact of ids the transaction read with FactsSeen: a new id is new
// once, a seen one is a duplicate, and FactSeen sees what was recorded.
func testRecordFactAfterFactsSeen(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		_, err := tx.RecordFact(ctx, "f_old", commerce.FactOrder, at(0), []byte(`{}`))
		must(t, err)
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		seen := get[map[string]bool](t)(tx.FactsSeen(ctx, []string{"f_old", "f_new"}))
		equal(t, "FactsSeen", seen, map[string]bool{"f_old": true})
		dup := get[bool](t)(tx.RecordFact(ctx, "f_new", commerce.FactOrder, at(0), []byte(`{"a":1}`)))
		equal(t, "RecordFact(f_new) duplicate", dup, false)
		dup = get[bool](t)(tx.RecordFact(ctx, "f_new", commerce.FactOrder, at(0), []byte(`{"a":2}`)))
		equal(t, "RecordFact(f_new) again duplicate", dup, true)
		dup = get[bool](t)(tx.RecordFact(ctx, "f_old", commerce.FactOrder, at(0), nil))
		equal(t, "RecordFact(f_old) duplicate", dup, true)
		equal(t, "FactSeen(f_new) in the transaction", get[bool](t)(tx.FactSeen(ctx, "f_new")), true)
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "FactsSeen after commit", get[map[string]bool](t)(tx.FactsSeen(ctx, []string{"f_old", "f_new"})),
			map[string]bool{"f_old": true, "f_new": true})
	})
}
