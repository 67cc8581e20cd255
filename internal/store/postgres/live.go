package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"aftersale/internal/apperr"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/store/storecodec"
)

// Live delivery statements.
const (
	qLatestSeqs   = `SELECT (SELECT coalesce(max(seq), 0) FROM outbox), (SELECT coalesce(max(seq), 0) FROM events)`
	qWebhookSub   = `SELECT data FROM webhook_subscriptions WHERE id = $1`
	qWebhookSubs  = `SELECT data FROM webhook_subscriptions ORDER BY id`
	deliveryCols  = `data, lease_owner, lease_until`
	qDelivery     = `SELECT ` + deliveryCols + ` FROM webhook_deliveries WHERE id = $1`
	qDeliveryLock = qDelivery + ` FOR UPDATE`
	qDeliveries   = `SELECT ` + deliveryCols + ` FROM webhook_deliveries
		WHERE ($1 = '' OR subscription_id = $1) AND ($2 = '' OR status = $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`
	qCursor     = `SELECT seq FROM cursors WHERE name = $1`
	qCursorLock = qCursor + ` FOR UPDATE`

	wWebhookSub = `INSERT INTO webhook_subscriptions (id, data) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data`
	wDelWebhookSub = `DELETE FROM webhook_subscriptions WHERE id = $1`
	wDelPending    = `DELETE FROM webhook_deliveries WHERE subscription_id = $1 AND status = 'pending'`
	wInsDelivery   = `INSERT INTO webhook_deliveries (id, subscription_id, status, next_at, lease_owner, lease_until, created_at, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`
	wPutDelivery = `INSERT INTO webhook_deliveries (id, subscription_id, status, next_at, lease_owner, lease_until, created_at, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET status = excluded.status, next_at = excluded.next_at,
			lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, data = excluded.data`
	// SKIP LOCKED: rows another sender is claiming are passed over. The
	// outer WHERE repeats the lease test: at READ COMMITTED, a row a
	// concurrent claim leased and committed after this statement's snapshot
	// is re-checked on its new version and left out. The ids are chosen
	// once, in an ARRAY(…) init plan: as `id IN (SELECT … LIMIT …)` the
	// planner may rescan the locking subquery in a join, and each rescan
	// skips the rows the last one locked and locks more, so one claim
	// leased hundreds of rows in place of 20 (and took seconds).
	wClaimDeliveries = `UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2
		WHERE id = ANY(ARRAY(SELECT id FROM webhook_deliveries
			WHERE status = 'pending' AND next_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
			ORDER BY next_at, id LIMIT $4 FOR UPDATE SKIP LOCKED))
		AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $3)
		RETURNING ` + deliveryCols
	wCursor = `INSERT INTO cursors (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`
)

// LatestSeqs implements store.ReadTx.
func (t *rtx) LatestSeqs(ctx context.Context) (int64, int64, error) {
	var o, e int64
	if err := t.tx.QueryRow(ctx, qLatestSeqs).Scan(&o, &e); err != nil {
		return 0, 0, fmt.Errorf("postgres: latest seqs: %w", err)
	}
	return o, e, nil
}

// WebhookSubscriptions implements store.ReadTx.
func (t *rtx) WebhookSubscriptions(ctx context.Context) ([]notify.Subscription, error) {
	return listJSON[notify.Subscription](ctx, t, "webhook subscriptions", qWebhookSubs)
}

// WebhookSubscription implements store.ReadTx.
func (t *rtx) WebhookSubscription(ctx context.Context, id string) (*notify.Subscription, error) {
	var s notify.Subscription
	if err := t.getJSON(ctx, qWebhookSub, &s, "subscription_id", "webhook subscription", id); err != nil {
		return nil, err
	}
	return &s, nil
}

type pgScanner interface{ Scan(...any) error }

func scanDelivery(r pgScanner) (notify.Delivery, error) {
	var data []byte
	var owner *string
	var until *time.Time
	var d notify.Delivery
	if err := r.Scan(&data, &owner, &until); err != nil {
		return d, err
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("decode webhook delivery: %w", err)
	}
	d.LeaseOwner, d.LeaseUntil = "", nil
	if owner != nil {
		d.LeaseOwner = *owner
	}
	if until != nil {
		u := until.UTC()
		d.LeaseUntil = &u
	}
	return d, nil
}

func (t *rtx) scanDeliveries(ctx context.Context, q string, args ...any) ([]notify.Delivery, error) {
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []notify.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list webhook deliveries: %w", err)
	}
	return out, nil
}

