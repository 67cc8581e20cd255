package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// stealingStore is a store whose first ClaimDue is taken by "another
// replica": the due timers are claimed (removed) but not returned, as when a
// concurrent sweeper claims a batch first.
type stealingStore struct {
	store.Store
	stolen atomic.Bool
}

type stealingTx struct {
	store.Tx
	s *stealingStore
}

func (s *stealingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(stealingTx{tx, s}) })
}

func (tx stealingTx) ClaimDue(ctx context.Context, now time.Time, limit int) ([]task.Timer, error) {
	ts, err := tx.Tx.ClaimDue(ctx, now, limit)
	if err == nil && len(ts) > 0 && tx.s.stolen.CompareAndSwap(false, true) {
		return nil, nil
	}
	return ts, err
}

// AdvanceTo fires every timer at its own due time even when a batch it
// expected was claimed elsewhere: an empty batch does not end the advance
// while timers are still due before the target (R-SLA-1: deadlines fire on
// the second, in the sandbox too).
func TestAdvanceToContinuesAfterAnEmptyBatch(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	st := &stealingStore{Store: testkit.OpenStore(t)}
	env := testkit.NewOn(t, st, start)
	addShop(env, "tm", commerce.Tmall)
	first := openTask(env, "tm", "o1", task.ReturnRefund)
	env.Advance(time.Hour)
	second := openTask(env, "tm", "o2", task.ReturnRefund)

	// The first task's reminder (due at 22 h) is stolen; everything after it
	// must still fire at its own time.
	env.AdvanceTo(start.Add(3 * 24 * time.Hour))
	if !st.stolen.Load() {
		t.Fatal("the test store stole nothing")
	}
	for _, tk := range []*task.Task{first, second} {
		if got := env.Task(tk.ID).State; got != task.PlatformIntervening {
			t.Fatalf("%s: %s after 3 days, want platform_intervening", tk.ID, got)
		}
	}
	var fs []task.Firing
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { fs, err = tx.Firings(env.Ctx, 0); return }); err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("nothing fired")
	}
	for _, f := range fs {
		if !f.FiredAt.Equal(f.DueAt) {
			t.Fatalf("%s/%s due %s fired %s: late", f.Subject, f.Kind, f.DueAt, f.FiredAt)
		}
	}
}
