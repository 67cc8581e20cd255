package scorecard

import (
	"fmt"
	"math/big"
	"time"

	"aftersale/internal/policy"
)

// Exact comparisons. The liability rules compare a rate with a multiple of
// an average ("rate > 5 × industry average", R-LIA-2). Rates and averages
// are rationals here (math/big.Rat, and policy.Decimal for configured
// figures), never floats: liable/orders > m × avg is decided as the integer
// comparison liable × den(m×avg) > num(m×avg) × orders, which is what
// big.Rat.Cmp does. So a rate exactly at 5 × the average is "≤" (normal),
// however the figures are written, where float64 arithmetic could put
// 5 × 0.007 on either side of 0.035. Float64 methods exist for display only.

// LiabilityWindow returns the first and last business day (YYYY-MM-DD) of
// the liability window ending on the day of asOf in loc (R-LIA-1: the 30
// days ending that day, that day included).
func LiabilityWindow(asOf time.Time, loc *time.Location, days int) (first, last string) {
	l := asOf.In(loc)
	y, m, d := l.Date()
	last = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(dayLayout)
	first = time.Date(y, m, d-(days-1), 0, 0, 0, 0, time.UTC).Format(dayLayout)
	return first, last
}

// Totals are a shop's liability figures over a window of days.
type Totals struct {
	First string `json:"first"` // first day of the window, YYYY-MM-DD
	Last  string `json:"last"`  // last day, included
	// Liable is liable complaints + liable disputes: the "liable count"
	// (售后有责数) and the rate's numerator.
	Liable int `json:"liable"`
	// Orders is the rate's denominator.
	Orders int `json:"orders"`
}

// Rate returns Liable / Orders.
func (t Totals) Rate() Rate { return RateOf(t.Liable, t.Orders) }

// WindowTotals sums the per-day counters over the liability window ending
// on the day of asOf (R-LIA-1), in one pass over days: O(days).
func WindowTotals(days []DayCounts, asOf time.Time, loc *time.Location, windowDays int) Totals {
	first, last := LiabilityWindow(asOf, loc, windowDays)
	s := Sum(days, first, last)
	return Totals{First: first, Last: last, Liable: s.Liable(), Orders: s.Orders}
}

// Rate is an after-sales liability rate (售后有责率, R-LIA-1): liable cases
// per order, kept as the exact fraction Liable / Orders.
type Rate struct {
	Liable int `json:"liable"`
	Orders int `json:"orders"`
}

// RateOf returns the rate liable / orders (liable = liable complaints +
// liable disputes in the window; orders = the shop's orders in the window).
func RateOf(liable, orders int) Rate { return Rate{Liable: liable, Orders: orders} }

// Defined reports whether the rate has a value: a shop with no orders in
// the window has none.
func (r Rate) Defined() bool { return r.Orders > 0 }

// Rat returns the exact rate; nil when it is not Defined.
func (r Rate) Rat() *big.Rat {
	if !r.Defined() {
		return nil
	}
	return big.NewRat(int64(r.Liable), int64(r.Orders))
}

// Float64 returns the rate for display only (0 when not Defined).
func (r Rate) Float64() float64 {
	if !r.Defined() {
		return 0
	}
	return float64(r.Liable) / float64(r.Orders)
}

