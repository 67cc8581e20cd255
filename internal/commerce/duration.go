package commerce

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "24h", "90m", "10d" (days of 24 h)
// or a combination such as "1d12h": in policy files (policy.Duration is this
// type) and in the periods an order's promises state.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ParseDuration parses "10d", "24h", "1d12h", "90m", "30s".
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	s0 := s
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var days int64
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: want e.g. 10d, 24h, 1d12h", s)
		}
		days, s = n, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("bad duration %q: want e.g. 10d, 24h, 1d12h", s)
		}
	}
	const day = 24 * time.Hour
	if days > math.MaxInt64/int64(day) || days < math.MinInt64/int64(day) ||
		(rest > 0 && time.Duration(days)*day > math.MaxInt64-rest) || (rest < 0 && time.Duration(days)*day < math.MinInt64-rest) {
		return 0, fmt.Errorf("bad duration %q: out of range", s0)
	}
	return Duration(time.Duration(days)*day + rest), nil
}

// String writes the duration the way policy files do: whole days from a
// week up ("10d", "30d"), otherwise hours, minutes and seconds without zero
// parts ("24h", "72h", "90m" as "1h30m", "2h").
func (d Duration) String() string {
	t := time.Duration(d)
	const day = 24 * time.Hour
	if t >= 7*day && t%day == 0 {
		return fmt.Sprintf("%dd", t/day)
	}
	if t == 0 || t%time.Second != 0 {
		return t.String()
	}
	var b strings.Builder
	if t < 0 {
		b.WriteByte('-')
		t = -t
	}
	if h := t / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m := t % time.Hour / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s := t % time.Minute / time.Second; s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

// UnmarshalText parses a policy duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes a policy duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
