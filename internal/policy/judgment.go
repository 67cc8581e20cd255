package policy

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"
)

// This file holds the rule sections that judgments and scorecards read:
// violation points (R-COL-6), service promises (R-PRM-*), the after-sales
// liability rate (R-LIA-*) and gold seller criteria (R-GLD-*).

// PointsRules are the violation points that do not belong to one task type.
// (The invoice points of R-INV-3 live in InvoiceRules.)
type PointsRules struct {
	// ForgedEvidenceGeneral is charged each time evidence given to the
	// platform is found forged, general case (R-COL-6: 12, 一般违规).
	ForgedEvidenceGeneral int `json:"forged_evidence_general" yaml:"forged_evidence_general"`
	// ForgedEvidenceSerious is charged for each serious case (R-COL-6: 48, 严重违规).
	ForgedEvidenceSerious int `json:"forged_evidence_serious" yaml:"forged_evidence_serious"`
}

// Promise kinds with a claim window (R-PRM-2..6). The time promise
// (R-PRM-1) pays a computed compensation and has no claim window here.
const (
	PromiseQuality           = "quality"            // 品质承诺, R-PRM-2
	PromiseReturn            = "return"             // 退货承诺, R-PRM-3
	PromiseDamageResend      = "damage_resend"      // 破损补寄, R-PRM-4
	PromiseDesignatedCourier = "designated_courier" // 指定快递, R-PRM-5
	PromiseArrival           = "arrival"            // 到货承诺, R-PRM-6
)

// PromiseKinds lists the promise kinds with a claim window, in RULES.md order.
var PromiseKinds = []string{PromiseQuality, PromiseReturn, PromiseDamageResend, PromiseDesignatedCourier, PromiseArrival}

// Claim window anchors and end events (values of promises.claims.*.from and
// promises.claims.*.end_event).
const (
	AnchorReceived = "received" // the parcel was signed for (签收)
	AnchorClosed   = "closed"   // the order closed (交易关闭 / 完结)

	EndNone             = "none"              // the window ends only by its length
	EndReceiptConfirmed = "receipt_confirmed" // the buyer confirmed receipt (确认收货)
)

// Vocabularies of the promise rules.
var (
	// ClaimAnchors are the values of promises.claims.*.from.
	ClaimAnchors = []string{AnchorReceived, AnchorClosed}
	// ClaimEndEvents are the values of promises.claims.*.end_event.
	ClaimEndEvents = []string{EndNone, EndReceiptConfirmed}
	// Roundings are the values of promises.time.rounding.
	Roundings = []string{RoundHalfUp, RoundDown, RoundUp}
)

// Rounding modes of a computed amount to the fen.
const (
	RoundHalfUp = "half_up" // 0.5 fen and above rounds up (四舍五入)
	RoundDown   = "down"    // towards zero
	RoundUp     = "up"      // away from zero
)

// PromiseRules are the service promises (保障服务, seed 004).
type PromiseRules struct {
	Time   TimePromiseRules `json:"time" yaml:"time"`
	Claims PromiseClaims    `json:"claims" yaml:"claims"`
	// ReturnPostage is who bears the return postage when a return promise
	// names no bearer (R-PRM-3).
	ReturnPostage ReturnPostageRules `json:"return_postage" yaml:"return_postage"`
	// DamageRemedy is how an upheld damage claim is remedied (R-PRM-4).
	DamageRemedy DamageRemedyRules `json:"damage_remedy" yaml:"damage_remedy"`
}

// Who bears a return's postage (R-PRM-3; values of a return promise's
// postage_bearer and of promises.return_postage.default_bearer).
const (
	BearerBuyer = "buyer"
	BearerShop  = "shop"
)

// PostageBearers are the values of a return promise's postage bearer.
var PostageBearers = []string{BearerBuyer, BearerShop}

// ReturnPostageRules say who pays the return postage (退货邮费) under a
// return promise that names no bearer of its own (R-PRM-3: "按照约定的承担方来承担").
type ReturnPostageRules struct {
	// DefaultBearer is buyer or shop.
	DefaultBearer string `json:"default_bearer" yaml:"default_bearer"`
}

