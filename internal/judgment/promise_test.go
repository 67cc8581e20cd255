package judgment

import (
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
)

var cst = time.FixedZone("CST", 8*3600)

func bj(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, cst)
}

func ptr(t time.Time) *time.Time { return &t }

// rulesAt returns the default rules of a platform at a time.
func rulesAt(t *testing.T, p commerce.Platform, at time.Time) *policy.RuleSet {
	t.Helper()
	reg, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := reg.At(p, at)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// R-PRM-1: 5 % of the amount paid, at least 1 yuan, at most 30 yuan.
func TestTimeCompensation_R_PRM_1(t *testing.T) {
	pr := rulesAt(t, commerce.Taobao, bj(2023, 8, 1, 0, 0, 0)).Promises
	for _, c := range []struct {
		paid, want int64
		why        string
	}{
		{1999, 100, "19.99 yuan: 99.95 fen rounds to 100, the 1-yuan floor anyway"},
		{2000, 100, "20.00 yuan: exactly 1 yuan"},
		{2001, 100, "20.01 yuan: 100.05 fen rounds down to 100"},
		{2010, 101, "20.10 yuan: 100.5 fen, half a fen, rounds up (half_up)"},
		{2009, 100, "20.09 yuan: 100.45 fen rounds down"},
		{2030, 102, "20.30 yuan: 101.5 fen rounds up"},
		{59990, 3000, "599.90 yuan: 2999.5 fen rounds up to the cap"},
		{59989, 2999, "599.89 yuan: 2999.45 fen"},
		{60000, 3000, "600.00 yuan: exactly 30 yuan"},
		{60001, 3000, "600.01 yuan: 3000.05 fen, capped"},
		{10_000_000, 3000, "100000 yuan: capped"},
		{1, 100, "1 fen: the 1-yuan floor"},
		{0, 0, "nothing paid, nothing owed"},
		{-500, 0, "a negative amount pays nothing"},
		{1<<62 + 12345, 3000, "no overflow"},
	} {
		if got := TimeCompensation(c.paid, pr); got != c.want {
			t.Errorf("paid %d fen: %d, want %d (%s)", c.paid, got, c.want, c.why)
		}
	}
}

// R-PRM-1: the rounding rule is data; half a fen goes each way as configured.
func TestTimeCompensationRounding_R_PRM_1(t *testing.T) {
	base := policy.PromiseRules{Time: policy.TimePromiseRules{RateBP: 500, MinFen: 100, MaxFen: 3000}}
	for _, c := range []struct {
		rounding string
		paid     int64
		want     int64
	}{
		{policy.RoundHalfUp, 2010, 101}, // 100.5
		{policy.RoundDown, 2010, 100},
		{policy.RoundUp, 2010, 101},
		{policy.RoundHalfUp, 2001, 100}, // 100.05
		{policy.RoundDown, 2001, 100},
		{policy.RoundUp, 2001, 101},
		{policy.RoundUp, 2000, 100}, // exact: no rounding
		{policy.RoundUp, 60001, 3000},
	} {
		r := base
		r.Time.Rounding = c.rounding
		if got := TimeCompensation(c.paid, r); got != c.want {
			t.Errorf("%s, paid %d: %d, want %d", c.rounding, c.paid, got, c.want)
		}
	}
	// Other figures: 3 % without a floor.
	r := base
	r.Time = policy.TimePromiseRules{RateBP: 300, MinFen: 0, MaxFen: 100000, Rounding: policy.RoundHalfUp}
	if got := TimeCompensation(1999, r); got != 60 { // 59.97
		t.Errorf("3%% of 1999: %d, want 60", got)
	}
}

// R-PRM-2..6: claim windows, at the exact end and 1 s after.
func TestClaimWindows_R_PRM_2_6(t *testing.T) {
	pr := rulesAt(t, commerce.Tmall, bj(2023, 8, 1, 0, 0, 0)).Promises
	received := bj(2023, 3, 1, 10, 0, 0)
	confirmed := bj(2023, 3, 5, 9, 30, 0)
	closed := bj(2023, 3, 6, 12, 0, 0)
	day := 24 * time.Hour
	full := ClaimFacts{ReceivedAt: &received, ReceiptConfirmedAt: &confirmed, ClosedAt: &closed}
	noConfirm := ClaimFacts{ReceivedAt: &received}
	custom := full
	custom.PromisedPeriod = 3 * day

	cases := []struct {
		name      string
		kind      string
		facts     ClaimFacts
		from, end time.Time // end zero: open-ended
		rule      string
	}{
		{"R-PRM-2 quality: receipt until confirmation", policy.PromiseQuality, full, received, confirmed, "R-PRM-2"},
		{"R-PRM-2 quality: not confirmed yet, open", policy.PromiseQuality, noConfirm, received, time.Time{}, "R-PRM-2"},
		{"R-PRM-3 return: default 7d after receipt", policy.PromiseReturn, full, received, received.Add(7 * day), "R-PRM-3"},
		{"R-PRM-3 return: the promise's own 3d", policy.PromiseReturn, custom, received, received.Add(3 * day), "R-PRM-3"},
		{"R-PRM-4 damage resend: default 7d after receipt", policy.PromiseDamageResend, noConfirm, received, received.Add(7 * day), "R-PRM-4"},
		{"R-PRM-5 designated courier: 15d after close", policy.PromiseDesignatedCourier, full, closed, bj(2023, 3, 21, 12, 0, 0), "R-PRM-5"},
		{"R-PRM-6 arrival: half a month = 15d after close", policy.PromiseArrival, full, closed, bj(2023, 3, 21, 12, 0, 0), "R-PRM-6"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from, until, err := ClaimWindow(c.kind, c.facts, pr)
			if err != nil || !from.Equal(c.from) || !until.Equal(c.end) {
				t.Fatalf("window [%s, %s] %v, want [%s, %s]", from, until, err, c.from, c.end)
			}
			if PromiseRule(c.kind) != c.rule {
				t.Errorf("rule %q", PromiseRule(c.kind))
			}
			ok := []time.Time{c.from, c.from.Add(time.Second)}
			if !c.end.IsZero() {
				ok = append(ok, c.end) // the exact end is in time
			} else {
				ok = append(ok, c.from.Add(365*day))
			}
			for _, at := range ok {
				if err := CheckClaim(c.kind, at, c.facts, pr); err != nil {
					t.Errorf("claim at %s: %v", at, err)
				}
			}
			err = CheckClaim(c.kind, c.from.Add(-time.Second), c.facts, pr)
			wantRefusal(t, err, "promise.claim.not_open", c.rule, "before the "+c.kind+" promise's claim window opens")
			if !c.end.IsZero() {
				err := CheckClaim(c.kind, c.end.Add(time.Second), c.facts, pr)
				wantRefusal(t, err, "promise.claim.window_closed", c.rule, "after the "+c.kind+" promise's claim window")
			}
		})
	}
}

