package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/store/storecodec"
)

// Live delivery statements. They run unprepared on the transaction: they
// are rare next to the engine's (a fan-out or a claim per batch).
const (
	qLatestSeqs  = `SELECT (SELECT coalesce(max(seq), 0) FROM outbox), (SELECT coalesce(max(seq), 0) FROM events)`
	qWebhookSub  = `SELECT data FROM webhook_subscriptions WHERE id = ?`
	qWebhookSubs = `SELECT data FROM webhook_subscriptions ORDER BY id`
	deliveryCols = `data, lease_owner, lease_until`
	qDelivery    = `SELECT ` + deliveryCols + ` FROM webhook_deliveries WHERE id = ?`
	qDeliveries  = `SELECT ` + deliveryCols + ` FROM webhook_deliveries
		WHERE (?1 = '' OR subscription_id = ?1) AND (?2 = '' OR status = ?2)
		ORDER BY created_at DESC, id DESC LIMIT ?3`
	qCursor = `SELECT seq FROM cursors WHERE name = ?`

	wWebhookSub    = `INSERT INTO webhook_subscriptions (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data`
	wDelWebhookSub = `DELETE FROM webhook_subscriptions WHERE id = ?`
	wDelPending    = `DELETE FROM webhook_deliveries WHERE subscription_id = ? AND status = 'pending'`
	wInsDelivery   = `INSERT INTO webhook_deliveries (id, subscription_id, status, next_at, lease_owner, lease_until, created_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	wPutDelivery = `INSERT INTO webhook_deliveries (id, subscription_id, status, next_at, lease_owner, lease_until, created_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, next_at = excluded.next_at,
			lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, data = excluded.data`
	// One writer at a time (SQLite): choosing and leasing in one statement is exclusive.
	wClaimDeliveries = `UPDATE webhook_deliveries SET lease_owner = ?1, lease_until = ?2
		WHERE id IN (SELECT id FROM webhook_deliveries
			WHERE status = 'pending' AND next_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3)
			ORDER BY next_at, id LIMIT ?4)
		RETURNING ` + deliveryCols
	wCursor = `INSERT INTO cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`
)

// LatestSeqs implements store.ReadTx.
func (t *rtx) LatestSeqs(ctx context.Context) (int64, int64, error) {
	var o, e int64
	if err := t.tx.QueryRowContext(ctx, qLatestSeqs).Scan(&o, &e); err != nil {
		return 0, 0, fmt.Errorf("sqlite: latest seqs: %w", err)
	}
	return o, e, nil
}

// WebhookSubscriptions implements store.ReadTx.
func (t *rtx) WebhookSubscriptions(ctx context.Context) ([]notify.Subscription, error) {
	rows, err := t.tx.QueryContext(ctx, qWebhookSubs)
	return listJSON[notify.Subscription](rows, err, "webhook subscriptions")
}

// WebhookSubscription implements store.ReadTx.
func (t *rtx) WebhookSubscription(ctx context.Context, id string) (*notify.Subscription, error) {
	var data string
	err := t.tx.QueryRowContext(ctx, qWebhookSub, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("subscription_id", "webhook subscription %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read webhook subscription %q: %w", id, err)
	}
	var s notify.Subscription
	if err := json.Unmarshal([]byte(data), &s); err != nil {
		return nil, fmt.Errorf("sqlite: decode webhook subscription %q: %w", id, err)
	}
	return &s, nil
}

func scanDelivery(r rowScanner) (notify.Delivery, error) {
	var data string
	var owner, until sql.NullString
	var d notify.Delivery
	if err := r.Scan(&data, &owner, &until); err != nil {
		return d, err
	}
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return d, fmt.Errorf("decode webhook delivery: %w", err)
	}
	d.LeaseOwner, d.LeaseUntil = owner.String, nil
	if until.Valid {
		u, err := parseTime(until.String)
		if err != nil {
			return d, err
		}
		d.LeaseUntil = &u
	}
	return d, nil
}

func scanDeliveries(rows *sql.Rows, err error) ([]notify.Delivery, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlite: list webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []notify.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list webhook deliveries: %w", err)
	}
	return out, nil
}

// WebhookDelivery implements store.ReadTx.
func (t *rtx) WebhookDelivery(ctx context.Context, id string) (*notify.Delivery, error) {
	d, err := scanDelivery(t.tx.QueryRowContext(ctx, qDelivery, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("delivery_id", "webhook delivery %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read webhook delivery %q: %w", id, err)
	}
	return &d, nil
}

// WebhookDeliveries implements store.ReadTx.
func (t *rtx) WebhookDeliveries(ctx context.Context, f store.WebhookFilter) ([]notify.Delivery, error) {
	return scanDeliveries(t.tx.QueryContext(ctx, qDeliveries, f.SubscriptionID, string(f.Status), limit(f.Limit)))
}

// Cursor implements store.ReadTx.
func (t *rtx) Cursor(ctx context.Context, name string) (int64, error) {
	var v int64
	err := t.tx.QueryRowContext(ctx, qCursor, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: read cursor %q: %w", name, err)
	}
	return v, nil
}

// PutWebhookSubscription implements store.Tx.
func (t *wtx) PutWebhookSubscription(ctx context.Context, s *notify.Subscription) error {
	data, err := storecodec.EncodeUTC(s)
	if err != nil {
		return fmt.Errorf("sqlite: encode webhook subscription: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, wWebhookSub, s.ID, string(data)); err != nil {
		return fmt.Errorf("sqlite: put webhook subscription %q: %w", s.ID, err)
	}
	return nil
}

// DeleteWebhookSubscription implements store.Tx.
func (t *wtx) DeleteWebhookSubscription(ctx context.Context, id string) error {
	res, err := t.tx.ExecContext(ctx, wDelWebhookSub, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete webhook subscription %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.NotFound("subscription_id", "webhook subscription %q not found", id)
	}
	if _, err := t.tx.ExecContext(ctx, wDelPending, id); err != nil {
		return fmt.Errorf("sqlite: delete pending deliveries of %q: %w", id, err)
	}
	return nil
}

func deliveryArgs(d *notify.Delivery) ([]any, error) {
	c := *d
	c.LeaseOwner, c.LeaseUntil = "", nil // kept in their columns
	data, err := storecodec.EncodeUTC(&c)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode webhook delivery %q: %w", d.ID, err)
	}
	var owner any
	if d.LeaseOwner != "" {
		owner = d.LeaseOwner
	}
	return []any{d.ID, d.SubscriptionID, string(d.Status), fmtTime(d.NextAt), owner, nullTime(d.LeaseUntil), fmtTime(d.CreatedAt), string(data)}, nil
}

// InsertWebhookDeliveries implements store.Tx.
func (t *wtx) InsertWebhookDeliveries(ctx context.Context, ds []notify.Delivery) (int, error) {
	n := 0
	for i := range ds {
		args, err := deliveryArgs(&ds[i])
		if err != nil {
			return n, err
		}
		res, err := t.tx.ExecContext(ctx, wInsDelivery, args...)
		if err != nil {
			return n, fmt.Errorf("sqlite: insert webhook delivery %q: %w", ds[i].ID, err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

// PutWebhookDelivery implements store.Tx.
func (t *wtx) PutWebhookDelivery(ctx context.Context, d *notify.Delivery) error {
	args, err := deliveryArgs(d)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, wPutDelivery, args...); err != nil {
		return fmt.Errorf("sqlite: put webhook delivery %q: %w", d.ID, err)
	}
	return nil
}

// ClaimWebhookDeliveries implements store.Tx.
func (t *wtx) ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, owner string, n int) ([]notify.Delivery, error) {
	ds, err := scanDeliveries(t.tx.QueryContext(ctx, wClaimDeliveries, owner, fmtTime(leaseUntil), fmtTime(now), limit(n)))
	if err != nil {
		return nil, err
	}
	// RETURNING gives no order: sort as the contract says.
	storecodec.SortDeliveries(ds)
	return ds, nil
}

// SetCursor implements store.Tx.
func (t *wtx) SetCursor(ctx context.Context, name string, seq int64) error {
	if _, err := t.tx.ExecContext(ctx, wCursor, name, seq); err != nil {
		return fmt.Errorf("sqlite: set cursor %q: %w", name, err)
	}
	return nil
}
