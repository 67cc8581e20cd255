package engine

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/policy"
	"aftersale/internal/scorecard"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// This file keeps shop scorecards: per-shop (and per-industry) per-day
// counters written in the same transaction as what they count, the
// takeover of R-LIA-2/3 evaluated whenever its inputs change, and the read
// of a whole scorecard in O(days).

// TimerLiability is the kind of a shop's timer that re-evaluates its
// liability standing when the 30-day window slides at business midnight
// (subject: scorecard.TakeoverStream(shop id)).
const TimerLiability = "liability_eval"

// isShopTimer reports whether a timer belongs to a shop, not to a task.
func isShopTimer(tm task.Timer) bool { return tm.Kind == TimerLiability }

// GoldPeriods is how many half-month label periods a scorecard assesses,
// ending with the current one.
const GoldPeriods = 4

// count adds delta to a shop's counter of a metric on a business day and to
// its industry's (for computed industry averages). The increments are
// summed in the transaction and written by flushCounts.
func (x *txn) count(_ context.Context, shop *commerce.Shop, day, metric string, delta int64) error {
	if delta == 0 {
		return nil
	}
	if x.counts == nil {
		x.counts = map[string]int64{}
	}
	x.counts[scorecard.CounterKey(shop.ID, day, metric)] += delta
	x.counts[scorecard.IndustryKey(string(shop.Platform), shop.Industry, day, metric)] += delta
	return nil
}

