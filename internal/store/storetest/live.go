package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

func init() {
	register("LatestSeqs", testLatestSeqs)
	register("WebhookSubscriptions", testWebhookSubscriptions)
	register("WebhookDeliveries", testWebhookDeliveries)
	register("WebhookClaimLease", testWebhookClaimLease)
	register("WebhookClaimConcurrent", testWebhookClaimConcurrent)
	register("Cursors", testCursors)
}

func testLatestSeqs(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		o, e, err := tx.LatestSeqs(ctx)
		if err != nil || o != 0 || e != 0 {
			t.Errorf("LatestSeqs on an empty store = %d, %d, %v", o, e, err)
		}
	})
	ms := []notify.Message{newMessage(1, ""), newMessage(2, "")}
	evs := []task.Event{newEvent("s", 1, ""), newEvent("s", 2, ""), newEvent("s", 3, "")}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.AppendOutbox(ctx, ms))
		must(t, tx.AppendEvents(ctx, evs))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		o, e, err := tx.LatestSeqs(ctx)
		if err != nil || o != ms[1].Seq || e != evs[2].Seq {
			t.Errorf("LatestSeqs = %d, %d, %v; want %d, %d", o, e, err, ms[1].Seq, evs[2].Seq)
		}
	})
}

func newSub(id string, aud notify.Audience, events ...string) notify.Subscription {
	return notify.Subscription{ID: id, URL: "https://example.test/" + id, Events: events, Audience: aud,
		Secret: "whsec_c2VjcmV0", CreatedAt: at(time.Duration(len(id)) * time.Second)}
}

func newDelivery(id, sub string, seq int64, next time.Time) notify.Delivery {
	return notify.Delivery{ID: id, SubscriptionID: sub, EventType: "task.created", Source: "events", Seq: seq,
		Status: notify.DeliveryPending, NextAt: next, CreatedAt: at(time.Duration(seq) * time.Second),
		UpdatedAt: at(time.Duration(seq) * time.Second), Body: json.RawMessage(`{"type":"task.created","data":{"seq":` + fmt.Sprint(seq) + `}}`)}
}

func testWebhookSubscriptions(t *testing.T, s store.Store) {
	a, b := newSub("whs_a", notify.AudiencePlatform, "*"), newSub("whs_b", notify.AudiencePublic, "task.created", "task.completed")
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutWebhookSubscription(ctx, &b))
		must(t, tx.PutWebhookSubscription(ctx, &a))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "WebhookSubscriptions", get[[]notify.Subscription](t)(tx.WebhookSubscriptions(ctx)), []notify.Subscription{a, b})
		equal(t, "WebhookSubscription", get[*notify.Subscription](t)(tx.WebhookSubscription(ctx, "whs_b")), &b)
		_, err := tx.WebhookSubscription(ctx, "whs_none")
		wantCode(t, "WebhookSubscription(unknown)", err, apperr.ENOTFOUND)
	})
	// a pending delivery goes with its subscription; a finished one stays (history)
	done := newDelivery("d_done", "whs_a", 1, at(0))
	done.Status = notify.DeliverySucceeded
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if n := get[int](t)(tx.InsertWebhookDeliveries(ctx, []notify.Delivery{newDelivery("d_pend", "whs_a", 2, at(0)), done})); n != 2 {
			t.Errorf("InsertWebhookDeliveries = %d, want 2", n)
		}
		must(t, tx.DeleteWebhookSubscription(ctx, "whs_a"))
		wantCode(t, "DeleteWebhookSubscription(again)", tx.DeleteWebhookSubscription(ctx, "whs_a"), apperr.ENOTFOUND)
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "WebhookSubscriptions after delete", get[[]notify.Subscription](t)(tx.WebhookSubscriptions(ctx)), []notify.Subscription{b})
		ds := get[[]notify.Delivery](t)(tx.WebhookDeliveries(ctx, store.WebhookFilter{SubscriptionID: "whs_a"}))
		if len(ds) != 1 || ds[0].ID != "d_done" {
			t.Errorf("deliveries after the subscription's delete: %+v, want only the succeeded one", ds)
		}
	})
}

func testWebhookDeliveries(t *testing.T, s store.Store) {
	ds := []notify.Delivery{newDelivery("d1", "s1", 1, at(0)), newDelivery("d2", "s2", 2, at(0)), newDelivery("d3", "s1", 3, at(0))}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if n := get[int](t)(tx.InsertWebhookDeliveries(ctx, ds)); n != 3 {
			t.Errorf("InsertWebhookDeliveries = %d, want 3", n)
		}
		// a repeated fan-out inserts nothing and changes nothing
		again := newDelivery("d1", "s1", 1, at(time.Hour))
		again.Attempts = 7
		if n := get[int](t)(tx.InsertWebhookDeliveries(ctx, []notify.Delivery{again})); n != 0 {
			t.Errorf("InsertWebhookDeliveries(repeat) = %d, want 0", n)
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "WebhookDelivery", get[*notify.Delivery](t)(tx.WebhookDelivery(ctx, "d1")), &ds[0])
		_, err := tx.WebhookDelivery(ctx, "d_none")
		wantCode(t, "WebhookDelivery(unknown)", err, apperr.ENOTFOUND)
		equal(t, "WebhookDeliveries(all) newest first", get[[]notify.Delivery](t)(tx.WebhookDeliveries(ctx, store.WebhookFilter{})),
			[]notify.Delivery{ds[2], ds[1], ds[0]})
		equal(t, "WebhookDeliveries(s1, 1)", get[[]notify.Delivery](t)(tx.WebhookDeliveries(ctx, store.WebhookFilter{SubscriptionID: "s1", Limit: 1})),
			[]notify.Delivery{ds[2]})
	})
	dead := ds[1]
	dead.Status, dead.Attempts, dead.LastStatus, dead.LastError, dead.UpdatedAt = notify.DeliveryDead, 8, 500, "HTTP 500", at(time.Hour)
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.PutWebhookDelivery(ctx, &dead)) })
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "WebhookDeliveries(dead)", get[[]notify.Delivery](t)(tx.WebhookDeliveries(ctx, store.WebhookFilter{Status: notify.DeliveryDead})),
			[]notify.Delivery{dead})
	})
}

