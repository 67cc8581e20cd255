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
	if len(orderIDs) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(orderIDs)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, qOpenTasksOfOrders, string(list))
	return listJSON[task.Task](rows, err, "open tasks")
}

// ShopsByID implements store.BatchReader.
func (t *rtx) ShopsByID(ctx context.Context, ids []string) ([]commerce.Shop, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, qShopsByID, string(list))
	return listJSON[commerce.Shop](rows, err, "shops")
}

// Takeovers implements store.BatchReader. One writer: nothing to lock.
func (t *rtx) Takeovers(ctx context.Context, shopIDs []string) ([]scorecard.Takeover, error) {
	if len(shopIDs) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(shopIDs)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, qTakeovers, string(list))
	return listJSON[scorecard.Takeover](rows, err, "takeovers")
}
