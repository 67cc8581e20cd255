package notify

import (
	"encoding/json"
	"time"
)

// Audience is who a webhook subscription's receiver speaks for.
type Audience string

// Audiences. A buyer-facing (public) subscription never receives shop_agent
// or agent_only content (R-MSG-2), nor messages addressed to a shop.
const (
	AudiencePlatform Audience = "platform" // the platform's own systems: everything
	AudiencePublic   Audience = "public"   // buyer-facing: public task events only
)

// Subscription is a webhook endpoint and the event types it receives.
type Subscription struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"` // event types, or "*" for all
	Audience    Audience  `json:"audience"`
	Secret      string    `json:"secret,omitempty"` // whsec_…; shown once, on creation
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// DeliveryStatus is where a webhook delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // to be sent at NextAt
	DeliverySucceeded DeliveryStatus = "succeeded" // the receiver answered 2xx
	DeliveryDead      DeliveryStatus = "dead"      // every attempt failed: on the dead-letter list
)

// Delivery is one event on its way to one subscription. Its ID is the
// webhook-id the receiver sees, the same on every attempt, so receivers can
// drop repeats.
type Delivery struct {
	ID             string          `json:"id"`
	SubscriptionID string          `json:"subscription_id"`
	EventType      string          `json:"event_type"`
	Source         string          `json:"source"` // "outbox" or "events"
	Seq            int64           `json:"seq"`    // the outbox or event sequence it carries
	Status         DeliveryStatus  `json:"status"`
	Attempts       int             `json:"attempts"`
	NextAt         time.Time       `json:"next_at"`
	LeaseOwner     string          `json:"lease_owner,omitempty"`
	LeaseUntil     *time.Time      `json:"lease_until,omitempty"`
	LastStatus     int             `json:"last_status,omitempty"` // HTTP status of the last attempt (0: no answer)
	LastError      string          `json:"last_error,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	DeliveredAt    *time.Time      `json:"delivered_at,omitempty"`
	Body           json.RawMessage `json:"body"` // the signed payload, the same on every attempt
}