// String writes the rate as a percentage with two decimals ("1.25%"), or
// "-" when not Defined. For display only.
func (r Rate) String() string {
	if !r.Defined() {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", r.Float64()*100)
}

// Average is an industry's average liability rate and liable count, exact.
type Average struct {
	Rate  *big.Rat `json:"rate"`
	Count *big.Rat `json:"count"`
}

// ConfiguredAverage returns a configured industry average
// (liability.industry_averages, policy average_source configured).
func ConfiguredAverage(a policy.IndustryAverage) Average {
	return Average{Rate: a.Rate.Rat(), Count: a.Count.Rat()}
}

// ComputedAverage returns the average over the shops of an industry (policy
// average_source computed): the pooled rate Σ liable ÷ Σ orders, and the
// mean liable count Σ liable ÷ number of shops. Decision: the rate is pooled
// (order-weighted), not a mean of shop rates, so tiny shops with extreme
// rates do not move it. False when there are no shops or no orders.
func ComputedAverage(shops []Totals) (Average, bool) {
	var liable, orders int64
	for _, s := range shops {
		liable += int64(s.Liable)
		orders += int64(s.Orders)
	}
	return PooledAverage(liable, orders, int64(len(shops)))
}

// PooledAverage is ComputedAverage from an industry's sums: its liable
// cases and orders over the window and its number of shops (the engine
// keeps them as industry day counters, so it costs O(days)).
func PooledAverage(liable, orders, shops int64) (Average, bool) {
	if shops <= 0 || orders <= 0 {
		return Average{}, false
	}
	return Average{Rate: big.NewRat(liable, orders), Count: big.NewRat(liable, shops)}, true
}

// above reports whether x > m × avg, exactly.
func above(x *big.Rat, m policy.Decimal, avg *big.Rat) bool {
	if x == nil || avg == nil {
		return false
	}
	limit := new(big.Rat).Mul(m.Rat(), avg)
	return x.Cmp(limit) > 0
}

// Abnormal reports whether a shop's liability is abnormal (R-LIA-2): its
// rate and its liable count both strictly greater than multiplier × the
// industry's averages. Either at or below (≤) the multiple makes it normal
// (R-LIA-3). Both comparisons are exact — cross-multiplied integers via
// big.Rat, never floats — so a figure exactly at the multiple is not above.
// A rate that is not Defined (no orders) is never above. Normally count is
// rate.Liable.
func Abnormal(rate Rate, count int, avg Average, multiplier policy.Decimal) bool {
	return above(rate.Rat(), multiplier, avg.Rate) && above(big.NewRat(int64(count), 1), multiplier, avg.Count)
}

// Standing is a shop's liability standing at one evaluation.
type Standing struct {
	Totals
	RateAbove  bool `json:"rate_above"`  // rate > multiplier × average rate
	CountAbove bool `json:"count_above"` // liable count > multiplier × average count
	// Abnormal: both above (R-LIA-2).
	Abnormal bool `json:"abnormal"`
}

// Evaluate compares a shop's window totals with its industry's average
// (R-LIA-1, R-LIA-2).
func Evaluate(t Totals, avg Average, multiplier policy.Decimal) Standing {
	s := Standing{Totals: t}
	s.RateAbove = above(t.Rate().Rat(), multiplier, avg.Rate)
	s.CountAbove = above(big.NewRat(int64(t.Liable), 1), multiplier, avg.Count)
	s.Abnormal = s.RateAbove && s.CountAbove
	return s
}

// TakeoverChange is what an evaluation does to a shop's takeover.
type TakeoverChange int

// Takeover changes.
const (
	TakeoverKeep  TakeoverChange = iota // no change
	TakeoverStart                       // R-LIA-2: abnormal, take over from now on
	TakeoverStop                        // R-LIA-3: rate or count back at or below the multiple
)

// String names the change.
func (c TakeoverChange) String() string {
	switch c {
	case TakeoverStart:
		return "start"
	case TakeoverStop:
		return "stop"
	}
	return "keep"
}

// NextTakeover returns what an evaluation does to a takeover that is active
// or not: start it when the shop becomes abnormal (R-LIA-2), stop it as soon
// as either figure is ≤ the multiple (R-LIA-3). There is no hysteresis: the
// takeover is on exactly while both figures are above. On a platform whose
// policy has no takeover (liability.takeover false) an active one stops and
// none starts.
func NextTakeover(active bool, s Standing, r policy.LiabilityRules) TakeoverChange {
	on := r.Takeover && s.Abnormal
	switch {
	case on && !active:
		return TakeoverStart
	case !on && active:
		return TakeoverStop
	}
	return TakeoverKeep
}

// TakesOver reports whether the platform takes over an order and refunds it
// at once (极速退款, R-LIA-2): only an order created while the shop's
// takeover was active, and only while it is unshipped; shipped orders are
// untouched.
func TakesOver(activeAtCreation, shipped bool) bool { return activeAtCreation && !shipped }
