package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"aftersale/internal/store"
	"aftersale/internal/store/postgres/pgtest"
)

// A transaction PostgreSQL rolls back as a deadlock's victim (40P01) fails
// with an error wrapping store.ErrRetry, which the engine runs again; the
// other one commits. Two replicas each lock one counter, then the other's.
func TestDeadlockIsErrRetry(t *testing.T) {
	u := pgtest.FreshSchema(t)
	replicas := []store.Store{openAt(t, u), openAt(t, u)}
	ctx := context.Background()
	keys := []string{"k:a", "k:b"}
	var locked sync.WaitGroup // both hold their first counter
	locked.Add(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, st := range replicas {
		wg.Go(func() {
			first := true
			errs[i] = st.Update(ctx, func(tx store.Tx) error {
				if err := tx.AddCounters(ctx, []string{keys[i]}, []int64{1}); err != nil {
					return err
				}
				if _, err := tx.Counter(ctx, keys[i]); err != nil { // sends the increment: the row is locked
					return err
				}
				if first {
					first = false
					locked.Done()
					locked.Wait()
				}
				if err := tx.AddCounters(ctx, []string{keys[1-i]}, []int64{1}); err != nil {
					return err
				}
				_, err := tx.Counter(ctx, keys[1-i]) // waits for the other: one of the two is rolled back
				return err
			})
		})
	}
	wg.Wait()
	var lost, won int
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, store.ErrRetry) && strings.Contains(err.Error(), "40P01"):
			lost++
		default:
			t.Errorf("Update = %v, want nil or a deadlock wrapping store.ErrRetry", err)
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("%d committed, %d deadlocked, want one each", won, lost)
	}
	err := replicas[0].View(ctx, func(tx store.ReadTx) error {
		for _, k := range keys {
			if v, err := tx.Counter(ctx, k); err != nil || v != 1 {
				t.Errorf("counter %s = %d, %v; want 1 (the winner's increment only)", k, v, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
