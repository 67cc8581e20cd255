package webhook

import (
	"encoding/json"
	"slices"
	"time"

	"aftersale/internal/notify"
	"aftersale/internal/task"
)

// Event types a subscription may name ("*" names them all).
const (
	TaskCreated       = "task.created"
	TaskStateChanged  = "task.state_changed"
	TaskCompleted     = "task.completed"
	TaskUpdated       = "task.updated" // any other task event (a reply's text, a message, a note …)
	OrderUpdated      = "order.updated"
	ComplaintFiled    = "complaint.filed"
	ComplaintFinished = "complaint.finished"
	PointsCharged     = "points.charged"
	Card              = "card"
	Reminder          = "reminder"
	ChatCard          = "chat_card"
	CollabCard        = "collab_card"
	CollabSMS         = "collab_sms"
	All               = "*"
)

// EventTypes lists the event types, for validation and documentation.
var EventTypes = []string{TaskCreated, TaskStateChanged, TaskCompleted, TaskUpdated, OrderUpdated,
	ComplaintFiled, ComplaintFinished, PointsCharged, Card, Reminder, ChatCard, CollabCard, CollabSMS}

// ValidType reports whether t is an event type or "*".
func ValidType(t string) bool { return t == All || slices.Contains(EventTypes, t) }

// eventTypes returns an event's types, the most specific first: a
// completing transition is task.completed and task.state_changed.
func eventTypes(e *task.Event) []string {
	switch e.Action {
	case string(task.ActCreate):
		return []string{TaskCreated}
	case "complaint_filed":
		return []string{ComplaintFiled}
	case string(task.ActComplaintFinished):
		if e.From != e.To {
			return []string{ComplaintFinished, TaskStateChanged}
		}
		return []string{ComplaintFinished}
	case "points_charged":
		return []string{PointsCharged}
	}
	if e.From != "" && e.From != e.To {
		if e.To == task.Completed {
			return []string{TaskCompleted, TaskStateChanged}
		}
		return []string{TaskStateChanged}
	}
	if e.TaskID == "" {
		return []string{OrderUpdated}
	}
	return []string{TaskUpdated}
}

// messageTypes returns an outbox message's type; a suppressed message (over
// a cap) is sent nowhere.
func messageTypes(m *notify.Message) []string {
	if m.Status != notify.Pending {
		return nil
	}
	switch m.Kind {
	case notify.KindCard:
		return []string{Card}
	case notify.KindReminder:
		return []string{Reminder}
	case notify.KindChatCard:
		return []string{ChatCard}
	case notify.KindCollabCard:
		return []string{CollabCard}
	case notify.KindCollabSMS:
		return []string{CollabSMS}
	}
	return nil
}

// match returns the first of types the subscription takes, or "".
func match(s *notify.Subscription, types []string) string {
	for _, t := range types {
		if slices.Contains(s.Events, All) || slices.Contains(s.Events, t) {
			return t
		}
	}
	return ""
}

// allowed reports whether the subscription's audience may see the item: a
// public (buyer-facing) subscription gets public events only — never
// shop_agent or agent_only content (R-MSG-2), nor messages addressed to
// shop accounts; a platform one gets everything.
func allowed(s *notify.Subscription, e *task.Event) bool {
	if s.Audience == notify.AudiencePlatform {
		return true
	}
	return e != nil && (e.Visibility == task.Public || e.Visibility == "")
}

// Payload is a webhook's body.
type Payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}
