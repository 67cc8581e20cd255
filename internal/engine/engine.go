// Package engine is the one write path. Every fact, command and timer firing
// goes through it: inside one store transaction it loads what the decision
// needs, calls the pure task.Decide with the rules in force, and writes the
// task projection, the appended events, the timers and the outbox together.
package engine

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/id"
	"aftersale/internal/ident"
	"aftersale/internal/policy"
	"aftersale/internal/scorecard"
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
	commits commitHooks
	polSync policySync
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
	// takeovers caches the shops' takeover states read or written (R-LIA-2).
	takeovers map[string]scorecard.Takeover
	// counts are scorecard counter increments not yet written: a batch of
	// a thousand facts adds to a few (shop, day) counters, written once
	// before the transaction commits or before a counter is read.
	counts map[string]int64
	// openTasks holds the open tasks of a batch's orders, read in one query
	// and kept in step with the transaction's task writes (nil outside
	// Ingest; an order missing from it was not read).
	openTasks map[string][]task.Task
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

// prefetch reads, in three queries, the orders a batch's facts refer to,
// which of its fact ids were seen, and the open tasks of the orders whose
// facts may move tasks, instead of reads per fact. The orders are read (and,
// with several writers, locked) first, so a concurrent batch holding them
// has committed its facts before this one reads which were seen.
//
// invalid[i] is facts[i]'s validation error: an invalid fact's ids are not
// read (only its own id, when it is well-formed, to answer a resend of an
// accepted fact as a duplicate).
func (x *txn) prefetch(ctx context.Context, facts []commerce.Fact, invalid []error) error {
	ids := make([]string, 0, len(facts))
	var oids, moving []string
	for i := range facts {
		f := &facts[i]
		if f.ID != "" && ident.Valid(f.ID) {
			ids = append(ids, f.ID)
		}
		if invalid[i] != nil {
			continue
		}
		if oid := f.OrderID(); oid != "" {
			oids = append(oids, oid)
			if movesTasks(f) {
				moving = append(moving, oid)
			}
		}
	}
	if err := x.prefetchOrders(ctx, oids); err != nil {
		return err
	}
	// the shops of the batch's orders, and the takeover states of the shops
	// whose new orders orderCreated counts, in one read each
	var shops, opening []string
	for i := range facts {
		f := &facts[i]
		if invalid[i] == nil && f.Type == commerce.FactOrder && f.Order != nil {
			shops = append(shops, f.Order.ShopID)
			if x.orders[f.Order.ID] == nil {
				opening = append(opening, f.Order.ShopID)
			}
		}
	}
	for _, o := range x.orders {
		if o != nil {
			shops = append(shops, o.ShopID)
		}
	}
	if err := x.prefetchShops(ctx, shops); err != nil {
		return err
	}
	if err := x.prefetchTakeovers(ctx, opening); err != nil {
		return err
	}
	seen, err := x.tx.FactsSeen(ctx, ids)
	if err != nil {
		return err
	}
	x.seen = seen
	ts, err := x.tx.OpenTasksOfOrders(ctx, moving)
	if err != nil {
		return err
	}
	x.openTasks = make(map[string][]task.Task, len(moving))
	for _, id := range moving {
		x.openTasks[id] = nil
	}
	for i := range ts {
		x.openTasks[ts[i].OrderID] = append(x.openTasks[ts[i].OrderID], ts[i])
	}
	return nil
}

// prefetchShops reads shops into the transaction's cache in one query (the
// ones not there yet; a shop that does not exist is left for shop to refuse).
func (x *txn) prefetchShops(ctx context.Context, ids []string) error {
	shops, err := x.tx.ShopsByID(ctx, uncached(ids, x.shops))
	if err != nil {
		return err
	}
	if x.shops == nil {
		x.shops = make(map[string]*commerce.Shop, len(shops))
	}
	for i := range shops {
		x.shops[shops[i].ID] = &shops[i]
	}
	return nil
}

// prefetchTakeovers reads shops' takeover states (R-LIA-2) into the
// transaction's cache in one query (with several writers, locking them).
func (x *txn) prefetchTakeovers(ctx context.Context, shopIDs []string) error {
	missing := uncached(shopIDs, x.takeovers)
	tos, err := x.tx.Takeovers(ctx, missing)
	if err != nil {
		return err
	}
	if x.takeovers == nil {
		x.takeovers = make(map[string]scorecard.Takeover, len(missing))
	}
	for _, id := range missing {
		x.takeovers[id] = scorecard.Takeover{ShopID: id} // never taken over
	}
	for _, to := range tos {
		x.takeovers[to.ShopID] = to
	}
	return nil
}

