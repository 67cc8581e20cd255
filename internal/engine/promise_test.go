package engine_test

import (
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/judgment"
	"aftersale/internal/store"
	"aftersale/internal/testkit"
)

// promisedOrder ingests an order of shop paid now for paid fen carrying the
// given promises (shipping deadline 3 days on, for R-URG).
func promisedOrder(env *testkit.Env, shopID, orderID string, paid int64, ps ...commerce.Promise) {
	env.T.Helper()
	now := env.Clock.Now()
	f := testkit.OrderFact(orderID, shopID, buyerOf(orderID), now, now.Add(3*day))
	f.Order.PaidFen, f.Order.Promises = paid, ps
	env.MustIngest(f)
}

func timePromise(d time.Duration) commerce.Promise {
	return commerce.Promise{Kind: commerce.PromiseTime, ShipWithin: commerce.Duration(d)}
}

func promise(kind string) commerce.Promise { return commerce.Promise{Kind: kind} }

func ledger(env *testkit.Env, shopID string) []judgment.CompensationEntry {
	env.T.Helper()
	var es []judgment.CompensationEntry
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { es, err = tx.Compensation(env.Ctx, shopID); return }); err != nil {
		env.T.Fatal(err)
	}
	return es
}

func deposit(env *testkit.Env, shopID string) int64 {
	env.T.Helper()
	var v int64
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { v, err = tx.Deposit(env.Ctx, shopID); return }); err != nil {
		env.T.Fatal(err)
	}
	return v
}

func depositFact(id, shopID string, fen int64) commerce.Fact {
	return commerce.Fact{ID: id, Type: commerce.FactDeposit, Deposit: &commerce.DepositFact{ShopID: shopID, AmountFen: fen}}
}

func confirmFact(id, orderID string, at time.Time) commerce.Fact {
	return commerce.Fact{ID: id, Type: commerce.FactReceiptConfirmed, At: at, ReceiptConfirmed: &commerce.ReceiptConfirmedFact{OrderID: orderID}}
}

func closeFact(id, orderID string, at time.Time) commerce.Fact {
	return commerce.Fact{ID: id, Type: commerce.FactOrderClosed, At: at, OrderClosed: &commerce.OrderClosedFact{OrderID: orderID}}
}

func refused(t testing.TB, res []engine.FactResult) *apperr.Error {
	t.Helper()
	if len(res) != 1 || res[0].Status != engine.FactRefused {
		t.Fatalf("want the fact refused, got %+v", res)
	}
	return res[0].Error
}

// R-PRM-1: not shipped within the promised time after payment → the timer
// compensates 5 % of the amount paid, at least 1 yuan, at most 30 yuan, on
// the first second after the promised instant, from the shop (not the deposit).
func TestTimePromiseCompensation_R_PRM_1_Amounts(t *testing.T) {
	for _, c := range []struct {
		paid, want int64
	}{
		{1999, 100},   // 19.99 yuan: 99.95 fen → the 1-yuan floor
		{2000, 100},   // 20.00 yuan: exactly 1 yuan
		{60000, 3000}, // 600.00 yuan: exactly 30 yuan
		{60001, 3000}, // 600.01 yuan: 3000.05 fen, capped at 30 yuan
	} {
		env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
		addShop(env, "tb", commerce.Taobao)
		env.MustIngest(depositFact("dep", "tb", 100000))
		promisedOrder(env, "tb", "o1", c.paid, timePromise(48*time.Hour))
		deadline := bj(t, "2023-08-03T10:00:00")
		if tms := env.Timers("o1"); len(tms) != 1 || tms[0].Kind != engine.TimerTimePromise || !tms[0].DueAt.Equal(deadline.Add(time.Second)) {
			t.Fatalf("timers %+v, want promise_time at %s + 1 s", tms, deadline)
		}
		env.AdvanceTo(deadline)
		if es := ledger(env, "tb"); len(es) != 0 {
			t.Fatalf("paid %d: compensated at the promised instant itself: %+v", c.paid, es)
		}
		env.AdvanceTo(deadline.Add(time.Second))
		es := ledger(env, "tb")
		if len(es) != 1 {
			t.Fatalf("paid %d: ledger %+v, want one entry", c.paid, es)
		}
		e := es[0]
		if e.AmountFen != c.want || e.ByShopFen != c.want || e.FromDepositFen != 0 || e.Rule != "R-PRM-1" || e.Kind != "time" ||
			e.OrderID != "o1" || e.BuyerID != buyerOf("o1") || !e.At.Equal(deadline.Add(time.Second)) || e.PolicyVersion == "" {
			t.Errorf("paid %d: entry %+v, want %d fen by the shop under R-PRM-1", c.paid, e, c.want)
		}
		if deposit(env, "tb") != 100000 {
			t.Errorf("the time promise took from the deposit")
		}
		if o := env.Order("o1"); o.TimeCompensated != e.ID {
			t.Errorf("order time_compensated %q, want %q", o.TimeCompensated, e.ID)
		}
		if d := orderEventData(env, "o1", "time_promise_broken"); d == nil || d["_rule"] != "R-PRM-1" || d["amount_fen"] != float64(c.want) {
			t.Errorf("event %v", d)
		}
		// Once only: a late shipment afterwards pays nothing more.
		env.Advance(time.Hour)
		env.MustIngest(shipFact("ship", "o1", env.Clock.Now()))
		if es := ledger(env, "tb"); len(es) != 1 {
			t.Errorf("paid %d: shipping late after the compensation wrote more: %+v", c.paid, es)
		}
	}
}

