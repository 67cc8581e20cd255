package postgres

import (
	"context"
	"fmt"

	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

// qBuyerOrders lists a buyer's orders (the console's "my orders").
const qBuyerOrders = `SELECT data FROM orders WHERE buyer_id = $1 ORDER BY id DESC LIMIT $2`

// BuyerOrders implements store.ConsoleReader.
func (t *rtx) BuyerOrders(ctx context.Context, buyerID string, limit int) ([]commerce.Order, error) {
	return listJSON[commerce.Order](ctx, t, "buyer orders", qBuyerOrders, buyerID, limit)
}

// Capped per-state counts: each reads at most limit index entries.
const (
	qCountStateUpTo     = `SELECT count(*) FROM (SELECT 1 FROM tasks WHERE state = $1 LIMIT $2) c`
	qCountShopStateUpTo = `SELECT count(*) FROM (SELECT 1 FROM tasks WHERE shop_id = $1 AND state = $2 LIMIT $3) c`
	// The queue: on the partial index tasks_queue (migration 00009).
	qQueueDue   = `SELECT data FROM tasks WHERE state = 'platform_intervening' AND due_at IS NOT NULL ORDER BY due_at, id LIMIT $1`
	qQueueNoDue = `SELECT data FROM tasks WHERE state = 'platform_intervening' AND due_at IS NULL ORDER BY due_at, id LIMIT $1`
)

// CountTasksUpTo implements store.ConsoleReader.
func (t *rtx) CountTasksUpTo(ctx context.Context, shopID string, limit int) (map[task.State]int, error) {
	out := map[task.State]int{}
	for _, s := range task.States {
		var n int
		var err error
		if shopID == "" {
			err = t.tx.QueryRow(ctx, qCountStateUpTo, string(s), limit).Scan(&n)
		} else {
			err = t.tx.QueryRow(ctx, qCountShopStateUpTo, shopID, string(s), limit).Scan(&n)
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: count tasks: %w", err)
		}
		out[s] = n
	}
	return out, nil
}

// QueueTasks implements store.ConsoleReader.
func (t *rtx) QueueTasks(ctx context.Context, limit int) ([]task.Task, error) {
	out, err := listJSON[task.Task](ctx, t, "queue", qQueueDue, limit)
	if err != nil || len(out) >= limit {
		return out, err
	}
	more, err := listJSON[task.Task](ctx, t, "queue", qQueueNoDue, limit-len(out))
	return append(out, more...), err
}
