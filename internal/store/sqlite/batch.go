package sqlite

import (
	"context"
	"encoding/json"

	"aftersale/internal/commerce"
	"aftersale/internal/scorecard"
	"aftersale/internal/task"
)

const (
	qOpenTasksOfOrders = `SELECT data FROM tasks
	WHERE order_id IN (SELECT value FROM json_each(?)) AND state <> 'completed'`
	qShopsByID = `SELECT data FROM shops WHERE id IN (SELECT value FROM json_each(?))`
	qTakeovers = `SELECT data FROM takeovers WHERE shop_id IN (SELECT value FROM json_each(?))`
)

// OpenTasksOfOrders implements store.BatchReader. One writer: nothing to lock.
func (t *rtx) OpenTasksOfOrders(ctx context.Context, orderIDs []string) ([]task.Task, error) {
	return listByIDs[task.Task](ctx, t, qOpenTasksOfOrders, orderIDs, "open tasks")
}

// ShopsByID implements store.BatchReader.
func (t *rtx) ShopsByID(ctx context.Context, ids []string) ([]commerce.Shop, error) {
	return listByIDs[commerce.Shop](ctx, t, qShopsByID, ids, "shops")
}

// Takeovers implements store.BatchReader. One writer: nothing to lock.
func (t *rtx) Takeovers(ctx context.Context, shopIDs []string) ([]scorecard.Takeover, error) {
	return listByIDs[scorecard.Takeover](ctx, t, qTakeovers, shopIDs, "takeovers")
}

// listByIDs runs q, whose one parameter is a JSON array of ids (read with
// json_each), and decodes the rows' JSON column; with no ids it runs nothing.
func listByIDs[T any](ctx context.Context, t *rtx, q string, ids []string, what string) ([]T, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, q, string(list))
	return listJSON[T](rows, err, what)
}