// R-PRM-1: shipping exactly at the promised time keeps the promise (the
// timer is stopped, nothing is paid); 1 s late is compensated — by the
// shipment fact itself when it comes before the timer fires.
func TestTimePromise_R_PRM_1_ShipAtDeadlineVsLate(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	promisedOrder(env, "tb", "ontime", 10000, timePromise(24*time.Hour))
	promisedOrder(env, "tb", "late", 10000, timePromise(24*time.Hour))
	deadline := bj(t, "2023-08-02T10:00:00")
	env.AdvanceTo(deadline)
	env.MustIngest(shipFact("s1", "ontime", deadline))
	if tms := env.Timers("ontime"); len(tms) != 0 {
		t.Errorf("the shipment left the timer: %+v", tms)
	}
	// 1 s late, reported at once (before the sweeper fires the timer).
	env.Clock.Set(deadline.Add(time.Second))
	env.MustIngest(shipFact("s2", "late", deadline.Add(time.Second)))
	env.Advance(day)
	es := ledger(env, "tb")
	if len(es) != 1 || es[0].OrderID != "late" || es[0].AmountFen != 500 || es[0].Rule != "R-PRM-1" {
		t.Fatalf("ledger %+v, want one 500-fen entry for the late order", es)
	}
	if len(env.Timers("")) != 0 {
		t.Errorf("timers left: %+v", env.Timers(""))
	}
}

// R-PRM-1: the amount actually paid (实交额) is paid less refunded when the
// promise breaks: 600 yuan with 400 refunded → 5 % of 200 yuan = 10 yuan; a
// fully refunded order earns nothing (recorded, no ledger entry); an order
// closed unshipped before the deadline has nothing left to ship.
func TestTimePromise_R_PRM_1_ActuallyPaid(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	promisedOrder(env, "tb", "part", 60000, timePromise(24*time.Hour))
	promisedOrder(env, "tb", "full", 60000, timePromise(24*time.Hour))
	promisedOrder(env, "tb", "closed", 60000, timePromise(24*time.Hour))
	env.Advance(time.Hour)
	env.MustIngest(refundFact("r1", "part", 40000, env.Clock.Now()), refundFact("r2", "full", 60000, env.Clock.Now()),
		refundFact("r3", "closed", 60000, env.Clock.Now()), closeFact("c3", "closed", env.Clock.Now()))
	env.Advance(2 * day)
	es := ledger(env, "tb")
	if len(es) != 1 || es[0].OrderID != "part" || es[0].AmountFen != 1000 {
		t.Fatalf("ledger %+v, want 1000 fen for order part only", es)
	}
	if d := orderEventData(env, "full", "time_promise_broken"); d == nil || d["amount_fen"] != float64(0) || d["actually_paid_fen"] != float64(0) {
		t.Errorf("fully refunded: event %v", d)
	}
	if d := orderEventData(env, "closed", "time_promise_broken"); d != nil {
		t.Errorf("closed unshipped before the deadline: %v", d)
	}
}

