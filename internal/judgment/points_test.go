package judgment

import (
	"fmt"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/policy"
)

const day = 24 * time.Hour

// invoiceCharges returns n standing R-INV-3 charges of 1 point, the first at
// start and then every step.
func invoiceCharges(start time.Time, step time.Duration, n int) []PointsEntry {
	var es []PointsEntry
	for i := range n {
		es = append(es, PointsEntry{ID: fmt.Sprintf("pts_%d", i), ShopID: "shop", Points: 1, Kind: PointsGeneral,
			Rule: RuleInvoicePoints, ComplaintID: fmt.Sprintf("cmp_%d", i), At: start.Add(time.Duration(i) * step)})
	}
	return es
}

// R-INV-3: 1 point per case, at most 6 in any 30 days.
func TestInvoicePointsCap_R_INV_3(t *testing.T) {
	r := rulesAt(t, commerce.Tmall, bj(2023, 1, 1, 0, 0, 0)).Invoice
	t0 := bj(2023, 1, 1, 12, 0, 0)
	six := invoiceCharges(t0, day, 6) // days 0..5
	reversedOne := append(invoiceCharges(t0, day, 6), invoiceCharges(t0, day, 1)[0].Reversal("rev_0", t0.Add(10*day), "v"))
	otherRule := append(invoiceCharges(t0, day, 5), PointsEntry{ID: "forged", Points: 12, Kind: PointsGeneral, Rule: RuleForgedPoints, At: t0})
	cases := []struct {
		name     string
		existing []PointsEntry
		at       time.Time
		want     int
	}{
		{"first case", nil, t0, 1},
		{"the 6th point inside 30 days", invoiceCharges(t0, day, 5), t0.Add(5 * day), 1},
		{"the 7th point inside 30 days", six, t0.Add(6 * day), 0},
		{"the 7th, 1 s before the first point is 30 days old", six, t0.Add(30*day - time.Second), 0},
		// Decision: windows are [s, s+30d); a point exactly 30 days old is out.
		{"the 7th, the first point exactly 30 days ago", six, t0.Add(30 * day), 1},
		{"the 7th after the window slid further", six, t0.Add(31*day + 12*time.Hour), 1},
		{"the 8th, when only one point left the window", append(invoiceCharges(t0, day, 6), invoiceCharges(t0.Add(30*day), 0, 1)[0]), t0.Add(30*day + time.Hour), 0},
		{"a reversed point does not count, nor its reversal", reversedOne, t0.Add(10 * day), 1},
		{"other rules' points do not count", otherRule, t0.Add(5 * day), 1},
		// A case recorded with an earlier time must not overfill a window
		// with later charges: charges at days 10..15 fill [day 10, day 40).
		{"a late case before six later charges", invoiceCharges(t0.Add(10*day), day, 6), t0.Add(9 * day), 0},
		{"a late case exactly 30 days before the last charge", invoiceCharges(t0.Add(10*day), day, 6), t0.Add(15*day - 30*day), 1},
	}
	for _, c := range cases {
		if got := InvoicePointsToCharge(c.existing, c.at, r); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// R-INV-3: more than 1 point per case is cut to what the cap leaves.
func TestInvoicePointsPartialRoom_R_INV_3(t *testing.T) {
	r := policy.InvoiceRules{PointsPerCase: 4, PointsCap: 6, PointsWindow: policy.Duration(30 * day)}
	t0 := bj(2023, 1, 1, 0, 0, 0)
	four := []PointsEntry{{ID: "a", Points: 4, Kind: PointsGeneral, Rule: RuleInvoicePoints, At: t0}}
	if got := InvoicePointsToCharge(four, t0.Add(day), r); got != 2 {
		t.Errorf("%d, want 2", got)
	}
	if got := InvoicePointsToCharge(nil, t0, r); got != 4 {
		t.Errorf("%d, want 4", got)
	}
}

// R-INV-3: effective only from 2022-12-16 00:00 +08:00 (before: 0), on Tmall.
func TestInvoicePointsEffective_R_INV_3(t *testing.T) {
	for _, c := range []struct {
		p    commerce.Platform
		at   time.Time
		want int
	}{
		{commerce.Tmall, bj(2022, 12, 15, 23, 59, 59), 0},
		{commerce.Tmall, bj(2022, 12, 16, 0, 0, 0), 1},
		{commerce.Tmall, time.Date(2022, 12, 15, 16, 0, 0, 0, time.UTC), 1}, // the same instant in UTC
		{commerce.Tmall, time.Date(2022, 12, 15, 15, 59, 59, 0, time.UTC), 0},
		{commerce.Taobao, bj(2023, 1, 1, 0, 0, 0), 0}, // a Tmall rule (see the default files)
	} {
		r := rulesAt(t, c.p, c.at).Invoice
		if got := InvoicePointsToCharge(nil, c.at, r); got != c.want {
			t.Errorf("%s at %s: %d, want %d", c.p, c.at, got, c.want)
		}
	}
}

// R-INV-3: points only when the shop neither issued nor agreed before the
// complaint was upheld, after a second timeout and an urge_invoice task.
func TestInvoicePointsDue_R_INV_3(t *testing.T) {
	second := bj(2022, 12, 25, 0, 0, 0)
	upheld := bj(2022, 12, 28, 10, 0, 0)
	base := InvoiceCase{SecondTimeoutAt: second, TaskRaised: true, UpheldAt: upheld}
	with := func(f func(*InvoiceCase)) InvoiceCase { c := base; f(&c); return c }
	cases := []struct {
		name string
		c    InvoiceCase
		want bool
	}{
		{"not issued, no agreement", base, true},
		{"issued before the upholding", with(func(c *InvoiceCase) { c.IssuedAt = ptr(upheld.Add(-time.Second)) }), false},
		{"issued at the same instant (tie goes to the shop)", with(func(c *InvoiceCase) { c.IssuedAt = ptr(upheld) }), false},
		{"issued after the upholding", with(func(c *InvoiceCase) { c.IssuedAt = ptr(upheld.Add(time.Second)) }), true},
		{"agreed before the upholding", with(func(c *InvoiceCase) { c.AgreedAt = ptr(upheld.Add(-time.Hour)) }), false},
		{"agreed after the upholding", with(func(c *InvoiceCase) { c.AgreedAt = ptr(upheld.Add(time.Hour)) }), true},
		{"no urge_invoice task", with(func(c *InvoiceCase) { c.TaskRaised = false }), false},
		{"upheld before the second timeout", with(func(c *InvoiceCase) { c.UpheldAt = second.Add(-time.Second) }), false},
		{"upheld at the second timeout", with(func(c *InvoiceCase) { c.UpheldAt = second }), true},
	}
	for _, c := range cases {
		if got := InvoicePointsDue(c.c); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// R-COL-6: forged evidence, 12 general points or 48 serious points each time.
func TestForgedEvidencePoints_R_COL_6(t *testing.T) {
	r := rulesAt(t, commerce.Tmall, bj(2023, 1, 1, 0, 0, 0)).Points
	if n, k := ForgedEvidencePoints(false, r); n != 12 || k != PointsGeneral {
		t.Errorf("general: %d %s", n, k)
	}
	if n, k := ForgedEvidencePoints(true, r); n != 48 || k != PointsSerious {
		t.Errorf("serious: %d %s", n, k)
	}
}

// The ledger's standing totals leave out reversed charges.
func TestPointsTotals(t *testing.T) {
	t0 := bj(2023, 1, 1, 0, 0, 0)
	forged := PointsEntry{ID: "f", ShopID: "s", Points: 48, Kind: PointsSerious, Rule: RuleForgedPoints, At: t0}
	es := append(invoiceCharges(t0, day, 3), forged, PointsEntry{ID: "g", Points: 12, Kind: PointsGeneral, Rule: RuleForgedPoints, At: t0})
	es = append(es, es[1].Reversal("r1", t0.Add(2*day), "v"))
	if g, s := Totals(es, t0, t0.Add(30*day)); g != 14 || s != 48 {
		t.Errorf("totals %d general, %d serious, want 14 and 48", g, s)
	}
	if g, _ := Totals(es, t0.Add(day), t0.Add(2*day)); g != 0 { // the day-1 charge was reversed
		t.Errorf("window: %d", g)
	}
	rev := forged.Reversal("r2", t0.Add(day), "tmall/x")
	if rev.Points != -48 || rev.ReversalOf != "f" || rev.Kind != PointsSerious || rev.ShopID != "s" || rev.PolicyVersion != "tmall/x" {
		t.Errorf("reversal %+v", rev)
	}
}
