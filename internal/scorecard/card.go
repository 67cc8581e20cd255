package scorecard

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"aftersale/internal/policy"
)

// Card is a shop's scorecard as read at one instant: every figure comes from
// the shop's per-day counters (and its industry's), so reading it costs
// O(days in the windows), never O(orders).
type Card struct {
	ShopID   string    `json:"shop_id"`
	Platform string    `json:"platform"`
	Industry string    `json:"industry"`
	AsOf     time.Time `json:"as_of"`
	// PolicyVersion is the version of the rules the card was read under.
	PolicyVersion string `json:"policy_version"`

	Liability LiabilityCard `json:"liability"`
	Takeover  Takeover      `json:"takeover"`
	Disputes  DisputeCard   `json:"disputes"`
	Response  ResponseCard  `json:"response"`
	Gold      []GoldResult  `json:"gold,omitempty"`
}

// LiabilityCard is the after-sales liability figure (售后有责率, R-LIA-1) over
// its window, against the industry average (R-LIA-2).
type LiabilityCard struct {
	Standing
	Rate        string `json:"rate"` // the rate for display, e.g. "2.50%"
	AverageFrom string `json:"average_from"`
	// AverageRate and AverageCount are the industry's averages as exact
	// fractions ("1/200"); empty when no average is known.
	AverageRate  string `json:"average_rate,omitempty"`
	AverageCount string `json:"average_count,omitempty"`
	Multiplier   string `json:"multiplier"`
	// RateLimit and CountLimit are multiplier × the averages: the figures
	// must both be above them for the shop to be abnormal.
	RateLimit  string `json:"rate_limit,omitempty"`
	CountLimit string `json:"count_limit,omitempty"`
	// TakeoverRule says whether the platform takes over abnormal shops.
	TakeoverRule bool `json:"takeover_rule"`
}

// DisputeCard is the share of orders that went to the platform's judgment
// (R-COL-4): the dispute refund rate (纠纷退款率, Taobao) or the platform
// dispute rate (平台纠纷率, Tmall).
type DisputeCard struct {
	Metric string `json:"metric"`
	First  string `json:"first"`
	Last   string `json:"last"`
	Judged int    `json:"judged"`
	Orders int    `json:"orders"`
	Rate   string `json:"rate"`
}

// ResponseCard is the shop's average manual response time to chat cards
// (R-URG-4) over the window.
type ResponseCard struct {
	First     string `json:"first"`
	Last      string `json:"last"`
	Responses int64  `json:"responses"`
	// AverageMS is the mean response in milliseconds (0 with no responses).
	AverageMS int64  `json:"average_ms"`
	Average   string `json:"average,omitempty"` // e.g. "12m30s"
}

// Takeover is a shop's takeover state (接管, R-LIA-2/R-LIA-3). Every start
// and stop is also an event on the shop's stream (TakeoverStream).
type Takeover struct {
	ShopID string `json:"shop_id"`
	Active bool   `json:"active"`
	// Since is when the current state began (zero for a shop never taken over).
	Since time.Time `json:"since,omitzero"`
	// Starts counts how often the takeover started.
	Starts        int    `json:"starts"`
	PolicyVersion string `json:"policy_version,omitempty"`
}

// TakeoverStream is the event stream of a shop's takeover switches.
func TakeoverStream(shopID string) string { return "shop:" + shopID }

// More metrics kept per shop and day (see keys.go).
const (
	MetricResponseMS = "response_ms" // R-URG-4: sum of manual response times
	MetricResponses  = "responses"   // R-URG-4: number of manual responses
)

// IndustryKey names an industry's counter of a metric on a day; it backs
// computed industry averages (liability.average_source computed).
func IndustryKey(platform, industry, day, metric string) string {
	return "sci:" + platform + "/" + industry + ":" + day + ":" + metric
}

// IndustryShopsKey names the counter of an industry's shops.
func IndustryShopsKey(platform, industry string) string {
	return "scs:" + platform + "/" + industry
}

// KeyRange returns the first and last key (inclusive) of the counters of a
// key prefix ("sc:<shop>" or "sci:<platform>/<industry>") on the days from
// first to last: a store range read over it returns exactly those.
func KeyRange(prefix, first, last string) (from, to string) {
	return prefix + ":" + first, prefix + ":" + last + ":\uffff"
}

// ShopPrefix is the key prefix of a shop's day counters.
func ShopPrefix(shopID string) string { return "sc:" + shopID }

// IndustryPrefix is the key prefix of an industry's day counters.
func IndustryPrefix(platform, industry string) string { return "sci:" + platform + "/" + industry }

