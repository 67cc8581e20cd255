package engine

import (
	"context"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// This file holds the task reads shared by the JSON API and the console, so
// that both answer a viewer with the same tenant scoping and the same
// visibility filter (R-MSG-2): there is no second path to the data.

// Viewer is who a read is for: a buyer, a shop account or an agent. The
// zero Viewer has no role; use the agent role for the unscoped view.
type Viewer struct {
	Role task.Role
	ID   string
}

// Buyer reports whether v is a buyer.
func (v Viewer) Buyer() bool { return v.Role == task.RoleBuyer }

// Shop reports whether v is a shop account.
func (v Viewer) Shop() bool { return v.Role == task.RoleShopMain || v.Role == task.RoleShopSub }

// Sees reports whether v may see an event of visibility vis: buyers see
// public events only — never a shop's message to the agent (shop_agent) nor
// an agent note (agent_only) (R-MSG-2); shop accounts see all but
// agent_only; agents see all. An empty visibility is public.
func (v Viewer) Sees(vis task.Visibility) bool {
	switch vis {
	case "", task.Public:
		return true
	case task.ShopAgent:
		return v.Role != task.RoleBuyer
	}
	return v.Role == task.RoleAgent
}

// Filter keeps the events v may see.
func (v Viewer) Filter(evs []task.Event) []task.Event {
	out := make([]task.Event, 0, len(evs))
	for _, e := range evs {
		if v.Sees(e.Visibility) {
			out = append(out, e)
		}
	}
	return out
}

// ShopOf returns the shop of a shop viewer's account, refusing an account
// whose role is not the viewer's.
func (v Viewer) ShopOf(ctx context.Context, tx store.ReadTx) (string, error) {
	acc, err := tx.Account(ctx, v.ID)
	if err != nil {
		return "", apperr.NotFoundAs(err, "viewer", "no shop account %q", v.ID)
	}
	if (v.Role == task.RoleShopMain) != (acc.Role == commerce.RoleMain) {
		return "", apperr.New(apperr.EFORBIDDEN, "role", "viewer", "", "account %s is a %s account, not %s", acc.ID, acc.Role, v.Role)
	}
	return acc.ShopID, nil
}

// TaskView is a task with the history its viewer may see and its running timers.
type TaskView struct {
	Task   *task.Task
	Events []task.Event
	Timers []task.Timer
}

// ReadTask reads a task for v: another tenant's task answers as an unknown
// one (404), so ids do not leak; the history is filtered by visibility.
func (e *Engine) ReadTask(ctx context.Context, v Viewer, id string) (*TaskView, error) {
	var out *TaskView
	err := e.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		out, err = ReadTaskTx(ctx, tx, v, id)
		return err
	})
	return out, err
}

// ReadTaskTx is ReadTask inside a read transaction.
func ReadTaskTx(ctx context.Context, tx store.ReadTx, v Viewer, id string) (*TaskView, error) {
	t, err := tx.Task(ctx, id)
	if err != nil {
		return nil, apperr.NotFoundAs(err, "id", "no task %q", id)
	}
	switch {
	case v.Buyer() && t.BuyerID != v.ID:
		return nil, apperr.NotFound("id", "no task %q", id)
	case v.Shop():
		shopID, err := v.ShopOf(ctx, tx)
		if err != nil {
			return nil, err
		}
		if shopID != t.ShopID {
			return nil, apperr.NotFound("id", "no task %q", id)
		}
	}
	evs, err := tx.Events(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	tms, err := tx.Timers(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if tms == nil {
		tms = []task.Timer{}
	}
	return &TaskView{Task: t, Events: v.Filter(evs), Timers: tms}, nil
}

// ListTasksTx lists tasks for v inside a read transaction: a buyer only
// their own, a shop account only its shop's (a filter naming another buyer
// or shop is refused with viewer.scope). A cursor that is no task answers
// ENOTFOUND, for the caller to name.
func ListTasksTx(ctx context.Context, tx store.ReadTx, v Viewer, f store.TaskFilter) ([]task.Task, error) {
	f, err := ScopeTaskFilter(ctx, tx, v, f)
	if err != nil {
		return nil, err
	}
	return tx.Tasks(ctx, f)
}

// ScopeTaskFilter narrows a task filter to what v may list: a buyer only
// their own tasks, a shop account only its shop's; a filter naming another
// buyer or shop is refused with viewer.scope.
func ScopeTaskFilter(ctx context.Context, tx store.ReadTx, v Viewer, f store.TaskFilter) (store.TaskFilter, error) {
	switch {
	case v.Buyer():
		if f.BuyerID != "" && f.BuyerID != v.ID {
			return f, apperr.New(apperr.EFORBIDDEN, "viewer.scope", "buyer_id", "", "buyer %s may list only their own tasks", v.ID)
		}
		f.BuyerID = v.ID
	case v.Shop():
		shopID, err := v.ShopOf(ctx, tx)
		if err != nil {
			return f, err
		}
		if f.ShopID != "" && f.ShopID != shopID {
			return f, apperr.New(apperr.EFORBIDDEN, "viewer.scope", "shop_id", "", "account %s may list only shop %s's tasks", v.ID, shopID)
		}
		f.ShopID = shopID
	}
	return f, nil
}

// AttachmentVisible reports whether v may fetch attachment a, once v may see
// its task: an attachment that belongs to an evidence item only when v sees
// the item (R-MSG-2); before it belongs to one, only the side that uploaded
// it, and agents.
func AttachmentVisible(ctx context.Context, tx store.ReadTx, v Viewer, a *task.Attachment) (bool, error) {
	side := task.SideOf(v.Role)
	if a.ItemID == "" {
		return side == task.SideAgent || side == a.Side, nil
	}
	items, err := tx.EvidenceItems(ctx, a.TaskID)
	if err != nil {
		return false, err
	}
	for _, it := range task.FilterEvidence(items, side) {
		if it.ID == a.ItemID {
			return true, nil
		}
	}
	return false, nil
}