func wantRefusal(t *testing.T, err error, reason, rule, msg string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.ECONFLICT || e.Reason != reason || e.Rule != rule || !strings.Contains(e.Message, msg) {
		t.Errorf("got %v, want %s [%s] %q", err, reason, rule, msg)
	}
}

// The refusal names the window the claim missed.
func TestClaimRefusalNamesWindow_R_PRM(t *testing.T) {
	pr := rulesAt(t, commerce.Taobao, bj(2023, 8, 1, 0, 0, 0)).Promises
	received := bj(2023, 3, 1, 10, 0, 0)
	confirmed := bj(2023, 3, 5, 9, 30, 0)
	closed := bj(2023, 3, 6, 12, 0, 0)
	f := ClaimFacts{ReceivedAt: &received, ReceiptConfirmedAt: &confirmed, ClosedAt: &closed}
	for kind, want := range map[string]string{
		policy.PromiseQuality:           "(from receipt until receipt is confirmed) ended at 2023-03-05T09:30:00+08:00",
		policy.PromiseReturn:            "(7d after receipt) ended at 2023-03-08T10:00:00+08:00",
		policy.PromiseDesignatedCourier: "(15d after the order closed) ended at 2023-03-21T12:00:00+08:00",
		policy.PromiseArrival:           "(15d after the order closed)",
	} {
		err := CheckClaim(kind, bj(2023, 4, 1, 0, 0, 0), f, pr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", kind, err, want)
		}
	}
	f.PromisedPeriod = 48 * time.Hour
	if err := CheckClaim(policy.PromiseReturn, bj(2023, 4, 1, 0, 0, 0), f, pr); err == nil || !strings.Contains(err.Error(), "(48h after receipt)") {
		t.Errorf("per-promise period: %v", err)
	}
}

