package scorecard

import (
	"math/big"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/policy"
)

// R-LIA-1: the 30 business days ending with the day evaluated, included.
func TestLiabilityWindow_R_LIA_1(t *testing.T) {
	loc := shanghai(t)
	for _, c := range []struct {
		asOf        time.Time
		first, last string
	}{
		{bj(2023, 3, 30, 10, 0, 0), "2023-03-01", "2023-03-30"},
		{time.Date(2023, 3, 30, 16, 30, 0, 0, time.UTC), "2023-03-02", "2023-03-31"}, // 00:30 on the 31st in Beijing
		{bj(2023, 3, 15, 0, 0, 0), "2023-02-14", "2023-03-15"},                       // across February
		{bj(2024, 3, 15, 0, 0, 0), "2024-02-15", "2024-03-15"},                       // leap year
		{bj(2023, 1, 10, 23, 59, 59), "2022-12-12", "2023-01-10"},
	} {
		f, l := LiabilityWindow(c.asOf, loc, 30)
		if f != c.first || l != c.last {
			t.Errorf("%s: %s..%s, want %s..%s", c.asOf, f, l, c.first, c.last)
		}
	}
}

// R-LIA-1: rate = (liable complaints + liable disputes) ÷ orders over the
// window, from per-day counters read once each.
func TestWindowTotals_R_LIA_1(t *testing.T) {
	loc := shanghai(t)
	var days []DayCounts
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 365 { // a year of counters: only the window's 30 count
		days = append(days, DayCounts{Day: start.AddDate(0, 0, i).Format("2006-01-02"), Orders: 10, LiableComplaints: 1, LiableDisputes: i % 2})
	}
	got := WindowTotals(days, bj(2023, 3, 30, 12, 0, 0), loc, 30)
	// 2023-03-01 .. 03-30 are days 59..88: 15 odd ones have a dispute.
	if got != (Totals{First: "2023-03-01", Last: "2023-03-30", Liable: 30 + 15, Orders: 300}) {
		t.Errorf("%+v", got)
	}
	if r := got.Rate(); r != RateOf(45, 300) || r.String() != "15.00%" || r.Float64() != 0.15 {
		t.Errorf("rate %v", r)
	}
	if r := RateOf(3, 0); r.Defined() || r.Rat() != nil || r.String() != "-" || r.Float64() != 0 {
		t.Errorf("no orders: %v", r)
	}
}

// avg05 is the default configured average: rate 0.5 %, count 2; 5 × is a
// rate of 2.5 % and a count of 10.
func avg05(t *testing.T) (Average, policy.Decimal) {
	li := rules(t, commerce.Taote, bj(2023, 1, 1, 0, 0, 0)).Liability
	a, ok := li.AverageFor("apparel")
	if !ok {
		t.Fatal("no default average")
	}
	return ConfiguredAverage(a), li.Multiplier
}

