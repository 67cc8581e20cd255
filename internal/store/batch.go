package store

import (
	"context"
	"errors"

	"aftersale/internal/commerce"
	"aftersale/internal/scorecard"
	"aftersale/internal/task"
)

// BatchReader reads, in one query, what a batch of facts needs besides the
// orders (OrdersByID): the tasks a fact may move, the shops of a batch's
// orders and a sweep's tasks, and those shops' takeover states.
type BatchReader interface {
	// OpenTasksOfOrders returns the open tasks (state not completed) of these
	// orders, in no particular order. Inside Update a store with several
	// writers locks them as Task does.
	OpenTasksOfOrders(ctx context.Context, orderIDs []string) ([]task.Task, error)
	// ShopsByID returns the shops with these ids that exist, in no particular
	// order (not locked, as Shop is not).
	ShopsByID(ctx context.Context, ids []string) ([]commerce.Shop, error)
	// Takeovers returns the stored takeover states (R-LIA-2) of these shops,
	// in no particular order; a shop never taken over has none (Takeover
	// answers its zero state). Inside Update a store with several writers
	// locks them as Takeover does.
	Takeovers(ctx context.Context, shopIDs []string) ([]scorecard.Takeover, error)
}

// ErrRetry is wrapped by the error of an Update that lost a race with a
// concurrent transaction (another replica recorded a fact this one read as
// new: see Tx.RecordFact). Nothing of the transaction was committed, and
// running it again is safe: it then sees what the other one committed.
//
// A store may queue writes whose outcome is certain and send them with the
// next read or at commit (PostgreSQL does, to save round trips). Reads in the
// transaction still see its own writes. RecordFact of an id the transaction
// read as absent (FactSeen, FactsSeen) may answer "new" before the insert is
// sent; if a concurrent transaction recorded the id meanwhile, the
// transaction fails at a later call or at commit with ErrRetry instead of
// applying the fact twice.
var ErrRetry = errors.New("store: transaction lost a race with a concurrent one; retry it")