// Refusals other than timing.
func TestClaimWindowErrors_R_PRM(t *testing.T) {
	pr := rulesAt(t, commerce.Taobao, bj(2023, 8, 1, 0, 0, 0)).Promises
	received := bj(2023, 3, 1, 10, 0, 0)
	cases := []struct {
		name   string
		kind   string
		facts  ClaimFacts
		code   apperr.Code
		reason string
		rule   string
	}{
		{"unknown kind", "time", ClaimFacts{ReceivedAt: &received}, apperr.EINVALID, "invalid", ""},
		{"R-PRM-2 not received yet", policy.PromiseQuality, ClaimFacts{}, apperr.ECONFLICT, "promise.claim.not_open", "R-PRM-2"},
		{"R-PRM-5 order not closed", policy.PromiseDesignatedCourier, ClaimFacts{ReceivedAt: &received}, apperr.ECONFLICT, "promise.claim.not_open", "R-PRM-5"},
		{"R-PRM-6 fixed window, promise states a period", policy.PromiseArrival, ClaimFacts{ClosedAt: &received, PromisedPeriod: time.Hour}, apperr.EINVALID, "invalid", "R-PRM-6"},
		{"R-PRM-3 negative period", policy.PromiseReturn, ClaimFacts{ReceivedAt: &received, PromisedPeriod: -time.Hour}, apperr.EINVALID, "invalid", "R-PRM-3"},
	}
	for _, c := range cases {
		err := CheckClaim(c.kind, received, c.facts, pr)
		e, ok := apperr.As(err)
		if !ok || e.Code != c.code || e.Reason != c.reason || e.Rule != c.rule {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// R-PRM-2: confirmation recorded before receipt (bad data) closes the window
// at receipt; a length cap and an end event: the earlier wins.
func TestClaimWindowEndEvent_R_PRM_2(t *testing.T) {
	received := bj(2023, 3, 1, 10, 0, 0)
	pr := policy.PromiseRules{Claims: policy.PromiseClaims{Quality: policy.ClaimRules{
		From: policy.AnchorReceived, Length: policy.Duration(72 * time.Hour), EndEvent: policy.EndReceiptConfirmed}}}
	for _, c := range []struct {
		confirmed *time.Time
		want      time.Time
	}{
		{nil, received.Add(72 * time.Hour)},
		{ptr(received.Add(24 * time.Hour)), received.Add(24 * time.Hour)},
		{ptr(received.Add(96 * time.Hour)), received.Add(72 * time.Hour)},
		{ptr(received.Add(-time.Hour)), received},
	} {
		_, until, err := ClaimWindow(policy.PromiseQuality, ClaimFacts{ReceivedAt: &received, ReceiptConfirmedAt: c.confirmed}, pr)
		if err != nil || !until.Equal(c.want) {
			t.Errorf("confirmed %v: until %s %v, want %s", c.confirmed, until, err, c.want)
		}
	}
}

// R-PRM-5, R-PRM-6: designated courier and arrival pay from the deposit first.
func TestPayFromDeposit_R_PRM_5_6(t *testing.T) {
	pr := rulesAt(t, commerce.Taote, bj(2023, 8, 1, 0, 0, 0)).Promises
	for kind, want := range map[string]bool{
		policy.PromiseDesignatedCourier: true,
		policy.PromiseArrival:           true,
		policy.PromiseQuality:           false,
		policy.PromiseReturn:            false,
		policy.PromiseDamageResend:      false,
		"time":                          false,
	} {
		if got := PayFromDeposit(kind, pr); got != want {
			t.Errorf("%s: %v, want %v", kind, got, want)
		}
	}
}
