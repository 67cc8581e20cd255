package policy

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
)

// R-COL-6: forged evidence, 12 points general, 48 serious, on every platform.
func TestForgedEvidencePoints_R_COL_6(t *testing.T) {
	r := mustDefault(t)
	for _, p := range platforms {
		pt := mustAt(t, r, p, at(2023, 1, 1, 0, 0, 0)).Points
		if pt.ForgedEvidenceGeneral != 12 || pt.ForgedEvidenceSerious != 48 {
			t.Errorf("%s: %+v, want 12 and 48", p, pt)
		}
	}
}

// R-PRM-1..6: the time promise's figures and the claim windows.
func TestPromiseDefaults_R_PRM(t *testing.T) {
	r := mustDefault(t)
	day := 24 * time.Hour
	for _, p := range platforms {
		pr := mustAt(t, r, p, at(2023, 8, 1, 0, 0, 0)).Promises
		if pr.Time != (TimePromiseRules{RateBP: 500, MinFen: 100, MaxFen: 3000, Rounding: RoundHalfUp}) {
			t.Errorf("%s: time promise %+v (R-PRM-1)", p, pr.Time)
		}
		want := map[string]ClaimRules{
			PromiseQuality:           {From: AnchorReceived, EndEvent: EndReceiptConfirmed},                                   // R-PRM-2
			PromiseReturn:            {From: AnchorReceived, Length: Duration(7 * day), PerPromise: true, EndEvent: EndNone},  // R-PRM-3
			PromiseDamageResend:      {From: AnchorReceived, Length: Duration(7 * day), PerPromise: true, EndEvent: EndNone},  // R-PRM-4
			PromiseDesignatedCourier: {From: AnchorClosed, Length: Duration(15 * day), EndEvent: EndNone, DepositFirst: true}, // R-PRM-5
			PromiseArrival:           {From: AnchorClosed, Length: Duration(15 * day), EndEvent: EndNone, DepositFirst: true}, // R-PRM-6
		}
		for _, k := range PromiseKinds {
			got, ok := pr.Claims.For(k)
			if !ok || got != want[k] {
				t.Errorf("%s %s: %+v, want %+v", p, k, got, want[k])
			}
		}
		if _, ok := pr.Claims.For("time"); ok {
			t.Errorf("the time promise has no claim window")
		}
	}
}

// R-LIA-1..3: 30 days, 5×, configured averages; the takeover is Taote's.
func TestLiabilityDefaults_R_LIA(t *testing.T) {
	r := mustDefault(t)
	for _, p := range platforms {
		li := mustAt(t, r, p, at(2023, 1, 1, 0, 0, 0)).Liability
		if li.Takeover != (p == commerce.Taote) {
			t.Errorf("%s: takeover %v", p, li.Takeover)
		}
		if li.WindowDays() != 30 || li.Multiplier != MustDecimal("5") || li.AverageSource != AverageConfigured {
			t.Errorf("%s: %+v", p, li)
		}
		a, ok := li.AverageFor("some industry with no entry")
		if !ok || a.Rate != MustDecimal("0.005") || a.Count != MustDecimal("2") {
			t.Errorf("%s: default average %+v %v", p, a, ok)
		}
	}
	var none LiabilityRules
	if _, ok := none.AverageFor("x"); ok {
		t.Error("no averages: found one")
	}
}

// R-GLD-1, R-GLD-2: Taobao's invoice-dispute criterion is shown from December
// period 1 and first assessed in December period 2; no gold seller elsewhere.
func TestGoldDefaults_R_GLD(t *testing.T) {
	r := mustDefault(t)
	g := mustAt(t, r, commerce.Taobao, at(2022, 11, 1, 0, 0, 0)).Gold
	c, ok := g.Criterion(GoldInvoiceDisputes)
	if !ok || !c.ShownFrom.Equal(at(2022, 12, 1, 0, 0, 0)) || !c.AssessedFrom.Equal(at(2022, 12, 16, 0, 0, 0)) || c.MaxCount != 0 {
		t.Errorf("taobao invoice_disputes: %+v %v", c, ok)
	}
	if _, ok := g.Criterion("other"); ok {
		t.Error("unknown criterion found")
	}
	for _, p := range []commerce.Platform{commerce.Tmall, commerce.Taote} {
		if n := len(mustAt(t, r, p, at(2023, 1, 1, 0, 0, 0)).Gold.Criteria); n != 0 {
			t.Errorf("%s: %d criteria, want none", p, n)
		}
	}
}

// The new sections show in `policy show`, decimals as written.
func TestRunShowJudgmentSections(t *testing.T) {
	var out, errb bytes.Buffer
	if code := RunShow([]string{"--platform", "taote", "--at", "2023-01-01T00:00:00+08:00"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"forged_evidence_serious: 48\n", "rate_bp: 500\n", "designated_courier:\n", "multiplier: \"5\"\n", "rate: \"0.005\"\n", "takeover: true\n", "criteria: []\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, c := range []struct {
		in, out string
		err     bool
	}{
		{"5", "5", false},
		{"0.005", "0.005", false},
		{"0.5%", "0.005", false},
		{" 12.50 % ", "0.125", false},
		{"-1.5", "-1.5", false},
		{"+2", "2", false},
		{".5", "0.5", false},
		{"5.", "5", false},
		{"000", "0", false},
		{"0.000000000000000001", "0.000000000000000001", false},
		{"0.0000000000000000001", "", true},
		{"99999999999999999999", "", true},
		{"5e-3", "", true},
		{"", "", true},
		{".", "", true},
		{"%", "", true},
		{"1.2.3", "", true},
		{"five", "", true},
	} {
		d, err := ParseDecimal(c.in)
		if (err != nil) != c.err {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if err == nil && d.String() != c.out {
			t.Errorf("%q: %s, want %s", c.in, d, c.out)
		}
	}
	if MustDecimal("0.50") != MustDecimal("0.5") || MustDecimal("50%") != MustDecimal("0.5") {
		t.Error("equal values are not ==")
	}
	if f, _ := decimalFromFloat(0.004); f != MustDecimal("0.004") {
		t.Errorf("float 0.004 → %s", f)
	}
	var d Decimal
	if err := d.UnmarshalText([]byte("1.25")); err != nil || d.Float64() != 1.25 || d.Sign() != 1 {
		t.Errorf("unmarshal: %v %v", d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "1.25" {
		t.Errorf("marshal: %s", b)
	}
	if d.UnmarshalText([]byte("x")) == nil {
		t.Error("unmarshal x: no error")
	}
	if MustDecimal("-0.25").Sign() != -1 || (Decimal{}).Sign() != 0 {
		t.Error("sign")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustDecimal(bad) did not panic")
		}
	}()
	MustDecimal("bad")
}