// R-PRM-1: a shipment in time reported after the timer fired reverses the
// compensation with an entry of its own; nothing is deleted.
func TestTimePromise_R_PRM_1_LateFactReverses(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	promisedOrder(env, "tb", "o1", 10000, timePromise(24*time.Hour))
	deadline := bj(t, "2023-08-02T10:00:00")
	env.AdvanceTo(deadline.Add(time.Hour))
	env.MustIngest(shipFact("s1", "o1", deadline))
	es := ledger(env, "tb")
	if len(es) != 2 || es[0].AmountFen != 500 || es[1].AmountFen != -500 || es[1].ReversalOf != es[0].ID || es[1].Rule != "R-PRM-1" {
		t.Fatalf("ledger %+v, want the entry and its reversal", es)
	}
	if o := env.Order("o1"); o.TimeCompensated != "" {
		t.Errorf("time_compensated %q after the reversal", o.TimeCompensated)
	}
}

// Promises on the order fact are validated with field names; a refused
// order changes nothing.
func TestOrderPromisesValidation_R_PRM(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	for _, c := range []struct {
		name        string
		ps          []commerce.Promise
		field, rule string
		code        apperr.Code
	}{
		{"unknown kind", []commerce.Promise{promise("speed")}, "order.promises[0].kind", "", apperr.EINVALID},
		{"no kind", []commerce.Promise{{}}, "order.promises[0].kind", "", apperr.EINVALID},
		{"time without ship_within", []commerce.Promise{promise("time")}, "order.promises[0].ship_within", "R-PRM-1", apperr.EINVALID},
		{"ship_within on another kind", []commerce.Promise{{Kind: "arrival", ShipWithin: commerce.Duration(time.Hour)}}, "order.promises[0].ship_within", "R-PRM-1", apperr.EINVALID},
		{"twice", []commerce.Promise{promise("return"), promise("return")}, "order.promises[1].kind", "", apperr.EINVALID},
		{"period on a fixed window", []commerce.Promise{promise("return"), {Kind: "designated_courier", Period: commerce.Duration(day)}}, "order.promises[1].period", "R-PRM-5", apperr.EINVALID},
		{"negative period", []commerce.Promise{{Kind: "return", Period: commerce.Duration(-day)}}, "order.promises[0].period", "", apperr.EINVALID},
	} {
		f := testkit.OrderFact("bad", "tb", "b1", env.Clock.Now(), env.Clock.Now().Add(day))
		f.ID, f.Order.Promises = "bad-"+c.name, c.ps
		ae := refused(t, env.Ingest(f))
		if ae.Code != c.code || ae.Field != c.field || ae.Rule != c.rule {
			t.Errorf("%s: %+v, want %s field %s rule %q", c.name, ae, c.code, c.field, c.rule)
		}
	}
	if tms := env.Timers(""); len(tms) != 0 {
		t.Errorf("refused orders set timers: %+v", tms)
	}
	ok := testkit.OrderFact("good", "tb", "b1", env.Clock.Now(), env.Clock.Now().Add(day))
	ok.Order.Promises = []commerce.Promise{timePromise(48 * time.Hour), {Kind: "return", Period: commerce.Duration(3 * day)}, promise("arrival")}
	env.MustIngest(ok)
	if o := env.Order("good"); len(o.Promises) != 3 {
		t.Errorf("promises %+v", o.Promises)
	}
}

