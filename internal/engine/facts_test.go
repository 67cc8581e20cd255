package engine_test

import (
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

func factEnv(t *testing.T) *testkit.Env {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	addOrder(env, "tb", "o1")
	return env
}

// A repeated fact id is answered "duplicate" and applied once, across batches.
func TestFacts_DuplicateAcrossBatches(t *testing.T) {
	env := factEnv(t)
	now := env.Clock.Now()
	res := env.Ingest(refundFact("rf1", "o1", 3000, now))
	if res[0].Status != engine.FactAccepted {
		t.Fatalf("%+v", res[0])
	}
	before := snapshot(env, "o1")
	res = env.Ingest(refundFact("rf1", "o1", 3000, now))
	if res[0].Status != engine.FactDuplicate || res[0].ID != "rf1" {
		t.Fatalf("repeat: %+v", res[0])
	}
	sameWorld(t, before, snapshot(env, "o1"))
	if o := env.Order("o1"); o.RefundedFen != 3000 {
		t.Fatalf("refunded %d, want 3000", o.RefundedFen)
	}
	// a repeated shop fact too
	if res := env.Ingest(testkit.ShopFact("tb", commerce.Taobao)); res[0].Status != engine.FactDuplicate {
		t.Fatalf("repeated shop fact: %+v", res[0])
	}
}

// A repeated fact id inside one batch is applied once.
func TestFacts_DuplicateInOneBatch(t *testing.T) {
	env := factEnv(t)
	now := env.Clock.Now()
	res := env.Ingest(refundFact("rf1", "o1", 3000, now), refundFact("rf1", "o1", 3000, now),
		shipFact("s1", "o1", now), shipFact("s1", "o1", now))
	want := []string{engine.FactAccepted, engine.FactDuplicate, engine.FactAccepted, engine.FactDuplicate}
	for i, r := range res {
		if r.Status != want[i] {
			t.Fatalf("fact %d: %+v, want %s", i, r, want[i])
		}
	}
	o := env.Order("o1")
	if o.RefundedFen != 3000 || o.ShippedAt == nil {
		t.Fatalf("order %+v", o)
	}
	// a second batch repeating both is all duplicates and changes nothing
	before := snapshot(env, "o1")
	res = env.Ingest(refundFact("rf1", "o1", 3000, now), shipFact("s1", "o1", now))
	if res[0].Status != engine.FactDuplicate || res[1].Status != engine.FactDuplicate {
		t.Fatalf("results %+v", res)
	}
	sameWorld(t, before, snapshot(env, "o1"))
}

// Each malformed or inconsistent fact is refused with an error naming the
// field, changes nothing, and its id stays free: the same id is accepted
// later with a valid fact.
func TestFacts_RefusalsNameFieldAndChangeNothing(t *testing.T) {
	env := factEnv(t)
	now := env.Clock.Now()
	o := env.Order("o1")
	env.MustIngest(shipFact("ship-o1", "o1", now.Add(-2*time.Hour)),
		trackFact("trk1", "o1", commerce.TrackingInTransit, now.Add(-time.Hour)))
	addOrder(env, "tb", "o2")

	unknownShop := testkit.OrderFact("o9", "nope", "b9", now.Add(-time.Hour), now)
	unknownShop.ID = "f-unknown-shop"
	orderBeforePaid := testkit.OrderFact("o8", "tb", "b8", now.Add(-time.Hour), now)
	orderBeforePaid.ID, orderBeforePaid.At = "f-order-early", now.Add(-2*time.Hour)
	negPaid := testkit.OrderFact("o7", "tb", "b7", now.Add(-time.Hour), now)
	negPaid.ID, negPaid.Order.PaidFen = "f-neg-paid", -1
	mismatch := commerce.Fact{ID: "f-mismatch", Type: commerce.FactShipment, At: now, Refund: &commerce.RefundFact{OrderID: "o2", AmountFen: 1}}
	two := commerce.Fact{ID: "f-two", Type: commerce.FactRefund, At: now,
		Refund: &commerce.RefundFact{OrderID: "o2", AmountFen: 1}, Shipment: &commerce.ShipmentFact{OrderID: "o2"}}

	addShop(env, "xx", commerce.Taobao)
	movedShop := testkit.ShopFact("tb", commerce.Tmall)
	movedShop.ID = "f-moved"
	cases := []struct {
		name  string
		fact  commerce.Fact
		order string
		code  apperr.Code
		field string
	}{
		{"order for unknown shop", unknownShop, "", apperr.ENOTFOUND, "order.shop_id"},
		{"shipment for unknown order", shipFact("f-ship-unknown", "o404", now), "", apperr.ENOTFOUND, "shipment.order_id"},
		{"refund for unknown order", refundFact("f-refund-unknown", "o404", 1, now), "", apperr.ENOTFOUND, "refund.order_id"},
		{"tracking before the last update", trackFact("f-trk-early", "o1", commerce.TrackingInTransit, now.Add(-90*time.Minute)), "o1", apperr.EINVALID, "at"},
		{"shipment before paid", shipFact("f-ship-early", "o2", o.PaidAt.Add(-time.Second)), "o2", apperr.EINVALID, "at"},
		{"order fact before its paid_at", orderBeforePaid, "", apperr.EINVALID, "at"},
		{"zero refund", refundFact("f-refund-zero", "o2", 0, now), "o2", apperr.EINVALID, "refund.amount_fen"},
		{"negative refund", refundFact("f-refund-neg", "o2", -100, now), "o2", apperr.EINVALID, "refund.amount_fen"},
		{"over-refund", refundFact("f-refund-over", "o2", 10001, now), "o2", apperr.EINVALID, "refund.amount_fen"},
		{"negative paid", negPaid, "", apperr.EINVALID, "order.paid_fen"},
		{"payload not matching the type", mismatch, "o2", apperr.EINVALID, "shipment"},
		{"two payloads", two, "o2", apperr.EINVALID, "type"},
		{"future fact", refundFact("f-future", "o2", 1, now.Add(time.Hour)), "o2", apperr.EINVALID, "at"},
		{"no id", refundFact("", "o2", 1, now), "o2", apperr.EINVALID, "id"},
		{"bad tracking status", trackFact("f-trk-status", "o1", "lost", now), "o1", apperr.EINVALID, "tracking.status"},
		{"presence of unknown account", commerce.Fact{ID: "f-presence", Type: commerce.FactPresence, At: now,
			Presence: &commerce.PresenceFact{AccountID: "ghost", Online: true}}, "", apperr.ENOTFOUND, "presence.account_id"},
		{"account of another shop", commerce.Fact{ID: "f-acc", Type: commerce.FactAccount, At: now,
			Account: &commerce.Account{ID: "tb_main", ShopID: "xx", Role: commerce.RoleSub}}, "", apperr.EINVALID, "account.shop_id"},
		{"account for unknown shop", commerce.Fact{ID: "f-acc2", Type: commerce.FactAccount, At: now,
			Account: &commerce.Account{ID: "new", ShopID: "zz", Role: commerce.RoleSub}}, "", apperr.ENOTFOUND, "account.shop_id"},
		{"shop changes platform", movedShop, "", apperr.EINVALID, "shop.platform"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(env, c.order)
			res := env.Ingest(c.fact)
			if res[0].Status != engine.FactRefused {
				t.Fatalf("status %s, want refused", res[0].Status)
			}
			if e := res[0].Error; e == nil || e.Code != c.code || e.Field != c.field {
				t.Fatalf("error %+v, want %s on field %q", e, c.code, c.field)
			}
			sameWorld(t, before, snapshot(env, c.order))
		})
	}
	// the ids of refused facts are still free
	env.MustIngest(trackFact("f-trk-early", "o1", commerce.TrackingInTransit, now))
	env.MustIngest(refundFact("f-refund-over", "o2", 10000, now))
	if got := env.Order("o2"); got.RefundedFen != 10000 {
		t.Fatalf("refunded %d", got.RefundedFen)
	}
	addShop(env, "nope", commerce.Taobao)
	env.MustIngest(unknownShop)
	if got := env.Order("o9"); got.ShopID != "nope" {
		t.Fatalf("order %+v", got)
	}
}

