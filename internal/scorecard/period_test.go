package scorecard

import (
	"slices"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/policy"
)

var cst = time.FixedZone("CST", 8*3600)

func bj(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, cst)
}

// shanghai is the business time zone of the default policies.
func shanghai(t *testing.T) *time.Location {
	t.Helper()
	return rules(t, commerce.Taobao, bj(2023, 1, 1, 0, 0, 0)).Location()
}

func rules(t *testing.T, p commerce.Platform, at time.Time) *policy.RuleSet {
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

func per(y int, m time.Month, h int) Period { return Period{y, m, h} }

// R-GLD-2: period 1 = days 1–15, period 2 = day 16 to month end, by the
// calendar of Asia/Shanghai, whatever zone the instant is written in.
func TestPeriodOf_R_GLD_2(t *testing.T) {
	loc := shanghai(t)
	for _, c := range []struct {
		at   time.Time
		want Period
	}{
		{bj(2022, 12, 1, 0, 0, 0), per(2022, 12, 1)},
		{bj(2022, 12, 15, 23, 59, 59), per(2022, 12, 1)},
		{bj(2022, 12, 16, 0, 0, 0), per(2022, 12, 2)},
		{time.Date(2022, 12, 15, 15, 59, 59, 0, time.UTC), per(2022, 12, 1)}, // 23:59:59 in Beijing
		{time.Date(2022, 12, 15, 16, 0, 0, 0, time.UTC), per(2022, 12, 2)},   // 00:00 on the 16th in Beijing
		{bj(2022, 12, 31, 23, 59, 59), per(2022, 12, 2)},
		{bj(2023, 1, 1, 0, 0, 0), per(2023, 1, 1)}, // December → January
		{time.Date(2022, 12, 31, 16, 0, 0, 0, time.UTC), per(2023, 1, 1)},
		{time.Date(2022, 12, 31, 15, 59, 59, 0, time.UTC), per(2022, 12, 2)},
		{bj(2023, 2, 28, 23, 59, 59), per(2023, 2, 2)}, // February, common year
		{bj(2023, 3, 1, 0, 0, 0), per(2023, 3, 1)},
		{bj(2024, 2, 29, 12, 0, 0), per(2024, 2, 2)}, // leap day
		{bj(2024, 3, 1, 0, 0, 0), per(2024, 3, 1)},
		{bj(2023, 4, 30, 23, 59, 59), per(2023, 4, 2)}, // a 30-day month
	} {
		if got := PeriodOf(c.at, loc); got != c.want {
			t.Errorf("PeriodOf(%s) = %s, want %s", c.at, got, c.want)
		}
		if !c.want.Contains(c.at, loc) || c.want.Next().Contains(c.at, loc) {
			t.Errorf("%s Contains(%s) wrong", c.want, c.at)
		}
	}
}

// R-GLD-2: start and end instants, and the days of each period.
func TestPeriodBounds_R_GLD_2(t *testing.T) {
	loc := shanghai(t)
	for _, c := range []struct {
		p           Period
		start, end  time.Time
		first, last string
		days        int
	}{
		{per(2022, 12, 1), bj(2022, 12, 1, 0, 0, 0), bj(2022, 12, 16, 0, 0, 0), "2022-12-01", "2022-12-15", 15},
		{per(2022, 12, 2), bj(2022, 12, 16, 0, 0, 0), bj(2023, 1, 1, 0, 0, 0), "2022-12-16", "2022-12-31", 16},
		{per(2023, 2, 2), bj(2023, 2, 16, 0, 0, 0), bj(2023, 3, 1, 0, 0, 0), "2023-02-16", "2023-02-28", 13},
		{per(2024, 2, 2), bj(2024, 2, 16, 0, 0, 0), bj(2024, 3, 1, 0, 0, 0), "2024-02-16", "2024-02-29", 14},
		{per(2023, 4, 2), bj(2023, 4, 16, 0, 0, 0), bj(2023, 5, 1, 0, 0, 0), "2023-04-16", "2023-04-30", 15},
	} {
		if s, e := c.p.Start(loc), c.p.End(loc); !s.Equal(c.start) || !e.Equal(c.end) {
			t.Errorf("%s: [%s, %s), want [%s, %s)", c.p, s, e, c.start, c.end)
		}
		d := c.p.Days()
		if len(d) != c.days || c.p.FirstDay() != c.first || c.p.LastDay() != c.last {
			t.Errorf("%s: %d days %s..%s", c.p, len(d), c.p.FirstDay(), c.p.LastDay())
		}
		if PeriodOf(c.p.End(loc).Add(-time.Nanosecond), loc) != c.p || PeriodOf(c.p.End(loc), loc) != c.p.Next() {
			t.Errorf("%s: end boundary", c.p)
		}
		if Day(c.p.Start(loc), loc) != c.first {
			t.Errorf("%s: Day(start) = %s", c.p, Day(c.p.Start(loc), loc))
		}
	}
}

// R-GLD-2: the label of period N is decided by the data of period N−1.
func TestAssessedPeriod_R_GLD_2(t *testing.T) {
	for _, c := range []struct{ label, data Period }{
		{per(2022, 12, 2), per(2022, 12, 1)}, // "December period 2 assesses December period 1"
		{per(2022, 12, 1), per(2022, 11, 2)},
		{per(2023, 1, 1), per(2022, 12, 2)}, // January → December of the year before
		{per(2023, 3, 1), per(2023, 2, 2)},
	} {
		if got := AssessedPeriod(c.label); got != c.data {
			t.Errorf("AssessedPeriod(%s) = %s, want %s", c.label, got, c.data)
		}
		if c.data.Next() != c.label || c.label.Prev() != c.data {
			t.Errorf("Next/Prev of %s, %s", c.data, c.label)
		}
		if !c.data.Before(c.label) || c.label.Before(c.data) || c.label.Compare(c.label) != 0 || c.label.Compare(c.data) != 1 {
			t.Errorf("order of %s, %s", c.data, c.label)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	for _, s := range []string{"2022-12-P2", "2023-01-P1", "0999-02-P2"} {
		p, err := ParsePeriod(s)
		if err != nil || p.String() != s {
			t.Errorf("%s: %v %v", s, p, err)
		}
	}
	for _, s := range []string{"", "2022-13-P1", "2022-12-P3", "2022-12-P0", "2022-1-P1", "2022-12", "2022-12-P1x", "December period 2"} {
		if _, err := ParsePeriod(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
	if (Period{2022, 0, 1}).Valid() || !per(2022, 12, 2).Valid() {
		t.Error("Valid")
	}
	if got := per(2024, 2, 2).Days(); !slices.Equal(got[len(got)-2:], []string{"2024-02-28", "2024-02-29"}) {
		t.Errorf("leap February: %v", got)
	}
}
