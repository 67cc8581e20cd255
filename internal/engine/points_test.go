package engine_test

import (
	"fmt"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/store"
	"aftersale/internal/testkit"
)

// invoiceComplaints opens n orders on the shop, requests their invoices at
// the current time A, chases each at A+20d (after the final deadline) and
// lets the 24 h pass, so each has an open invoice complaint filed by the
// platform (R-INV-4). It returns the complaint ids by order.
func invoiceComplaints(t *testing.T, env *testkit.Env, shopID string, n int) []string {
	t.Helper()
	a := env.Clock.Now()
	var orders []string
	for i := 1; i <= n; i++ {
		oid := fmt.Sprintf("%s_o%d", shopID, i)
		addOrder(env, shopID, oid)
		env.MustIngest(invoiceRequestFact("req_"+oid, oid, a))
		orders = append(orders, oid)
	}
	env.AdvanceTo(a.Add(20 * day))
	for _, oid := range orders {
		if _, err := chase(env, oid); err != nil {
			t.Fatalf("chase %s: %v", oid, err)
		}
	}
	env.AdvanceTo(a.Add(21 * day))
	var ids []string
	for _, oid := range orders {
		cs := env.Complaints(oid)
		if len(cs) != 1 || cs[0].Kind != judgment.ComplaintInvoice {
			t.Fatalf("%s: complaints %+v", oid, cs)
		}
		ids = append(ids, cs[0].ID)
	}
	return ids
}

func finish(t *testing.T, env *testkit.Env, complaintID, status string) {
	t.Helper()
	if _, err := env.Engine.FinishComplaint(env.Ctx, agent("xiaoer"), complaintID, status); err != nil {
		t.Fatalf("finish %s: %v", complaintID, err)
	}
}

func points(t *testing.T, env *testkit.Env, shopID string) (total int, entries []judgment.PointsEntry) {
	t.Helper()
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) {
		entries, err = tx.Points(env.Ctx, shopID, time.Time{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		total += e.Points
	}
	return total, entries
}

func hasOrderEvent(env *testkit.Env, orderID, action string) bool {
	for _, ev := range env.Events(orderID) {
		if ev.Action == action {
			return true
		}
	}
	return false
}

// R-INV-3: each upheld invoice complaint after a second timeout costs the
// Tmall shop 1 general point, at most 6 in any 30 days: the 6th is charged,
// the 7th inside the window is not (and the cap is recorded); one second
// before the first point leaves the window a case is still capped, and
// exactly when it leaves a case is charged again.
func TestPoints_R_INV_3_CapSixInThirtyDays(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	cs := invoiceComplaints(t, env, "tm", 9)

	t0 := env.Clock.Now().Add(time.Hour)
	for i := 0; i < 6; i++ {
		env.AdvanceTo(t0.Add(time.Duration(i) * time.Minute))
		finish(t, env, cs[i], judgment.ComplaintUpheld)
		if got, _ := points(t, env, "tm"); got != i+1 {
			t.Fatalf("after upholding case %d: %d points, want %d", i+1, got, i+1)
		}
	}
	env.AdvanceTo(t0.Add(10 * time.Minute))
	finish(t, env, cs[6], judgment.ComplaintUpheld)
	if got, _ := points(t, env, "tm"); got != 6 {
		t.Fatalf("7th case inside 30 days: %d points, want 6 (capped)", got)
	}
	if !hasOrderEvent(env, "tm_o7", "points_capped") {
		t.Fatal("the capped case left no points_capped event")
	}

	env.AdvanceTo(t0.Add(30*day - time.Second))
	finish(t, env, cs[7], judgment.ComplaintUpheld)
	if got, _ := points(t, env, "tm"); got != 6 {
		t.Fatalf("one second before the first point leaves the window: %d points, want 6", got)
	}
	env.AdvanceTo(t0.Add(30 * day))
	finish(t, env, cs[8], judgment.ComplaintUpheld)
	total, entries := points(t, env, "tm")
	if total != 7 {
		t.Fatalf("once the window slides past the first point: %d points, want 7", total)
	}
	last := entries[len(entries)-1]
	if last.Rule != "R-INV-3" || last.Kind != judgment.PointsGeneral || last.ComplaintID != cs[8] || last.TaskID == "" ||
		!last.At.Equal(t0.Add(30*day)) || last.PolicyVersion == "" {
		t.Fatalf("ledger entry %+v", last)
	}
	for _, ev := range env.Events("tm_o9") {
		if ev.Action == "points_charged" && ev.Visibility != "shop_agent" {
			t.Fatalf("points event visible to %s, want shop_agent", ev.Visibility)
		}
	}
}

// R-INV-3: no points when the invoice was issued before the complaint was
// upheld, when the complaint is withdrawn after agreement, before the rule's
// start on 2022-12-16, or on Taobao (the rule is Tmall's 天猫发票管理规范).
func TestPoints_R_INV_3_NoPointsCases(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	addShop(env, "tb", commerce.Taobao)
	tm := invoiceComplaints(t, env, "tm", 2)
	env.MustIngest(invoiceIssuedFact("iss", "tm_o1", env.Clock.Now()))
	env.Advance(time.Hour)
	finish(t, env, tm[0], judgment.ComplaintUpheld) // issued before upholding
	finish(t, env, tm[1], judgment.ComplaintWithdrawn)
	if got, _ := points(t, env, "tm"); got != 0 {
		t.Fatalf("issued / withdrawn: %d points, want 0", got)
	}
	tb := invoiceComplaints(t, env, "tb", 1)
	finish(t, env, tb[0], judgment.ComplaintUpheld)
	if got, _ := points(t, env, "tb"); got != 0 {
		t.Fatalf("taobao: %d points, want 0", got)
	}

	// Before 2022-12-16 00:00 +08:00 the rule was not in force; at it, it is.
	early := newEnv(t, bj(t, "2022-11-24T10:00:00"))
	addShop(early, "tm", commerce.Tmall)
	cs := invoiceComplaints(t, early, "tm", 2) // complaints filed 2022-12-15 10:00
	early.AdvanceTo(bj(t, "2022-12-15T23:59:59"))
	finish(t, early, cs[0], judgment.ComplaintUpheld)
	if got, _ := points(t, early, "tm"); got != 0 {
		t.Fatalf("upheld at 2022-12-15 23:59:59: %d points, want 0", got)
	}
	early.AdvanceTo(bj(t, "2022-12-16T00:00:00"))
	finish(t, early, cs[1], judgment.ComplaintUpheld)
	if got, _ := points(t, early, "tm"); got != 1 {
		t.Fatalf("upheld at 2022-12-16 00:00: %d points, want 1", got)
	}
}
