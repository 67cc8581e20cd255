// Package live delivers what the engine decided to the people it concerns
// while they are connected: it tails the outbox (cards, reminders, chat
// cards) and the event log (task events) in sequence order and fans each
// item out to the subscribers it is for. It also keeps shop sub-accounts
// online while they hold a stream (R-NTF-2 sends cards to online ones).
//
// The hub wakes when the local engine commits (engine.OnCommit → Hub.Wake);
// a Waker is the seam through which another replica's commits can wake it
// too (PostgreSQL LISTEN/NOTIFY). It polls only as a fallback, rarely.
package live

import (
	"encoding/json"

	"aftersale/internal/commerce"
	"aftersale/internal/notify"
	"aftersale/internal/task"
)

// Source is the log an item comes from; each has its own sequence.
type Source int

// Sources.
const (
	FromOutbox Source = iota
	FromEvents
)

// Item is one outbox message or one event on its way to subscribers.
type Item struct {
	Source Source
	Seq    int64
	Msg    *notify.Message // FromOutbox
	Event  *task.Event     // FromEvents
	// BuyerID is the buyer of the event's task or order (buyer streams get
	// the public events of their own tasks and orders).
	BuyerID string
	// Late is set when the item became visible after a later sequence of
	// its source had been delivered (concurrent writers on PostgreSQL). A
	// late item is still delivered, once, but does not move a stream's cursor.
	Late bool
}

// Kind is the item's SSE event name: card, reminder, chat_card,
// collab_card for outbox messages; task_event for events.
func (it Item) Kind() string {
	if it.Msg == nil {
		return "task_event"
	}
	switch it.Msg.Kind {
	case notify.KindCard:
		return "card"
	case notify.KindReminder:
		return "reminder"
	}
	return string(it.Msg.Kind)
}

// JSON is the item's SSE data.
func (it Item) JSON() ([]byte, error) {
	if it.Msg != nil {
		return json.Marshal(it.Msg)
	}
	return json.Marshal(it.Event)
}

// Identity is who a stream is for.
type Identity struct {
	Role task.Role
	ID   string
	// ShopID is a shop account's shop.
	ShopID string
	// TaskPerm says whether a sub-account holds the platform-task permission (R-ACC-1).
	TaskPerm bool
}

// IdentityOf builds a shop account's identity.
func IdentityOf(a *commerce.Account) Identity {
	id := Identity{Role: task.RoleShopMain, ID: a.ID, ShopID: a.ShopID, TaskPerm: true}
	if a.Role == commerce.RoleSub {
		id.Role, id.TaskPerm = task.RoleShopSub, a.Has(commerce.PermPlatformTask)
	}
	return id
}

// Wants reports whether the item is for this identity:
//   - outbox messages go to their recipient when pending (a reminder over
//     the daily cap is suppressed and never sent, R-NTF-1); SMS is not a
//     stream's business; a card needs the platform-task permission (R-NTF-2);
//   - events: agents get all; a buyer only public events of their own tasks
//     and orders (never shop_agent or agent_only, R-MSG-2); a shop account
//     its shop's events but no agent_only ones, a sub-account only with the
//     platform-task permission.
func (id Identity) Wants(it Item) bool {
	if m := it.Msg; m != nil {
		if m.Status != notify.Pending || m.Recipient != id.ID {
			return false
		}
		switch m.Kind {
		case notify.KindCollabSMS, notify.KindTaskEvent:
			return false
		case notify.KindCard, notify.KindReminder:
			return id.Role == task.RoleShopSub && id.TaskPerm
		}
		return true
	}
	ev := it.Event
	if ev == nil {
		return false
	}
	switch id.Role {
	case task.RoleAgent:
		return true
	case task.RoleBuyer:
		return (ev.Visibility == task.Public || ev.Visibility == "") && it.BuyerID != "" && it.BuyerID == id.ID
	case task.RoleShopMain, task.RoleShopSub:
		switch ev.Visibility {
		case task.Public, "", task.ShopAgent:
		default:
			return false
		}
		if ev.ShopID != id.ShopID {
			return false
		}
		return id.Role == task.RoleShopMain || id.TaskPerm
	}
	return false
}
