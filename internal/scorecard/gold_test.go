package scorecard

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/policy"
)

// taobaoCriteria builds the default Taobao gold seller criteria.
func taobaoCriteria(t *testing.T) []Criterion {
	t.Helper()
	rs := rules(t, commerce.Taobao, bj(2022, 12, 1, 0, 0, 0))
	cs, err := DefaultCatalog().Criteria(rs.Gold, rs.Location())
	if err != nil || len(cs) != 1 || cs[0].ID() != policy.GoldInvoiceDisputes {
		t.Fatalf("criteria %v %v", cs, err)
	}
	return cs
}

// counters applies complaint status changes to per-day counters, as the
// engine will.
type counters map[string]int

func (c counters) apply(before *judgment.Complaint, after judgment.Complaint, loc *time.Location) {
	if day, d := InvoiceDisputeDelta(before, after, loc); d != 0 {
		c[day] += d
	}
}

func (c counters) days() []DayCounts {
	var out []DayCounts
	for d, n := range c {
		out = append(out, DayCounts{Day: d, InvoiceDisputes: n})
	}
	return out
}

func upheld(id string, at time.Time) (judgment.Complaint, judgment.Complaint) {
	open := judgment.Complaint{ID: id, Kind: judgment.ComplaintInvoice, Status: judgment.ComplaintOpen, FiledAt: at.Add(-48 * time.Hour)}
	done := open
	done.Status = judgment.ComplaintUpheld
	done.FinishedAt = &at
	return open, done
}

// R-GLD-1, R-GLD-2: the invoice-dispute criterion is shown from December
// period 1 2022, first assessed in December period 2 on December period 1;
// upheld complaints count, withdrawn ones do not, zero has no effect.
func TestInvoiceDisputes_R_GLD_1_2(t *testing.T) {
	loc := shanghai(t)
	cs := taobaoCriteria(t)

	one := counters{}
	open, done := upheld("c1", bj(2022, 12, 3, 10, 0, 0))
	one.apply(nil, open, loc)
	one.apply(&open, done, loc)

	withdrawn := counters{}
	withdrawn.apply(&open, done, loc)
	w := done
	w.Status = judgment.ComplaintWithdrawn
	later := bj(2022, 12, 20, 0, 0, 0)
	w.FinishedAt = &later
	withdrawn.apply(&done, w, loc) // −1 on the day it was upheld

	lastSecond := counters{}
	_, d1 := upheld("c2", bj(2022, 12, 15, 23, 59, 59))
	lastSecond.apply(nil, d1, loc)
	firstSecond := counters{}
	_, d2 := upheld("c3", bj(2022, 12, 16, 0, 0, 0))
	firstSecond.apply(nil, d2, loc)

	november := counters{"2022-11-20": 3}

	cases := []struct {
		name     string
		label    Period
		days     []DayCounts
		shown    bool
		decides  bool
		value    int
		withheld bool
	}{
		{"Dec P1 label: Nov P2 data, not shown, not assessed", per(2022, 12, 1), november.days(), false, false, 0, false},
		{"Dec P2 label, no case: no effect", per(2022, 12, 2), nil, true, true, 0, false},
		{"Dec P2 label, one upheld case in Dec P1: withheld", per(2022, 12, 2), one.days(), true, true, 1, true},
		{"Dec P2 label, the case was withdrawn: no effect", per(2022, 12, 2), withdrawn.days(), true, true, 0, false},
		{"upheld 2022-12-15 23:59:59 counts in Dec P1", per(2022, 12, 2), lastSecond.days(), true, true, 1, true},
		{"upheld 2022-12-16 00:00 does not count in Dec P1", per(2022, 12, 2), firstSecond.days(), true, true, 0, false},
		{"…it counts for the Jan P1 label (December → January)", per(2023, 1, 1), firstSecond.days(), true, true, 1, true},
		{"Jan P1 label does not see Dec P1", per(2023, 1, 1), one.days(), true, true, 0, false},
	}
	for _, c := range cases {
		res := AssessGold(c.label, cs, c.days)
		v := res.Verdicts[0]
		if v.Label != c.label || v.Data != AssessedPeriod(c.label) || v.Shown != c.shown || v.Decides != c.decides ||
			v.Value != c.value || v.Pass == c.withheld || res.Withheld != c.withheld || v.Rule != "R-GLD-1" {
			t.Errorf("%s: %+v withheld=%v", c.name, v, res.Withheld)
		}
	}
	if cs[0].Shown(per(2022, 11, 2)) || !cs[0].Shown(per(2022, 12, 1)) {
		t.Error("shown from December period 1")
	}
}

