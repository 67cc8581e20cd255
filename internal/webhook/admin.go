package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/notify"
	"aftersale/internal/store"
)

// Subscriptions and deliveries are delivery configuration and bookkeeping,
// not facts of the domain: no event, timer, policy or outbox is involved,
// so they are written in their own store transactions here rather than
// through the engine (as the timer sweeper's claims are store operations).

// NewSubscription validates a subscription request and returns it with a
// fresh id and secret (the caller shows the secret once). events are event
// types or "*"; audience is platform or public (default public).
func NewSubscription(rawURL string, events []string, audience notify.Audience, description string, now time.Time) (*notify.Subscription, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, apperr.Invalid("url", "", "url must be an absolute http or https URL, got %q", rawURL)
	}
	if len(events) == 0 {
		return nil, apperr.Invalid("events", "", "name at least one event type (or \"*\"): %v", EventTypes)
	}
	for _, t := range events {
		if !ValidType(t) {
			return nil, apperr.Invalid("events", "", "unknown event type %q (one of %v, or \"*\")", t, EventTypes)
		}
	}
	switch audience {
	case "":
		audience = notify.AudiencePublic
	case notify.AudiencePlatform, notify.AudiencePublic:
	default:
		return nil, apperr.Invalid("audience", "R-MSG-2", "audience is platform (everything) or public (public events only), got %q", audience)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	evs := slices.Clone(events)
	slices.Sort(evs)
	return &notify.Subscription{ID: "whs_" + hex.EncodeToString(b[:]), URL: u.String(), Events: slices.Compact(evs),
		Audience: audience, Secret: NewSecret(), Description: description, CreatedAt: now.UTC()}, nil
}

// Create stores a new subscription. Only what is committed after it is
// delivered to it: the fan-out reads from its cursors on.
func Create(ctx context.Context, st store.Store, s *notify.Subscription) error {
	return st.Update(ctx, func(tx store.Tx) error { return tx.PutWebhookSubscription(ctx, s) })
}

// List returns the subscriptions without their secrets.
func List(ctx context.Context, st store.Store) ([]notify.Subscription, error) {
	var out []notify.Subscription
	err := st.View(ctx, func(tx store.ReadTx) error {
		var err error
		out, err = tx.WebhookSubscriptions(ctx)
		return err
	})
	for i := range out {
		out[i].Secret = ""
	}
	return out, err
}

// Delete removes a subscription and its pending deliveries.
func Delete(ctx context.Context, st store.Store, id string) error {
	return st.Update(ctx, func(tx store.Tx) error { return tx.DeleteWebhookSubscription(ctx, id) })
}

// Deliveries lists deliveries, newest first.
func Deliveries(ctx context.Context, st store.Store, f store.WebhookFilter) ([]notify.Delivery, error) {
	var out []notify.Delivery
	err := st.View(ctx, func(tx store.ReadTx) error {
		var err error
		out, err = tx.WebhookDeliveries(ctx, f)
		return err
	})
	return out, err
}

// Redeliver puts a dead (or succeeded) delivery back to pending, due now,
// with a fresh set of attempts; the same webhook-id lets the receiver tell
// a repeat. A pending delivery is refused (it is on its way).
func Redeliver(ctx context.Context, st store.Store, id string, now time.Time) (*notify.Delivery, error) {
	var d *notify.Delivery
	err := st.Update(ctx, func(tx store.Tx) error {
		var err error
		if d, err = tx.WebhookDelivery(ctx, id); err != nil {
			return err
		}
		if d.Status == notify.DeliveryPending {
			return apperr.Conflict("webhook.pending", "", "delivery %s is pending (attempt %d done, next at %s)", id, d.Attempts, d.NextAt.Format(time.RFC3339))
		}
		if _, err := tx.WebhookSubscription(ctx, d.SubscriptionID); err != nil {
			return err
		}
		d.Status, d.Attempts, d.NextAt, d.UpdatedAt = notify.DeliveryPending, 0, now, now
		d.LeaseOwner, d.LeaseUntil, d.DeliveredAt = "", nil, nil
		return tx.PutWebhookDelivery(ctx, d)
	})
	return d, err
}
