package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/judgment"
	"aftersale/internal/store"
)

func init() {
	register("Claims", testClaims)
	register("Compensation", testCompensation)
	register("Deposit", testDeposit)
	register("DepositConcurrentPayments", testDepositConcurrent)
}

func newClaim(id, orderID string, filed time.Time) *judgment.Claim {
	return &judgment.Claim{ID: id, OrderID: orderID, ShopID: "shp_1", BuyerID: "b1", Kind: "designated_courier",
		Rule: "R-PRM-5", Description: "not the courier promised", AskedFen: 1500, Status: judgment.ClaimOpen,
		FiledAt: filed, WindowFrom: at(-time.Hour), WindowUntil: at(15 * 24 * time.Hour), PolicyVersion: "v1"}
}

// Claims (R-PRM-2..6): upsert by id, read one, list an order's by (filed_at, id).
func testClaims(t *testing.T, s store.Store) {
	c1, c2, c3 := newClaim("clm_2", "ord_1", at(time.Hour)), newClaim("clm_1", "ord_1", at(2*time.Hour)), newClaim("clm_3", "ord_2", at(0))
	c3.WindowUntil = time.Time{} // open-ended window
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutClaim(ctx, c2))
		must(t, tx.PutClaim(ctx, c1))
		must(t, tx.PutClaim(ctx, c3))
	})
	judged := *c1
	jt := at(3 * time.Hour)
	judged.Status, judged.JudgedAt, judged.JudgedBy, judged.AwardedFen, judged.EntryID = judgment.ClaimUpheld, &jt, "a1", 1500, "pay_1"
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutClaim(ctx, &judged))
		equal(t, "Claim in the writing tx", get[*judgment.Claim](t)(tx.Claim(ctx, "clm_2")), &judged)
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Claim(clm_2)", get[*judgment.Claim](t)(tx.Claim(ctx, "clm_2")), &judged)
		equal(t, "Claims(ord_1)", get[[]judgment.Claim](t)(tx.Claims(ctx, "ord_1")), []judgment.Claim{judged, *c2})
		equal(t, "Claims(ord_2)", get[[]judgment.Claim](t)(tx.Claims(ctx, "ord_2")), []judgment.Claim{*c3})
		if cs := get[[]judgment.Claim](t)(tx.Claims(ctx, "ord_none")); len(cs) != 0 {
			t.Errorf("Claims(ord_none) = %+v", cs)
		}
		_, err := tx.Claim(ctx, "clm_none")
		wantCode(t, "Claim(unknown)", err, apperr.ENOTFOUND)
	})
}

// The compensation ledger is append-only, read per shop by (at, id); a
// reversal is an entry of its own; a repeated id is ECONFLICT.
func testCompensation(t *testing.T, s store.Store) {
	e := func(id, shop string, d time.Duration, amount, fromDeposit int64) judgment.CompensationEntry {
		return judgment.CompensationEntry{ID: id, ShopID: shop, OrderID: "ord_" + id, BuyerID: "b1", Rule: "R-PRM-5",
			Kind: "designated_courier", ClaimID: "clm_" + id, AmountFen: amount, FromDepositFen: fromDeposit,
			ByShopFen: amount - fromDeposit, At: at(d), PolicyVersion: "v1"}
	}
	a1, a2, b1 := e("pay_2", "shp_a", time.Hour, 1500, 1000), e("pay_1", "shp_a", time.Hour, 100, 0), e("pay_3", "shp_b", 0, 3000, 3000)
	rev := a1.Reversal("pay_4", at(2*time.Hour), "shipped in time after all", "v2")
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.AppendCompensation(ctx, []judgment.CompensationEntry{a1, b1}))
		must(t, tx.AppendCompensation(ctx, []judgment.CompensationEntry{rev, a2}))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Compensation(shp_a)", get[[]judgment.CompensationEntry](t)(tx.Compensation(ctx, "shp_a")), []judgment.CompensationEntry{a2, a1, rev})
		equal(t, "Compensation(shp_b)", get[[]judgment.CompensationEntry](t)(tx.Compensation(ctx, "shp_b")), []judgment.CompensationEntry{b1})
		if es := get[[]judgment.CompensationEntry](t)(tx.Compensation(ctx, "shp_none")); len(es) != 0 {
			t.Errorf("Compensation(shp_none) = %+v", es)
		}
	})
	err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.AppendCompensation(context.Background(), []judgment.CompensationEntry{a1})
	})
	wantCode(t, "AppendCompensation(repeated id)", err, apperr.ECONFLICT)
}