// DamageRemedyRules time the remedy of an upheld damage claim (R-PRM-4): the
// shop chooses a resend (补寄) or compensation within ChooseWithin of the
// judgment; a resend ships within ResendWithin of the choice. A shop that
// does not choose, or does not ship the resend, in time compensates.
type DamageRemedyRules struct {
	ChooseWithin Duration `json:"choose_within" yaml:"choose_within"`
	ResendWithin Duration `json:"resend_within" yaml:"resend_within"`
}

// TimePromiseRules compute the time promise's compensation (R-PRM-1: 5 % of
// the amount actually paid, at least 1 yuan, at most 30 yuan).
type TimePromiseRules struct {
	// RateBP is the rate in basis points of the amount paid (500 = 5 %).
	RateBP int64 `json:"rate_bp" yaml:"rate_bp"`
	// MinFen and MaxFen bound the compensation (100 and 3000 fen).
	MinFen int64 `json:"min_fen" yaml:"min_fen"`
	MaxFen int64 `json:"max_fen" yaml:"max_fen"`
	// Rounding of the rate's product to whole fen, before the bounds:
	// half_up, down or up.
	Rounding string `json:"rounding" yaml:"rounding"`
}

// PromiseClaims are the claim windows, one per promise kind.
type PromiseClaims struct {
	Quality           ClaimRules `json:"quality" yaml:"quality"`
	Return            ClaimRules `json:"return" yaml:"return"`
	DamageResend      ClaimRules `json:"damage_resend" yaml:"damage_resend"`
	DesignatedCourier ClaimRules `json:"designated_courier" yaml:"designated_courier"`
	Arrival           ClaimRules `json:"arrival" yaml:"arrival"`
}

// For returns the claim rules of a promise kind; false for an unknown kind.
func (c *PromiseClaims) For(kind string) (ClaimRules, bool) {
	switch kind {
	case PromiseQuality:
		return c.Quality, true
	case PromiseReturn:
		return c.Return, true
	case PromiseDamageResend:
		return c.DamageResend, true
	case PromiseDesignatedCourier:
		return c.DesignatedCourier, true
	case PromiseArrival:
		return c.Arrival, true
	}
	return ClaimRules{}, false
}

// ClaimRules are one promise kind's claim window: it opens at the From event
// and ends at the earlier of From + Length (when Length > 0) and the EndEvent
// (when it is not none and has happened).
type ClaimRules struct {
	// From is the event that opens the window: received or closed.
	From string `json:"from" yaml:"from"`
	// Length of the window after From; 0 = bounded by EndEvent only. When
	// PerPromise is set it is the default for promises that state no period.
	Length Duration `json:"length" yaml:"length"`
	// PerPromise: each promise states its own period (the shop's "承诺时间"),
	// Length being the default.
	PerPromise bool `json:"per_promise" yaml:"per_promise"`
	// EndEvent closes the window early when it happens: none or receipt_confirmed.
	EndEvent string `json:"end_event" yaml:"end_event"`
	// DepositFirst: an upheld claim is paid from the shop's deposit (保证金)
	// first (R-PRM-5, R-PRM-6).
	DepositFirst bool `json:"deposit_first" yaml:"deposit_first"`
}

// Sources of the industry averages (values of liability.average_source).
const (
	AverageConfigured = "configured" // liability.industry_averages
	AverageComputed   = "computed"   // computed across the industry's shops
)

// AverageSources are the values of liability.average_source.
var AverageSources = []string{AverageConfigured, AverageComputed}

// DefaultIndustry is the key of liability.industry_averages used for shops
// whose industry has no entry of its own.
const DefaultIndustry = "default"

// LiabilityRules are the after-sales liability rate rules (售后有责率,
// R-LIA-1..3, seed 002: Taote).
type LiabilityRules struct {
	// Takeover turns on the takeover of unshipped orders of abnormal shops
	// on this platform (R-LIA-2).
	Takeover bool `json:"takeover" yaml:"takeover"`
	// Window of the rate and the count, in whole days (R-LIA-1: 30 days).
	Window Duration `json:"window" yaml:"window"`
	// Multiplier of the industry average: abnormal when the rate and the
	// count are both strictly greater than Multiplier × average; normal again
	// as soon as either is ≤ (R-LIA-2, R-LIA-3: 5).
	Multiplier Decimal `json:"multiplier" yaml:"multiplier"`
	// AverageSource: configured (IndustryAverages) or computed across the
	// shops of the industry.
	AverageSource string `json:"average_source" yaml:"average_source"`
	// IndustryAverages by industry (commerce.Shop.Industry); the "default"
	// entry serves industries without one. Required when AverageSource is
	// configured.
	IndustryAverages map[string]IndustryAverage `json:"industry_averages,omitempty" yaml:"industry_averages"`
}

