package store

import (
	"context"

	"aftersale/internal/scorecard"
)

// ScorecardReader reads what shop scorecards need.
type ScorecardReader interface {
	// CounterRange returns the counters whose keys k are from ≤ k ≤ to
	// (byte order), keyed by key: the per-day counters of a shop or an
	// industry over a window, in one read (scorecard.KeyRange).
	CounterRange(ctx context.Context, from, to string) (map[string]int64, error)
	// Takeover returns a shop's takeover state (R-LIA-2); a shop never
	// evaluated has the zero state with its id.
	Takeover(ctx context.Context, shopID string) (scorecard.Takeover, error)
}

// ScorecardWriter writes shop standing.
type ScorecardWriter interface {
	// PutTakeover stores a shop's takeover state (upsert).
	PutTakeover(ctx context.Context, t scorecard.Takeover) error
}
