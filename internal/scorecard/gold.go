package scorecard

import (
	"fmt"
	"time"

	"aftersale/internal/policy"
)

// Criterion is one gold seller (金牌卖家) criterion (R-GLD-3: criteria are
// pluggable; the invoice-dispute one is built in). A criterion decides, for
// a label period, from the shop's per-day counters of the period before it
// (R-GLD-2), whether it lets the shop keep the label.
type Criterion interface {
	// ID is the criterion's id in policy (gold.criteria[].id).
	ID() string
	// Rule is the rule id it implements, for verdicts and refusals.
	Rule() string
	// Shown reports whether the metric of a data period is shown to the shop.
	Shown(data Period) bool
	// Assess decides the label period from the counters of its assessed
	// period (AssessedPeriod(label)); days may cover more than that period.
	Assess(label Period, days []DayCounts) Verdict
}

// Verdict is a criterion's decision for one label period.
type Verdict struct {
	Criterion string `json:"criterion"`
	Rule      string `json:"rule"`
	// Label is the period the label is decided for; Data the period whose
	// counters decide it (the one before).
	Label Period `json:"label"`
	Data  Period `json:"data"`
	// Shown: the metric of the data period is shown to the shop.
	Shown bool `json:"shown"`
	// Decides: the criterion counts for this label period (false before it
	// is first assessed; it then passes without effect).
	Decides bool `json:"decides"`
	// Value is the metric over the data period.
	Value int `json:"value"`
	// Pass: the criterion does not withhold the label.
	Pass bool `json:"pass"`
}

// InvoiceDisputes is the built-in invoice-dispute criterion (开票纠纷,
// R-GLD-1): the number of upheld "did not issue invoice" complaints in the
// assessed period, withdrawn ones excluded (DayCounts.InvoiceDisputes).
// At most MaxCount passes (0 by default: zero complaints → no effect, any →
// the label is withheld). R-GLD-3: it is a gold seller criterion only and
// changes no invoice rule.
type InvoiceDisputes struct {
	// ShownFrom is the first data period whose metric is shown (R-GLD-2:
	// 2022 December period 1).
	ShownFrom Period
	// AssessedFrom is the first label period decided (R-GLD-2: 2022
	// December period 2, on December period 1's data).
	AssessedFrom Period
	// MaxCount is the most cases that still pass.
	MaxCount int
}

// ID returns policy.GoldInvoiceDisputes.
func (c InvoiceDisputes) ID() string { return policy.GoldInvoiceDisputes }

// Rule returns "R-GLD-1".
func (c InvoiceDisputes) Rule() string { return "R-GLD-1" }

// Shown reports whether the data period is at or after ShownFrom.
func (c InvoiceDisputes) Shown(data Period) bool { return !data.Before(c.ShownFrom) }

// Assess counts the upheld invoice complaints of the assessed period; before
// AssessedFrom, or with no case, it passes without effect.
func (c InvoiceDisputes) Assess(label Period, days []DayCounts) Verdict {
	data := AssessedPeriod(label)
	v := Verdict{Criterion: c.ID(), Rule: c.Rule(), Label: label, Data: data, Shown: c.Shown(data),
		Decides: !label.Before(c.AssessedFrom), Pass: true}
	if v.Shown {
		v.Value = Sum(days, data.FirstDay(), data.LastDay()).InvoiceDisputes
	}
	if v.Decides {
		v.Pass = v.Value <= c.MaxCount
	}
	return v
}

// Builder makes a criterion from its policy entry; loc is the business time
// zone that periods are counted in.
type Builder func(c policy.GoldCriterion, loc *time.Location) (Criterion, error)

// Catalog maps criterion ids to builders. Adding a criterion means a
// Criterion implementation, its id in policy.GoldCriterionIDs and a builder
// here.
type Catalog map[string]Builder

// DefaultCatalog returns the built-in criteria.
func DefaultCatalog() Catalog {
	return Catalog{policy.GoldInvoiceDisputes: buildInvoiceDisputes}
}

func buildInvoiceDisputes(c policy.GoldCriterion, loc *time.Location) (Criterion, error) {
	return InvoiceDisputes{ShownFrom: PeriodOf(c.ShownFrom, loc), AssessedFrom: PeriodOf(c.AssessedFrom, loc), MaxCount: c.MaxCount}, nil
}

// Criteria builds the criteria a platform's policy lists, in order.
func (cat Catalog) Criteria(r policy.GoldRules, loc *time.Location) ([]Criterion, error) {
	out := make([]Criterion, 0, len(r.Criteria))
	for i, c := range r.Criteria {
		b, ok := cat[c.ID]
		if !ok {
			return nil, fmt.Errorf("gold.criteria[%d]: no implementation of criterion %q", i, c.ID)
		}
		cr, err := b(c, loc)
		if err != nil {
			return nil, fmt.Errorf("gold.criteria[%d]: %w", i, err)
		}
		out = append(out, cr)
	}
	return out, nil
}

// GoldResult is the gold seller assessment of a shop for one label period.
type GoldResult struct {
	Label    Period    `json:"label"`
	Verdicts []Verdict `json:"verdicts"`
	// Withheld: some criterion that decides this period failed. Only the
	// criteria listed are judged; the other gold seller criteria are not in
	// the seeds (R-GLD-3), so false means "nothing here withholds it".
	Withheld bool `json:"withheld"`
}

// AssessGold runs every criterion for a label period on the shop's per-day
// counters (covering at least the assessed period, AssessedPeriod(label)).
func AssessGold(label Period, criteria []Criterion, days []DayCounts) GoldResult {
	res := GoldResult{Label: label, Verdicts: make([]Verdict, 0, len(criteria))}
	for _, c := range criteria {
		v := c.Assess(label, days)
		res.Verdicts = append(res.Verdicts, v)
		if v.Decides && !v.Pass {
			res.Withheld = true
		}
	}
	return res
}
