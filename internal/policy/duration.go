package policy

import "aftersale/internal/commerce"

// Duration is a time.Duration written in policy files as "24h", "90m",
// "10d" (days of 24 h) or a combination such as "1d12h". It is the type
// orders use for the periods their promises state (commerce.Duration), so
// that both are written alike.
type Duration = commerce.Duration

// ParseDuration parses "10d", "24h", "1d12h", "90m", "30s".
func ParseDuration(s string) (Duration, error) { return commerce.ParseDuration(s) }
