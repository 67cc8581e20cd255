package store

import (
	"context"
	"time"

	"aftersale/internal/notify"
)

// LiveReader is what live delivery (SSE, webhooks) reads.
type LiveReader interface {
	// LatestSeqs returns the largest outbox and event sequences (0 when
	// empty): where a live tail starts.
	LatestSeqs(ctx context.Context) (outbox, events int64, err error)
	WebhookReader
}

// LiveWriter is what live delivery writes.
type LiveWriter interface{ WebhookWriter }

// WebhookFilter selects webhook deliveries. Zero fields do not filter.
type WebhookFilter struct {
	SubscriptionID string
	Status         notify.DeliveryStatus
	Limit          int // 0 means no limit
}

// WebhookReader reads webhook subscriptions, deliveries and cursors.
type WebhookReader interface {
	// WebhookSubscriptions lists the subscriptions by id.
	WebhookSubscriptions(ctx context.Context) ([]notify.Subscription, error)
	// WebhookSubscription returns one subscription (ENOTFOUND "subscription_id").
	WebhookSubscription(ctx context.Context, id string) (*notify.Subscription, error)
	// WebhookDelivery returns one delivery (ENOTFOUND "delivery_id"). Inside
	// Update a store with several writers locks it.
	WebhookDelivery(ctx context.Context, id string) (*notify.Delivery, error)
	// WebhookDeliveries lists deliveries, newest first (by created_at, id).
	WebhookDeliveries(ctx context.Context, f WebhookFilter) ([]notify.Delivery, error)
	// Cursor reads a named consumer cursor (0 when never set). Inside Update
	// a store with several writers locks it until commit, so one consumer
	// at a time advances it.
	Cursor(ctx context.Context, name string) (int64, error)
}

// WebhookWriter writes webhook subscriptions, deliveries and cursors.
type WebhookWriter interface {
	PutWebhookSubscription(ctx context.Context, s *notify.Subscription) error // upsert
	// DeleteWebhookSubscription removes a subscription and its pending
	// deliveries (ENOTFOUND when there is none).
	DeleteWebhookSubscription(ctx context.Context, id string) error
	// InsertWebhookDeliveries stores new deliveries; one whose id exists is
	// skipped (so a repeated fan-out creates nothing twice). It returns how
	// many were inserted.
	InsertWebhookDeliveries(ctx context.Context, ds []notify.Delivery) (int, error)
	// PutWebhookDelivery stores a delivery's new state (upsert by id).
	PutWebhookDelivery(ctx context.Context, d *notify.Delivery) error
	// ClaimWebhookDeliveries leases up to limit pending deliveries due at or
	// before now whose lease is absent or expired, to owner until leaseUntil,
	// ordered by (next_at, id). Concurrent claimers get disjoint sets
	// (FOR UPDATE SKIP LOCKED on PostgreSQL).
	ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, owner string, limit int) ([]notify.Delivery, error)
	// SetCursor stores a named consumer cursor.
	SetCursor(ctx context.Context, name string, seq int64) error
}
