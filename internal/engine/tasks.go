package engine

import (
	"context"
	"encoding/json"
	"slices"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/policy"
	"aftersale/internal/scorecard"
	"aftersale/internal/task"
)

// input loads what Decide needs for a command on an order (and task).
// o may be nil for a command on an existing task whose decision does not
// need the order (timer firings); effects that need it load it.
func (x *txn) input(ctx context.Context, t *task.Task, o *commerce.Order, cmd task.Command) (*task.Input, error) {
	var shopID string
	if o != nil {
		shopID = o.ShopID
	} else {
		shopID = t.ShopID
	}
	shop, r, err := x.shopRules(ctx, shopID)
	if err != nil {
		return nil, err
	}
	in := &task.Input{Task: t, Cmd: cmd, Order: o, Shop: shop, Rules: r, Now: x.now}
	if cmd.Actor.Role == task.RoleShopMain || cmd.Actor.Role == task.RoleShopSub {
		acc, err := x.tx.Account(ctx, cmd.Actor.ID)
		if err != nil && apperr.CodeOf(err) != apperr.ENOTFOUND {
			return nil, err
		}
		in.Account = acc
	}
	if err := x.evidenceInput(ctx, in); err != nil {
		return nil, err
	}
	return in, nil
}

// decide loads the input for a command on an existing task and runs Decide.
// It writes nothing, so a refusal leaves the transaction untouched.
func (x *txn) decide(ctx context.Context, t *task.Task, o *commerce.Order, cmd task.Command) (*task.Input, task.Decision, error) {
	in, err := x.input(ctx, t, o, cmd)
	if err != nil {
		return nil, task.Decision{}, err
	}
	d, err := task.Decide(in)
	return in, d, err
}

// act runs one command on an existing task and writes the result.
func (x *txn) act(ctx context.Context, t *task.Task, o *commerce.Order, cmd task.Command) (*task.Task, error) {
	in, d, err := x.decide(ctx, t, o, cmd)
	if err != nil {
		return nil, err
	}
	next, err := x.persist(ctx, in, &d, o)
	if err != nil {
		return nil, err
	}
	return x.evidenceDefault(ctx, next, o)
}

// tenantFirst refuses an actor who may not see an object of shopID and
// buyerID — another buyer's order or task, another shop's task or account —
// before anything about the object's state or the request is checked, so
// that no conflict or validation answer tells a stranger what the object
// holds (an open task and its id, a completed state, a used attachment).
// The refusal is the decision's own not_your_order / not_your_shop, which
// the API answers a shop's people and buyers as an unknown id. Agents, the
// platform and the system see every tenant. buyerID "" means the object is
// no buyer's (a shop account): a buyer may not see it.
func (x *txn) tenantFirst(ctx context.Context, a task.Actor, shopID, buyerID string) error {
	switch a.Role {
	case task.RoleBuyer:
		if buyerID == "" || a.ID != buyerID {
			return apperr.Forbidden("not_your_order", "", "buyer %s is not the buyer of this order", a.ID)
		}
	case task.RoleShopMain, task.RoleShopSub:
		if _, err := x.shopAccount(ctx, a, shopID); err != nil {
			return err
		}
	}
	return nil
}

// shopAccount returns the account a shop actor acts as when it belongs to
// shopID; an account of another shop, or none, is not_your_shop (a store
// failure stays a store failure).
func (x *txn) shopAccount(ctx context.Context, a task.Actor, shopID string) (*commerce.Account, error) {
	acc, err := x.tx.Account(ctx, a.ID)
	if err != nil && apperr.CodeOf(err) != apperr.ENOTFOUND {
		return nil, err
	}
	if err != nil || acc.ShopID != shopID {
		return nil, apperr.Forbidden("not_your_shop", "", "account %s does not belong to shop %s", a.ID, shopID)
	}
	return acc, nil
}

