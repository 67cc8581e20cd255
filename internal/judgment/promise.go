package judgment

import (
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/policy"
)

// TimeCompensation returns the compensation in fen that the time promise
// (时间承诺, R-PRM-1) pays when an order was not shipped in the promised
// time: r.Time.RateBP basis points of paidFen (5 %), rounded to the fen by
// r.Time.Rounding, then raised to r.Time.MinFen (1 yuan) and capped at
// r.Time.MaxFen (30 yuan). Nothing paid (paidFen ≤ 0) pays nothing.
//
// Integer arithmetic only: with the defaults 1999 fen → 99.95 → 100 fen,
// 2010 fen → 100.5 → 101 fen (half-up), 60001 fen → 3000.05 → 3000 fen.
func TimeCompensation(paidFen int64, r policy.PromiseRules) int64 {
	return RateCompensation(paidFen, r.Time)
}

// RateCompensation returns tp.RateBP basis points of paidFen, rounded to the
// fen by tp.Rounding, then raised to tp.MinFen and capped at tp.MaxFen; 0
// when nothing was paid. The time promise (R-PRM-1) and an upheld shipping
// complaint (R-SLA-3) compute their compensation this way.
func RateCompensation(paidFen int64, tp policy.TimePromiseRules) int64 {
	if paidFen <= 0 {
		return 0
	}
	// paidFen × rate / 10000 without overflow for any paidFen: split paidFen
	// into whole ten-thousands and a remainder (rate ≤ 10000 by validation).
	const bp = 10000
	amount := paidFen / bp * tp.RateBP
	rem := paidFen % bp * tp.RateBP // < 10000 × 10000
	amount += rem / bp
	frac := rem % bp // the fraction of a fen, in 1/10000 fen
	switch tp.Rounding {
	case policy.RoundDown:
	case policy.RoundUp:
		if frac > 0 {
			amount++
		}
	default: // policy.RoundHalfUp
		if frac*2 >= bp {
			amount++
		}
	}
	amount = max(amount, tp.MinFen)
	return min(amount, tp.MaxFen)
}

// promiseRule names the rule behind each promise kind's claim window.
var promiseRule = map[string]string{
	policy.PromiseQuality:           "R-PRM-2",
	policy.PromiseReturn:            "R-PRM-3",
	policy.PromiseDamageResend:      "R-PRM-4",
	policy.PromiseDesignatedCourier: "R-PRM-5",
	policy.PromiseArrival:           "R-PRM-6",
}

// PromiseRule returns the rule id of a promise kind's claim ("R-PRM-5"), or
// "" for an unknown kind.
func PromiseRule(kind string) string { return promiseRule[kind] }

// ClaimFacts are the order's times a claim window depends on (nil when the
// event has not happened).
type ClaimFacts struct {
	// ReceivedAt is when the parcel was signed for (签收).
	ReceivedAt *time.Time
	// ReceiptConfirmedAt is when the buyer (or the system, automatically)
	// confirmed receipt (确认收货).
	ReceiptConfirmedAt *time.Time
	// ClosedAt is when the order closed (交易关闭 / 完结).
	ClosedAt *time.Time
	// PromisedPeriod is the period the promise itself states (承诺时间), for
	// kinds whose period is per promise (return, damage_resend); 0 = the
	// policy default. Giving one for a kind with a fixed window is an error.
	PromisedPeriod time.Duration
}

// ClaimWindow returns the claim window of a promise kind (R-PRM-2..6): it
// opens at the kind's anchor event and ends at until, the last instant a
// claim is in time. An open-ended window (its end event has not happened and
// it has no length of its own) has a zero until. The error is EINVALID for an
// unknown kind or a per-promise period on a fixed window, and ECONFLICT
// (reason promise.claim.not_open) when the anchor event has not happened.
//
// The window is closed at both ends, [from, until]: a claim exactly at the
// end is in time, one second later it is not. "Within 15 days" is read as
// including its last instant, and a claim at the same instant as the
// confirmation of receipt that ends a quality window counts as before it.
func ClaimWindow(kind string, f ClaimFacts, r policy.PromiseRules) (from, until time.Time, err error) {
	c, ok := r.Claims.For(kind)
	if !ok {
		return time.Time{}, time.Time{}, apperr.Invalid("kind", "", "unknown promise kind %q (want one of: %v)", kind, policy.PromiseKinds)
	}
	rule := promiseRule[kind]
	length := c.Length.D()
	switch {
	case f.PromisedPeriod < 0:
		return time.Time{}, time.Time{}, apperr.Invalid("promised_period", rule, "the promised period must not be negative, got %s", f.PromisedPeriod)
	case f.PromisedPeriod > 0 && !c.PerPromise:
		return time.Time{}, time.Time{}, apperr.Invalid("promised_period", rule, "the %s promise has a fixed window (%s); a promise cannot state its own", kind, c.Length)
	case f.PromisedPeriod > 0:
		length = f.PromisedPeriod
	}
	var anchor *time.Time
	var what string
	switch c.From {
	case policy.AnchorReceived:
		anchor, what = f.ReceivedAt, "the parcel is signed for"
	case policy.AnchorClosed:
		anchor, what = f.ClosedAt, "the order closes"
	}
	if anchor == nil {
		return time.Time{}, time.Time{}, apperr.Conflict("promise.claim.not_open", rule,
			"the %s promise's claim window opens when %s, which has not happened", kind, what)
	}
	from = *anchor
	if length > 0 {
		until = from.Add(length)
	}
	if c.EndEvent == policy.EndReceiptConfirmed && f.ReceiptConfirmedAt != nil {
		end := *f.ReceiptConfirmedAt
		if end.Before(from) {
			end = from
		}
		if until.IsZero() || end.Before(until) {
			until = end
		}
	}
	return from, until, nil
}