// receipt_confirmed and order_closed: ordered in time after what they
// follow, refused twice under another id, duplicates under the same id.
func TestReceiptAndCloseFacts_R_PRM_2_5(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	promisedOrder(env, "tb", "o1", 10000, promise("quality"))
	now := env.Clock.Now()
	ae := refused(t, env.Ingest(confirmFact("c0", "o1", now)))
	if ae.Reason != "order.unshipped" || ae.Rule != "R-PRM-2" {
		t.Errorf("confirm unshipped: %+v", ae)
	}
	env.Advance(3 * time.Hour)
	env.MustIngest(shipFact("s1", "o1", now.Add(time.Hour)))
	env.MustIngest(trackFact("t1", "o1", commerce.TrackingSigned, now.Add(2*time.Hour)))
	ae = refused(t, env.Ingest(confirmFact("c1", "o1", now.Add(2*time.Hour-time.Second))))
	if ae.Code != apperr.EINVALID || ae.Field != "at" {
		t.Errorf("confirm before signing: %+v", ae)
	}
	env.MustIngest(confirmFact("c2", "o1", now.Add(2*time.Hour)))
	if res := env.Ingest(confirmFact("c2", "o1", now.Add(2*time.Hour))); res[0].Status != engine.FactDuplicate {
		t.Errorf("same id again: %+v", res)
	}
	ae = refused(t, env.Ingest(confirmFact("c3", "o1", now.Add(3*time.Hour))))
	if ae.Reason != "order.receipt_confirmed" {
		t.Errorf("confirm twice: %+v", ae)
	}
	ae = refused(t, env.Ingest(closeFact("x1", "o1", now.Add(time.Hour))))
	if ae.Field != "at" {
		t.Errorf("close before the confirmation: %+v", ae)
	}
	env.MustIngest(closeFact("x2", "o1", now.Add(3*time.Hour)))
	ae = refused(t, env.Ingest(closeFact("x3", "o1", now.Add(3*time.Hour))))
	if ae.Reason != "order.closed" || ae.Rule != "R-PRM-5" {
		t.Errorf("close twice: %+v", ae)
	}
	o := env.Order("o1")
	if o.ReceiptConfirmedAt == nil || !o.ReceiptConfirmedAt.Equal(now.Add(2*time.Hour)) || o.ClosedAt == nil || !o.ClosedAt.Equal(now.Add(3*time.Hour)) {
		t.Errorf("order %+v", o)
	}
}

// delivered ingests shipment (an hour before signing), signing (received),
// confirmation and closing of an order at the given times (zero: not that
// one), each when the clock reaches it, up to until (zero: all).
func delivered(env *testkit.Env, orderID string, signed, confirmed, closed, until time.Time) {
	env.T.Helper()
	for _, f := range []commerce.Fact{shipFact("ship-"+orderID, orderID, signed.Add(-time.Hour)),
		trackFact("sign-"+orderID, orderID, commerce.TrackingSigned, signed),
		confirmFact("confirm-"+orderID, orderID, confirmed), closeFact("close-"+orderID, orderID, closed)} {
		if f.At.IsZero() || (!until.IsZero() && f.At.After(until)) {
			continue
		}
		if f.At.After(env.Clock.Now()) {
			env.AdvanceTo(f.At)
		}
		if r := env.Ingest(f); r[0].Status == engine.FactRefused {
			env.T.Fatalf("fact %s: %v", f.ID, r[0].Error)
		}
	}
}

func claim(env *testkit.Env, orderID, kind string, asked int64) (*judgment.Claim, error) {
	return env.Engine.FileClaim(env.Ctx, buyer(buyerOf(orderID)), orderID, engine.ClaimInput{Kind: kind, Description: "not as promised", AskedFen: asked})
}

