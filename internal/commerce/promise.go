package commerce

import (
	"fmt"
	"time"

	"aftersale/internal/apperr"
)

// PromiseTime is the kind of the time promise (时间承诺, R-PRM-1). The kinds
// with a claim window (quality, return, damage_resend, designated_courier,
// arrival: R-PRM-2..6) are the policy's (policy.PromiseKinds); the engine
// checks an order's kinds against them.
const PromiseTime = "time"

// Promise is a service promise (保障服务, seed 004) the shop offers on an
// order: part of the order fact, fixed when the order is paid.
type Promise struct {
	// Kind is time, quality, return, damage_resend, designated_courier or arrival.
	Kind string `json:"kind" yaml:"kind"`
	// ShipWithin, for the time promise only (and required there), is how long
	// after payment the shop promises to ship (e.g. 48h, R-PRM-1).
	ShipWithin Duration `json:"ship_within,omitempty" yaml:"ship_within"`
	// Period is the period the promise itself states (承诺时间), for kinds whose
	// claim window is per promise (return, damage_resend by default); 0 = the
	// policy's default period.
	Period Duration `json:"period,omitempty" yaml:"period"`
	// PostageBearer, for the return promise only, is who pays the return
	// postage: buyer or shop (R-PRM-3, "按照约定的承担方来承担"); "" = the
	// policy's default bearer.
	PostageBearer string `json:"postage_bearer,omitempty" yaml:"postage_bearer"`
}

// Promise returns the order's promise of a kind; false when it has none.
func (o *Order) Promise(kind string) (Promise, bool) {
	for _, p := range o.Promises {
		if p.Kind == kind {
			return p, true
		}
	}
	return Promise{}, false
}

// TimeDeadline returns the instant by which the time promise says the order
// ships (paid_at + ship_within); false when the order has no time promise.
// Shipping at that instant keeps the promise (R-PRM-1).
func (o *Order) TimeDeadline() (time.Time, bool) {
	p, ok := o.Promise(PromiseTime)
	if !ok {
		return time.Time{}, false
	}
	return o.PaidAt.Add(p.ShipWithin.D()), true
}

// ActuallyPaidFen is the amount actually paid (实交额) at this point: what
// was paid less what has been refunded (never below 0).
func (o *Order) ActuallyPaidFen() int64 { return max(0, o.PaidFen-o.RefundedFen) }

// validatePromises checks the order's promises without the policy: each has
// a kind, appears once, the time promise states a positive ship_within and
// only it does, and no period is negative; none is above MaxPromiseDuration.
func (o *Order) validatePromises() error {
	seen := map[string]int{}
	for i, p := range o.Promises {
		f := fmt.Sprintf("order.promises[%d]", i)
		if p.Kind == "" {
			return apperr.Invalid(f+".kind", "", "kind is required (time, quality, return, damage_resend, designated_courier, arrival)")
		}
		if err := firstErr(CheckText(f+".kind", p.Kind, MaxShortText), checkDuration(f+".ship_within", p.ShipWithin),
			checkDuration(f+".period", p.Period)); err != nil {
			return err
		}
		if j, ok := seen[p.Kind]; ok {
			return apperr.Invalid(f+".kind", "", "the %s promise is listed twice (also order.promises[%d])", p.Kind, j)
		}
		seen[p.Kind] = i
		switch {
		case p.Kind == PromiseTime && p.ShipWithin <= 0:
			return apperr.Invalid(f+".ship_within", "R-PRM-1", "the time promise states how long after payment the order ships (e.g. 48h); got %s", p.ShipWithin)
		case p.Kind != PromiseTime && p.ShipWithin != 0:
			return apperr.Invalid(f+".ship_within", "R-PRM-1", "only the time promise states ship_within, not the %s promise", p.Kind)
		case p.Kind == PromiseTime && p.Period != 0:
			return apperr.Invalid(f+".period", "R-PRM-1", "the time promise has no claim period; it states ship_within")
		case p.Period < 0:
			return apperr.Invalid(f+".period", "", "period must not be negative, got %s", p.Period)
		}
	}
	return nil
}

// ReceiptConfirmedFact says the buyer (or the system, automatically)
// confirmed receipt (确认收货): it ends the quality promise's window (R-PRM-2).
type ReceiptConfirmedFact struct {
	OrderID string `json:"order_id" yaml:"order_id"`
}

// OrderClosedFact says the order closed (交易关闭 / 完结): it opens the
// designated courier and arrival promises' windows (R-PRM-5, R-PRM-6).
type OrderClosedFact struct {
	OrderID string `json:"order_id" yaml:"order_id"`
}

// DepositFact tops up a shop's deposit (保证金), which pays upheld claims
// first where the rule says so (R-PRM-5, R-PRM-6).
type DepositFact struct {
	ShopID    string `json:"shop_id" yaml:"shop_id"`
	AmountFen int64  `json:"amount_fen" yaml:"amount_fen"`
}
