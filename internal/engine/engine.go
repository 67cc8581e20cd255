// Package engine is the one write path. Every fact, command and timer firing
// goes through it: inside one store transaction it loads what the decision
// needs, calls the pure task.Decide with the rules in force, and writes the
// task projection, the appended events, the timers and the outbox together.
package engine

import (
	"context"
	"log/slog"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/id"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// Config assembles an engine.
type Config struct {
	Store  store.Store
	Policy *policy.Registry
	Clock  clock.Clock
	IDs    id.Generator // defaults to sortable ids on Clock
	// OnTimerSet is called after a commit that set timers, with the earliest
	// due time set, so a sweeper can wake early. May be nil.
	OnTimerSet func(due time.Time)
	// MaxSkew is how far in the future a fact's time may be (clock skew between
	// systems); later is refused. Default 5 minutes.
	MaxSkew time.Duration
	Logger  *slog.Logger
}

// Engine applies facts, commands and timer firings.
type Engine struct {
	st      store.Store
	pol     *policy.Registry
	clk     clock.Clock
	ids     id.Generator
	onTimer func(time.Time)
	skew    time.Duration
	log     *slog.Logger
}

// New returns an engine.
func New(c Config) *Engine {
	e := &Engine{st: c.Store, pol: c.Policy, clk: c.Clock, ids: c.IDs, onTimer: c.OnTimerSet, skew: c.MaxSkew, log: c.Logger}
	if e.ids == nil {
		e.ids = &id.Sortable{Clock: c.Clock}
	}
	if e.skew == 0 {
		e.skew = 5 * time.Minute
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// Store returns the engine's store (for reads).
func (e *Engine) Store() store.Store { return e.st }

// Clock returns the engine's clock.
func (e *Engine) Clock() clock.Clock { return e.clk }

// Policy returns the engine's policy registry.
func (e *Engine) Policy() *policy.Registry { return e.pol }

// SetOnTimerSet replaces the hook called after commits that set timers.
func (e *Engine) SetOnTimerSet(f func(time.Time)) { e.onTimer = f }

// txn carries one transaction's state: the store tx, the time of the
// decisions, and the earliest timer set (to wake the sweeper after commit).
type txn struct {
	e        *Engine
	tx       store.Tx
	now      time.Time
	earliest time.Time
	shops    map[string]*commerce.Shop
	// orders caches the orders this transaction read or wrote (nil: known
	// not to exist). It hands out copies, so a refusal after changing one
	// leaves the cache as the store is.
	orders map[string]*commerce.Order
	// seen holds the fact ids of a batch that were already recorded, read in
	// one query (nil outside Ingest).
	seen map[string]bool
}

// loadOrder reads an order through the transaction's cache.
func (x *txn) loadOrder(ctx context.Context, id string) (*commerce.Order, error) {
	if o, ok := x.orders[id]; ok {
		if o == nil {
			return nil, apperr.NotFound("order_id", "order %q not found", id)
		}
		return cloneOrder(o), nil
	}
	o, err := x.tx.Order(ctx, id)
	if x.orders == nil {
		x.orders = map[string]*commerce.Order{}
	}
	switch {
	case err == nil:
		x.orders[id] = cloneOrder(o)
	case apperr.CodeOf(err) == apperr.ENOTFOUND:
		x.orders[id] = nil
	}
	return o, err
}

// putOrder writes an order and keeps the cache in step.
func (x *txn) putOrder(ctx context.Context, o *commerce.Order) error {
	if err := x.tx.PutOrder(ctx, o); err != nil {
		return err
	}
	if x.orders == nil {
		x.orders = map[string]*commerce.Order{}
	}
	x.orders[o.ID] = cloneOrder(o)
	return nil
}

// factSeen reports whether a fact id was recorded, from the batch's prefetch when there is one.
func (x *txn) factSeen(ctx context.Context, id string) (bool, error) {
	if x.seen != nil {
		return x.seen[id], nil
	}
	return x.tx.FactSeen(ctx, id)
}

// prefetch reads, in two queries, which of a batch's fact ids were seen and
// the orders its facts refer to, instead of two reads per fact.
func (x *txn) prefetch(ctx context.Context, facts []commerce.Fact) error {
	ids := make([]string, 0, len(facts))
	var oids []string
	for i := range facts {
		f := &facts[i]
		if f.ID != "" {
			ids = append(ids, f.ID)
		}
		if oid := f.OrderID(); oid != "" {
			oids = append(oids, oid)
		}
	}
	seen, err := x.tx.FactsSeen(ctx, ids)
	if err != nil {
		return err
	}
	x.seen = seen
	os, err := x.tx.OrdersByID(ctx, oids)
	if err != nil {
		return err
	}
	if x.orders == nil {
		x.orders = make(map[string]*commerce.Order, len(oids))
	}
	for _, id := range oids {
		x.orders[id] = nil
	}
	for i := range os {
		x.orders[os[i].ID] = &os[i]
	}
	return nil
}

func (e *Engine) update(ctx context.Context, fn func(*txn) error) error {
	var earliest time.Time
	err := e.st.Update(ctx, func(tx store.Tx) error {
		x := &txn{e: e, tx: tx, now: e.clk.Now()}
		if err := fn(x); err != nil {
			return err
		}
		earliest = x.earliest
		return nil
	})
	if err == nil && !earliest.IsZero() && e.onTimer != nil {
		e.onTimer(earliest)
	}
	return err
}

func (x *txn) rules(platform commerce.Platform, at time.Time) (*policy.RuleSet, error) {
	r, err := x.e.pol.At(platform, at)
	if err != nil {
		return nil, apperr.New(apperr.EINTERNAL, "policy", "", "", "no policy for %s at %s: %v", platform, at.Format(time.RFC3339), err)
	}
	return r, nil
}

func (x *txn) shop(ctx context.Context, id string) (*commerce.Shop, error) {
	if s, ok := x.shops[id]; ok {
		return s, nil
	}
	s, err := x.tx.Shop(ctx, id)
	if err != nil {
		return nil, err
	}
	if x.shops == nil {
		x.shops = map[string]*commerce.Shop{}
	}
	x.shops[id] = s
	return s, nil
}

func (x *txn) setTimer(ctx context.Context, t task.Timer) error {
	if x.earliest.IsZero() || t.DueAt.Before(x.earliest) {
		x.earliest = t.DueAt
	}
	return x.tx.SetTimer(ctx, t)
}

func systemActor(id string) task.Actor { return task.Actor{Role: task.RoleSystem, ID: id} }