// R-PRM-2..6: each claim window at its last instant is accepted, 1 s after
// it is refused with ECONFLICT naming the rule and the window. R-PRM-5: 15
// days after the order closes; R-PRM-6: half a month, which the policy
// settles as 15 days (15 × 24 h from the closing instant).
func TestClaimWindows_R_PRM_2_6(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	paid := start
	signed := bj(t, "2023-08-03T15:00:00")
	confirmed := bj(t, "2023-08-05T09:30:00")
	closed := bj(t, "2023-08-06T12:00:00")
	for _, c := range []struct {
		name    string
		promise commerce.Promise
		end     time.Time
		rule    string
		window  string
	}{
		{"R-PRM-2 quality: until receipt is confirmed", promise("quality"), confirmed, "R-PRM-2", "from receipt until receipt is confirmed"},
		{"R-PRM-3 return: the default 7 days after receipt", promise("return"), signed.Add(7 * day), "R-PRM-3", "7d after receipt"},
		{"R-PRM-3 return: the promise's own 3 days", commerce.Promise{Kind: "return", Period: commerce.Duration(3 * day)}, signed.Add(3 * day), "R-PRM-3", "72h after receipt"},
		{"R-PRM-4 damage resend: 7 days after receipt", promise("damage_resend"), signed.Add(7 * day), "R-PRM-4", "7d after receipt"},
		{"R-PRM-5 designated courier: 15 days after close", promise("designated_courier"), bj(t, "2023-08-21T12:00:00"), "R-PRM-5", "15d after the order closed"},
		{"R-PRM-6 arrival: half a month = 15 days after close", promise("arrival"), bj(t, "2023-08-21T12:00:00"), "R-PRM-6", "15d after the order closed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, paid)
			addShop(env, "tm", commerce.Tmall)
			promisedOrder(env, "tm", "in", 10000, c.promise)
			promisedOrder(env, "tm", "out", 10000, c.promise)
			delivered(env, "in", signed, confirmed, closed, c.end)
			delivered(env, "out", signed, confirmed, closed, c.end)
			env.AdvanceTo(c.end)
			cl, err := claim(env, "in", c.promise.Kind, 500)
			if err != nil {
				t.Fatalf("claim at the window's last instant %s: %v", c.end, err)
			}
			if cl.Status != judgment.ClaimOpen || cl.Rule != c.rule || !cl.WindowUntil.Equal(c.end) || !cl.FiledAt.Equal(c.end) {
				t.Errorf("claim %+v", cl)
			}
			env.AdvanceTo(c.end.Add(time.Second))
			delivered(env, "out", signed, confirmed, closed, time.Time{})
			_, err = claim(env, "out", c.promise.Kind, 500)
			ae := wantErr(t, err, apperr.ECONFLICT, "promise.claim.window_closed", "", c.rule)
			for _, want := range []string{c.window, "ended at " + c.end.UTC().Format(time.RFC3339), "opened at"} {
				if !strings.Contains(ae.Message, want) {
					t.Errorf("refusal %q does not say %q", ae.Message, want)
				}
			}
		})
	}
}

// R-PRM-5 and others: a claim needs its promise on the order, the window
// open, the order's buyer, a description; one open or upheld claim per promise.
func TestClaimRefusals_R_PRM(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	promisedOrder(env, "tm", "o1", 10000, promise("designated_courier"), timePromise(48*time.Hour))
	env.Advance(day)
	_, err := claim(env, "o1", "designated_courier", 500)
	wantErr(t, err, apperr.ECONFLICT, "promise.claim.not_open", "", "R-PRM-5")
	_, err = claim(env, "o1", "arrival", 500)
	wantErr(t, err, apperr.ECONFLICT, "promise.not_on_order", "", "R-PRM-6")
	_, err = claim(env, "o1", "time", 500)
	wantErr(t, err, apperr.EINVALID, "", "kind", "R-PRM-1")
	_, err = claim(env, "o1", "speed", 500)
	wantErr(t, err, apperr.EINVALID, "", "kind", "")
	_, err = env.Engine.FileClaim(env.Ctx, buyer(buyerOf("o1")), "o1", engine.ClaimInput{Kind: "designated_courier", Description: " "})
	wantErr(t, err, apperr.EINVALID, "", "description", "R-PRM-5")
	_, err = env.Engine.FileClaim(env.Ctx, buyer(buyerOf("o1")), "o1", engine.ClaimInput{Kind: "designated_courier", Description: "x", AskedFen: -1})
	wantErr(t, err, apperr.EINVALID, "", "asked_fen", "R-PRM-5")
	now := env.Clock.Now()
	delivered(env, "o1", now.Add(-time.Minute), time.Time{}, now, time.Time{})
	_, err = env.Engine.FileClaim(env.Ctx, buyer("someone"), "o1", engine.ClaimInput{Kind: "designated_courier", Description: "x"})
	wantErr(t, err, apperr.EFORBIDDEN, "not_your_order", "", "R-PRM-5")
	c1, err := claim(env, "o1", "designated_courier", 500)
	if err != nil {
		t.Fatal(err)
	}
	_, err = claim(env, "o1", "designated_courier", 500)
	wantErr(t, err, apperr.ECONFLICT, "claim.open_exists", "", "R-PRM-5")
	if _, err := env.Engine.JudgeClaim(env.Ctx, agent("a1"), c1.ID, engine.ClaimJudgment{Upheld: false, Reason: "courier matched"}); err != nil {
		t.Fatal(err)
	}
	c2, err := claim(env, "o1", "designated_courier", 500) // after a rejection, again inside the window
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Engine.JudgeClaim(env.Ctx, agent("a1"), c2.ID, engine.ClaimJudgment{Upheld: true}); err != nil {
		t.Fatal(err)
	}
	_, err = claim(env, "o1", "designated_courier", 500)
	wantErr(t, err, apperr.ECONFLICT, "claim.upheld", "", "R-PRM-5")
	if es := ledger(env, "tm"); len(es) != 1 || es[0].ClaimID != c2.ID || es[0].AmountFen != 500 {
		t.Errorf("ledger %+v", es)
	}
}

