package engine_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/store"
	"aftersale/internal/store/postgres"
	"aftersale/internal/store/postgres/pgtest"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// TestConcurrentWritesAcrossReplicasNoInternalError runs seller replies,
// urges and fact batches (partial refunds, which lock the orders' open
// tasks) on the same few orders at once, through two engines, each on a
// pool of its own to one PostgreSQL schema. Whatever order the transactions
// take their row locks in, no caller may see anything but an application
// error (a deadlock or serialization failure is retried inside the
// engine), and the end state is that of the operations applied one at a
// time: every fact applied once, every order's refunds summed once, one
// urge task an order, in a valid state.
func TestConcurrentWritesAcrossReplicasNoInternalError(t *testing.T) {
	if os.Getenv("AFTERSALE_TEST_STORE") != "postgres" {
		t.Skip("two replicas share a PostgreSQL database: set AFTERSALE_TEST_STORE=postgres")
	}
	ctx := context.Background()
	u := pgtest.FreshSchema(t)
	open := func() store.Store {
		st, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	env := testkit.NewOn(t, open(), bj(t, "2023-08-10T10:00:00"))
	other := engine.New(engine.Config{Store: open(), Policy: env.Policy, Clock: env.Clock})
	engines := []*engine.Engine{env.Engine, other}

	addShop(env, "tb", commerce.Taobao)
	orders := []string{"o1", "o2", "o3"}
	tasks := map[string]string{}
	for _, o := range orders {
		tasks[o] = openTask(env, "tb", o, task.UrgeShipment).ID
	}

	const workers, rounds = 2, 25
	var mu sync.Mutex
	var failures []error
	accepted := map[string]int{}
	fail := func(what string, err error) {
		if err == nil || apperr.IsApp(err) {
			return
		}
		mu.Lock()
		failures = append(failures, fmt.Errorf("%s: %w", what, err))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for p, e := range engines {
		for w := range workers {
			wg.Go(func() { // seller replies
				for i := range rounds {
					o := orders[(p+w+i)%len(orders)]
					_, err := e.Act(ctx, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: tasks[o], Text: "今天发出"})
					fail("reply on "+o, err)
				}
			})
			wg.Go(func() { // urges
				for i := range rounds {
					o := orders[(p+w+2*i)%len(orders)]
					_, err := e.Urge(ctx, buyer(buyerOf(o)), o)
					fail("urge "+o, err)
				}
			})
			wg.Go(func() { // fact batches, each sent again through the other replica
				again := engines[1-p]
				for i := range rounds {
					shift := (p + w + i) % len(orders)
					var batch []commerce.Fact
					for _, o := range append(slices.Clone(orders[shift:]), orders[:shift]...) {
						id := fmt.Sprintf("refund-%s-%d-%d-%d", o, p, w, i)
						batch = append(batch, refundFact(id, o, 1, env.Clock.Now().Add(-time.Minute)))
					}
					for _, eng := range []*engine.Engine{e, again} {
						res, err := eng.Ingest(ctx, slices.Clone(batch))
						fail("facts", err)
						mu.Lock()
						for _, r := range res {
							switch r.Status {
							case engine.FactAccepted:
								accepted[r.ID]++
							case engine.FactDuplicate:
							default:
								failures = append(failures, fmt.Errorf("fact %s: %s %v", r.ID, r.Status, r.Error))
							}
						}
						mu.Unlock()
					}
				}
			})
		}
	}
	wg.Wait()
	for _, err := range failures {
		t.Error(err)
	}

	sent := len(engines) * workers * rounds
	if len(accepted) != sent*len(orders) {
		t.Errorf("%d refund facts accepted, want %d", len(accepted), sent*len(orders))
	}
	for id, n := range accepted {
		if n != 1 {
			t.Errorf("fact %s accepted %d times, want once", id, n)
		}
	}
	for _, o := range orders {
		if got := env.Order(o).RefundedFen; got != int64(sent) {
			t.Errorf("order %s refunded %d fen, want %d (one per refund fact)", o, got, sent)
		}
		ts := env.Tasks(store.TaskFilter{OrderID: o})
		if len(ts) != 1 || ts[0].ID != tasks[o] {
			t.Fatalf("order %s has tasks %v, want only %s", o, ts, tasks[o])
		}
		if s := ts[0].State; !slices.Contains(task.States, s) || !s.Open() {
			t.Errorf("task %s is %q, want an open state", ts[0].ID, s)
		}
	}
}