// WebhookDelivery implements store.ReadTx.
func (t *rtx) WebhookDelivery(ctx context.Context, id string) (*notify.Delivery, error) {
	d, err := scanDelivery(t.tx.QueryRow(ctx, t.pick(qDelivery, qDeliveryLock), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.NotFound("delivery_id", "webhook delivery %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read webhook delivery %q: %w", id, err)
	}
	return &d, nil
}

// WebhookDeliveries implements store.ReadTx.
func (t *rtx) WebhookDeliveries(ctx context.Context, f store.WebhookFilter) ([]notify.Delivery, error) {
	return t.scanDeliveries(ctx, qDeliveries, f.SubscriptionID, string(f.Status), limit(f.Limit))
}

// Cursor implements store.ReadTx. Inside Update it locks the cursor's row;
// a cursor never set is created (at 0) first, so there is a row to lock.
func (t *rtx) Cursor(ctx context.Context, name string) (int64, error) {
	if t.lock {
		if _, err := t.tx.Exec(ctx, `INSERT INTO cursors (name, seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`, name); err != nil {
			return 0, fmt.Errorf("postgres: create cursor %q: %w", name, err)
		}
	}
	var v int64
	err := t.tx.QueryRow(ctx, t.pick(qCursor, qCursorLock), name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: read cursor %q: %w", name, err)
	}
	return v, nil
}

// PutWebhookSubscription implements store.Tx.
func (t *wtx) PutWebhookSubscription(ctx context.Context, s *notify.Subscription) error {
	data, err := storecodec.EncodeUTC(s)
	if err != nil {
		return fmt.Errorf("postgres: encode webhook subscription: %w", err)
	}
	if _, err := t.tx.Exec(ctx, wWebhookSub, s.ID, string(data)); err != nil {
		return fmt.Errorf("postgres: put webhook subscription %q: %w", s.ID, err)
	}
	return nil
}

// DeleteWebhookSubscription implements store.Tx.
func (t *wtx) DeleteWebhookSubscription(ctx context.Context, id string) error {
	tag, err := t.tx.Exec(ctx, wDelWebhookSub, id)
	if err != nil {
		return fmt.Errorf("postgres: delete webhook subscription %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound("subscription_id", "webhook subscription %q not found", id)
	}
	if _, err := t.tx.Exec(ctx, wDelPending, id); err != nil {
		return fmt.Errorf("postgres: delete pending deliveries of %q: %w", id, err)
	}
	return nil
}

func deliveryArgs(d *notify.Delivery) ([]any, error) {
	c := *d
	c.LeaseOwner, c.LeaseUntil = "", nil // kept in their columns
	data, err := storecodec.EncodeUTC(&c)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode webhook delivery %q: %w", d.ID, err)
	}
	var owner any
	if d.LeaseOwner != "" {
		owner = d.LeaseOwner
	}
	return []any{d.ID, d.SubscriptionID, string(d.Status), d.NextAt, owner, nullTime(d.LeaseUntil), d.CreatedAt, string(data)}, nil
}

// InsertWebhookDeliveries implements store.Tx.
func (t *wtx) InsertWebhookDeliveries(ctx context.Context, ds []notify.Delivery) (int, error) {
	n := 0
	for i := range ds {
		args, err := deliveryArgs(&ds[i])
		if err != nil {
			return n, err
		}
		tag, err := t.tx.Exec(ctx, wInsDelivery, args...)
		if err != nil {
			return n, fmt.Errorf("postgres: insert webhook delivery %q: %w", ds[i].ID, err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}

// PutWebhookDelivery implements store.Tx.
func (t *wtx) PutWebhookDelivery(ctx context.Context, d *notify.Delivery) error {
	args, err := deliveryArgs(d)
	if err != nil {
		return err
	}
	if _, err := t.tx.Exec(ctx, wPutDelivery, args...); err != nil {
		return fmt.Errorf("postgres: put webhook delivery %q: %w", d.ID, err)
	}
	return nil
}

// ClaimWebhookDeliveries implements store.Tx.
func (t *wtx) ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, owner string, n int) ([]notify.Delivery, error) {
	ds, err := t.scanDeliveries(ctx, wClaimDeliveries, owner, leaseUntil, now, limit(n))
	if err != nil {
		return nil, err
	}
	storecodec.SortDeliveries(ds)
	return ds, nil
}

// SetCursor implements store.Tx.
func (t *wtx) SetCursor(ctx context.Context, name string, seq int64) error {
	if _, err := t.tx.Exec(ctx, wCursor, name, seq); err != nil {
		return fmt.Errorf("postgres: set cursor %q: %w", name, err)
	}
	return nil
}
