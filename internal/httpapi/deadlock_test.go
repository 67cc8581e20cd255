package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"aftersale/internal/commerce"
	"aftersale/internal/store"
)

// deadlocking is a store whose next transactions are each chosen as a
// deadlock's victim once they ran, as PostgreSQL's are (SQLSTATE 40P01,
// marked store.ErrRetry by the postgres store).
type deadlocking struct {
	store.Store
	left *atomic.Int64
}

func (s deadlocking) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.left.Add(-1) >= 0 {
			return fmt.Errorf("postgres: commit: %w (%w)", &pgconn.PgError{Severity: "ERROR", Code: "40P01", Message: "deadlock detected"}, store.ErrRetry)
		}
		return nil
	})
}

// A deadlock never reaches the client as 500 internal: a transaction that
// lost one is run again (a request with an Idempotency-Key whole, by the
// middleware; one without by the engine), and one that keeps losing is
// answered 503, which a client retries, with nothing applied.
func TestDeadlockIsRetriedNeverInternal(t *testing.T) {
	left := &atomic.Int64{}
	e := newAPIOn(t, bj(t, "2023-08-01T10:00:00"), false, func(s store.Store) store.Store { return deadlocking{s, left} })
	e.shop("tb", commerce.Taobao)
	for _, o := range []string{"o1", "o2", "o3", "o4"} {
		e.pastOrder("tb", o)
	}
	create := func(order string, headers ...string) resp {
		return e.post("/v1/tasks", map[string]any{"type": "resend", "order_id": order, "actor": actor("buyer", buyerOf(order))}, headers...)
	}

	left.Store(2)
	e.ok(create("o1"), http.StatusCreated, nil)
	left.Store(2)
	e.ok(create("o2", "Idempotency-Key", "k2"), http.StatusCreated, nil)

	left.Store(1 << 20)
	e.wantProblem(create("o3"), http.StatusServiceUnavailable, "not_ready", "", "")
	e.wantProblem(create("o4", "Idempotency-Key", "k4"), http.StatusServiceUnavailable, "not_ready", "", "")
	left.Store(0)
	// nothing of them was applied: the retries create the tasks
	e.ok(create("o3"), http.StatusCreated, nil)
	e.ok(create("o4", "Idempotency-Key", "k4"), http.StatusCreated, nil)
}
