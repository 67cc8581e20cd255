// Package notify decides who is told what: task cards, reminders under a
// daily cap, chat cards, SMS. Decisions are written to the outbox in the same
// transaction as the change that caused them; delivery reads the outbox.
package notify

import (
	"encoding/json"
	"time"
)

// Kind is the kind of an outbox message.
type Kind string

// Message kinds.
const (
	KindCard       Kind = "task_card"   // R-NTF-2: card with the order's details to online sub-accounts
	KindReminder   Kind = "reminder"    // R-NTF-1: pop-up reminder, capped per sub-account per day
	KindChatCard   Kind = "chat_card"   // R-URG-4: chat message card after "keep contacting the seller"
	KindCollabCard Kind = "collab_card" // R-COL-1: card from the official service account
	KindCollabSMS  Kind = "collab_sms"  // R-COL-1: SMS from 商家协同官方运营
	KindTaskEvent  Kind = "task_event"  // a task changed (for webhooks)

	// KindPlatformRefund tells the marketplace's order system to refund an
	// order at once (极速退款): a taken-over shop's new order (R-LIA-2).
	KindPlatformRefund Kind = "platform_refund"
	// KindTakeover tells a shop's main account its takeover started or stopped (R-LIA-2/3).
	KindTakeover Kind = "takeover"
)

// OrderSystem is the recipient of instructions to the marketplace's order system.
const OrderSystem = "order_system"

// Status of an outbox message.
type Status string

// Statuses.
const (
	Pending    Status = "pending"    // to be delivered
	Suppressed Status = "suppressed" // decided but not sent (e.g. over the daily cap); kept for the record
	Delivered  Status = "delivered"
)

// Message is one outbox entry: a decision that someone should be told something.
type Message struct {
	Seq           int64           `json:"seq"`
	Kind          Kind            `json:"kind"`
	Recipient     string          `json:"recipient"` // account id, buyer id or shop id
	TaskID        string          `json:"task_id,omitempty"`
	OrderID       string          `json:"order_id,omitempty"`
	ShopID        string          `json:"shop_id,omitempty"`
	At            time.Time       `json:"at"`
	Status        Status          `json:"status"`
	Rule          string          `json:"rule,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	PolicyVersion string          `json:"policy_version"`
	Payload       json.RawMessage `json:"payload,omitempty"`
}
