// Package scorecard holds the pure parts of shop metrics: half-month gold
// seller periods and criteria (R-GLD-*), and the after-sales liability rate
// with its takeover (R-LIA-*). It reads per-shop per-day counters (DayCounts)
// that the engine keeps in the same transaction as the events they count,
// so that every read costs O(days), never O(orders). Nothing here does I/O.
package scorecard

import (
	"fmt"
	"time"
)

// Period is a half-month assessment period (期) of the business time zone
// (R-GLD-2): Half 1 is days 1–15 of the month, Half 2 day 16 to month end.
type Period struct {
	Year  int        `json:"year"`
	Month time.Month `json:"month"`
	Half  int        `json:"half"` // 1 or 2
}

// PeriodOf returns the period containing t in the time zone loc: the
// calendar day of t in loc decides (2022-12-15 23:59:59 +08:00 is period 1,
// 2022-12-16 00:00:00 +08:00 period 2).
func PeriodOf(t time.Time, loc *time.Location) Period {
	l := t.In(loc)
	h := 1
	if l.Day() >= 16 {
		h = 2
	}
	return Period{Year: l.Year(), Month: l.Month(), Half: h}
}

// Start returns the first instant of the period in loc (midnight of the 1st
// or the 16th).
func (p Period) Start(loc *time.Location) time.Time {
	d := 1
	if p.Half == 2 {
		d = 16
	}
	return time.Date(p.Year, p.Month, d, 0, 0, 0, 0, loc)
}

// End returns the first instant after the period: the next period's Start.
// The period is [Start, End).
func (p Period) End(loc *time.Location) time.Time { return p.Next().Start(loc) }

// Contains reports whether t falls in the period in loc.
func (p Period) Contains(t time.Time, loc *time.Location) bool { return PeriodOf(t, loc) == p }

// Next returns the following period (December period 2 → January period 1
// of the next year).
func (p Period) Next() Period {
	if p.Half == 1 {
		return Period{p.Year, p.Month, 2}
	}
	if p.Month == time.December {
		return Period{p.Year + 1, time.January, 1}
	}
	return Period{p.Year, p.Month + 1, 1}
}

// Prev returns the preceding period (January period 1 → December period 2
// of the year before).
func (p Period) Prev() Period {
	if p.Half == 2 {
		return Period{p.Year, p.Month, 1}
	}
	if p.Month == time.January {
		return Period{p.Year - 1, time.December, 2}
	}
	return Period{p.Year, p.Month - 1, 2}
}

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Period) Compare(q Period) int {
	a, b := p.index(), q.index()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether p is earlier than q.
func (p Period) Before(q Period) bool { return p.Compare(q) < 0 }

func (p Period) index() int { return (p.Year*12+int(p.Month)-1)*2 + p.Half - 1 }

// Days returns the calendar days of the period as YYYY-MM-DD, in order
// (15 for period 1; 13 to 16 for period 2: February of a leap year has 14).
func (p Period) Days() []string {
	first := 1
	if p.Half == 2 {
		first = 16
	}
	// Calendar arithmetic in UTC: days do not depend on the zone.
	last := 15
	if p.Half == 2 {
		last = time.Date(p.Year, p.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	}
	out := make([]string, 0, last-first+1)
	for d := first; d <= last; d++ {
		out = append(out, time.Date(p.Year, p.Month, d, 0, 0, 0, 0, time.UTC).Format(dayLayout))
	}
	return out
}

// FirstDay and LastDay return the period's first and last calendar day as
// YYYY-MM-DD (to select per-day counters by range).
func (p Period) FirstDay() string { d := p.Days(); return d[0] }

// LastDay returns the period's last calendar day as YYYY-MM-DD.
func (p Period) LastDay() string { d := p.Days(); return d[len(d)-1] }

// Valid reports whether the period is well formed.
func (p Period) Valid() bool {
	return p.Month >= time.January && p.Month <= time.December && (p.Half == 1 || p.Half == 2)
}

// String writes the period as "2022-12-P2".
func (p Period) String() string { return fmt.Sprintf("%04d-%02d-P%d", p.Year, int(p.Month), p.Half) }

// ParsePeriod reads a period written as String writes it.
func ParsePeriod(s string) (Period, error) {
	var y, m, h int
	if n, err := fmt.Sscanf(s, "%4d-%2d-P%1d", &y, &m, &h); err != nil || n != 3 {
		return Period{}, fmt.Errorf("bad period %q: want e.g. 2022-12-P2", s)
	}
	p := Period{Year: y, Month: time.Month(m), Half: h}
	if !p.Valid() || p.String() != s {
		return Period{}, fmt.Errorf("bad period %q: want e.g. 2022-12-P2", s)
	}
	return p, nil
}

// AssessedPeriod returns the period whose data decides the label of the
// given label period: the one before it (R-GLD-2: "December period 2
// assesses December period 1").
func AssessedPeriod(label Period) Period { return label.Prev() }

// dayLayout is the layout of DayCounts.Day.
const dayLayout = "2006-01-02"

// Day returns the calendar day of t in loc as YYYY-MM-DD, the key of the
// per-day counters.
func Day(t time.Time, loc *time.Location) string { return t.In(loc).Format(dayLayout) }