// uncached returns the ids that are not keys of cache, each once.
func uncached[V any](ids []string, cache map[string]V) []string {
	var out []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if _, ok := cache[id]; !ok && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// prefetchOrders reads orders into the transaction's cache in one query
// (with several writers, locking them).
func (x *txn) prefetchOrders(ctx context.Context, oids []string) error {
	if len(oids) == 0 {
		return nil
	}
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

// noteTask keeps the batch's open tasks in step with a task just written.
func (x *txn) noteTask(t *task.Task) {
	list, ok := x.openTasks[t.OrderID]
	if !ok {
		return
	}
	list = slices.DeleteFunc(slices.Clone(list), func(o task.Task) bool { return o.ID == t.ID })
	if t.State.Open() {
		list = append(list, *t)
	}
	x.openTasks[t.OrderID] = list
}

// maxUpdateAttempts bounds the runs of a transaction that keeps losing
// races with concurrent ones.
const maxUpdateAttempts = 5

// retryBase is the backoff before the second run; it doubles for each
// further run, and each wait is drawn at random from its upper half.
const retryBase = 2 * time.Millisecond

// retryRaces runs an update again when it lost a race with a concurrent
// transaction (store.ErrRetry: a deadlock or serialization failure that
// PostgreSQL rolled back, a fact recorded concurrently; nothing of it was
// committed), up to maxUpdateAttempts runs in all, after a jittered backoff
// so that the transactions that collided do not collide again in step.
// run reports whether it ran the engine's function: a store that failed
// before (the write joins an idempotent request's transaction that already
// lost: the HTTP layer runs the whole request again) is not retried here.
func retryRaces(ctx context.Context, run func() (ran bool, err error)) error {
	for attempt := 1; ; attempt++ {
		ran, err := run()
		if !errors.Is(err, store.ErrRetry) || !ran || attempt == maxUpdateAttempts {
			return err
		}
		d := retryBase << (attempt - 1)
		t := time.NewTimer(d/2 + rand.N(d/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// update runs fn in a write transaction, again when the transaction lost a
// race (retryRaces): fn must build all its state inside, and may run more
// than once (only the last run's writes commit).
func (e *Engine) update(ctx context.Context, fn func(*txn) error) error {
	var earliest time.Time
	err := retryRaces(ctx, func() (ran bool, err error) {
		err = e.st.Update(ctx, func(tx store.Tx) error {
			ran = true
			x := &txn{e: e, tx: tx, now: e.clk.Now()}
			if err := fn(x); err != nil {
				return err
			}
			if err := x.flushCounts(ctx); err != nil {
				return err
			}
			earliest = x.earliest
			return nil
		})
		return ran, err
	})
	if err == nil && !earliest.IsZero() && e.onTimer != nil {
		e.onTimer(earliest)
	}
	if err == nil {
		e.commits.run()
	}
	return err
}

// shopRules reads a shop and the rules in force for its platform now.
func (x *txn) shopRules(ctx context.Context, shopID string) (*commerce.Shop, *policy.RuleSet, error) {
	shop, err := x.shop(ctx, shopID)
	if err != nil {
		return nil, nil, err
	}
	r, err := x.rules(shop.Platform, x.now)
	if err != nil {
		return nil, nil, err
	}
	return shop, r, nil
}

func (x *txn) rules(platform commerce.Platform, at time.Time) (*policy.RuleSet, error) {
	r, err := x.e.pol.At(platform, at)
	if err != nil {
		return nil, apperr.New(apperr.EINTERNAL, "policy", "", "", "no policy for %s at %s: %v", platform, at.Format(time.RFC3339), err)
	}
	return r, nil
}

// factRules returns the rules in force for a platform at a time a fact
// states; when no policy version covers it, the fact is refused naming
// field (reason policy.not_in_force), before anything was written.
func (x *txn) factRules(platform commerce.Platform, at time.Time, field string) (*policy.RuleSet, error) {
	r, err := x.e.pol.At(platform, at)
	if err != nil {
		return nil, apperr.New(apperr.EINVALID, "policy.not_in_force", field, "", "no policy version for %s is in force at %s (%s)",
			platform, at.UTC().Format(time.RFC3339), field)
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
