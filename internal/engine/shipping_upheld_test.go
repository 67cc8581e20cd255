package engine_test

import (
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// shippingComplaint files the buyer's shipping complaint on the order.
func shippingComplaint(t *testing.T, env *testkit.Env, orderID string) *judgment.Complaint {
	t.Helper()
	c, err := env.Engine.FileComplaint(env.Ctx, buyer(buyerOf(orderID)), orderID, judgment.ComplaintShipping)
	if err != nil {
		t.Fatalf("complaint on %s: %v", orderID, err)
	}
	return c
}

// ofComplaint keeps the ledger entries that name the complaint.
func ofComplaint(es []judgment.CompensationEntry, complaintID string) []judgment.CompensationEntry {
	var out []judgment.CompensationEntry
	for _, e := range es {
		if e.ComplaintID == complaintID {
			out = append(out, e)
		}
	}
	return out
}

func pointsOfComplaint(t *testing.T, env *testkit.Env, shopID, complaintID string) []judgment.PointsEntry {
	t.Helper()
	_, all := points(t, env, shopID)
	var out []judgment.PointsEntry
	for _, p := range all {
		if p.ComplaintID == complaintID {
			out = append(out, p)
		}
	}
	return out
}

// R-SLA-3: "若投诉成立，会产生赔付和违规行为扣分" — an upheld shipping complaint
// brings the buyer compensation and the shop violation points. By the
// default policy (inferred: the seeds name the standards, not the figures):
// 5 % of the amount actually paid, rounded half up, at least 1 yuan and at
// most 30 yuan, and 1 general point. At the floor, a rounding boundary, in
// the middle and at the cap; on Taobao, Tmall and Taote.
func TestShippingUpheld_R_SLA_3_CompensationAndPoints(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	for _, s := range []struct {
		id string
		p  commerce.Platform
	}{{"tb", commerce.Taobao}, {"tm", commerce.Tmall}, {"tt", commerce.Taote}} {
		addShop(env, s.id, s.p)
		for _, c := range []struct {
			order     string
			paid, fen int64
		}{
			{"floor", 1000, 100}, // 50 fen → at least 1 yuan
			{"half", 2010, 101},  // 100.5 fen → 101 (half up)
			{"mid", 12900, 645},  // 5 %
			{"cap", 60010, 3000}, // 3000.5 fen → at most 30 yuan
			{"dis", 12900, 0},    // dismissed: nothing
			{"wdr", 12900, 0},    // withdrawn while open: nothing
		} {
			oid := s.id + "_" + c.order
			promisedOrder(env, s.id, oid, c.paid)
			cmp := shippingComplaint(t, env, oid)
			env.Advance(time.Hour)
			switch c.order {
			case "dis":
				finish(t, env, cmp.ID, judgment.ComplaintDismissed)
			case "wdr":
				if _, err := env.Engine.WithdrawComplaint(env.Ctx, buyer(buyerOf(oid)), cmp.ID, "agreed"); err != nil {
					t.Fatal(err)
				}
			default:
				finish(t, env, cmp.ID, judgment.ComplaintUpheld)
			}
			es := ofComplaint(ledger(env, s.id), cmp.ID)
			ps := pointsOfComplaint(t, env, s.id, cmp.ID)
			if c.fen == 0 {
				if len(es) != 0 || len(ps) != 0 {
					t.Fatalf("%s: not upheld, yet compensation %+v points %+v", oid, es, ps)
				}
				continue
			}
			if len(es) != 1 {
				t.Fatalf("%s: compensation %+v", oid, es)
			}
			e := es[0]
			if e.AmountFen != c.fen || e.ByShopFen != c.fen || e.FromDepositFen != 0 || e.Rule != "R-SLA-3" ||
				e.Kind != judgment.KindShippingComplaint || e.OrderID != oid || e.BuyerID != buyerOf(oid) || !e.At.Equal(env.Clock.Now()) {
				t.Fatalf("%s: entry %+v, want %d fen by the shop (no deposit)", oid, e, c.fen)
			}
			if len(ps) != 1 || ps[0].Points != 1 || ps[0].Kind != judgment.PointsGeneral || ps[0].Rule != "R-SLA-3" {
				t.Fatalf("%s: points %+v, want 1 general under R-SLA-3", oid, ps)
			}
			if !hasOrderEvent(env, oid, "complaint_compensated") || !hasOrderEvent(env, oid, "points_charged") {
				t.Fatalf("%s: no complaint_compensated / points_charged events", oid)
			}
		}
	}
}

// R-SLA-3: the compensation is paid from the shop's deposit first, up to its
// balance (like R-PRM-5/6 claims); an overturned complaint reverses both
// ledgers by entries of their own, and the deposit gets back what it paid.
// Overturning twice is refused and reverses nothing more.
func TestShippingUpheld_R_SLA_3_DepositFirstAndOverturn(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	env.MustIngest(depositFact("dep1", "tb", 500))
	promisedOrder(env, "tb", "o1", 12900)
	promisedOrder(env, "tb", "o2", 12900)
	c1 := shippingComplaint(t, env, "o1")
	c2 := shippingComplaint(t, env, "o2")
	env.Advance(time.Hour)
	finish(t, env, c1.ID, judgment.ComplaintUpheld)
	finish(t, env, c2.ID, judgment.ComplaintUpheld)
	e1, e2 := ofComplaint(ledger(env, "tb"), c1.ID), ofComplaint(ledger(env, "tb"), c2.ID)
	if len(e1) != 1 || e1[0].AmountFen != 645 || e1[0].FromDepositFen != 500 || e1[0].ByShopFen != 145 {
		t.Fatalf("first: %+v, want 500 fen from the deposit and 145 by the shop", e1)
	}
	if len(e2) != 1 || e2[0].AmountFen != 645 || e2[0].FromDepositFen != 0 || e2[0].ByShopFen != 645 {
		t.Fatalf("second (deposit empty): %+v", e2)
	}
	if d := deposit(env, "tb"); d != 0 {
		t.Fatalf("deposit %d, want 0", d)
	}
	if total, _ := points(t, env, "tb"); total != 2 {
		t.Fatalf("points %d, want 2", total)
	}

	env.Advance(24 * time.Hour)
	if _, err := env.Engine.OverturnComplaint(env.Ctx, agent("xiaoer"), c1.ID, "the parcel was handed over in time"); err != nil {
		t.Fatal(err)
	}
	es := ofComplaint(ledger(env, "tb"), c1.ID)
	if len(es) != 2 || es[1].ReversalOf != es[0].ID || es[1].AmountFen != -645 || es[1].FromDepositFen != -500 || es[1].ByShopFen != -145 ||
		es[1].Rule != "R-SLA-3" || !es[1].At.Equal(env.Clock.Now()) {
		t.Fatalf("after the overturn: %+v", es)
	}
	if d := deposit(env, "tb"); d != 500 {
		t.Fatalf("deposit %d, want 500 back", d)
	}
	ps := pointsOfComplaint(t, env, "tb", c1.ID)
	if len(ps) != 2 || ps[1].ReversalOf != ps[0].ID || ps[1].Points != -1 || ps[1].Rule != "R-SLA-3" {
		t.Fatalf("points after the overturn: %+v", ps)
	}
	if total, _ := points(t, env, "tb"); total != 1 {
		t.Fatalf("points %d, want 1 (the second complaint's)", total)
	}
	if !hasOrderEvent(env, "o1", "compensation_reversed") || !hasOrderEvent(env, "o1", "points_reversed") {
		t.Fatal("no reversal events on the order")
	}
	if len(ofComplaint(ledger(env, "tb"), c2.ID)) != 1 || len(pointsOfComplaint(t, env, "tb", c2.ID)) != 1 {
		t.Fatal("the overturn touched the other complaint")
	}
	if _, err := env.Engine.OverturnComplaint(env.Ctx, agent("xiaoer"), c1.ID, "again"); err == nil {
		t.Fatal("overturned twice")
	}
	if n := len(ofComplaint(ledger(env, "tb"), c1.ID)); n != 2 {
		t.Fatalf("%d entries after a refused second overturn", n)
	}
}

// R-SLA-3: the complaint the platform files when an urge_shipment task times
// out, once upheld, writes both ledgers naming the task; an order refunded in
// full before the upholding has nothing actually paid, so no compensation,
// but the points are charged.
func TestShippingUpheld_R_SLA_3_PlatformFiledAndRefunded(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openTask(env, "tb", "o1", task.UrgeShipment)
	env.Advance(24 * time.Hour)
	cs := env.Complaints("o1")
	if len(cs) != 1 || cs[0].TaskID != tk.ID {
		t.Fatalf("complaints %+v", cs)
	}
	finish(t, env, cs[0].ID, judgment.ComplaintUpheld)
	es := ofComplaint(ledger(env, "tb"), cs[0].ID)
	ps := pointsOfComplaint(t, env, "tb", cs[0].ID)
	if len(es) != 1 || es[0].TaskID != tk.ID || len(ps) != 1 || ps[0].TaskID != tk.ID {
		t.Fatalf("entries %+v points %+v, want both naming task %s", es, ps, tk.ID)
	}

	addOrder(env, "tb", "o2")
	c := shippingComplaint(t, env, "o2")
	env.MustIngest(refundFact("rf2", "o2", env.Order("o2").PaidFen, env.Clock.Now()))
	finish(t, env, c.ID, judgment.ComplaintUpheld)
	if es := ofComplaint(ledger(env, "tb"), c.ID); len(es) != 0 {
		t.Fatalf("compensation on a fully refunded order: %+v", es)
	}
	if ps := pointsOfComplaint(t, env, "tb", c.ID); len(ps) != 1 {
		t.Fatalf("points %+v", ps)
	}
}

// R-SLA-3: the figures are policy data: a platform whose policy sets no
// compensation and no points records neither.
func TestShippingUpheld_R_SLA_3_PolicyData(t *testing.T) {
	reg := modifiedRegistry(t, commerce.Taobao,
		"          compensation: {rate_bp: 500, min_fen: 100, max_fen: 3000, rounding: half_up}\n          deposit_first: true\n          points: 1\n",
		"          compensation: {rate_bp: 0, min_fen: 0, max_fen: 0, rounding: half_up}\n          deposit_first: true\n          points: 0\n")
	env := newEnvWith(t, reg, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	promisedOrder(env, "tb", "o1", 12900)
	c := shippingComplaint(t, env, "o1")
	finish(t, env, c.ID, judgment.ComplaintUpheld)
	if es, ps := ledger(env, "tb"), pointsOfComplaint(t, env, "tb", c.ID); len(es) != 0 || len(ps) != 0 {
		t.Fatalf("compensation %+v points %+v under a policy with none", es, ps)
	}
}