func testWebhookClaimLease(t *testing.T, s store.Store) {
	ds := []notify.Delivery{newDelivery("d_b", "s", 1, at(0)), newDelivery("d_a", "s", 2, at(0)),
		newDelivery("d_early", "s", 3, at(-time.Second)), newDelivery("d_later", "s", 4, at(time.Second))}
	done := newDelivery("d_done", "s", 5, at(-time.Hour))
	done.Status = notify.DeliverySucceeded
	update(t, s, func(ctx context.Context, tx store.Tx) {
		get[int](t)(tx.InsertWebhookDeliveries(ctx, append(ds, done)))
	})
	lease := at(time.Minute)
	var got []notify.Delivery
	update(t, s, func(ctx context.Context, tx store.Tx) {
		got = get[[]notify.Delivery](t)(tx.ClaimWebhookDeliveries(ctx, at(0), lease, "w1", 0))
	})
	ids := func(ds []notify.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	// due at or before now, by (next_at, id); not the later one, not the succeeded one
	equal(t, "claimed", ids(got), []string{"d_early", "d_a", "d_b"})
	for _, d := range got {
		if d.LeaseOwner != "w1" || d.LeaseUntil == nil || !d.LeaseUntil.Equal(lease) {
			t.Errorf("claimed %s: lease %q until %v", d.ID, d.LeaseOwner, d.LeaseUntil)
		}
	}
	// leased: nobody else gets them until the lease expires (59 s vs 60 s)
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if again := get[[]notify.Delivery](t)(tx.ClaimWebhookDeliveries(ctx, at(59*time.Second), at(2*time.Minute), "w2", 0)); len(again) != 1 || again[0].ID != "d_later" {
			t.Errorf("claim while leased: %v, want only d_later", ids(again))
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		again := get[[]notify.Delivery](t)(tx.ClaimWebhookDeliveries(ctx, at(time.Minute), at(3*time.Minute), "w3", 2))
		equal(t, "claim after the lease expired (limit 2)", ids(again), []string{"d_early", "d_a"})
		d := get[*notify.Delivery](t)(tx.WebhookDelivery(ctx, "d_a"))
		if d.LeaseOwner != "w3" {
			t.Errorf("d_a owner %q after the re-claim", d.LeaseOwner)
		}
		// finishing clears the lease
		d.Status, d.LeaseOwner, d.LeaseUntil = notify.DeliverySucceeded, "", nil
		must(t, tx.PutWebhookDelivery(ctx, d))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		d := get[*notify.Delivery](t)(tx.WebhookDelivery(ctx, "d_a"))
		if d.Status != notify.DeliverySucceeded || d.LeaseOwner != "" || d.LeaseUntil != nil {
			t.Errorf("d_a after success: %+v", d)
		}
	})
}

// Concurrent claimers get disjoint sets: every delivery is claimed exactly
// once, and no claim takes more than it asked for (on PostgreSQL a locking
// `IN (SELECT … LIMIT …)` could be rescanned and lease far more).
func testWebhookClaimConcurrent(t *testing.T, s store.Store) {
	const n, workers, batch = 3000, 4, 20
	var ds []notify.Delivery
	for i := range n {
		ds = append(ds, newDelivery(fmt.Sprintf("d_%04d", i), "s", int64(i+1), at(0)))
	}
	update(t, s, func(ctx context.Context, tx store.Tx) { get[int](t)(tx.InsertWebhookDeliveries(ctx, ds)) })
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var got []notify.Delivery
				err := s.Update(t.Context(), func(tx store.Tx) error {
					var err error
					got, err = tx.ClaimWebhookDeliveries(t.Context(), at(0), at(time.Hour), fmt.Sprint("w", w), batch)
					return err
				})
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(got) > batch {
					t.Errorf("one claim of %d took %d", batch, len(got))
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d deliveries claimed, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s claimed %d times", id, k)
		}
	}
}

func testCursors(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if v := get[int64](t)(tx.Cursor(ctx, "webhook:outbox")); v != 0 {
			t.Errorf("Cursor(never set) = %d", v)
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if v := get[int64](t)(tx.Cursor(ctx, "webhook:outbox")); v != 0 {
			t.Errorf("Cursor(never set) in Update = %d", v)
		}
		must(t, tx.SetCursor(ctx, "webhook:outbox", 42))
		must(t, tx.SetCursor(ctx, "webhook:events", 7))
	})
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.SetCursor(ctx, "webhook:outbox", 43)) })
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if v := get[int64](t)(tx.Cursor(ctx, "webhook:outbox")); v != 43 {
			t.Errorf("Cursor(outbox) = %d, want 43", v)
		}
		if v := get[int64](t)(tx.Cursor(ctx, "webhook:events")); v != 7 {
			t.Errorf("Cursor(events) = %d, want 7", v)
		}
	})
}