// CheckClaim refuses a claim under a promise made at a time outside its
// window (R-PRM-2..6) with an ECONFLICT naming the rule and the window:
// reason promise.claim.not_open before the window opens, and
// promise.claim.window_closed after it ends. See ClaimWindow for the window.
func CheckClaim(kind string, at time.Time, f ClaimFacts, r policy.PromiseRules) error {
	from, until, err := ClaimWindow(kind, f, r)
	if err != nil {
		return err
	}
	rule := promiseRule[kind]
	if at.Before(from) {
		return apperr.Conflict("promise.claim.not_open", rule,
			"a claim at %s is before the %s promise's claim window opens at %s", stamp(at), kind, stamp(from))
	}
	if !until.IsZero() && at.After(until) {
		c, _ := r.Claims.For(kind)
		return apperr.Conflict("promise.claim.window_closed", rule,
			"a claim at %s is after the %s promise's claim window (%s) ended at %s (it opened at %s)", stamp(at), kind, describeWindow(c, f), stamp(until), stamp(from))
	}
	return nil
}

// describeWindow says in words which window a claim missed.
func describeWindow(c policy.ClaimRules, f ClaimFacts) string {
	anchor := "receipt"
	if c.From == policy.AnchorClosed {
		anchor = "the order closed"
	}
	length := policy.Duration(c.Length)
	if f.PromisedPeriod > 0 {
		length = policy.Duration(f.PromisedPeriod)
	}
	var s string
	if length > 0 {
		s = length.String() + " after " + anchor
	} else {
		s = "from " + anchor
	}
	if c.EndEvent == policy.EndReceiptConfirmed {
		s += " until receipt is confirmed"
	}
	return s
}

func stamp(t time.Time) string { return t.Format(time.RFC3339) }

// PayFromDeposit reports whether an upheld claim under a promise of this
// kind is paid from the shop's deposit (保证金) first (R-PRM-5 designated
// courier, R-PRM-6 arrival, by default).
func PayFromDeposit(kind string, r policy.PromiseRules) bool {
	c, ok := r.Claims.For(kind)
	return ok && c.DepositFirst
}

// Remedies of an upheld damage claim (R-PRM-4) and who chose them.
const (
	RemedyResend       = "resend"       // 补寄: the shop ships the item again
	RemedyCompensation = "compensation" // the awarded amount is paid
	RemedyByShop       = "shop"
	RemedyByPlatform   = "platform" // the shop did not choose, or did not resend, in time
)

// Remedies are the remedies a shop may choose for an upheld damage claim.
var Remedies = []string{RemedyResend, RemedyCompensation}

// PostageCharge returns the return postage in fen an upheld return claim
// charges to the shop (R-PRM-3): all of it when the shop bears the postage,
// none when the buyer does.
func PostageCharge(bearer string, postageFen int64) int64 {
	if bearer != policy.BearerShop || postageFen <= 0 {
		return 0
	}
	return postageFen
}

// CheckRemedyChoice refuses a shop's choice of remedy on claim c at time at
// unless c is an upheld damage claim (R-PRM-4) whose remedy is still open and
// at is no later than its deadline (closed at the end: a choice at the
// deadline is in time, one second later the platform has compensated).
func CheckRemedyChoice(c *Claim, remedy string, at time.Time) error {
	const rule = "R-PRM-4"
	switch {
	case remedy != RemedyResend && remedy != RemedyCompensation:
		return apperr.Invalid("remedy", rule, "remedy must be resend or compensation, got %q", remedy)
	case c.Kind != policy.PromiseDamageResend:
		return apperr.Conflict("claim.no_remedy", rule, "claim %s is under the %s promise; only a damage claim has a remedy to choose", c.ID, c.Kind)
	case c.Status != ClaimUpheld:
		return apperr.Conflict("claim.not_upheld", rule, "claim %s is %s; a remedy is chosen once it is upheld", c.ID, c.Status)
	case c.Remedy != "":
		return apperr.Conflict("claim.remedy_chosen", rule, "claim %s's remedy is %s already (chosen by the %s)", c.ID, c.Remedy, c.RemedyBy)
	case c.RemedyDueAt != nil && at.After(*c.RemedyDueAt):
		return apperr.Conflict("claim.remedy_late", rule, "the remedy of claim %s was due by %s", c.ID, stamp(*c.RemedyDueAt))
	}
	return nil
}

// CheckResend refuses the shipment of a resend on claim c at time at unless
// the shop chose the resend and its deadline has not passed (a shipment at
// the deadline is in time, R-PRM-4).
func CheckResend(c *Claim, at time.Time) error {
	const rule = "R-PRM-4"
	switch {
	case c.Remedy != RemedyResend:
		return apperr.Conflict("claim.no_resend", rule, "claim %s has no resend to ship (remedy %q)", c.ID, c.Remedy)
	case c.ResendShippedAt != nil:
		return apperr.Conflict("claim.resend_shipped", rule, "claim %s's resend shipped at %s already", c.ID, stamp(*c.ResendShippedAt))
	case c.ResendDueAt != nil && at.After(*c.ResendDueAt):
		return apperr.Conflict("claim.resend_late", rule, "claim %s's resend was due by %s", c.ID, stamp(*c.ResendDueAt))
	}
	return nil
}