// R-PRM-5, R-PRM-6: an upheld claim is paid from the deposit first, up to
// its balance, the rest by the shop: a deposit exactly covering the award
// pays it all and is left at 0; one 1 fen short pays all but 1 fen. The
// other promises are paid by the shop whatever the deposit (R-PRM-2).
func TestClaimDepositFirst_R_PRM_5_6(t *testing.T) {
	for _, c := range []struct {
		name                string
		kind                string
		deposit, award      int64
		fromDeposit, byShop int64
		balance             int64
		rule                string
	}{
		{"R-PRM-5 deposit exactly covers", "designated_courier", 1500, 1500, 1500, 0, 0, "R-PRM-5"},
		{"R-PRM-5 deposit 1 fen short", "designated_courier", 1499, 1500, 1499, 1, 0, "R-PRM-5"},
		{"R-PRM-6 deposit more than enough", "arrival", 5000, 1500, 1500, 0, 3500, "R-PRM-6"},
		{"R-PRM-6 no deposit", "arrival", 0, 1500, 0, 1500, 0, "R-PRM-6"},
		{"R-PRM-2 quality: the shop pays", "quality", 5000, 1500, 0, 1500, 5000, "R-PRM-2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
			addShop(env, "tm", commerce.Tmall)
			if c.deposit > 0 {
				env.MustIngest(depositFact("dep", "tm", c.deposit))
			}
			promisedOrder(env, "tm", "o1", 10000, promise(c.kind))
			now := env.Clock.Now().Add(2 * day)
			env.AdvanceTo(now)
			closed := time.Time{}
			if c.kind != "quality" {
				closed = now
			}
			delivered(env, "o1", now.Add(-time.Hour), time.Time{}, closed, time.Time{})
			cl, err := claim(env, "o1", c.kind, 1000)
			if err != nil {
				t.Fatal(err)
			}
			award := c.award
			_, err = env.Engine.JudgeClaim(env.Ctx, buyer(buyerOf("o1")), cl.ID, engine.ClaimJudgment{Upheld: true, AmountFen: &award})
			wantErr(t, err, apperr.EFORBIDDEN, "role", "", "")
			got, err := env.Engine.JudgeClaim(env.Ctx, agent("a1"), cl.ID, engine.ClaimJudgment{Upheld: true, AmountFen: &award, Reason: "upheld"})
			if err != nil {
				t.Fatal(err)
			}
			es := ledger(env, "tm")
			if len(es) != 1 {
				t.Fatalf("ledger %+v", es)
			}
			e := es[0]
			if e.AmountFen != c.award || e.FromDepositFen != c.fromDeposit || e.ByShopFen != c.byShop || e.Rule != c.rule ||
				e.ClaimID != cl.ID || e.OrderID != "o1" || e.Kind != c.kind {
				t.Errorf("entry %+v, want %d from the deposit and %d by the shop under %s", e, c.fromDeposit, c.byShop, c.rule)
			}
			if b := deposit(env, "tm"); b != c.balance {
				t.Errorf("deposit %d, want %d", b, c.balance)
			}
			if got.Status != judgment.ClaimUpheld || got.AwardedFen != c.award || got.EntryID != e.ID || got.JudgedBy != "a1" {
				t.Errorf("claim %+v", got)
			}
			_, err = env.Engine.JudgeClaim(env.Ctx, agent("a1"), cl.ID, engine.ClaimJudgment{Upheld: true})
			wantErr(t, err, apperr.ECONFLICT, "claim.judged", "", c.rule)
		})
	}
}

