package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/store/postgres"
	"aftersale/internal/store/postgres/pgtest"
	"aftersale/internal/store/storetest"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// openAt opens a store at url and closes it when the test ends.
func openAt(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// open returns a store on a fresh schema.
func open(t testing.TB) *postgres.Store { return openAt(t, pgtest.FreshSchema(t)) }

func TestConformance(t *testing.T) {
	pgtest.RequireServer(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), pgtest.FreshSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		return s // storetest.Run closes it (before the schema is dropped)
	})
}

// The engine runs on PostgreSQL: a task nobody answers goes to
// platform_intervening when its 24 h reply deadline passes (R-SLA-1, R-SLA-4).
func TestEngineSmoke_R_SLA_1(t *testing.T) {
	s := open(t)
	start := time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)
	env := testkit.NewOn(t, s, start)
	env.MustIngest(testkit.ShopFact("tb", commerce.Taobao))
	env.MustIngest(testkit.OrderFact("o1", "tb", "b_o1", start.Add(-10*24*time.Hour), start.Add(-9*24*time.Hour)))
	tk, err := env.Engine.CreateTask(env.Ctx, task.Command{Actor: task.Actor{Role: task.RoleBuyer, ID: "b_o1"},
		OrderID: "o1", Type: task.Exchange})
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	if tk.State != task.AwaitingSellerReply {
		t.Fatalf("new task is %s, want %s", tk.State, task.AwaitingSellerReply)
	}
	if ts := env.Timers(tk.ID); len(ts) == 0 {
		t.Fatal("the new task has no timers")
	}
	env.Advance(24*time.Hour - time.Second)
	if got := env.Task(tk.ID).State; got != task.AwaitingSellerReply {
		t.Fatalf("1 s before the deadline the task is %s", got)
	}
	env.Advance(2 * time.Second)
	got := env.Task(tk.ID)
	if got.State != task.PlatformIntervening {
		t.Fatalf("after the deadline the task is %s, want %s", got.State, task.PlatformIntervening)
	}
	var timeout bool
	for _, e := range env.Events(tk.ID) {
		if e.Action == string(task.ActReplyTimeout) && e.Actor.Role == task.RoleSystem {
			timeout = true
		}
	}
	if !timeout {
		t.Errorf("no reply_timeout event by the system: %+v", env.Events(tk.ID))
	}
}

// setTimers stores n timers due at base+i ms, named tsk_<i>.
func setTimers(t testing.TB, s store.Store, n int, base time.Time) {
	t.Helper()
	ctx := context.Background()
	for lo := 0; lo < n; lo += 1000 {
		err := s.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < min(lo+1000, n); i++ {
				err := tx.SetTimer(ctx, task.Timer{Subject: fmt.Sprintf("tsk_%06d", i), Kind: "reply",
					DueAt: base.Add(time.Duration(i) * time.Millisecond), SetAt: base, PolicyVersion: "v1"})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Two replicas (separate pools) sweeping the same timers at once claim
// disjoint sets whose union is every due timer.
func TestConcurrentClaimDue(t *testing.T) {
	u := pgtest.FreshSchema(t)
	replicas := []*postgres.Store{openAt(t, u), openAt(t, u)}
	const n = 2000
	base := time.Date(2023, 7, 5, 10, 0, 0, 0, time.UTC)
	setTimers(t, replicas[0], n, base)
	now := base.Add(time.Hour)

	claimed := make([][]string, len(replicas))
	var wg sync.WaitGroup
	for r, s := range replicas {
		wg.Go(func() {
			ctx := context.Background()
			for {
				var got []task.Timer
				err := s.Update(ctx, func(tx store.Tx) error {
					var err error
					got, err = tx.ClaimDue(ctx, now, 50)
					time.Sleep(time.Millisecond) // hold the claim, as firing would
					return err
				})
				if err != nil {
					t.Errorf("replica %d: %v", r, err)
					return
				}
				if len(got) == 0 {
					return
				}
				if len(got) > 50 {
					t.Errorf("replica %d: one claim of 50 took %d", r, len(got))
				}
				for _, tm := range got {
					claimed[r] = append(claimed[r], tm.Subject)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for r, ids := range claimed {
		t.Logf("replica %d claimed %d timers", r, len(ids))
		for _, id := range ids {
			if prev, dup := seen[id]; dup {
				t.Errorf("timer %s claimed by replicas %d and %d", id, prev, r)
			}
			seen[id] = r
		}
	}
	if len(seen) != n {
		t.Errorf("%d timers claimed in all, want %d", len(seen), n)
	}
	if ts := mustTimers(t, replicas[0]); len(ts) != 0 {
		t.Errorf("%d timers left", len(ts))
	}
}

// A replica that dies holding claims gives them back: while its transaction
// is open another replica skips those timers; after the rollback it gets them.
func TestClaimDueCrashedReplica(t *testing.T) {
	u := pgtest.FreshSchema(t)
	a, b := openAt(t, u), openAt(t, u)
	base := time.Date(2023, 7, 5, 10, 0, 0, 0, time.UTC)
	setTimers(t, a, 100, base)
	now := base.Add(time.Hour)
	ctx := context.Background()

	held := make(chan []task.Timer)
	crash := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- a.Update(ctx, func(tx store.Tx) error {
			ts, err := tx.ClaimDue(ctx, now, 30)
			if err != nil {
				return err
			}
			held <- ts
			<-crash
			return fmt.Errorf("replica crashed")
		})
	}()
	first := <-held
	var others []task.Timer
	err := b.Update(ctx, func(tx store.Tx) (err error) {
		others, err = tx.ClaimDue(ctx, now, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 30 || len(others) != 70 {
		t.Fatalf("claims: %d held, %d by the other replica; want 30 and 70", len(first), len(others))
	}
	for _, x := range others {
		if slices.ContainsFunc(first, func(y task.Timer) bool { return y.Subject == x.Subject }) {
			t.Fatalf("timer %s claimed twice", x.Subject)
		}
	}
	close(crash)
	if err := <-done; err == nil {
		t.Fatal("the crashed replica's Update succeeded")
	}
	var back []task.Timer
	err = b.Update(ctx, func(tx store.Tx) (err error) {
		back, err = tx.ClaimDue(ctx, now, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back, first) {
		t.Errorf("after the rollback the other replica claimed %d timers, want the %d given back", len(back), len(first))
	}
}

func mustTimers(t testing.TB, s store.Store) []task.Timer {
	t.Helper()
	var ts []task.Timer
	err := s.View(context.Background(), func(tx store.ReadTx) (err error) {
		ts, err = tx.Timers(context.Background(), "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// Opening a second store on a migrated schema migrates nothing and keeps data.
func TestReopenKeepsData(t *testing.T) {
	u := pgtest.FreshSchema(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.IncrCounter(ctx, "c", 7)
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	s = openAt(t, u)
	err = s.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.Counter(ctx, "c")
		if n != 7 {
			t.Errorf("Counter after reopen = %d, want 7", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClosed(t *testing.T) {
	s := open(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Update(context.Background(), func(store.Tx) error { return nil }); err == nil {
		t.Error("Update on a closed store succeeded")
	}
	if err := s.View(context.Background(), func(store.ReadTx) error { return nil }); err == nil {
		t.Error("View on a closed store succeeded")
	}
}

// View's transaction cannot be used to write, even by a type assertion.
func TestViewIsReadOnly(t *testing.T) {
	s := open(t)
	err := s.View(context.Background(), func(tx store.ReadTx) error {
		if _, ok := tx.(store.Tx); ok {
			t.Error("View's ReadTx is also a Tx")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if s, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"); err == nil {
		s.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
}