// flushCounts writes the pending counter increments, in key order (so two
// writers lock counters in the same order).
func (x *txn) flushCounts(ctx context.Context) error {
	if len(x.counts) == 0 {
		return nil
	}
	keys := make([]string, 0, len(x.counts))
	for k, d := range x.counts {
		if d != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	deltas := make([]int64, len(keys))
	for i, k := range keys {
		deltas[i] = x.counts[k]
	}
	clear(x.counts)
	return x.tx.AddCounters(ctx, keys, deltas)
}

// countShop keeps the number of shops per industry (the denominator of a
// computed average liable count) when a shop appears or changes industry.
func (x *txn) countShop(ctx context.Context, old *commerce.Shop, s *commerce.Shop) error {
	if old != nil && old.Industry == s.Industry {
		return nil
	}
	if old != nil {
		if _, err := x.tx.IncrCounter(ctx, scorecard.IndustryShopsKey(string(old.Platform), old.Industry), -1); err != nil {
			return err
		}
	}
	_, err := x.tx.IncrCounter(ctx, scorecard.IndustryShopsKey(string(s.Platform), s.Industry), 1)
	return err
}

// orderCreated counts a new order on the business day it was paid (R-LIA-1's
// denominator, the dispute rates' too) and, while the shop is taken over,
// re-evaluates the takeover (the new order lowers the rate, R-LIA-3) and,
// if it is still on, takes the order over: the platform refunds it at once
// (极速退款, R-LIA-2).
func (x *txn) orderCreated(ctx context.Context, o *commerce.Order, shop *commerce.Shop) error {
	r, err := x.rules(shop.Platform, o.PaidAt)
	if err != nil {
		return err
	}
	if err := x.count(ctx, shop, r.BusinessDay(o.PaidAt), scorecard.MetricOrders, 1); err != nil {
		return err
	}
	to, err := x.takeover(ctx, shop.ID)
	if err != nil || !to.Active {
		return err
	}
	if to, err = x.evaluateLiability(ctx, shop, "order"); err != nil || !to.Active {
		return err
	}
	if !scorecard.TakesOver(to.Active, o.Shipped()) {
		return nil
	}
	now := x.now
	o.TakenOverAt = &now
	if err := x.putOrder(ctx, o); err != nil {
		return err
	}
	rn, err := x.rules(shop.Platform, x.now)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(map[string]any{"order_id": o.ID, "refund_fen": o.PaidFen, "buyer_id": o.BuyerID})
	if err := x.tx.AppendOutbox(ctx, []notify.Message{{Kind: notify.KindPlatformRefund, Recipient: notify.OrderSystem,
		OrderID: o.ID, ShopID: o.ShopID, At: x.now, Status: notify.Pending, Rule: "R-LIA-2",
		Reason:        "the shop is taken over: the platform refunds its new unshipped order at once (极速退款)",
		PolicyVersion: rn.Version, Payload: payload}}); err != nil {
		return err
	}
	return x.orderEvent(ctx, o, systemActor("platform"), "taken_over", "R-LIA-2", rn.Version,
		map[string]any{"refund_fen": o.PaidFen, "takeover_since": to.Since})
}

// takeover reads a shop's takeover state through the transaction's cache.
func (x *txn) takeover(ctx context.Context, shopID string) (scorecard.Takeover, error) {
	if to, ok := x.takeovers[shopID]; ok {
		return to, nil
	}
	to, err := x.tx.Takeover(ctx, shopID)
	if err != nil {
		return to, err
	}
	if x.takeovers == nil {
		x.takeovers = map[string]scorecard.Takeover{}
	}
	x.takeovers[shopID] = to
	return to, nil
}

// liabilityStanding computes a shop's liability standing now: its window
// totals against its industry's average (R-LIA-1, R-LIA-2). ok is false
// when no average is known.
func (x *txn) liabilityStanding(ctx context.Context, tx store.ReadTx, shop *commerce.Shop, r *policy.RuleSet, at time.Time) (scorecard.Standing, scorecard.Average, bool, error) {
	loc := r.Location()
	n := r.Liability.WindowDays()
	first, last := scorecard.WindowDays(at, loc, n)
	days, _, err := dayCounters(ctx, tx, scorecard.ShopPrefix(shop.ID), first, last)
	if err != nil {
		return scorecard.Standing{}, scorecard.Average{}, false, err
	}
	totals := scorecard.WindowTotals(days, at, loc, n)
	avg, ok, err := industryAverage(ctx, tx, shop, r, first, last)
	if err != nil || !ok {
		return scorecard.Standing{Totals: totals}, avg, ok, err
	}
	return scorecard.Evaluate(totals, avg, r.Liability.Multiplier), avg, true, nil
}

// dayCounters reads the day counters of a prefix over [first, last] in one
// range read.
func dayCounters(ctx context.Context, tx store.ReadTx, prefix, first, last string) ([]scorecard.DayCounts, map[string][2]int64, error) {
	from, to := scorecard.KeyRange(prefix, first, last)
	cs, err := tx.CounterRange(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	days, resp := scorecard.DaysOf(prefix, cs)
	return days, resp, nil
}

// industryAverage returns the average a shop is compared with: configured
// per industry, or computed from the industry's day counters (pooled rate,
// mean count per shop).
func industryAverage(ctx context.Context, tx store.ReadTx, shop *commerce.Shop, r *policy.RuleSet, first, last string) (scorecard.Average, bool, error) {
	if r.Liability.AverageSource != policy.AverageComputed {
		a, ok := r.Liability.AverageFor(shop.Industry)
		if !ok {
			return scorecard.Average{}, false, nil
		}
		return scorecard.ConfiguredAverage(a), true, nil
	}
	days, _, err := dayCounters(ctx, tx, scorecard.IndustryPrefix(string(shop.Platform), shop.Industry), first, last)
	if err != nil {
		return scorecard.Average{}, false, err
	}
	shops, err := tx.Counter(ctx, scorecard.IndustryShopsKey(string(shop.Platform), shop.Industry))
	if err != nil {
		return scorecard.Average{}, false, err
	}
	s := scorecard.Sum(days, first, last)
	avg, ok := scorecard.PooledAverage(int64(s.Liable()), int64(s.Orders), shops)
	return avg, ok, nil
}

// evaluateLiability re-evaluates a shop's liability standing now and starts
// or stops its takeover (R-LIA-2: both figures above the multiple; R-LIA-3:
// either at or below it stops it), recording each switch on the shop's
// stream and telling the main account. Unless the trigger is an order, it
// keeps a timer at the next business midnight while the window holds
// liable cases or the takeover is on, so the sliding window switches it on
// time.
func (x *txn) evaluateLiability(ctx context.Context, shop *commerce.Shop, trigger string) (scorecard.Takeover, error) {
	r, err := x.rules(shop.Platform, x.now)
	if err != nil {
		return scorecard.Takeover{}, err
	}
	cur, err := x.takeover(ctx, shop.ID)
	if err != nil {
		return cur, err
	}
	if err := x.flushCounts(ctx); err != nil {
		return cur, err
	}
	st, avg, ok, err := x.liabilityStanding(ctx, x.tx, shop, r, x.now)
	if err != nil {
		return cur, err
	}
	change := scorecard.NextTakeover(cur.Active, st, r.Liability)
	if change != scorecard.TakeoverKeep {
		next := cur
		next.ShopID, next.Active, next.Since, next.PolicyVersion = shop.ID, change == scorecard.TakeoverStart, x.now, r.Version
		rule, action := "R-LIA-3", "takeover_stopped"
		if next.Active {
			next.Starts++
			rule, action = "R-LIA-2", "takeover_started"
		}
		if err := x.tx.PutTakeover(ctx, next); err != nil {
			return cur, err
		}
		x.takeovers[shop.ID] = next
		data := map[string]any{"trigger": trigger, "liable": st.Liable, "orders": st.Orders, "rate": st.Rate().String(),
			"rate_above": st.RateAbove, "count_above": st.CountAbove, "multiplier": r.Liability.Multiplier.String(),
			"window": st.First + ".." + st.Last}
		if ok {
			data["average_rate"], data["average_count"] = avg.Rate.RatString(), avg.Count.RatString()
		}
		b, _ := json.Marshal(data)
		ev := task.Event{Stream: scorecard.TakeoverStream(shop.ID), ShopID: shop.ID, At: x.now, Actor: systemActor("platform"),
			Action: action, Rule: rule, PolicyVersion: r.Version, Visibility: task.ShopAgent, Data: b,
			Reason: takeoverReason(next.Active)}
		if err := x.tx.AppendEvents(ctx, []task.Event{ev}); err != nil {
			return cur, err
		}
		if err := x.tx.AppendOutbox(ctx, []notify.Message{{Kind: notify.KindTakeover, Recipient: shop.MainAccount, ShopID: shop.ID,
			At: x.now, Status: notify.Pending, Rule: rule, Reason: ev.Reason, PolicyVersion: r.Version, Payload: b}}); err != nil {
			return cur, err
		}
		cur = next
	}
	if trigger == "order" {
		return cur, nil
	}
	subject := scorecard.TakeoverStream(shop.ID)
	if cur.Active || st.Liable > 0 {
		return cur, x.setTimer(ctx, task.Timer{Subject: subject, Kind: TimerLiability, DueAt: scorecard.NextMidnight(x.now, r.Location()),
			SetAt: x.now, PolicyVersion: r.Version})
	}
	return cur, x.tx.StopTimer(ctx, subject, TimerLiability)
}

func takeoverReason(active bool) string {
	if active {
		return "after-sales liability rate and liable count both above the multiple of the industry average: new unshipped orders are taken over and refunded at once"
	}
	return "the rate or the liable count is at or below the multiple of the industry average: the takeover stops"
}

// liabilityTimer fires a shop's midnight re-evaluation.
func (x *txn) liabilityTimer(ctx context.Context, tm task.Timer) error {
	shopID, _ := strings.CutPrefix(tm.Subject, "shop:")
	shop, err := x.shop(ctx, shopID)
	if err != nil {
		return err
	}
	_, err = x.evaluateLiability(ctx, shop, "window")
	return err
}

// complaintChanged keeps the counters a complaint's status feeds: liable
// complaints (R-LIA-1) and invoice disputes (R-GLD-1), on the business day
// it was upheld, added when it becomes upheld and taken back when an upheld
// one is withdrawn or overturned; then it re-evaluates the takeover.
func (x *txn) complaintChanged(ctx context.Context, before *judgment.Complaint, after judgment.Complaint) error {
	shop, r, err := x.shopRules(ctx, after.ShopID)
	if err != nil {
		return err
	}
	loc := r.Location()
	day, delta := scorecard.UpheldDelta(before, after, loc)
	if delta == 0 {
		return nil
	}
	if err := x.count(ctx, shop, day, scorecard.MetricLiableComplaints, int64(delta)); err != nil {
		return err
	}
	if iday, idelta := scorecard.InvoiceDisputeDelta(before, after, loc); idelta != 0 {
		if err := x.count(ctx, shop, iday, scorecard.MetricInvoiceDisputes, int64(idelta)); err != nil {
			return err
		}
	}
	_, err = x.evaluateLiability(ctx, shop, "complaint")
	return err
}

// Scorecard reads a shop's scorecard at asOf: the liability rate and count
// against the industry average with the takeover state (R-LIA-1..3), the
// dispute rate (R-COL-4), the average manual response time (R-URG-4) and
// the gold seller verdicts of the last GoldPeriods label periods
// (R-GLD-1..3). It reads a fixed number of day counters: O(days), however
// many orders the shop has.
func (e *Engine) Scorecard(ctx context.Context, shopID string, asOf time.Time) (*scorecard.Card, error) {
	var card scorecard.Card
	err := e.st.View(ctx, func(tx store.ReadTx) error {
		shop, err := tx.Shop(ctx, shopID)
		if err != nil {
			return err
		}
		r, err := e.pol.At(shop.Platform, asOf)
		if err != nil {
			return err
		}
		loc := r.Location()
		first := scorecard.EarliestDay(asOf, r, GoldPeriods)
		_, last := scorecard.WindowDays(asOf, loc, 1)
		days, resp, err := dayCounters(ctx, tx, scorecard.ShopPrefix(shop.ID), first, last)
		if err != nil {
			return err
		}
		lf, _ := scorecard.WindowDays(asOf, loc, r.Liability.WindowDays())
		avg, ok, err := industryAverage(ctx, tx, shop, r, lf, last)
		if err != nil {
			return err
		}
		to, err := tx.Takeover(ctx, shop.ID)
		if err != nil {
			return err
		}
		criteria, err := scorecard.DefaultCatalog().Criteria(r.Gold, loc)
		if err != nil {
			return err
		}
		card = scorecard.Assemble(scorecard.Inputs{ShopID: shop.ID, Platform: string(shop.Platform), Industry: shop.Industry,
			AsOf: asOf.UTC(), Rules: r, Days: days, Resp: resp, Average: avg, AverageOK: ok, Takeover: to,
			Criteria: criteria, GoldPeriods: GoldPeriods})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &card, nil
}
