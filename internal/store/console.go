package store

import (
	"context"

	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

// ConsoleReader holds the reads of the console's pages that the API's
// operations do not need.
type ConsoleReader interface {
	// BuyerOrders lists a buyer's orders, newest id first, at most limit
	// (the buyer's "my orders" page).
	BuyerOrders(ctx context.Context, buyerID string, limit int) ([]commerce.Order, error)
	// CountTasksUpTo counts a shop's tasks per state ("" for all shops),
	// each count stopping at limit (a tab shows "limit+"), so that the
	// cost does not grow with the shop's history.
	CountTasksUpTo(ctx context.Context, shopID string, limit int) (map[task.State]int, error)
	// QueueTasks lists platform_intervening tasks, the nearest deadline
	// first, those without a deadline after them oldest first, at most
	// limit (the agents' intervention queue).
	QueueTasks(ctx context.Context, limit int) ([]task.Task, error)
}