// Judging: a rejected claim writes nothing; an upheld claim without an
// amount pays the amount asked, and needs one.
func TestClaimJudgment_R_PRM_3(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	promisedOrder(env, "tb", "o1", 10000, promise("return"))
	promisedOrder(env, "tb", "o2", 10000, promise("return"))
	now := env.Clock.Now().Add(day)
	env.AdvanceTo(now)
	delivered(env, "o1", now, time.Time{}, time.Time{}, time.Time{})
	delivered(env, "o2", now, time.Time{}, time.Time{}, time.Time{})
	c1, err := claim(env, "o1", "return", 800)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := claim(env, "o2", "return", 0)
	if err != nil {
		t.Fatal(err)
	}
	amt := int64(100)
	_, err = env.Engine.JudgeClaim(env.Ctx, agent("a1"), c1.ID, engine.ClaimJudgment{Upheld: false, AmountFen: &amt})
	wantErr(t, err, apperr.EINVALID, "", "amount_fen", "R-PRM-3")
	_, err = env.Engine.JudgeClaim(env.Ctx, agent("a1"), c2.ID, engine.ClaimJudgment{Upheld: true})
	wantErr(t, err, apperr.EINVALID, "", "amount_fen", "R-PRM-3")
	_, err = env.Engine.JudgeClaim(env.Ctx, agent("a1"), "clm_none", engine.ClaimJudgment{Upheld: true})
	wantErr(t, err, apperr.ENOTFOUND, "", "claim_id", "")
	if len(ledger(env, "tb")) != 0 {
		t.Fatal("refusals wrote to the ledger")
	}
	if _, err := env.Engine.JudgeClaim(env.Ctx, agent("a1"), c1.ID, engine.ClaimJudgment{Upheld: true}); err != nil {
		t.Fatal(err)
	}
	if c, err := env.Engine.JudgeClaim(env.Ctx, agent("a1"), c2.ID, engine.ClaimJudgment{Upheld: false, Reason: "not in the agreed state"}); err != nil || c.Status != judgment.ClaimRejected {
		t.Fatalf("%+v %v", c, err)
	}
	es := ledger(env, "tb")
	if len(es) != 1 || es[0].AmountFen != 800 || es[0].ClaimID != c1.ID || es[0].Rule != "R-PRM-3" {
		t.Errorf("ledger %+v", es)
	}
	if d := orderEventData(env, "o1", "claim_judged"); d == nil || d["status"] != "upheld" || d["_rule"] != "R-PRM-3" {
		t.Errorf("event %v", d)
	}
}

// Deposit facts: top-ups add up; an unknown shop or a non-positive amount
// is refused with the field named.
func TestDepositFacts_R_PRM_5(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	env.MustIngest(depositFact("d1", "tm", 1000), depositFact("d2", "tm", 234))
	if b := deposit(env, "tm"); b != 1234 {
		t.Errorf("deposit %d", b)
	}
	if ae := refused(t, env.Ingest(depositFact("d3", "nope", 1))); ae.Code != apperr.ENOTFOUND || ae.Field != "deposit.shop_id" {
		t.Errorf("unknown shop: %+v", ae)
	}
	if ae := refused(t, env.Ingest(depositFact("d4", "tm", 0))); ae.Code != apperr.EINVALID || ae.Field != "deposit.amount_fen" {
		t.Errorf("zero: %+v", ae)
	}
	if res := env.Ingest(depositFact("d1", "tm", 1000)); res[0].Status != engine.FactDuplicate || deposit(env, "tm") != 1234 {
		t.Errorf("repeated top-up: %+v, deposit %d", res, deposit(env, "tm"))
	}
	if evs := env.Events(engine.DepositStream("tm")); len(evs) != 2 || evs[1].Action != "deposit_topped_up" {
		t.Errorf("events %+v", evs)
	}
}