// R-LIA-2, R-LIA-3: abnormal only when the rate and the count are both
// strictly greater than 5 × the industry average; exactly 5 × is normal.
func TestAbnormal_R_LIA_2_3(t *testing.T) {
	avg, m := avg05(t)
	cases := []struct {
		name  string
		rate  Rate
		count int
		want  bool
	}{
		{"both just above", RateOf(11, 439), 11, true},   // 2.506 %, 11 > 10
		{"rate exactly 5×", RateOf(11, 440), 11, false},  // 2.5 %
		{"count exactly 5×", RateOf(10, 399), 10, false}, // 2.506 %, 10
		{"both exactly 5×", RateOf(10, 400), 10, false},
		{"rate just above, count below", RateOf(3, 100), 9, false},
		{"count above, rate below", RateOf(11, 1000), 11, false},
		{"rate 1 order in 10 000 above", RateOf(25001, 1000000), 25001, true},
		{"no orders: no rate", RateOf(50, 0), 50, false},
	}
	for _, c := range cases {
		if got := Abnormal(c.rate, c.count, avg, m); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// Exact comparison where float64 would be wrong: an average of 1.1 % makes
// 5 × = 5.5 %; 11 liable in 200 orders is exactly 5.5 %, not above, though
// 11.0/200 > 5*0.011 in float64.
func TestAbnormalExact_R_LIA_2(t *testing.T) {
	avg := ConfiguredAverage(policy.IndustryAverage{Rate: policy.MustDecimal("1.1%"), Count: policy.MustDecimal("2.2")})
	m := policy.MustDecimal("5")
	liable, orders, avgRate := 11.0, 200.0, 0.011
	if !(liable/orders > 5*avgRate) {
		t.Log("float64 happens to agree here")
	}
	if Abnormal(RateOf(11, 200), 12, avg, m) {
		t.Error("exactly 5 × 1.1 % judged above")
	}
	if Abnormal(RateOf(12, 200), 11, avg, m) { // count 11 = 5 × 2.2 exactly
		t.Error("count exactly 5 × 2.2 judged above")
	}
	if !Abnormal(RateOf(12, 200), 12, avg, m) {
		t.Error("both above judged normal")
	}
	// A fractional multiplier works the same way.
	if !Abnormal(RateOf(11, 200), 12, avg, policy.MustDecimal("4.99")) {
		t.Error("4.99 ×")
	}
}

// R-LIA-2, R-LIA-3: the takeover starts when both figures go above 5 × and
// stops as soon as either is ≤ 5 ×.
func TestTakeoverTransitions_R_LIA_2_3(t *testing.T) {
	li := rules(t, commerce.Taote, bj(2023, 1, 1, 0, 0, 0)).Liability
	avg, m := avg05(t)
	steps := []struct {
		name   string
		totals Totals
		want   TakeoverChange
		active bool
	}{
		{"normal", Totals{Liable: 5, Orders: 1000}, TakeoverKeep, false},
		{"count above, rate at 5×", Totals{Liable: 11, Orders: 440}, TakeoverKeep, false},
		{"both above: start", Totals{Liable: 11, Orders: 439}, TakeoverStart, true},
		{"still both above", Totals{Liable: 20, Orders: 500}, TakeoverKeep, true},
		{"rate falls to exactly 5×: stop", Totals{Liable: 20, Orders: 800}, TakeoverStop, false},
		{"both above again: start", Totals{Liable: 20, Orders: 500}, TakeoverStart, true},
		{"count falls to exactly 5× (rate still above): stop", Totals{Liable: 10, Orders: 300}, TakeoverStop, false},
		{"count at 5×, stays off", Totals{Liable: 10, Orders: 100}, TakeoverKeep, false},
	}
	active := false
	for _, s := range steps {
		st := Evaluate(s.totals, avg, m)
		got := NextTakeover(active, st, li)
		if got != s.want {
			t.Fatalf("%s: %s (%+v), want %s", s.name, got, st, s.want)
		}
		switch got {
		case TakeoverStart:
			active = true
		case TakeoverStop:
			active = false
		}
		if active != s.active {
			t.Fatalf("%s: active %v", s.name, active)
		}
	}
	// Taobao and Tmall have no takeover: none starts, an active one stops.
	off := rules(t, commerce.Taobao, bj(2023, 1, 1, 0, 0, 0)).Liability
	bad := Evaluate(Totals{Liable: 50, Orders: 100}, avg, m)
	if !bad.Abnormal || !bad.RateAbove || !bad.CountAbove {
		t.Fatalf("%+v", bad)
	}
	if NextTakeover(false, bad, off) != TakeoverKeep || NextTakeover(true, bad, off) != TakeoverStop {
		t.Error("takeover off")
	}
	for c, s := range map[TakeoverChange]string{TakeoverKeep: "keep", TakeoverStart: "start", TakeoverStop: "stop"} {
		if c.String() != s {
			t.Errorf("%d: %s", c, c)
		}
	}
}

// R-LIA-2: only unshipped orders created while the takeover is active.
func TestTakesOver_R_LIA_2(t *testing.T) {
	for _, c := range []struct{ active, shipped, want bool }{
		{true, false, true},
		{true, true, false},
		{false, false, false},
		{false, true, false},
	} {
		if got := TakesOver(c.active, c.shipped); got != c.want {
			t.Errorf("active %v shipped %v: %v", c.active, c.shipped, got)
		}
	}
}

// liability.average_source computed: pooled rate, mean count.
func TestComputedAverage_R_LIA_2(t *testing.T) {
	a, ok := ComputedAverage([]Totals{{Liable: 1, Orders: 100}, {Liable: 3, Orders: 300}, {Liable: 2, Orders: 0}})
	if !ok || a.Rate.Cmp(big.NewRat(6, 400)) != 0 || a.Count.Cmp(big.NewRat(2, 1)) != 0 {
		t.Errorf("%v %v %v", a.Rate, a.Count, ok)
	}
	if _, ok := ComputedAverage(nil); ok {
		t.Error("no shops")
	}
	if _, ok := ComputedAverage([]Totals{{Liable: 1}}); ok {
		t.Error("no orders")
	}
	// A shop is abnormal against a computed average too.
	shops := []Totals{{Liable: 1, Orders: 1000}, {Liable: 1, Orders: 1000}, {Liable: 1, Orders: 1000}}
	a, _ = ComputedAverage(shops)
	if !Evaluate(Totals{Liable: 6, Orders: 1000}, a, policy.MustDecimal("5")).Abnormal {
		t.Error("6/1000 vs 5 × 1/1000 and 5 × 1")
	}
}
