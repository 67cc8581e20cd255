package engine

import (
	"context"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/clock"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// FireResult sums up one sweep.
type FireResult struct {
	Fired   int           `json:"fired"`
	Skipped int           `json:"skipped"` // the lifecycle no longer took the timeout (recorded, not an error)
	MaxLate time.Duration `json:"max_late_ns"`
	// Lateness is each fired timer's lateness, in firing order (for metrics).
	Lateness []time.Duration `json:"-"`
}

// FireDue fires up to limit timers due at or before now, in due order, in one
// transaction through the same path as every other change. A crash before
// commit leaves the timers in place; after commit they are gone with their
// effects, so nothing fires twice.
//
// Lateness is counted to when a firing is seen, not to when its timer was
// claimed: each firing record's late_ns is taken after the batch's work,
// just before the commit, and the result's Lateness and MaxLate (what
// /metrics shows) after the commit. The events keep now, the time the
// deadline was decided at.
func (e *Engine) FireDue(ctx context.Context, now time.Time, limit int) (FireResult, error) {
	var res FireResult
	var dues []task.Firing // the committed batch's firings
	err := e.update(ctx, func(x *txn) error {
		x.now = now
		res, dues = FireResult{}, nil
		due, err := x.tx.ClaimDue(ctx, now, limit)
		if err != nil {
			return err
		}
		// One read for the batch's tasks instead of one per timer; a task
		// whose two timers fire in one batch is seen as the first left it.
		var ids []string
		for _, tm := range due {
			if !isOrderTimer(tm) && !isShopTimer(tm) && !isQuestionTimer(tm) {
				ids = append(ids, tm.Subject)
			}
		}
		loaded, err := x.tx.TasksByID(ctx, ids)
		if err != nil {
			return err
		}
		tasks := make(map[string]*task.Task, len(loaded))
		var oids []string
		for i := range loaded {
			tasks[loaded[i].ID] = &loaded[i]
			if complainsOnTimeout(loaded[i].Type) {
				oids = append(oids, loaded[i].OrderID)
			}
		}
		// The orders a timeout files a complaint on, and the tasks' shops,
		// in one read each too.
		if err := x.prefetchOrders(ctx, oids); err != nil {
			return err
		}
		shops := make([]string, len(loaded))
		for i := range loaded {
			shops[i] = loaded[i].ShopID
		}
		if err := x.prefetchShops(ctx, shops); err != nil {
			return err
		}
		firings := make([]task.Firing, 0, len(due))
		for _, tm := range due {
			firings = append(firings, task.Firing{Subject: tm.Subject, Kind: tm.Kind, DueAt: tm.DueAt, FiredAt: now})
			err := x.fire(ctx, tm, tasks)
			switch {
			case err == nil:
				res.Fired++
			case apperr.IsApp(err):
				res.Skipped++
				e.log.Warn("timer not taken", "subject", tm.Subject, "kind", tm.Kind, "err", err)
			default:
				return err
			}
		}
		if len(firings) == 0 {
			return nil
		}
		done := e.seenAt(now)
		for i := range firings {
			firings[i].Late = done.Sub(firings[i].DueAt)
		}
		dues = firings
		return x.tx.RecordFirings(ctx, firings)
	})
	if err == nil && len(dues) > 0 {
		seen := e.seenAt(now)
		res.Lateness = make([]time.Duration, len(dues))
		for i, f := range dues {
			res.Lateness[i] = seen.Sub(f.DueAt)
			res.MaxLate = max(res.MaxLate, res.Lateness[i])
		}
	}
	return res, err
}

// seenAt is the time a firing decided at now becomes visible: the engine's
// clock, never before now (a manual clock may stand a hair before the due
// time AdvanceTo fires at).
func (e *Engine) seenAt(now time.Time) time.Time {
	if t := e.clk.Now(); t.After(now) {
		return t
	}
	return now
}

// orderTimers handle the order-level timers (subject: the order id) by
// kind: the invoice deadlines (R-INV-2), the time promise (R-PRM-1) and an
// upheld damage claim's remedy and resend deadlines (R-PRM-4, subject: the
// claim id).
// Every other timer is a task's, run by its lifecycle.
var orderTimers = map[string]func(x *txn, ctx context.Context, tm task.Timer) error{
	TimerInvoiceFirst:  (*txn).invoiceDeadline,
	TimerInvoiceSecond: (*txn).invoiceDeadline,
	TimerTimePromise:   (*txn).timePromiseFired,
	TimerClaimRemedy:   (*txn).claimRemedyFired,
	TimerClaimResend:   (*txn).claimResendFired,
}

// isOrderTimer tells the order-level timers from task timers.
func isOrderTimer(tm task.Timer) bool { _, ok := orderTimers[tm.Kind]; return ok }

// complainsOnTimeout tells the task types whose timeout files a complaint on
// the order (R-SLA-3, R-INV-4), so a sweep reads their orders in one query.
func complainsOnTimeout(t task.Type) bool { return t == task.UrgeShipment || t == task.UrgeInvoice }

func (x *txn) fire(ctx context.Context, tm task.Timer, tasks map[string]*task.Task) error {
	if h, ok := orderTimers[tm.Kind]; ok {
		return h(x, ctx, tm)
	}
	if isShopTimer(tm) {
		return x.liabilityTimer(ctx, tm)
	}
	if isQuestionTimer(tm) {
		return x.questionDeadline(ctx, tm)
	}
	t, ok := tasks[tm.Subject]
	if !ok {
		return apperr.Internal(apperr.NotFound("subject", "timer %s/%s has no task", tm.Subject, tm.Kind))
	}
	lc := task.For(t.Type)
	def, ok := lc.TimerFor(tm.Kind)
	if !ok {
		return apperr.Invalid("timer.kind", "", "no %s timer in the %s lifecycle", tm.Kind, lc.Family)
	}
	// The order is loaded only if an effect needs it (a complaint on timeout).
	next, err := x.act(ctx, t, nil, task.Command{Action: def.Fire, Actor: systemActor("timer"), TaskID: t.ID,
		Reason: tm.Kind + " deadline " + tm.DueAt.UTC().Format(time.RFC3339) + " reached"})
	if err == nil {
		tasks[t.ID] = next
	}
	return err
}

// AdvanceTo moves a manual clock forward to t, firing every timer that falls
// due on the way at its own due time, in due order — what a sweeper that is
// never late would do. Scenario replay, tests and the sandbox clock use it.
func (e *Engine) AdvanceTo(ctx context.Context, clk *clock.Manual, t time.Time) (FireResult, error) {
	var total FireResult
	for {
		var next time.Time
		var ok bool
		err := e.st.View(ctx, func(tx store.ReadTx) error {
			var err error
			next, ok, err = tx.NextDue(ctx)
			return err
		})
		if err != nil {
			return total, err
		}
		if !ok || next.After(t) {
			break
		}
		if next.After(clk.Now()) {
			clk.Set(next)
		}
		// Fire at the due time even if the clock (microseconds) reads a hair
		// earlier than a nanosecond due time, so the due timer can be claimed.
		at := clk.Now()
		if next.After(at) {
			at = next
		}
		res, err := e.FireDue(ctx, at, 1000)
		if err != nil {
			return total, err
		}
		total.Fired += res.Fired
		total.Skipped += res.Skipped
		if res.MaxLate > total.MaxLate {
			total.MaxLate = res.MaxLate
		}
		// An empty batch means another sweeper claimed these timers first;
		// go on: the loop ends when nothing is due before t.
	}
	clk.Set(t)
	return total, nil
}