// create runs a creation command and writes the new task. The actor's
// right to see the order comes first (tenantFirst), then the task type and
// the open task of the same type, then the decision.
func (x *txn) create(ctx context.Context, o *commerce.Order, cmd task.Command) (*task.Task, error) {
	if err := x.tenantFirst(ctx, cmd.Actor, o.ShopID, o.BuyerID); err != nil {
		return nil, err
	}
	if !cmd.Type.Valid() {
		return nil, apperr.Invalid("type", "", "unknown task type %q", cmd.Type)
	}
	open, err := x.tx.OpenTask(ctx, o.ID, cmd.Type)
	if err != nil {
		return nil, err
	}
	if open != nil {
		return nil, apperr.New(apperr.ECONFLICT, "task.open_exists", "type", "",
			"order %s already has an open %s task (%s); at most one is open per order and type", o.ID, cmd.Type, open.ID)
	}
	in, err := x.input(ctx, nil, o, cmd)
	if err != nil {
		return nil, err
	}
	d, err := task.Decide(in)
	if err != nil {
		return nil, err
	}
	d.Task.ID = x.e.ids.New("tsk")
	return x.persist(ctx, in, &d, o)
}

// persist writes a decision: effects first (they may change the task), then
// the task, its event, and its timers. Writes have begun, so any error it
// returns is a system fault (EINTERNAL) that aborts the transaction, never a
// refusal that would leave half a change behind.
func (x *txn) persist(ctx context.Context, in *task.Input, d *task.Decision, o *commerce.Order) (*task.Task, error) {
	t, err := x.write(ctx, in, d, o)
	return t, apperr.Internal(err)
}

