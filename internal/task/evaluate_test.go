package task_test

import (
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

// R-URG-1, R-URG-3: at exactly ship_by the urge marks the order; one second
// later it creates a task.
func TestEvaluateUrge_R_URG_1_Boundary(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	r := rulesAt(t, commerce.Taobao, "2023-08-01T10:00:00+08:00")
	f := newFixture(now)
	f.order.ShipBy = now
	out, err := task.EvaluateUrge(f.order, f.shop, r, now)
	if err != nil || out != task.UrgeMark {
		t.Fatalf("at ship_by: %v %v", out, err)
	}
	out, err = task.EvaluateUrge(f.order, f.shop, r, now.Add(time.Second))
	if err != nil || out != task.UrgeCreate {
		t.Fatalf("after ship_by: %v %v", out, err)
	}
	shipped := now
	f.order.ShippedAt = &shipped
	_, err = task.EvaluateUrge(f.order, f.shop, r, now.Add(time.Second))
	wantRefusal(t, err, apperr.ECONFLICT, "order.shipped", "", "R-URG-1")
}

// R-URG-2: each exemption on its own, with the reason naming it.
func TestEvaluateUrge_R_URG_2_EachExemption(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	base := rulesAt(t, commerce.Tmall, "2023-08-01T10:00:00+08:00")
	old := rulesAt(t, commerce.Tmall, "2023-07-14T23:59:59+08:00")
	withRegion := *base
	withRegion.Urge.ExemptRegions = []policy.RegionWindow{{Region: "xinjiang", From: now.Add(-time.Hour)}}
	until := now
	expired := *base
	expired.Urge.ExemptRegions = []policy.RegionWindow{{Region: "xinjiang", From: now.Add(-time.Hour), Until: &until}}

	cases := []struct {
		name   string
		r      *policy.RuleSet
		mod    func(f *fixture)
		reason string // "" = a task is created
	}{
		{"plain", base, func(*fixture) {}, ""},
		{"buyer region", &withRegion, func(f *fixture) { f.order.BuyerRegion = "xinjiang" }, "urge.exempt.region"},
		{"ship-from region", &withRegion, func(f *fixture) { f.shop.ShipFromRegion = "xinjiang" }, "urge.exempt.region"},
		{"region window closed", &expired, func(f *fixture) { f.order.BuyerRegion = "xinjiang" }, ""},
		{"approved delay report", base, func(f *fixture) {
			f.order.DelayReport = &commerce.DelayReport{ReportedShipBy: now, Approved: true}
		}, "urge.exempt.delay_report"},
		{"unapproved delay report", base, func(f *fixture) {
			f.order.DelayReport = &commerce.DelayReport{ReportedShipBy: now.Add(time.Hour)}
		}, ""},
		{"delay report passed", base, func(f *fixture) {
			f.order.DelayReport = &commerce.DelayReport{ReportedShipBy: now.Add(-time.Second), Approved: true}
		}, ""},
		{"custom item", base, func(f *fixture) { f.order.Items[0].Custom = true }, "urge.exempt.category"},
		{"virtual item", base, func(f *fixture) { f.order.Items[0].Virtual = true }, "urge.exempt.category"},
		{"no complaint before mid-July", old, func(*fixture) {}, "urge.exempt.no_complaint"},
		{"complaint before mid-July", old, func(f *fixture) { f.order.Complaints = 1 }, ""},
		{"staged presale before mid-July", old, func(f *fixture) { f.order.Complaints, f.order.Presale = 1, commerce.PresaleStaged }, "urge.exempt.presale"},
		{"full presale before mid-July", old, func(f *fixture) { f.order.Complaints, f.order.Presale = 1, commerce.PresaleFull }, "urge.exempt.presale"},
		{"staged presale after mid-July", base, func(f *fixture) { f.order.Presale = commerce.PresaleStaged }, ""},
		{"full presale after mid-July", base, func(f *fixture) { f.order.Presale = commerce.PresaleFull }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(now)
			c.mod(f)
			out, err := task.EvaluateUrge(f.order, f.shop, c.r, now)
			if c.reason == "" {
				if err != nil || out != task.UrgeCreate {
					t.Fatalf("want a task: %v %v", out, err)
				}
				return
			}
			wantRefusal(t, err, apperr.ECONFLICT, c.reason, "", "R-URG-2")
		})
	}
}

