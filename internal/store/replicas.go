package store

import (
	"context"
	"errors"
)

// ErrRace is returned (wrapped) by a write transaction that lost a race to
// another transaction committing the same unique thing first — on a store
// with several writers (PostgreSQL behind several replicas). Nothing of the
// losing transaction is committed; running it again sees the winner's work
// (e.g. the fact ids it recorded) and decides accordingly. The engine
// retries on it.
var ErrRace = errors.New("store: a concurrent transaction committed the same key first")

// ReplicaWriter is what keeps a request applied once when several replicas
// (processes sharing one PostgreSQL database) receive it at the same moment.
// A single-writer store (SQLite) serializes whole transactions, so there the
// answer is simply whether the key is free.
type ReplicaWriter interface {
	// ClaimIdempotent stores marker under key if the key is free and
	// reports whether it did. When another transaction holds the key
	// uncommitted, it waits for that one: false once it commits, true
	// (claimed) if it rolls back. An existing response is never replaced
	// (PutIdempotent replaces).
	ClaimIdempotent(ctx context.Context, key string, marker []byte) (claimed bool, err error)
}
