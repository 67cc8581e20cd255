package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// racyStore fails its next Updates as the PostgreSQL store fails a
// transaction PostgreSQL chose as a deadlock's victim: fn runs, then the
// transaction rolls back with SQLSTATE 40P01, marked store.ErrRetry.
type racyStore struct {
	store.Store
	mu    sync.Mutex
	fails int  // Updates left to fail
	early bool // fail before fn runs (a transaction the engine does not own: an idempotent request's)
	calls int  // Updates called
}

func (s *racyStore) set(fails int, early bool) {
	s.mu.Lock()
	s.fails, s.early, s.calls = fails, early, 0
	s.mu.Unlock()
}

func (s *racyStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	s.mu.Lock()
	s.calls++
	fail, early := s.fails > 0, s.early
	if fail {
		s.fails--
	}
	s.mu.Unlock()
	deadlock := fmt.Errorf("postgres: read order %q: %w (%w)", "o1",
		&pgconn.PgError{Severity: "ERROR", Code: "40P01", Message: "deadlock detected"}, store.ErrRetry)
	switch {
	case fail && early:
		return deadlock
	case fail:
		return s.Store.Update(ctx, func(tx store.Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			return deadlock // rolls back what fn wrote
		})
	}
	return s.Store.Update(ctx, fn)
}

func racyEnv(t *testing.T) (*testkit.Env, *racyStore, *task.Task) {
	st := &racyStore{Store: testkit.OpenStore(t)}
	env := testkit.NewOn(t, st, bj(t, "2023-08-10T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	return env, st, openTask(env, "tb", "o1", task.UrgeShipment)
}

// A seller's reply whose transaction is a deadlock's victim twice is run
// again, whole, and applied once: the caller sees no error.
func TestUpdateRetriesDeadlock(t *testing.T) {
	env, st, tk := racyEnv(t)
	st.set(2, false)
	got, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: tk.ID, Text: "今天发出"})
	if err != nil {
		t.Fatalf("reply after two deadlocks: %v, want it applied", err)
	}
	if st.calls != 3 {
		t.Errorf("%d transactions, want 3 (two rolled back, one committed)", st.calls)
	}
	if got.State != task.AwaitingSellerAction || env.Task(tk.ID).State != task.AwaitingSellerAction {
		t.Errorf("task %s after the reply, want %s", env.Task(tk.ID).State, task.AwaitingSellerAction)
	}
	replies := 0
	for _, ev := range env.Events(tk.ID) {
		if ev.Action == string(task.ActReply) {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d reply events, want 1", replies)
	}
}

// A transaction that keeps losing is run a bounded number of times; its
// error still says it may be retried (the HTTP layer answers 503, not 500).
func TestUpdateRetryBounded(t *testing.T) {
	env, st, tk := racyEnv(t)
	st.set(1000, false)
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: tk.ID})
	if !errors.Is(err, store.ErrRetry) {
		t.Fatalf("reply = %v, want an error wrapping store.ErrRetry", err)
	}
	if st.calls != engine.MaxUpdateAttempts {
		t.Errorf("%d transactions, want %d", st.calls, engine.MaxUpdateAttempts)
	}
	if s := env.Task(tk.ID).State; s != task.AwaitingSellerReply {
		t.Errorf("task %s, want it unchanged (%s)", s, task.AwaitingSellerReply)
	}
}

// A store that fails before running the engine's function (the write runs
// in an idempotent request's transaction, already lost: the request runs
// again whole, httpapi's idempotency middleware) is not retried here.
func TestUpdateNoRetryWhenFnDidNotRun(t *testing.T) {
	env, st, tk := racyEnv(t)
	st.set(1000, true)
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: tk.ID})
	if !errors.Is(err, store.ErrRetry) {
		t.Fatalf("reply = %v, want an error wrapping store.ErrRetry", err)
	}
	if st.calls != 1 {
		t.Errorf("%d transactions, want 1", st.calls)
	}
}