// AverageFor returns the configured average of an industry, falling back to
// the default entry; false when neither exists.
func (l *LiabilityRules) AverageFor(industry string) (IndustryAverage, bool) {
	if a, ok := l.IndustryAverages[industry]; ok {
		return a, true
	}
	a, ok := l.IndustryAverages[DefaultIndustry]
	return a, ok
}

// WindowDays returns Window in whole days.
func (l *LiabilityRules) WindowDays() int { return int(l.Window.D() / (24 * time.Hour)) }

// IndustryAverage is an industry's average liability rate and count over
// the window.
type IndustryAverage struct {
	// Rate is liable cases per order, e.g. "0.5%".
	Rate Decimal `json:"rate" yaml:"rate"`
	// Count is liable cases per shop in the window, e.g. "2".
	Count Decimal `json:"count" yaml:"count"`
}

// Gold seller criterion ids (values of gold.criteria[].id).
const (
	// GoldInvoiceDisputes counts upheld "did not issue invoice" complaints
	// (开票纠纷, R-GLD-1).
	GoldInvoiceDisputes = "invoice_disputes"
)

// GoldCriterionIDs are the criteria the product implements; a policy may
// list only these (R-GLD-3: pluggable, the invoice one built in).
var GoldCriterionIDs = []string{GoldInvoiceDisputes}

// GoldRules are the gold seller (金牌卖家) criteria (R-GLD-1..3). A platform
// without gold sellers lists none.
type GoldRules struct {
	Criteria []GoldCriterion `json:"criteria" yaml:"criteria"`
}

// Criterion returns the criterion with the given id.
func (g *GoldRules) Criterion(id string) (GoldCriterion, bool) {
	for _, c := range g.Criteria {
		if c.ID == id {
			return c, true
		}
	}
	return GoldCriterion{}, false
}

// GoldCriterion configures one gold seller criterion. Periods are half-month
// periods of the business time zone (R-GLD-2); the label for period N is
// decided by the data of period N−1.
type GoldCriterion struct {
	// ID names the criterion: one of GoldCriterionIDs.
	ID string `json:"id" yaml:"id"`
	// ShownFrom is the start of the first period whose metric is shown
	// (R-GLD-2: December period 1, 2022-12-01 00:00).
	ShownFrom time.Time `json:"shown_from" yaml:"shown_from"`
	// AssessedFrom is the start of the first label period the criterion
	// decides (R-GLD-2: December period 2, 2022-12-16 00:00, judged on
	// December period 1).
	AssessedFrom time.Time `json:"assessed_from" yaml:"assessed_from"`
	// MaxCount is the most counted cases in the assessed period that still
	// pass (R-GLD-1: zero → no effect; inferred: any case withholds the label).
	MaxCount int `json:"max_count" yaml:"max_count"`
}

// Dispute metrics: what a platform calls the share of its orders that went
// to the platform's judgment (R-COL-4).
const (
	DisputeRefundRate   = "dispute_refund_rate"   // 纠纷退款率 (Taobao)
	PlatformDisputeRate = "platform_dispute_rate" // 平台纠纷率 (Tmall)
)

// DisputeMetrics are the values of scorecard.dispute_metric.
var DisputeMetrics = []string{DisputeRefundRate, PlatformDisputeRate}

// ScorecardRules are the windows and names of the shop scorecard's figures
// that are not the liability rate's.
type ScorecardRules struct {
	// Window of the dispute rate and of the average manual response time,
	// in whole days ending with the day read (per-day counters).
	Window Duration `json:"window" yaml:"window"`
	// DisputeMetric names the dispute rate that judged cases count in
	// (R-COL-4): dispute_refund_rate (Taobao) or platform_dispute_rate (Tmall).
	DisputeMetric string `json:"dispute_metric" yaml:"dispute_metric"`
}