// A shop's deposit: 0 until topped up; a payment takes from it only what it
// covers — exactly covering leaves 0, 1 fen short is ECONFLICT
// "deposit.insufficient", changes nothing and leaves the transaction usable.
func testDeposit(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if v := get[int64](t)(tx.Deposit(ctx, "shp_1")); v != 0 {
			t.Errorf("Deposit(never topped up) = %d", v)
		}
		_, err := tx.AddDeposit(ctx, "shp_1", -1)
		wantCode(t, "AddDeposit(-1) on no deposit", err, apperr.ECONFLICT)
		if v := get[int64](t)(tx.AddDeposit(ctx, "shp_1", 1000)); v != 1000 {
			t.Errorf("AddDeposit(1000) = %d", v)
		}
		if v := get[int64](t)(tx.AddDeposit(ctx, "shp_1", 500)); v != 1500 {
			t.Errorf("AddDeposit(500) = %d", v)
		}
		if v := get[int64](t)(tx.AddDeposit(ctx, "shp_2", 200)); v != 200 {
			t.Errorf("AddDeposit(shp_2, 200) = %d", v)
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		_, err := tx.AddDeposit(ctx, "shp_1", -1501) // 1 fen short
		e, _ := apperr.As(err)
		if e == nil || e.Code != apperr.ECONFLICT || e.Reason != "deposit.insufficient" {
			t.Errorf("AddDeposit(-1501) of 1500: %v, want ECONFLICT deposit.insufficient", err)
		}
		if v := get[int64](t)(tx.Deposit(ctx, "shp_1")); v != 1500 {
			t.Errorf("Deposit after a refused payment = %d, want 1500", v)
		}
		if v := get[int64](t)(tx.AddDeposit(ctx, "shp_1", -1500)); v != 0 { // exactly covering
			t.Errorf("AddDeposit(-1500) of 1500 = %d, want 0", v)
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if v := get[int64](t)(tx.Deposit(ctx, "shp_1")); v != 0 {
			t.Errorf("Deposit(shp_1) = %d, want 0", v)
		}
		if v := get[int64](t)(tx.Deposit(ctx, "shp_2")); v != 200 {
			t.Errorf("Deposit(shp_2) = %d, want 200", v)
		}
	})
}

// Concurrent read-then-pay transactions never take the deposit below 0 nor
// pay more than it held: each reads the balance, pays min(balance, 300).
func testDepositConcurrent(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, ignore(tx.AddDeposit(ctx, "shp_1", 1000))) })
	const n = 8
	paid := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(context.Background(), func(tx store.Tx) error {
				ctx := context.Background()
				bal, err := tx.Deposit(ctx, "shp_1")
				if err != nil {
					return err
				}
				take := min(bal, 300)
				if take == 0 {
					return nil
				}
				if _, err := tx.AddDeposit(ctx, "shp_1", -take); err != nil {
					return err
				}
				paid[i] = take
				return nil
			})
			if err != nil {
				t.Errorf("payment %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	var total int64
	for _, p := range paid {
		total += p
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		bal := get[int64](t)(tx.Deposit(ctx, "shp_1"))
		if total != 1000 || bal != 0 {
			t.Errorf("paid %d in all, balance %d; want 1000 and 0", total, bal)
		}
	})
}

func ignore[T any](_ T, err error) error { return err }
