// Package testkit assembles a real engine for tests: a SQLite store in a
// temporary directory, the embedded default policy, a manual clock and
// deterministic ids. It is imported by tests only.
package testkit

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/id"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/store/postgres"
	"aftersale/internal/store/postgres/pgtest"
	"aftersale/internal/store/sqlite"
	"aftersale/internal/task"
)

// Env is an engine on a fresh store.
type Env struct {
	T      testing.TB
	Ctx    context.Context
	Store  store.Store
	Engine *engine.Engine
	Clock  *clock.Manual
	Policy *policy.Registry
}

// New returns an engine on a fresh store with the clock at start: SQLite in
// a temporary directory, or, when AFTERSALE_TEST_STORE=postgres, a schema of
// its own on the test PostgreSQL server — so the engine's whole test suite
// runs against either store.
func New(t testing.TB, start time.Time) *Env {
	t.Helper()
	return NewOn(t, OpenStore(t), start)
}

// OpenStore opens a fresh, empty store of the kind AFTERSALE_TEST_STORE
// names (sqlite, the default, or postgres) and closes it when the test ends.
func OpenStore(t testing.TB) store.Store {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	switch kind := os.Getenv("AFTERSALE_TEST_STORE"); kind {
	case "", "sqlite":
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	case "postgres":
		st, err = postgres.Open(ctx, pgtest.FreshSchema(t))
	default:
		t.Fatalf("AFTERSALE_TEST_STORE=%q: want sqlite or postgres", kind)
	}
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// NewOn returns an engine on the given empty store.
func NewOn(t testing.TB, st store.Store, start time.Time) *Env {
	t.Helper()
	reg, err := policy.Default()
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	clk := clock.NewManual(start)
	eng := engine.New(engine.Config{Store: st, Policy: reg, Clock: clk, IDs: &id.Sequence{}})
	return &Env{T: t, Ctx: context.Background(), Store: st, Engine: eng, Clock: clk, Policy: reg}
}

// Time parses an RFC 3339 time or fails the test.
func Time(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

// Ingest applies facts (ids and times filled in when empty) and fails the
// test on a system error. It returns the per-fact results.
func (e *Env) Ingest(facts ...commerce.Fact) []engine.FactResult {
	e.T.Helper()
	for i := range facts {
		if facts[i].At.IsZero() {
			facts[i].At = e.Clock.Now()
		}
	}
	res, err := e.Engine.Ingest(e.Ctx, facts)
	if err != nil {
		e.T.Fatalf("ingest: %v", err)
	}
	return res
}

// MustIngest applies facts and fails the test unless all are accepted.
func (e *Env) MustIngest(facts ...commerce.Fact) {
	e.T.Helper()
	for _, r := range e.Ingest(facts...) {
		if r.Status != engine.FactAccepted {
			e.T.Fatalf("fact %s: %s %v", r.ID, r.Status, r.Error)
		}
	}
}

// Advance moves the clock by d, firing due timers in order.
func (e *Env) Advance(d time.Duration) engine.FireResult {
	e.T.Helper()
	return e.AdvanceTo(e.Clock.Now().Add(d))
}

// AdvanceTo moves the clock to t, firing due timers in order.
func (e *Env) AdvanceTo(t time.Time) engine.FireResult {
	e.T.Helper()
	res, err := e.Engine.AdvanceTo(e.Ctx, e.Clock, t)
	if err != nil {
		e.T.Fatalf("advance: %v", err)
	}
	return res
}

// Task reads a task or fails the test.
func (e *Env) Task(id string) *task.Task {
	e.T.Helper()
	var t *task.Task
	e.view(func(tx store.ReadTx) (err error) { t, err = tx.Task(e.Ctx, id); return })
	return t
}

// Order reads an order or fails the test.
func (e *Env) Order(id string) *commerce.Order {
	e.T.Helper()
	var o *commerce.Order
	e.view(func(tx store.ReadTx) (err error) { o, err = tx.Order(e.Ctx, id); return })
	return o
}

// Events reads a stream's events.
func (e *Env) Events(stream string) []task.Event {
	e.T.Helper()
	var evs []task.Event
	e.view(func(tx store.ReadTx) (err error) { evs, err = tx.Events(e.Ctx, stream); return })
	return evs
}

// Timers reads a subject's timers ("" for all).
func (e *Env) Timers(subject string) []task.Timer {
	e.T.Helper()
	var ts []task.Timer
	e.view(func(tx store.ReadTx) (err error) { ts, err = tx.Timers(e.Ctx, subject); return })
	return ts
}

// Outbox reads the whole outbox.
func (e *Env) Outbox() []notify.Message {
	e.T.Helper()
	var ms []notify.Message
	e.view(func(tx store.ReadTx) (err error) { ms, err = tx.Outbox(e.Ctx, 0, 1<<30); return })
	return ms
}

// Tasks lists tasks matching a filter.
func (e *Env) Tasks(f store.TaskFilter) []task.Task {
	e.T.Helper()
	var ts []task.Task
	e.view(func(tx store.ReadTx) (err error) { ts, err = tx.Tasks(e.Ctx, f); return })
	return ts
}

// Complaints lists an order's complaints.
func (e *Env) Complaints(orderID string) []judgment.Complaint {
	e.T.Helper()
	var cs []judgment.Complaint
	e.view(func(tx store.ReadTx) (err error) { cs, err = tx.Complaints(e.Ctx, orderID); return })
	return cs
}

func (e *Env) view(fn func(store.ReadTx) error) {
	e.T.Helper()
	if err := e.Store.View(e.Ctx, fn); err != nil {
		e.T.Fatalf("view: %v", err)
	}
}

// ShopFact returns a shop fact with a main account and the given sub-accounts.
func ShopFact(id string, p commerce.Platform, subs ...commerce.Account) commerce.Fact {
	return commerce.Fact{ID: "shop-" + id, Type: commerce.FactShop, Shop: &commerce.Shop{
		ID: id, Platform: p, Industry: "apparel", MainAccount: id + "_main", ShipFromRegion: "zhejiang",
		InvoiceMode: commerce.InvoiceUpload, SubAccounts: subs}}
}

// OrderFact returns a paid order of 100 yuan with one plain item.
func OrderFact(id, shopID, buyerID string, paidAt, shipBy time.Time) commerce.Fact {
	return commerce.Fact{ID: "order-" + id, Type: commerce.FactOrder, At: paidAt, Order: &commerce.Order{
		ID: id, ShopID: shopID, BuyerID: buyerID, BuyerRegion: "beijing", PaidFen: 10000, PaidAt: paidAt, ShipBy: shipBy,
		Items: []commerce.Item{{SKU: "SKU-1", Category: "apparel"}}}}
}

// Refusal asserts err is an application error with the given rule (and,
// when reason is not empty, reason), and returns it.
func Refusal(t testing.TB, err error, rule, reason string) *apperr.Error {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("want a refusal citing %s, got %v", rule, err)
	}
	if ae.Rule != rule {
		t.Fatalf("refusal cites %q, want %q: %v", ae.Rule, rule, ae)
	}
	if reason != "" && ae.Reason != reason {
		t.Fatalf("refusal reason %q, want %q: %v", ae.Reason, reason, ae)
	}
	return ae
}
