package postgres_test

// Several replicas on one schema: two store handles (two pools), as two
// processes would have.

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/store/postgres/pgtest"
	"aftersale/internal/task"
)

// A fact read as new by one transaction and recorded meanwhile by another
// replica is not applied twice: the first transaction fails with
// store.ErrRetry and commits nothing (no duplicated action after a race).
func TestRecordFactRaceIsErrRetry(t *testing.T) {
	url := pgtest.FreshSchema(t)
	a, b := openAt(t, url), openAt(t, url)
	ctx := t.Context()
	err := a.Update(ctx, func(tx store.Tx) error {
		seen, err := tx.FactsSeen(ctx, []string{"f1"})
		if err != nil || seen["f1"] {
			t.Fatalf("FactsSeen = %v, %v; want f1 unseen", seen, err)
		}
		// The other replica records f1 and commits.
		if err := b.Update(ctx, func(tx store.Tx) error {
			_, err := tx.RecordFact(ctx, "f1", commerce.FactOrder, time.Now(), nil)
			return err
		}); err != nil {
			t.Fatalf("replica b: %v", err)
		}
		dup, err := tx.RecordFact(ctx, "f1", commerce.FactOrder, time.Now(), nil)
		if err != nil || dup {
			t.Fatalf("RecordFact = %v, %v; want false (answered from FactsSeen), nil", dup, err)
		}
		return tx.PutOrder(ctx, &commerce.Order{ID: "ord_1", ShopID: "shp_1", BuyerID: "byr_1"})
	})
	if !errors.Is(err, store.ErrRetry) {
		t.Fatalf("Update = %v, want an error wrapping store.ErrRetry", err)
	}
	err = a.View(ctx, func(tx store.ReadTx) error {
		_, err := tx.Order(ctx, "ord_1")
		return err
	})
	if err == nil {
		t.Error("the order written by the failed transaction was committed")
	}
}

// A queued write that fails makes every later call of the transaction and
// its commit fail: nothing is committed, even if fn ignores the error.
func TestQueuedWriteFailureIsSticky(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	if _, err := s.Pool().Exec(ctx, `ALTER TABLE orders ADD CONSTRAINT no_bad CHECK (shop_id <> 'bad')`); err != nil {
		t.Fatal(err)
	}
	var readErr error
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutOrder(ctx, &commerce.Order{ID: "ord_bad", ShopID: "bad", BuyerID: "b"}); err != nil {
			t.Fatalf("PutOrder (queued) = %v", err)
		}
		_, readErr = tx.Order(ctx, "ord_bad") // sends the queue
		if err := tx.PutShop(ctx, &commerce.Shop{ID: "shp_ok", Platform: commerce.Taobao}); err != nil {
			return err
		}
		return nil // ignores readErr
	})
	if readErr == nil || err == nil {
		t.Fatalf("read after the failing write = %v, Update = %v; want both to fail", readErr, err)
	}
	err = s.View(ctx, func(tx store.ReadTx) error {
		_, err := tx.Shop(ctx, "shp_ok")
		return err
	})
	if err == nil {
		t.Error("a write after the failed one was committed")
	}
}

// When one replica commits a timer, the other replica's listener hears its
// due time (cross-replica sweeper wake-up); a rolled-back one sends nothing.
func TestListenTimersAcrossReplicas(t *testing.T) {
	url := pgtest.FreshSchema(t)
	a, b := openAt(t, url), openAt(t, url)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	heard := make(chan time.Time, 10)
	done := make(chan error, 1)
	go func() { done <- b.ListenTimers(ctx, func(due time.Time) { heard <- due }) }()
	due := time.Date(2023, 7, 5, 10, 0, 0, 123456000, time.UTC)
	// Wait until b listens: commit timers until one is heard.
	deadline := time.After(10 * time.Second)
	rolledBack := errors.New("roll back")
	for i := 0; ; i++ {
		// A rolled-back transaction that set an earlier timer: never heard.
		err := a.Update(ctx, func(tx store.Tx) error {
			if err := tx.SetTimer(ctx, task.Timer{Subject: "tsk_rb", Kind: "reply", DueAt: due.Add(-time.Hour), SetAt: due, PolicyVersion: "v1"}); err != nil {
				return err
			}
			return rolledBack
		})
		if !errors.Is(err, rolledBack) {
			t.Fatal(err)
		}
		if err := a.Update(ctx, func(tx store.Tx) error {
			if err := tx.SetTimer(ctx, task.Timer{Subject: "tsk_1", Kind: "reply", DueAt: due.Add(time.Hour), SetAt: due, PolicyVersion: "v1"}); err != nil {
				return err
			}
			return tx.SetTimer(ctx, task.Timer{Subject: "tsk_2", Kind: "reply", DueAt: due, SetAt: due, PolicyVersion: "v1"})
		}); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-heard:
			if !got.Equal(due) {
				t.Fatalf("heard due %v, want %v (the earliest set by the committed transaction)", got, due)
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("ListenTimers after cancel = %v, want context.Canceled", err)
			}
			return
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no wake-up heard after %d commits", i+1)
		}
	}
}

// Stores on other schemas of the same database do not wake each other.
func TestListenTimersPerSchema(t *testing.T) {
	a, b := open(t), open(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	heard := make(chan time.Time, 10)
	go func() { _ = b.ListenTimers(ctx, func(due time.Time) { heard <- due }) }()
	time.Sleep(300 * time.Millisecond) // let b listen
	if err := a.Update(ctx, func(tx store.Tx) error {
		return tx.SetTimer(ctx, task.Timer{Subject: "tsk_1", Kind: "reply", DueAt: time.Now(), SetAt: time.Now(), PolicyVersion: "v1"})
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case due := <-heard:
		t.Fatalf("a store on another schema heard %v", due)
	case <-time.After(500 * time.Millisecond):
	}
}

// Counter additions from two replicas at once are exact and never deadlock:
// each transaction adds to an overlapping set of keys, given in a different
// order each time (the queued upsert sends them in key order). Scorecards
// and the daily reminder cap (R-NTF-1) count through these counters.
func TestAddCountersAcrossReplicasExact(t *testing.T) {
	u := pgtest.FreshSchema(t)
	replicas := []store.Store{openAt(t, u), openAt(t, u)}
	keys := []string{"k:a", "k:b", "k:c", "k:d", "k:e"}
	const workers, rounds = 4, 25
	ctx := context.Background()
	errs := make(chan error, 2*workers)
	var wg sync.WaitGroup
	for r, st := range replicas {
		for w := range workers {
			wg.Go(func() {
				for i := range rounds {
					// rotate the keys so transactions name them in different orders
					shift := (r*workers + w + i) % len(keys)
					ks := append(slices.Clone(keys[shift:]), keys[:shift]...)
					ds := []int64{1, 2, 3, 4, 5}
					err := st.Update(ctx, func(tx store.Tx) error {
						return tx.AddCounters(ctx, ks, ds)
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("an Update failed (deadlock?): %v", err)
	}
	// every key got each delta 1..5 once per round (the rotation moves
	// which key gets which), so the five keys sum to 15 per transaction
	var total int64
	err := replicas[1].View(ctx, func(tx store.ReadTx) error {
		got, err := tx.CounterRange(ctx, "k:", "k:\uffff")
		for _, v := range got {
			total += v
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(2 * workers * rounds * 15); total != want {
		t.Fatalf("counters sum to %d, want %d: an addition was lost or doubled", total, want)
	}
}