// A refused fact inside a batch changes nothing while the others apply.
func TestFacts_RefusedInBatch(t *testing.T) {
	env := factEnv(t)
	now := env.Clock.Now()
	res := env.Ingest(refundFact("a", "o1", 2000, now), refundFact("b", "o1", 9000, now), refundFact("c", "o1", 8000, now))
	if res[0].Status != engine.FactAccepted || res[1].Status != engine.FactRefused || res[2].Status != engine.FactAccepted {
		t.Fatalf("results %+v", res)
	}
	if res[1].Error.Field != "refund.amount_fen" {
		t.Fatalf("error %+v", res[1].Error)
	}
	if o := env.Order("o1"); o.RefundedFen != 10000 || !o.FullyRefunded() {
		t.Fatalf("refunded %d", o.RefundedFen)
	}
}

// Facts drive task consequences once: a duplicate shipment does not act on the task again.
func TestFacts_DuplicateDoesNotReact(t *testing.T) {
	env := factEnv(t)
	tk := openTask(env, "tb", "o2", task.UrgeShipment)
	env.MustIngest(shipFact("ship2", "o2", env.Clock.Now()))
	got := wantState(env, tk.ID, task.Completed)
	n := len(env.Events(tk.ID))
	if res := env.Ingest(shipFact("ship2", "o2", env.Clock.Now())); res[0].Status != engine.FactDuplicate {
		t.Fatalf("%+v", res[0])
	}
	if len(env.Events(tk.ID)) != n || env.Task(tk.ID).Rev != got.Rev {
		t.Fatal("a duplicate fact acted on the task")
	}
}

// Inside one batch, a refused fact leaves its id free for a later valid fact
// with the same id, and a repeat of that one is a duplicate.
func TestFacts_RefusedThenValidSameIDInBatch(t *testing.T) {
	env := factEnv(t)
	now := env.Clock.Now()
	res := env.Ingest(refundFact("x", "o1", 20000, now), refundFact("x", "o1", 2000, now), refundFact("x", "o1", 2000, now))
	if res[0].Status != engine.FactRefused || res[0].Error.Field != "refund.amount_fen" ||
		res[1].Status != engine.FactAccepted || res[2].Status != engine.FactDuplicate {
		t.Fatalf("results %+v", res)
	}
	if o := env.Order("o1"); o.RefundedFen != 2000 {
		t.Fatalf("refunded %d, want 2000", o.RefundedFen)
	}
}
