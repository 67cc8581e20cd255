package judgment

import (
	"testing"
	"time"
)

// R-PRM-5, R-PRM-6: the deposit pays first up to its balance, the shop the
// rest; exactly covering vs 1 fen short; never from a negative balance.
func TestSplitPayment_R_PRM_5_6(t *testing.T) {
	for _, c := range []struct {
		amount, deposit int64
		first           bool
		fromDep, byShop int64
	}{
		{1500, 1500, true, 1500, 0}, // exactly covering
		{1500, 1499, true, 1499, 1}, // 1 fen short
		{1500, 1501, true, 1500, 0},
		{1500, 0, true, 0, 1500},
		{1500, -20, true, 0, 1500},   // a negative balance is empty
		{1500, 5000, false, 0, 1500}, // not deposit-first (R-PRM-2..4)
		{0, 5000, true, 0, 0},
		{-5, 5000, true, 0, 0},
	} {
		d, s := SplitPayment(c.amount, c.deposit, c.first)
		if d != c.fromDep || s != c.byShop || (c.amount > 0 && d+s != c.amount) {
			t.Errorf("SplitPayment(%d, %d, %v) = %d, %d; want %d, %d", c.amount, c.deposit, c.first, d, s, c.fromDep, c.byShop)
		}
	}
}

// A reversal negates every amount and points at the entry it reverses.
func TestCompensationReversal_R_PRM_1(t *testing.T) {
	at := time.Date(2023, 8, 1, 0, 0, 0, 0, time.UTC)
	e := CompensationEntry{ID: "pay_1", ShopID: "s", OrderID: "o", BuyerID: "b", Rule: "R-PRM-5", Kind: "designated_courier",
		ClaimID: "clm_1", AmountFen: 1500, FromDepositFen: 1499, ByShopFen: 1, At: at, PolicyVersion: "v1"}
	r := e.Reversal("pay_2", at.Add(time.Hour), "why", "v2")
	want := CompensationEntry{ID: "pay_2", ShopID: "s", OrderID: "o", BuyerID: "b", Rule: "R-PRM-5", Kind: "designated_courier",
		ClaimID: "clm_1", AmountFen: -1500, FromDepositFen: -1499, ByShopFen: -1, At: at.Add(time.Hour), Reason: "why",
		ReversalOf: "pay_1", PolicyVersion: "v2"}
	if r != want {
		t.Errorf("reversal %+v\nwant %+v", r, want)
	}
}