func (x *txn) write(ctx context.Context, in *task.Input, d *task.Decision, o *commerce.Order) (*task.Task, error) {
	t := &d.Task
	created := in.Task == nil
	ev := d.Event
	ev.Stream, ev.TaskID = t.ID, t.ID
	if d.Data != nil {
		b, err := json.Marshal(d.Data)
		if err != nil {
			return nil, err
		}
		ev.Data = b
	}
	evs := []task.Event{ev}
	for _, eff := range d.Effects {
		more, err := x.effect(ctx, eff, t, o, in)
		if err != nil {
			return nil, err
		}
		evs = append(evs, more...)
	}
	if err := x.writeEvidence(ctx, d); err != nil {
		return nil, err
	}
	if created {
		if err := x.tx.InsertTask(ctx, t); err != nil {
			return nil, err
		}
	} else if err := x.tx.UpdateTask(ctx, t); err != nil {
		return nil, err
	}
	x.noteTask(t)
	if err := x.tx.AppendEvents(ctx, evs); err != nil {
		return nil, err
	}
	// Only the current state's timers run (they are started on entering it),
	// so leaving a state stops all of the task's timers in one delete. Within
	// a state a decision stops only the kinds it names (a second round of
	// evidence provided, R-EVD-4), and so does a move that carries a timer
	// through (R-INV-4's issue clock).
	switch {
	case len(d.Stop) > 0 && (created || in.Task.State != t.State) && len(d.Carried) == 0:
		if err := x.tx.StopTimers(ctx, t.ID); err != nil {
			return nil, err
		}
	case len(d.Stop) > 0:
		for _, k := range d.Stop {
			if err := x.tx.StopTimer(ctx, t.ID, k); err != nil {
				return nil, err
			}
		}
	}
	for _, tm := range d.Start {
		tm.Subject = t.ID
		if err := x.setTimer(ctx, tm); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (x *txn) effect(ctx context.Context, eff task.Effect, t *task.Task, o *commerce.Order, in *task.Input) ([]task.Event, error) {
	r := in.Rules
	if o == nil && (eff == task.EffNotifyCreated || eff == task.EffFileComplaint || eff == task.EffOpenRemedy) {
		var err error
		if o, err = x.order(ctx, "order_id", t.OrderID); err != nil {
			return nil, err
		}
	}
	switch eff {
	case task.EffNotifyCreated:
		return nil, x.notifyCreated(ctx, t, o, r)
	case task.EffRemind:
		return nil, x.remind(ctx, t, r, "deadline")
	case task.EffFileComplaint:
		return x.fileComplaintFor(ctx, t, o, r)
	case task.EffJudgment:
		return x.judgmentEffects(ctx, t, in.Cmd.Judgment, r)
	case task.EffOpenRemedy:
		return x.openRemedy(ctx, t, o, r)
	}
	return nil, nil
}

// fileComplaintFor files the complaint the platform raises for the buyer when
// an urge_shipment (R-SLA-3) or urge_invoice (R-INV-4) task times out.
func (x *txn) fileComplaintFor(ctx context.Context, t *task.Task, o *commerce.Order, r *policy.RuleSet) ([]task.Event, error) {
	c := judgment.Complaint{
		ID: x.e.ids.New("cmp"), OrderID: o.ID, ShopID: o.ShopID, TaskID: t.ID, Status: judgment.ComplaintOpen,
		FiledBy: "platform", FiledAt: x.now, PolicyVersion: r.Version,
	}
	rule := "R-SLA-3"
	switch t.Type {
	case task.UrgeInvoice:
		c.Kind, c.Standard, rule = judgment.ComplaintInvoice, r.Complaints.InvoiceStandard, "R-INV-4"
	default:
		c.Kind, c.Standard = judgment.ComplaintShipping, r.Complaints.ShippingStandard
	}
	if err := x.tx.PutComplaint(ctx, &c); err != nil {
		return nil, err
	}
	t.ComplaintIDs = append(t.ComplaintIDs, c.ID)
	t.OpenComplaints++
	o.Complaints++
	if err := x.putOrder(ctx, o); err != nil {
		return nil, err
	}
	data, _ := json.Marshal(map[string]string{"complaint_id": c.ID, "kind": c.Kind, "standard": c.Standard})
	return []task.Event{{
		Stream: t.ID, TaskID: t.ID, OrderID: t.OrderID, ShopID: t.ShopID, At: x.now, Actor: systemActor("platform"),
		Action: "complaint_filed", From: t.State, To: t.State, Reason: "filed on the buyer's behalf", Rule: rule,
		PolicyVersion: r.Version, Visibility: task.Public, Data: data,
	}}, nil
}

type cardPayload struct {
	TaskID   string          `json:"task_id"`
	TaskType task.Type       `json:"task_type"`
	OrderID  string          `json:"order_id"`
	BuyerID  string          `json:"buyer_id"`
	PaidFen  int64           `json:"paid_fen,omitempty"`
	Items    []commerce.Item `json:"items,omitempty"`
	DueAt    any             `json:"due_at,omitempty"`
	Trigger  string          `json:"trigger,omitempty"`
}

// notifyCreated tells the shop of a new task: the collaborative card and SMS
// (R-COL-1), cards to online sub-accounts with permission (R-NTF-2), and
// reminders to subscribed ones (R-NTF-1).
func (x *txn) notifyCreated(ctx context.Context, t *task.Task, o *commerce.Order, r *policy.RuleSet) error {
	shop, err := x.shop(ctx, t.ShopID)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(cardPayload{TaskID: t.ID, TaskType: t.Type, OrderID: o.ID, BuyerID: o.BuyerID, PaidFen: o.PaidFen, Items: o.Items, DueAt: t.DueAt})
	var msgs []notify.Message
	base := notify.Message{TaskID: t.ID, OrderID: o.ID, ShopID: t.ShopID, At: x.now, Status: notify.Pending, PolicyVersion: r.Version, Payload: payload}
	if t.Type == task.Collaborative {
		for _, ch := range r.Collaborative.Channels {
			m := base
			m.Recipient, m.Rule = shop.MainAccount, "R-COL-1"
			switch ch {
			case "card":
				m.Kind, m.Reason = notify.KindCollabCard, "card from the official service account"
			case "sms":
				m.Kind, m.Reason = notify.KindCollabSMS, "SMS from 商家协同官方运营"
			default:
				continue
			}
			msgs = append(msgs, m)
		}
	}
	if slices.Contains(r.Notify.CardTypes, string(t.Type)) {
		accs, err := x.tx.ShopAccounts(ctx, t.ShopID)
		if err != nil {
			return err
		}
		for _, a := range accs {
			if a.Role != commerce.RoleSub || !a.Online || !a.Has(commerce.PermPlatformTask) {
				continue
			}
			m := base
			m.Kind, m.Recipient, m.Rule, m.Reason = notify.KindCard, a.ID, "R-NTF-2", "online sub-account with the platform-task permission"
			msgs = append(msgs, m)
		}
	}
	if len(msgs) > 0 {
		if err := x.tx.AppendOutbox(ctx, msgs); err != nil {
			return err
		}
	}
	if r.Notify.ReminderOnCreate {
		return x.remind(ctx, t, r, "created")
	}
	return nil
}

// remind sends a reminder to each subscribed sub-account with the task
// permission, at most ReminderDailyCap per account per business day
// (R-NTF-1). Reminders over the cap are kept as suppressed, not sent.
func (x *txn) remind(ctx context.Context, t *task.Task, r *policy.RuleSet, trigger string) error {
	accs, err := x.tx.ShopAccounts(ctx, t.ShopID)
	if err != nil {
		return err
	}
	day := r.BusinessDay(x.now)
	payload, _ := json.Marshal(cardPayload{TaskID: t.ID, TaskType: t.Type, OrderID: t.OrderID, BuyerID: t.BuyerID, DueAt: t.DueAt, Trigger: trigger})
	var msgs []notify.Message
	for _, a := range accs {
		if a.Role != commerce.RoleSub || !a.SubscribesReminders || !a.Has(commerce.PermPlatformTask) {
			continue
		}
		n, err := x.tx.IncrCounter(ctx, ReminderCounterKey(a.ID, day), 1)
		if err != nil {
			return err
		}
		m := notify.Message{Kind: notify.KindReminder, Recipient: a.ID, TaskID: t.ID, OrderID: t.OrderID, ShopID: t.ShopID,
			At: x.now, Status: notify.Pending, Rule: "R-NTF-1", Reason: trigger, PolicyVersion: r.Version, Payload: payload}
		if n > int64(r.Notify.ReminderDailyCap) {
			m.Status, m.Reason = notify.Suppressed, trigger+": daily cap reached"
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return nil
	}
	return x.tx.AppendOutbox(ctx, msgs)
}

// ReminderCounterKey is the counter of reminders decided for an account on a business day.
func ReminderCounterKey(accountID, day string) string { return "remind:" + accountID + ":" + day }

// judgmentEffects records what an agent's judgment costs the shop, in the
// judgment's transaction: the judged case and, when the seller is liable,
// the liable dispute in the shop's day counters (R-COL-4, R-LIA-1), and for
// forged evidence 12 general or 48 serious points in the ledger (R-COL-6),
// with a shop+agent event on the order's history.
func (x *txn) judgmentEffects(ctx context.Context, t *task.Task, j *task.Judgment, r *policy.RuleSet) ([]task.Event, error) {
	day := r.BusinessDay(x.now)
	shop, err := x.shop(ctx, t.ShopID)
	if err != nil {
		return nil, err
	}
	if err := x.count(ctx, shop, day, scorecard.MetricJudged, 1); err != nil {
		return nil, err
	}
	if j.Liable {
		if err := x.count(ctx, shop, day, scorecard.MetricLiableDisputes, 1); err != nil {
			return nil, err
		}
		if _, err := x.evaluateLiability(ctx, shop, "judgment"); err != nil {
			return nil, err
		}
	}
	if j.Forged == "" {
		return nil, nil
	}
	n, kind := judgment.ForgedEvidencePoints(j.Forged == task.ForgedSerious, r.Points)
	e := judgment.PointsEntry{ID: x.e.ids.New("pts"), ShopID: t.ShopID, Points: n, Kind: kind, Rule: judgment.RuleForgedPoints,
		TaskID: t.ID, At: x.now, PolicyVersion: r.Version}
	if err := x.tx.AppendPoints(ctx, []judgment.PointsEntry{e}); err != nil {
		return nil, err
	}
	data, _ := json.Marshal(map[string]any{"task_id": t.ID, "points_id": e.ID, "points": n, "kind": kind, "forged": j.Forged})
	// Returned, not appended here, so it follows the judgment's own event.
	return []task.Event{{Stream: t.OrderID, OrderID: t.OrderID, ShopID: t.ShopID, At: x.now,
		Actor: systemActor("platform"), Action: "points_charged", Reason: "forged evidence (" + j.Forged + ")",
		Rule: judgment.RuleForgedPoints, PolicyVersion: r.Version, Visibility: task.ShopAgent, Data: data}}, nil
}
