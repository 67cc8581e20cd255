package postgres

import (
	"context"

	"aftersale/internal/commerce"
	"aftersale/internal/scorecard"
	"aftersale/internal/task"
)

const (
	// The tasks_open partial index serves it.
	qOpenTasksOfOrders     = `SELECT data FROM tasks WHERE order_id = ANY($1) AND state <> 'completed'`
	qOpenTasksOfOrdersLock = qOpenTasksOfOrders + ` ORDER BY id FOR UPDATE`
	qShopsByID             = `SELECT data FROM shops WHERE id = ANY($1)`
	qTakeovers             = `SELECT data FROM takeovers WHERE shop_id = ANY($1)`
	qTakeoversLock         = qTakeovers + ` ORDER BY shop_id FOR UPDATE`
)

// OpenTasksOfOrders implements store.BatchReader. Inside Update the rows are
// locked, in id order so that concurrent batches cannot deadlock on each
// other, and updates of them can be queued (see UpdateTask).
func (t *rtx) OpenTasksOfOrders(ctx context.Context, orderIDs []string) ([]task.Task, error) {
	if len(orderIDs) == 0 {
		return nil, nil
	}
	ts, err := listJSON[task.Task](ctx, t, "open tasks", t.pick(qOpenTasksOfOrders, qOpenTasksOfOrdersLock), orderIDs)
	for i := range ts {
		t.noteLocked(&ts[i])
	}
	return ts, err
}

// ShopsByID implements store.BatchReader.
func (t *rtx) ShopsByID(ctx context.Context, ids []string) ([]commerce.Shop, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return listJSON[commerce.Shop](ctx, t, "shops", qShopsByID, ids)
}

// Takeovers implements store.BatchReader. Inside Update the rows are locked
// in shop id order, as Takeover locks one.
func (t *rtx) Takeovers(ctx context.Context, shopIDs []string) ([]scorecard.Takeover, error) {
	if len(shopIDs) == 0 {
		return nil, nil
	}
	return listJSON[scorecard.Takeover](ctx, t, "takeovers", t.pick(qTakeovers, qTakeoversLock), shopIDs)
}