// WindowDays returns Window in whole days.
func (s *ScorecardRules) WindowDays() int { return int(s.Window.D() / (24 * time.Hour)) }

// validateJudgment checks the points, promises, liability and gold sections.
// It runs after the time zone has been loaded into rs.loc (when it loads).
// PointsKinds are the kinds of violation points (values of
// complaints.shipping_upheld.points_kind): general (一般违规), serious (严重违规).
var PointsKinds = []string{"general", "serious"}

// validateRate checks a computed compensation (rate of the amount paid,
// rounding, floor and cap) at path. zeroOK allows a rate and cap of 0 (no
// compensation), which the time promise does not.
func validateRate(path string, tp TimePromiseRules, zeroOK bool, add func(path, format string, args ...any)) {
	switch {
	case zeroOK && (tp.RateBP < 0 || tp.RateBP > 10000):
		add(path+".rate_bp", "must be from 0 to 10000 basis points (500 = 5%%), got %d", tp.RateBP)
	case !zeroOK && (tp.RateBP <= 0 || tp.RateBP > 10000):
		add(path+".rate_bp", "must be from 1 to 10000 basis points (500 = 5%%), got %d", tp.RateBP)
	}
	if tp.MinFen < 0 {
		add(path+".min_fen", "must not be negative, got %d", tp.MinFen)
	}
	switch {
	case tp.MaxFen < 0 || (!zeroOK && tp.MaxFen == 0):
		add(path+".max_fen", "must be more than 0, got %d", tp.MaxFen)
	case tp.MaxFen < tp.MinFen:
		add(path+".max_fen", "%d is less than min_fen %d", tp.MaxFen, tp.MinFen)
	}
	if !Contains(Roundings, tp.Rounding) {
		add(path+".rounding", "must be one of %s, got %q", strings.Join(Roundings, ", "), tp.Rounding)
	}
}

