package sqlite

import (
	"fmt"
	"time"

	"aftersale/internal/task"
)

// timeLayout is how times are stored: UTC, fixed width, nanoseconds. Text in
// this layout sorts in time order for years 0000–9999, and the zero time is
// representable (unlike int64 Unix nanoseconds, which end in 2262).
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: bad stored time %q: %w", s, err)
	}
	return t, nil
}

// nullTime is a nullable time column value.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }

func scanTimer(r rowScanner) (task.Timer, error) {
	var t task.Timer
	var due, set string
	if err := r.Scan(&t.Subject, &t.Kind, &due, &set, &t.PolicyVersion); err != nil {
		return t, err
	}
	var err error
	if t.DueAt, err = parseTime(due); err != nil {
		return t, err
	}
	t.SetAt, err = parseTime(set)
	return t, err
}

func scanFiring(r rowScanner) (task.Firing, error) {
	var f task.Firing
	var due, fired string
	var late int64
	if err := r.Scan(&f.Subject, &f.Kind, &due, &fired, &late); err != nil {
		return f, err
	}
	f.Late = time.Duration(late)
	var err error
	if f.DueAt, err = parseTime(due); err != nil {
		return f, err
	}
	f.FiredAt, err = parseTime(fired)
	return f, err
}
