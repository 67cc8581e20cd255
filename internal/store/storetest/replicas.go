package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/store"
)

func init() {
	register("ClaimIdempotent", testClaimIdempotent)
	register("ClaimIdempotentConcurrent", testClaimIdempotentConcurrent)
	register("RecordFactConcurrent", testRecordFactConcurrent)
}

// A free key is claimed once; a claimed or answered key is not claimed
// again and keeps what it holds.
func testClaimIdempotent(t *testing.T, s store.Store) {
	marker := []byte(`{"state":"applied"}`)
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if !get[bool](t)(tx.ClaimIdempotent(ctx, "k1", marker)) {
			t.Error("ClaimIdempotent(free k1) = false")
		}
		if get[bool](t)(tx.ClaimIdempotent(ctx, "k1", []byte(`other`))) {
			t.Error("ClaimIdempotent(k1) again in the claiming tx = true")
		}
		got, ok, err := tx.Idempotent(ctx, "k1")
		if err != nil || !ok || string(got) != string(marker) {
			t.Errorf("Idempotent(k1) = %q %v %v", got, ok, err)
		}
	})
	done := []byte(`{"state":"done","status":201}`)
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if get[bool](t)(tx.ClaimIdempotent(ctx, "k1", marker)) {
			t.Error("ClaimIdempotent(committed k1) = true")
		}
		must(t, tx.PutIdempotent(ctx, "k1", done)) // the response replaces the marker
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if get[bool](t)(tx.ClaimIdempotent(ctx, "k1", marker)) {
			t.Error("ClaimIdempotent(answered k1) = true")
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if got, _, _ := tx.Idempotent(ctx, "k1"); string(got) != string(done) {
			t.Errorf("k1 holds %q after a refused claim, want %q", got, done)
		}
	})
}

// holdOpen runs first in a write transaction, signals started, waits hold,
// then commits (or rolls back when rollback is set); it returns the
// transaction's outcome on the channel.
func holdOpen(s store.Store, first func(ctx context.Context, tx store.Tx) error, hold time.Duration, rollback bool, started chan<- struct{}) <-chan error {
	out := make(chan error, 1)
	go func() {
		out <- s.Update(context.Background(), func(tx store.Tx) error {
			if err := first(context.Background(), tx); err != nil {
				close(started)
				return err
			}
			close(started)
			time.Sleep(hold)
			if rollback {
				return errRollback
			}
			return nil
		})
	}()
	return out
}

var errRollback = errors.New("rolled back on purpose")

// Two writers claiming one key at the same moment (two replicas): the one
// that comes second waits for the first, and gets false when it committed,
// true when it rolled back. The contract behind Idempotency-Key across
// replicas.
func testClaimIdempotentConcurrent(t *testing.T, s store.Store) {
	for _, rollback := range []bool{false, true} {
		key := "race_commit"
		if rollback {
			key = "race_rollback"
		}
		started := make(chan struct{})
		first := holdOpen(s, func(ctx context.Context, tx store.Tx) error {
			ok, err := tx.ClaimIdempotent(ctx, key, []byte(`first`))
			if err == nil && !ok {
				err = errors.New("first claim refused")
			}
			return err
		}, 150*time.Millisecond, rollback, started)
		<-started
		var second bool
		update(t, s, func(ctx context.Context, tx store.Tx) {
			second = get[bool](t)(tx.ClaimIdempotent(ctx, key, []byte(`second`)))
		})
		err := <-first
		if rollback {
			if !errors.Is(err, errRollback) {
				t.Fatalf("first tx: %v", err)
			}
			if !second {
				t.Error("claim after the holder rolled back = false, want true")
			}
		} else {
			if err != nil {
				t.Fatalf("first tx: %v", err)
			}
			if second {
				t.Error("claim while another writer held the key, after it committed = true, want false")
			}
		}
		want := "first"
		if rollback {
			want = "second"
		}
		view(t, s, func(ctx context.Context, tx store.ReadTx) {
			if got, _, _ := tx.Idempotent(ctx, key); string(got) != want {
				t.Errorf("%s holds %q, want %q", key, got, want)
			}
		})
	}
}

// A fact recorded by a concurrent writer that commits first is reported as a
// duplicate to the second (never silently recorded twice): the engine turns
// that into store.ErrRace and runs the batch again.
func testRecordFactConcurrent(t *testing.T, s store.Store) {
	started := make(chan struct{})
	first := holdOpen(s, func(ctx context.Context, tx store.Tx) error {
		dup, err := tx.RecordFact(ctx, "race_f1", commerce.FactOrder, at(0), []byte(`{"id":"race_f1"}`))
		if err == nil && dup {
			err = errors.New("first RecordFact: duplicate")
		}
		return err
	}, 150*time.Millisecond, false, started)
	<-started
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if !get[bool](t)(tx.RecordFact(ctx, "race_f1", commerce.FactOrder, at(0), []byte(`{"id":"race_f1"}`))) {
			t.Error("RecordFact of a fact a concurrent writer committed first: duplicate = false")
		}
	})
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