func validateJudgment(rs *RuleSet, add func(path, format string, args ...any)) {
	pt := &rs.Points
	if pt.ForgedEvidenceGeneral <= 0 {
		add("points.forged_evidence_general", "must be more than 0, got %d", pt.ForgedEvidenceGeneral)
	}
	if pt.ForgedEvidenceSerious <= 0 {
		add("points.forged_evidence_serious", "must be more than 0, got %d", pt.ForgedEvidenceSerious)
	}

	up := &rs.Complaints.ShippingUpheld
	validateRate("complaints.shipping_upheld.compensation", up.Compensation, true, add)
	if up.Points < 0 {
		add("complaints.shipping_upheld.points", "must not be negative (0: none), got %d", up.Points)
	}
	if !Contains(PointsKinds, up.PointsKind) {
		add("complaints.shipping_upheld.points_kind", "must be one of %s, got %q", strings.Join(PointsKinds, ", "), up.PointsKind)
	}

	validateRate("promises.time", rs.Promises.Time, false, add)
	if !Contains(PostageBearers, rs.Promises.ReturnPostage.DefaultBearer) {
		add("promises.return_postage.default_bearer", "must be one of %s, got %q", strings.Join(PostageBearers, ", "), rs.Promises.ReturnPostage.DefaultBearer)
	}
	if dr := rs.Promises.DamageRemedy; dr.ChooseWithin <= 0 {
		add("promises.damage_remedy.choose_within", "must be more than 0, got %s", dr.ChooseWithin)
	}
	if dr := rs.Promises.DamageRemedy; dr.ResendWithin <= 0 {
		add("promises.damage_remedy.resend_within", "must be more than 0, got %s", dr.ResendWithin)
	}
	for _, kind := range PromiseKinds {
		c, _ := rs.Promises.Claims.For(kind)
		p := "promises.claims." + kind
		if !Contains(ClaimAnchors, c.From) {
			add(p+".from", "must be one of %s, got %q", strings.Join(ClaimAnchors, ", "), c.From)
		}
		if !Contains(ClaimEndEvents, c.EndEvent) {
			add(p+".end_event", "must be one of %s, got %q", strings.Join(ClaimEndEvents, ", "), c.EndEvent)
		}
		switch {
		case c.Length < 0:
			add(p+".length", "must not be negative, got %s", c.Length)
		case c.Length == 0 && c.PerPromise:
			add(p+".length", "must be more than 0: it is the default for promises that state no period (per_promise)")
		case c.Length == 0 && c.EndEvent == EndNone:
			add(p+".length", "must be more than 0 when end_event is none: the window would never end")
		}
	}

	li := &rs.Liability
	const day = 24 * time.Hour
	switch {
	case li.Window <= 0:
		add("liability.window", "must be more than 0, got %s", li.Window)
	case li.Window.D()%day != 0:
		add("liability.window", "must be whole days (counters are per day), got %s", li.Window)
	}
	if li.Multiplier.Sign() <= 0 {
		add("liability.multiplier", "must be more than 0, got %s", li.Multiplier)
	}
	if !Contains(AverageSources, li.AverageSource) {
		add("liability.average_source", "must be one of %s, got %q", strings.Join(AverageSources, ", "), li.AverageSource)
	}
	for _, ind := range sortedAverageKeys(li.IndustryAverages) {
		a := li.IndustryAverages[ind]
		p := "liability.industry_averages." + ind
		if strings.TrimSpace(ind) == "" {
			add(p, "must name an industry")
		}
		if a.Rate.Sign() <= 0 {
			add(p+".rate", "must be more than 0, got %s", a.Rate)
		} else if a.Rate.Rat().Cmp(big.NewRat(1, 1)) > 0 {
			add(p+".rate", "must be at most 1 (100%%): liable cases per order, got %s", a.Rate)
		}
		if a.Count.Sign() <= 0 {
			add(p+".count", "must be more than 0, got %s", a.Count)
		}
	}
	if li.AverageSource == AverageConfigured {
		if _, ok := li.IndustryAverages[DefaultIndustry]; !ok {
			add("liability.industry_averages", "needs a %q entry when average_source is configured", DefaultIndustry)
		}
	}

	sc := &rs.Scorecard
	switch {
	case sc.Window <= 0:
		add("scorecard.window", "must be more than 0, got %s", sc.Window)
	case sc.Window.D()%day != 0:
		add("scorecard.window", "must be whole days (counters are per day), got %s", sc.Window)
	}
	if !Contains(DisputeMetrics, sc.DisputeMetric) {
		add("scorecard.dispute_metric", "must be one of %s, got %q", strings.Join(DisputeMetrics, ", "), sc.DisputeMetric)
	}

	seen := map[string]int{}
	for i, c := range rs.Gold.Criteria {
		p := fmt.Sprintf("gold.criteria[%d]", i)
		if !Contains(GoldCriterionIDs, c.ID) {
			add(p+".id", "unknown criterion %q (want one of: %s)", c.ID, strings.Join(GoldCriterionIDs, ", "))
		} else if j, ok := seen[c.ID]; ok {
			add(p+".id", "%q is listed twice (also gold.criteria[%d])", c.ID, j)
		} else {
			seen[c.ID] = i
		}
		boundary := func(field string, t time.Time) {
			if t.IsZero() {
				add(p+"."+field, "must be a time")
				return
			}
			if rs.loc == nil {
				return // the time zone is reported already
			}
			if l := t.In(rs.loc); (l.Day() != 1 && l.Day() != 16) || l.Hour() != 0 || l.Minute() != 0 || l.Second() != 0 || l.Nanosecond() != 0 {
				add(p+"."+field, "%s is not the start of a half-month period (midnight on the 1st or the 16th, %s)", t.Format(time.RFC3339), rs.Timezone)
			}
		}
		boundary("shown_from", c.ShownFrom)
		boundary("assessed_from", c.AssessedFrom)
		if !c.ShownFrom.IsZero() && !c.AssessedFrom.IsZero() && !c.AssessedFrom.After(c.ShownFrom) {
			add(p+".assessed_from", "%s is not after shown_from %s: a label period is judged on the period before it", c.AssessedFrom.Format(time.RFC3339), c.ShownFrom.Format(time.RFC3339))
		}
		if c.MaxCount < 0 {
			add(p+".max_count", "must not be negative, got %d", c.MaxCount)
		}
	}
}

func sortedAverageKeys(m map[string]IndustryAverage) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
