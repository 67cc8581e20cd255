package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"aftersale/internal/clock"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
	"aftersale/internal/webhook"
)

// Two senders racing over the same store (on PostgreSQL with
// AFTERSALE_TEST_STORE=postgres: claims with FOR UPDATE SKIP LOCKED, fan-out
// under the cursor's row lock) deliver each webhook exactly once.
func TestSenders_RaceDeliverEachOnce(t *testing.T) {
	st := testkit.OpenStore(t)
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2023, 7, 5, 2, 0, 0, 0, time.UTC))
	sub, err := webhook.NewSubscription("http://placeholder.test/hook", []string{webhook.TaskCreated}, notify.AudiencePublic, "", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]int{}
	bad := 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
		time.Sleep(2 * time.Millisecond) // widen the window for a double send
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		if webhook.Verify(sub.Secret, r.Header, body, clk.Now(), time.Minute) != nil {
			bad++
		}
		mu.Unlock()
	}))
	defer rcv.Close()
	sub.URL = rcv.URL
	if err := webhook.Create(ctx, st, sub); err != nil {
		t.Fatal(err)
	}
	const n = 120
	var evs []task.Event
	for i := range n {
		evs = append(evs, task.Event{Stream: fmt.Sprint("tsk_", i), TaskID: fmt.Sprint("tsk_", i), OrderID: "o", ShopID: "s", At: clk.Now(),
			Action: string(task.ActCreate), To: task.AwaitingSellerReply, PolicyVersion: "v", Visibility: task.Public})
	}
	// a shop_agent event in between is never delivered to the public subscription (R-MSG-2)
	evs = append(evs[:n/2], append([]task.Event{{Stream: "tsk_x", TaskID: "tsk_x", At: clk.Now(), Action: string(task.ActCreate),
		PolicyVersion: "v", Visibility: task.ShopAgent}}, evs[n/2:]...)...)
	for i := 0; i < len(evs); i += 10 { // in several commits
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.AppendEvents(ctx, evs[i:min(i+10, len(evs))]) }); err != nil {
			t.Fatal(err)
		}
	}
	loopback := &webhook.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}} // the receiver's
	senders := []*webhook.Sender{
		webhook.New(webhook.Config{Store: st, Clock: clk, Owner: "a", Batch: 7, Guard: loopback}),
		webhook.New(webhook.Config{Store: st, Clock: clk, Owner: "b", Batch: 5, Guard: loopback}),
	}
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if _, err := s.Round(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("%d distinct webhooks delivered, want %d", len(got), n)
	}
	for id, k := range got {
		if k != 1 {
			t.Errorf("%s delivered %d times", id, k)
		}
	}
	if bad != 0 {
		t.Errorf("%d deliveries failed verification", bad)
	}
	var ds []notify.Delivery
	if err := st.View(ctx, func(tx store.ReadTx) error {
		ds, err = tx.WebhookDeliveries(ctx, store.WebhookFilter{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(ds) != n {
		t.Fatalf("%d deliveries stored, want %d", len(ds), n)
	}
	for _, d := range ds {
		if d.Status != notify.DeliverySucceeded || d.Attempts != 1 {
			t.Fatalf("delivery %+v", d)
		}
	}
}

// A secret signs what Verify accepts; a changed body, another secret or a
// stale timestamp (5 min + 1 s) is refused.
func TestSignVerify(t *testing.T) {
	secret := webhook.NewSecret()
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"type":"task.created"}`)
	sig, err := webhook.Sign(secret, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	h.Set("webhook-signature", "v1,bm9wZQ== "+sig)
	if err := webhook.Verify(secret, h, body, now.Add(5*time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("valid: %v", err)
	}
	if webhook.Verify(secret, h, []byte(`{"type":"task.completed"}`), now, time.Minute) == nil {
		t.Fatal("changed body verified")
	}
	if webhook.Verify(webhook.NewSecret(), h, body, now, time.Minute) == nil {
		t.Fatal("another secret verified")
	}
	if webhook.Verify(secret, h, body, now.Add(5*time.Minute+time.Second), 5*time.Minute) == nil {
		t.Fatal("stale timestamp verified")
	}
}
