package commerce

import (
	"fmt"
	"time"
	"unicode/utf8"

	"aftersale/internal/apperr"
	"aftersale/internal/ident"
)

// Limits of facts (docs/api.md, "Limits"). A fact beyond one is refused
// alone, naming the field; the batch's other facts are applied.
const (
	// MaxFen is the largest amount in fen any fact or command states, and
	// the largest a sum of them (a shop's deposit balance) may reach:
	// 10^12 fen = 100 亿元. Sums stay far from int64's limit, so no
	// arithmetic on amounts overflows.
	MaxFen int64 = 1_000_000_000_000
	// MaxShortText is the longest label (carrier, tracking number, region,
	// industry, category, SKU, promise kind, permission), in characters.
	MaxShortText = 256
	// MaxText is the longest free text (a product's title), in characters.
	MaxText = 4000
	// MaxPromiseDuration is the longest ship_within or period a promise
	// states (a year and a day).
	MaxPromiseDuration = 366 * 24 * time.Hour
	// MaxItems is the most items an order carries.
	MaxItems = 500
	// MaxSubAccounts is the most sub-accounts one shop fact lists.
	MaxSubAccounts = 1000
	// MaxPermissions is the most permissions one account lists.
	MaxPermissions = 32
)

// MinTime and MaxTime bound every time a fact states (at, paid_at, ship_by,
// reported_ship_by): from 2000-01-01 (inclusive) to 2100-01-01 (exclusive),
// UTC. A time inside the range that no policy version covers is refused by
// the engine, naming the field.
var (
	MinTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CheckFen refuses an amount above MaxFen (signs are the caller's rule).
func CheckFen(field string, v int64) error {
	if v > MaxFen {
		return apperr.Invalid(field, "", "%s is %d fen; the limit is %d fen (100 亿元)", field, v, MaxFen)
	}
	return nil
}

// CheckTime refuses a time outside [MinTime, MaxTime); the zero time is the
// caller's (required) rule.
func CheckTime(field string, t time.Time) error {
	if t.IsZero() || (!t.Before(MinTime) && t.Before(MaxTime)) {
		return nil
	}
	return apperr.Invalid(field, "", "%s %s is outside the accepted range %s to %s", field,
		t.UTC().Format(time.RFC3339), MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))
}

// CheckText refuses a text longer than maxRunes characters, or not UTF-8.
func CheckText(field, s string, maxRunes int) error {
	if len(s) <= maxRunes && utf8.ValidString(s) {
		return nil // fast path: bytes ≥ characters
	}
	if !utf8.ValidString(s) {
		return apperr.Invalid(field, "", "%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return apperr.Invalid(field, "", "%s is %d characters long; the limit is %d", field, n, maxRunes)
	}
	return nil
}

// checkDuration refuses a promise duration above MaxPromiseDuration.
func checkDuration(field string, d Duration) error {
	if d.D() > MaxPromiseDuration {
		return apperr.Invalid(field, "", "%s is %s; the limit is %s", field, d, Duration(MaxPromiseDuration))
	}
	return nil
}

// checkCount refuses a list longer than max.
func checkCount(field string, n, max int) error {
	if n > max {
		return apperr.Invalid(field, "", "%s lists %d entries; the limit is %d", field, n, max)
	}
	return nil
}

// id checks a required id: present and well-formed (ident.Check).
func id(field, v string) error {
	if err := required(field, v); err != nil {
		return err
	}
	return ident.Check(field, v)
}

// optID checks an optional id.
func optID(field, v string) error { return ident.Check(field, v) }

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// indexed names the i-th element of a list field.
func indexed(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }
