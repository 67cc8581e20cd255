package sqlite

import (
	"context"
	"fmt"

	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

// qBuyerOrders lists a buyer's orders (the console's "my orders"), on the
// index orders_buyer (migration 00009).
const qBuyerOrders = `SELECT data FROM orders WHERE buyer_id = ? ORDER BY id DESC LIMIT ?`

// BuyerOrders implements store.ConsoleReader.
func (t *rtx) BuyerOrders(ctx context.Context, buyerID string, limit int) ([]commerce.Order, error) {
	rows, err := t.tx.QueryContext(ctx, qBuyerOrders, buyerID, limit)
	return listJSON[commerce.Order](rows, err, "buyer orders")
}

// Capped per-state counts: each reads at most limit index entries.
const (
	qCountStateUpTo     = `SELECT count(*) FROM (SELECT 1 FROM tasks WHERE state = ? LIMIT ?)`
	qCountShopStateUpTo = `SELECT count(*) FROM (SELECT 1 FROM tasks WHERE shop_id = ? AND state = ? LIMIT ?)`
	// The queue: on the partial index tasks_queue (migration 00009).
	qQueueDue   = `SELECT data FROM tasks INDEXED BY tasks_queue WHERE state = 'platform_intervening' AND due_at IS NOT NULL ORDER BY due_at, id LIMIT ?`
	qQueueNoDue = `SELECT data FROM tasks INDEXED BY tasks_queue WHERE state = 'platform_intervening' AND due_at IS NULL ORDER BY due_at, id LIMIT ?`
)

// CountTasksUpTo implements store.ConsoleReader.
func (t *rtx) CountTasksUpTo(ctx context.Context, shopID string, limit int) (map[task.State]int, error) {
	out := map[task.State]int{}
	for _, s := range task.States {
		var n int
		var err error
		if shopID == "" {
			err = t.tx.QueryRowContext(ctx, qCountStateUpTo, string(s), limit).Scan(&n)
		} else {
			err = t.tx.QueryRowContext(ctx, qCountShopStateUpTo, shopID, string(s), limit).Scan(&n)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: count tasks: %w", err)
		}
		out[s] = n
	}
	return out, nil
}

// QueueTasks implements store.ConsoleReader.
func (t *rtx) QueueTasks(ctx context.Context, limit int) ([]task.Task, error) {
	rows, err := t.tx.QueryContext(ctx, qQueueDue, limit)
	out, err := listJSON[task.Task](rows, err, "queue")
	if err != nil || len(out) >= limit {
		return out, err
	}
	rows, err = t.tx.QueryContext(ctx, qQueueNoDue, limit-len(out))
	more, err := listJSON[task.Task](rows, err, "queue")
	return append(out, more...), err
}