// R-LOG-1: the stall threshold by time in force and area; stalled only after
// more than the threshold.
func TestCheckStall_R_LOG_1_Thresholds(t *testing.T) {
	for _, c := range []struct {
		at             string
		normal, remote time.Duration
	}{
		{"2022-12-14T23:59:59+08:00", 48 * time.Hour, 72 * time.Hour},
		{"2022-12-15T00:00:00+08:00", 72 * time.Hour, 96 * time.Hour},
		{"2023-08-01T00:00:00+08:00", 72 * time.Hour, 96 * time.Hour},
	} {
		for _, p := range []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote} {
			r := rulesAt(t, p, c.at)
			now, _ := time.Parse(time.RFC3339, c.at)
			for _, remote := range []bool{false, true} {
				th := c.normal
				if remote {
					th = c.remote
				}
				f := newFixture(now)
				f.order.RemoteArea = remote
				if got := task.StallThreshold(f.order, r); got != th {
					t.Fatalf("%s %s remote=%v: threshold %v, want %v", p, c.at, remote, got, th)
				}
				shipped := now.Add(-th - time.Hour)
				f.order.ShippedAt = &shipped
				last := now.Add(-th)
				f.order.LastTrackingAt = &last
				err := task.CheckStall(f.order, r, now)
				wantRefusal(t, err, apperr.ECONFLICT, "logistics.not_stalled", "", "R-LOG-2")
				if task.Stalled(f.order, r, now) {
					t.Fatalf("stalled at exactly %v", th)
				}
				last = now.Add(-th - time.Second)
				if !task.Stalled(f.order, r, now) {
					t.Fatalf("%s %s remote=%v: not stalled after %v+1s", p, c.at, remote, th)
				}
			}
		}
	}
}

// R-LOG-2: no report for an unshipped or signed parcel.
func TestCheckStall_R_LOG_2_Preconditions(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	r := rulesAt(t, commerce.Taobao, "2023-08-01T10:00:00+08:00")
	f := newFixture(now)
	wantRefusal(t, task.CheckStall(f.order, r, now), apperr.ECONFLICT, "logistics.unshipped", "", "R-LOG-2")
	old := now.Add(-200 * time.Hour)
	f.order.ShippedAt, f.order.LastTrackingAt, f.order.SignedAt = &old, &old, &old
	wantRefusal(t, task.CheckStall(f.order, r, now), apperr.ECONFLICT, "logistics.signed", "", "R-LOG-2")
}

// R-INV-1, R-INV-4: chasing needs a request; after the final deadline (from
// the second timeout instant on) the task is flagged.
func TestCheckInvoiceChase_R_INV_1_R_INV_4(t *testing.T) {
	now := bj(2023, 8, 21, 10, 0, 0)
	f := newFixture(now)
	_, err := task.CheckInvoiceChase(f.order, now)
	wantRefusal(t, err, apperr.ECONFLICT, "invoice.not_requested", "", "R-INV-1")
	f.order.Invoice = &commerce.Invoice{RequestedAt: now.Add(-20 * 24 * time.Hour), FirstDeadline: now.Add(-10 * 24 * time.Hour), SecondTimeoutAt: now}
	if after, err := task.CheckInvoiceChase(f.order, now.Add(-time.Second)); err != nil || after {
		t.Fatalf("before the final deadline: %v %v", after, err)
	}
	if after, err := task.CheckInvoiceChase(f.order, now); err != nil || !after {
		t.Fatalf("at the final deadline: %v %v", after, err)
	}
	issued := now
	f.order.Invoice.IssuedAt = &issued
	_, err = task.CheckInvoiceChase(f.order, now)
	wantRefusal(t, err, apperr.ECONFLICT, "invoice.issued", "", "R-INV-5")
}
