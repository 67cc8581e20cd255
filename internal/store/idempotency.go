package store

import (
	"context"
	"time"
)

// IdempotencyPurger removes old idempotency keys.
type IdempotencyPurger interface {
	// PurgeIdempotent deletes the idempotency keys created before the time
	// (by the database's clock) and returns how many it deleted.
	PurgeIdempotent(ctx context.Context, before time.Time) (int64, error)
}