// R-GLD-1: only invoice complaints count, and only the change to or from upheld.
func TestInvoiceDisputeDelta_R_GLD_1(t *testing.T) {
	loc := shanghai(t)
	at := bj(2022, 12, 3, 10, 0, 0)
	open, done := upheld("c", at)
	shipping := done
	shipping.Kind = judgment.ComplaintShipping
	dismissed := open
	dismissed.Status = judgment.ComplaintDismissed
	noFinish := done
	noFinish.FinishedAt = nil
	for _, c := range []struct {
		name   string
		before *judgment.Complaint
		after  judgment.Complaint
		day    string
		delta  int
	}{
		{"filed", nil, open, "", 0},
		{"upheld", &open, done, "2022-12-03", 1},
		{"filed already upheld", nil, done, "2022-12-03", 1},
		{"upheld again (no change)", &done, done, "", 0},
		{"withdrawn after upheld", &done, judgment.Complaint{Kind: judgment.ComplaintInvoice, Status: judgment.ComplaintWithdrawn}, "2022-12-03", -1},
		{"dismissed", &open, dismissed, "", 0},
		{"shipping complaint", &open, shipping, "", 0},
		{"no finish time: filing day", &open, noFinish, "2022-12-01", 1},
	} {
		day, d := InvoiceDisputeDelta(c.before, c.after, loc)
		if day != c.day || d != c.delta {
			t.Errorf("%s: %q %d, want %q %d", c.name, day, d, c.day, c.delta)
		}
	}
}

// R-GLD-3: criteria are pluggable; every id policy accepts has an
// implementation; a custom criterion joins the assessment.
func TestCatalog_R_GLD_3(t *testing.T) {
	cat := DefaultCatalog()
	for _, id := range policy.GoldCriterionIDs {
		if cat[id] == nil {
			t.Errorf("no builder for %q", id)
		}
	}
	loc := shanghai(t)
	if _, err := (Catalog{}).Criteria(policy.GoldRules{Criteria: []policy.GoldCriterion{{ID: "x"}}}, loc); err == nil || !strings.Contains(err.Error(), `gold.criteria[0]: no implementation of criterion "x"`) {
		t.Errorf("missing builder: %v", err)
	}
	// Tmall and Taote list none.
	rs := rules(t, commerce.Tmall, bj(2023, 1, 1, 0, 0, 0))
	if cs, err := cat.Criteria(rs.Gold, loc); err != nil || len(cs) != 0 {
		t.Errorf("tmall: %v %v", cs, err)
	}

	cat["always_fails"] = func(policy.GoldCriterion, *time.Location) (Criterion, error) { return failing{}, nil }
	cs, err := cat.Criteria(policy.GoldRules{Criteria: []policy.GoldCriterion{{ID: policy.GoldInvoiceDisputes}, {ID: "always_fails"}}}, loc)
	if err != nil {
		t.Fatal(err)
	}
	res := AssessGold(per(2023, 5, 1), cs, nil)
	if len(res.Verdicts) != 2 || !res.Verdicts[0].Pass || res.Verdicts[1].Pass || !res.Withheld {
		t.Errorf("%+v", res)
	}
}

type failing struct{}

func (failing) ID() string        { return "always_fails" }
func (failing) Rule() string      { return "" }
func (failing) Shown(Period) bool { return true }
func (failing) Assess(l Period, _ []DayCounts) Verdict {
	return Verdict{Criterion: "always_fails", Label: l, Data: l.Prev(), Shown: true, Decides: true}
}

// R-GLD-3: the criterion does not touch the invoice rules: the same
// invoice deadlines and points apply with and without it.
func TestGoldDoesNotChangeInvoiceRules_R_GLD_3(t *testing.T) {
	before := rules(t, commerce.Taobao, bj(2022, 11, 30, 0, 0, 0)).Invoice
	after := rules(t, commerce.Taobao, bj(2022, 12, 20, 0, 0, 0)).Invoice
	if !reflect.DeepEqual(before, after) {
		t.Errorf("invoice rules changed: %+v → %+v", before, after)
	}
}
