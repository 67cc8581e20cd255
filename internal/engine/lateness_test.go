package engine_test

import (
	"context"
	"testing"
	"time"

	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// slowStore moves a manual clock while a transaction runs: work before the
// transaction's function (the batch's reads and writes after its timers
// were claimed) and commit after it, so a test can see which of the two a
// lateness figure counts.
type slowStore struct {
	store.Store
	clk          *clock.Manual
	work, commit time.Duration
}

func (s *slowStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if s.work > 0 {
			s.clk.Set(s.clk.Now().Add(s.work))
		}
		err := fn(tx)
		if err == nil && s.commit > 0 {
			s.clk.Set(s.clk.Now().Add(s.commit))
		}
		return err
	})
}

// R-SLA-1: the 24 h reply deadline of an urge task fires on time; the
// lateness recorded for it (the firing's late_ns, and FireResult.Lateness
// that /metrics observes) is counted to when the firing is seen — after the
// batch's work for the record, after the commit for the result — not to
// when the timer was claimed (issue 15: "record when the firing becomes
// visible").
func TestFireDue_R_SLA_1_LatenessCountsToWhenTheFiringIsSeen(t *testing.T) {
	start := bj(t, "2023-08-01T08:00:00")
	slow := &slowStore{Store: testkit.OpenStore(t)}
	env := testkit.NewOn(t, slow, start)
	slow.clk = env.Clock
	addShop(env, "tb", commerce.Taobao)
	addOrderShipBy(env, "tb", "o1", start.Add(-time.Hour))
	res := mustUrge(env, "o1", "task_created")

	due := start.Add(24 * time.Hour)
	env.AdvanceTo(due.Add(-time.Second)) // the timers due before the deadline (reminders) fire first
	env.Clock.Set(due)
	slow.work, slow.commit = 2*time.Second, 3*time.Second
	fired, err := env.Engine.FireDue(env.Ctx, due, 100) // claimed at the due instant
	slow.work, slow.commit = 0, 0
	if err != nil {
		t.Fatalf("FireDue: %v", err)
	}
	if fired.Fired != 1 || len(fired.Lateness) != 1 {
		t.Fatalf("fired %+v, want the reply deadline alone", fired)
	}
	if fired.Lateness[0] != 5*time.Second || fired.MaxLate != 5*time.Second {
		t.Fatalf("result lateness %v (max %v), want 5s: 2 s of work and 3 s to commit after the claim", fired.Lateness, fired.MaxLate)
	}
	var fs []task.Firing
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) error {
		var err error
		fs, err = tx.Firings(env.Ctx, 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[1].Subject != res.Task.ID || fs[1].Kind != "reply" || fs[0].Late != 0 {
		t.Fatalf("firings %+v, want the reminder on time, then the reply deadline", fs)
	}
	fs = fs[1:]
	if fs[0].Late != 2*time.Second {
		t.Fatalf("recorded late %v, want 2s (counted after the batch's work, before its commit)", fs[0].Late)
	}
	if !fs[0].DueAt.Equal(due) || !fs[0].FiredAt.Equal(due) {
		t.Fatalf("firing due %v fired %v, want both %v (the deadline is decided at the claim's now)", fs[0].DueAt, fs[0].FiredAt, due)
	}
	if got := env.Task(res.Task.ID); got.State != task.PlatformIntervening {
		t.Fatalf("task state %s, want platform_intervening (R-SLA-3)", got.State)
	}
}

// A manual clock standing a hair before the due time a sweep fires at
// (AdvanceTo) never makes a firing early: lateness is never negative.
func TestFireDue_LatenessNeverNegative(t *testing.T) {
	start := bj(t, "2023-08-01T08:00:00")
	env := newEnv(t, start)
	addShop(env, "tb", commerce.Taobao)
	addOrderShipBy(env, "tb", "o1", start.Add(-time.Hour))
	mustUrge(env, "o1", "task_created")
	due := start.Add(24 * time.Hour)
	env.AdvanceTo(due.Add(-time.Second))
	env.Clock.Set(due.Add(-time.Microsecond))
	fired, err := env.Engine.FireDue(env.Ctx, due, 100)
	if err != nil || fired.Fired != 1 {
		t.Fatalf("FireDue: %+v, %v", fired, err)
	}
	if fired.Lateness[0] != 0 {
		t.Fatalf("lateness %v, want 0", fired.Lateness[0])
	}
}