// DaysOf folds the counters read under a prefix into one DayCounts per day,
// by day. Keys outside the prefix or of unknown metrics are ignored; the
// response metrics are returned per day in resp.
func DaysOf(prefix string, counters map[string]int64) (days []DayCounts, resp map[string][2]int64) {
	byDay := map[string]*DayCounts{}
	resp = map[string][2]int64{}
	for k, v := range counters {
		rest, ok := strings.CutPrefix(k, prefix+":")
		if !ok {
			continue
		}
		day, metric, ok := strings.Cut(rest, ":")
		if !ok || len(day) != len(dayLayout) {
			continue
		}
		d := byDay[day]
		if d == nil {
			d = &DayCounts{Day: day}
			byDay[day] = d
		}
		switch metric {
		case MetricOrders:
			d.Orders += int(v)
		case MetricLiableComplaints:
			d.LiableComplaints += int(v)
		case MetricLiableDisputes:
			d.LiableDisputes += int(v)
		case MetricJudged:
			d.Judged += int(v)
		case MetricInvoiceDisputes:
			d.InvoiceDisputes += int(v)
		case MetricResponseMS:
			r := resp[day]
			r[0] += v
			resp[day] = r
		case MetricResponses:
			r := resp[day]
			r[1] += v
			resp[day] = r
		}
	}
	days = make([]DayCounts, 0, len(byDay))
	for _, d := range byDay {
		days = append(days, *d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Day < days[j].Day })
	return days, resp
}

// WindowDays returns the first and last day of a window of n whole
// business days ending on the day of asOf.
func WindowDays(asOf time.Time, loc *time.Location, n int) (first, last string) {
	return LiabilityWindow(asOf, loc, n)
}

// NextMidnight returns the start of the business day after t's (in loc):
// when a window of whole days next slides.
func NextMidnight(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	y, m, d := l.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc).UTC()
}

// Inputs are what a card is assembled from.
type Inputs struct {
	ShopID, Platform, Industry string
	AsOf                       time.Time
	Rules                      *policy.RuleSet
	// Days are the shop's day counters covering at least the longest window
	// and the gold periods; Resp its response counters per day.
	Days []DayCounts
	Resp map[string][2]int64
	// Average is the industry average the liability figures are compared
	// with; ok false when none is known (computed with no data).
	Average   Average
	AverageOK bool
	Takeover  Takeover
	// Criteria are the gold seller criteria in force; GoldPeriods how many
	// label periods to assess, ending with the current one.
	Criteria    []Criterion
	GoldPeriods int
}

// Assemble builds a card from its inputs: pure, O(len(Days)).
func Assemble(in Inputs) Card {
	r := in.Rules
	loc := r.Location()
	c := Card{ShopID: in.ShopID, Platform: in.Platform, Industry: in.Industry, AsOf: in.AsOf, PolicyVersion: r.Version, Takeover: in.Takeover}
	c.Takeover.ShopID = in.ShopID

	t := WindowTotals(in.Days, in.AsOf, loc, r.Liability.WindowDays())
	li := LiabilityCard{Rate: t.Rate().String(), AverageFrom: r.Liability.AverageSource, Multiplier: r.Liability.Multiplier.String(),
		TakeoverRule: r.Liability.Takeover}
	if in.AverageOK {
		li.Standing = Evaluate(t, in.Average, r.Liability.Multiplier)
		li.AverageRate, li.AverageCount = in.Average.Rate.RatString(), in.Average.Count.RatString()
		m := r.Liability.Multiplier.Rat()
		li.RateLimit = ratPercent(new(big.Rat).Mul(m, in.Average.Rate))
		li.CountLimit = new(big.Rat).Mul(m, in.Average.Count).RatString()
	} else {
		li.Standing = Standing{Totals: t}
	}
	c.Liability = li

	first, last := WindowDays(in.AsOf, loc, r.Scorecard.WindowDays())
	s := Sum(in.Days, first, last)
	c.Disputes = DisputeCard{Metric: r.Scorecard.DisputeMetric, First: first, Last: last, Judged: s.Judged, Orders: s.Orders,
		Rate: RateOf(s.Judged, s.Orders).String()}

	rc := ResponseCard{First: first, Last: last}
	var ms int64
	for day, v := range in.Resp {
		if day >= first && day <= last {
			ms += v[0]
			rc.Responses += v[1]
		}
	}
	if rc.Responses > 0 {
		rc.AverageMS = ms / rc.Responses
		rc.Average = (time.Duration(rc.AverageMS) * time.Millisecond).String()
	}
	c.Response = rc

	if len(in.Criteria) > 0 && in.GoldPeriods > 0 {
		label := PeriodOf(in.AsOf, loc)
		for range in.GoldPeriods - 1 {
			label = label.Prev()
		}
		for range in.GoldPeriods {
			c.Gold = append(c.Gold, AssessGold(label, in.Criteria, in.Days))
			label = label.Next()
		}
	}
	return c
}

// ratPercent shows a rate (a fraction) as a percentage with two decimals.
func ratPercent(x *big.Rat) string {
	f, _ := x.Float64()
	return fmt.Sprintf("%.2f%%", f*100)
}

// EarliestDay returns the first day a card read needs counters from: the
// longest of the windows, and the data period of the oldest gold label.
func EarliestDay(asOf time.Time, r *policy.RuleSet, goldPeriods int) string {
	loc := r.Location()
	first, _ := WindowDays(asOf, loc, max(r.Liability.WindowDays(), r.Scorecard.WindowDays()))
	if goldPeriods > 0 && len(r.Gold.Criteria) > 0 {
		label := PeriodOf(asOf, loc)
		for range goldPeriods - 1 {
			label = label.Prev()
		}
		if d := AssessedPeriod(label).FirstDay(); d < first {
			first = d
		}
	}
	return first
}
