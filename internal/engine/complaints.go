package engine

import (
	"context"
	"encoding/json"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/scorecard"
	"aftersale/internal/task"
)

// This file holds what happens to complaints and judgments after they are
// decided: a buyer withdrawing a complaint after agreeing with the shop
// (撤销投诉), an agent overturning an upheld complaint or a judgment on
// appeal, and the reversals that follow. Nothing is deleted: counters are
// taken back on the day they were added, points are reversed by entries of
// their own, and each change is an event.

// complaintEvent records a complaint's change on its order's history.
func (x *txn) complaintEvent(ctx context.Context, c *judgment.Complaint, actor task.Actor, action, reason string) error {
	o, err := x.loadOrder(ctx, c.OrderID)
	if err != nil {
		return err
	}
	return x.orderEvent(ctx, o, actor, action, complaintRule(c), c.PolicyVersion,
		map[string]any{"complaint_id": c.ID, "kind": c.Kind, "status": c.Status, "task_id": c.TaskID, "reason": reason})
}

func complaintRule(c *judgment.Complaint) string {
	if c.Kind == judgment.ComplaintInvoice {
		return "R-GLD-1"
	}
	return "R-LIA-1"
}

// loadComplaint reads a complaint for a change, ENOTFOUND naming the field.
func (x *txn) loadComplaint(ctx context.Context, id string) (*judgment.Complaint, error) {
	c, err := x.tx.Complaint(ctx, id)
	if err != nil {
		return nil, apperr.NotFoundAs(err, "complaint_id", "no complaint %q", id)
	}
	return c, nil
}

// WithdrawComplaint is the buyer withdrawing a complaint after reaching
// agreement with the shop (撤销投诉). An open complaint is finished as
// withdrawn (a task waiting on it completes, R-ST-3); an upheld one stops
// counting: it leaves the liable complaints (R-LIA-1) and the gold seller
// invoice disputes (R-GLD-1) of the day it was upheld. Points already
// charged stay: R-INV-3 looks at agreement before the upholding.
func (e *Engine) WithdrawComplaint(ctx context.Context, buyer task.Actor, complaintID, reason string) (*judgment.Complaint, error) {
	var c *judgment.Complaint
	err := e.update(ctx, func(x *txn) error {
		if buyer.Role != task.RoleBuyer {
			return apperr.Forbidden("role", "R-GLD-1", "only the buyer withdraws a complaint, after agreeing with the shop")
		}
		var err error
		if c, err = x.loadComplaint(ctx, complaintID); err != nil {
			return err
		}
		o, err := x.loadOrder(ctx, c.OrderID)
		if err != nil {
			return err
		}
		if o.BuyerID != buyer.ID {
			return apperr.Forbidden("not_your_order", "", "complaint %s is not about an order of buyer %s", c.ID, buyer.ID)
		}
		if c.Status != judgment.ComplaintOpen && c.Status != judgment.ComplaintUpheld {
			return apperr.Conflict("complaint.finished", "R-GLD-1", "complaint %s is %s; only an open or upheld complaint can be withdrawn", c.ID, c.Status)
		}
		wasOpen := c.Status == judgment.ComplaintOpen
		before := *c
		now := x.now
		c.Status = judgment.ComplaintWithdrawn
		if wasOpen {
			c.FinishedAt = &now
		}
		c.WithdrawnAt = &now
		if err := x.tx.PutComplaint(ctx, c); err != nil {
			return err
		}
		if err := x.complaintEvent(ctx, c, buyer, "complaint_withdrawn", reason); err != nil {
			return err
		}
		if err := x.complaintChanged(ctx, &before, *c); err != nil {
			return err
		}
		if wasOpen {
			return x.complaintFinishedTask(ctx, c)
		}
		return nil
	})
	return c, err
}

// OverturnComplaint is an agent overturning an upheld complaint (on the
// shop's appeal): it becomes dismissed, leaves the counters of the day it
// was upheld, and the compensation and points it brought (R-SLA-3, R-INV-3)
// are reversed.
func (e *Engine) OverturnComplaint(ctx context.Context, agent task.Actor, complaintID, reason string) (*judgment.Complaint, error) {
	var c *judgment.Complaint
	err := e.update(ctx, func(x *txn) error {
		if agent.Role != task.RoleAgent {
			return apperr.Forbidden("role", "", "only an agent overturns a complaint")
		}
		if reason == "" {
			return apperr.Invalid("reason", "", "say why the complaint is overturned")
		}
		var err error
		if c, err = x.loadComplaint(ctx, complaintID); err != nil {
			return err
		}
		if c.Status != judgment.ComplaintUpheld {
			return apperr.Conflict("complaint.not_upheld", "", "complaint %s is %s; only an upheld complaint can be overturned", c.ID, c.Status)
		}
		before := *c
		now := x.now
		c.Status, c.OverturnedAt = judgment.ComplaintDismissed, &now
		if err := x.tx.PutComplaint(ctx, c); err != nil {
			return err
		}
		if err := x.complaintEvent(ctx, c, agent, "complaint_overturned", reason); err != nil {
			return err
		}
		if err := x.complaintChanged(ctx, &before, *c); err != nil {
			return err
		}
		if err := x.reverseCompensation(ctx, c, reason); err != nil {
			return err
		}
		return x.reversePoints(ctx, c.ShopID, c.OrderID, func(p judgment.PointsEntry) bool { return p.ComplaintID == c.ID }, reason)
	})
	return c, err
}

// shippingUpheld carries out what an upheld shipping complaint brings
// (R-SLA-3, "若投诉成立，会产生赔付和违规行为扣分"), by the rules in force at
// the upholding: compensation to the buyer of the policy's rate of the
// order's amount actually paid, bounded, paid from the shop's deposit first
// when the policy says so; and the policy's points to the shop. Each is a
// ledger entry naming the complaint, with an order-history event: the
// compensation public (the buyer is paid), the points for the shop and
// agents. An order with nothing actually paid (fully refunded) gets no
// compensation; a policy with no points charges none.
func (x *txn) shippingUpheld(ctx context.Context, c *judgment.Complaint) error {
	o, err := x.loadOrder(ctx, c.OrderID)
	if err != nil {
		return err
	}
	shop, r, err := x.shopRules(ctx, o.ShopID)
	if err != nil {
		return err
	}
	up := r.Complaints.ShippingUpheld
	paid := o.ActuallyPaidFen()
	if amount := judgment.RateCompensation(paid, up.Compensation); amount > 0 {
		e, err := x.pay(ctx, judgment.CompensationEntry{ShopID: shop.ID, OrderID: o.ID, BuyerID: o.BuyerID,
			Rule: judgment.RuleShippingUpheld, Kind: judgment.KindShippingComplaint, ComplaintID: c.ID, TaskID: c.TaskID,
			AmountFen: amount, Reason: "upheld shipping complaint " + c.ID + " (" + c.Standard + ")", PolicyVersion: r.Version}, up.DepositFirst)
		if err != nil {
			return err
		}
		if err := x.orderEvent(ctx, o, systemActor("platform"), "complaint_compensated", judgment.RuleShippingUpheld, r.Version,
			map[string]any{"complaint_id": c.ID, "task_id": c.TaskID, "entry_id": e.ID, "amount_fen": e.AmountFen,
				"from_deposit_fen": e.FromDepositFen, "by_shop_fen": e.ByShopFen, "actually_paid_fen": paid, "standard": c.Standard}); err != nil {
			return err
		}
	}
	if up.Points <= 0 {
		return nil
	}
	p := judgment.PointsEntry{ID: x.e.ids.New("pts"), ShopID: shop.ID, Points: up.Points, Kind: up.PointsKind,
		Rule: judgment.RuleShippingPoints, TaskID: c.TaskID, ComplaintID: c.ID, At: x.now, PolicyVersion: r.Version}
	if err := x.tx.AppendPoints(ctx, []judgment.PointsEntry{p}); err != nil {
		return err
	}
	ev := task.Event{Stream: o.ID, OrderID: o.ID, ShopID: o.ShopID, At: x.now, Actor: systemActor("platform"),
		Action: "points_charged", Reason: "upheld shipping complaint", Rule: judgment.RuleShippingPoints,
		PolicyVersion: r.Version, Visibility: task.ShopAgent}
	ev.Data, _ = json.Marshal(map[string]any{"complaint_id": c.ID, "task_id": c.TaskID, "points_id": p.ID, "points": p.Points, "kind": p.Kind})
	return x.tx.AppendEvents(ctx, []task.Event{ev})
}

// reverseCompensation appends a reversal for each standing compensation
// entry an overturned complaint wrote (R-SLA-3): the buyer's compensation
// is taken back and what the deposit paid goes back to it, each with an
// order-history event.
func (x *txn) reverseCompensation(ctx context.Context, c *judgment.Complaint, reason string) error {
	all, err := x.tx.Compensation(ctx, c.ShopID)
	if err != nil {
		return err
	}
	reversed := map[string]bool{}
	for _, e := range all {
		if e.ReversalOf != "" {
			reversed[e.ReversalOf] = true
		}
	}
	var o *commerce.Order
	for _, e := range all {
		if e.ComplaintID != c.ID || e.ReversalOf != "" || reversed[e.ID] || e.AmountFen <= 0 {
			continue
		}
		if o == nil {
			if o, err = x.loadOrder(ctx, c.OrderID); err != nil {
				return err
			}
		}
		_, r, err := x.shopRules(ctx, c.ShopID)
		if err != nil {
			return err
		}
		rev := e.Reversal(x.e.ids.New("pay"), x.now, reason, r.Version)
		if rev.FromDepositFen < 0 {
			if _, err := x.tx.AddDeposit(ctx, c.ShopID, -rev.FromDepositFen); err != nil {
				return err
			}
		}
		if err := x.tx.AppendCompensation(ctx, []judgment.CompensationEntry{rev}); err != nil {
			return err
		}
		if err := x.orderEvent(ctx, o, systemActor("platform"), "compensation_reversed", e.Rule, r.Version,
			map[string]any{"complaint_id": c.ID, "entry_id": rev.ID, "reverses": e.ID, "amount_fen": rev.AmountFen,
				"from_deposit_fen": rev.FromDepositFen, "reason": reason}); err != nil {
			return err
		}
	}
	return nil
}

// complaintToTask gives a complaint the buyer files to the order's open
// task of its kind — urge_shipment for a shipping complaint, urge_invoice
// for an invoice one — if there is one (R-ST-3): the complaint names the
// task, and the task counts it open and records it on its history, so that
// an urge_shipment task does not complete while it is open. A complaint
// filed when no such task is open (before one is created, or after it
// completed) belongs to none. Call it before the complaint is stored.
func (x *txn) complaintToTask(ctx context.Context, c *judgment.Complaint, o *commerce.Order, buyer task.Actor) error {
	typ := task.UrgeShipment
	if c.Kind == judgment.ComplaintInvoice {
		typ = task.UrgeInvoice
	}
	t, err := x.tx.OpenTask(ctx, o.ID, typ)
	if err != nil || t == nil {
		return err
	}
	c.TaskID = t.ID
	_, err = x.act(ctx, t, o, task.Command{Action: task.ActBuyerComplaint, Actor: buyer, TaskID: t.ID,
		Details: map[string]string{"complaint_id": c.ID, "kind": c.Kind}, Reason: "the buyer's complaint " + c.ID})
	return err
}

// complaintFinishedTask tells the complaint's task, if it is still open,
// that the complaint is finished (R-ST-3).
func (x *txn) complaintFinishedTask(ctx context.Context, c *judgment.Complaint) error {
	if c.TaskID == "" {
		return nil
	}
	t, err := x.tx.Task(ctx, c.TaskID)
	if err != nil {
		return err
	}
	if !t.State.Open() {
		return nil
	}
	o, err := x.order(ctx, "order_id", t.OrderID)
	if err != nil {
		return err
	}
	_, err = x.act(ctx, t, o, task.Command{Action: task.ActComplaintFinished, Actor: systemActor("complaint"), TaskID: t.ID,
		Reason: "complaint " + c.ID + " " + c.Status})
	return err
}

// reversePoints appends a reversal for each standing charge of the shop
// that match selects, with an order-history event per reversal.
func (x *txn) reversePoints(ctx context.Context, shopID, orderID string, match func(judgment.PointsEntry) bool, reason string) error {
	all, err := x.tx.Points(ctx, shopID, time.Time{})
	if err != nil {
		return err
	}
	reversed := map[string]bool{}
	for _, p := range all {
		if p.ReversalOf != "" {
			reversed[p.ReversalOf] = true
		}
	}
	_, r, err := x.shopRules(ctx, shopID)
	if err != nil {
		return err
	}
	var rev []judgment.PointsEntry
	var evs []task.Event
	for _, p := range all {
		if p.ReversalOf != "" || reversed[p.ID] || p.Points <= 0 || !match(p) {
			continue
		}
		e := p.Reversal(x.e.ids.New("pts"), x.now, r.Version)
		rev = append(rev, e)
		data, _ := json.Marshal(map[string]any{"points_id": e.ID, "reversal_of": p.ID, "points": e.Points, "kind": e.Kind,
			"task_id": p.TaskID, "complaint_id": p.ComplaintID})
		evs = append(evs, task.Event{Stream: orderID, OrderID: orderID, ShopID: shopID, At: x.now, Actor: systemActor("platform"),
			Action: "points_reversed", Reason: reason, Rule: p.Rule, PolicyVersion: r.Version, Visibility: task.ShopAgent, Data: data})
	}
	if len(rev) == 0 {
		return nil
	}
	if err := x.tx.AppendPoints(ctx, rev); err != nil {
		return err
	}
	return x.tx.AppendEvents(ctx, evs)
}

// OverturnJudgment is an agent overturning a judgment of a task on appeal:
// the judged case and, if the seller was found liable, the liable dispute
// leave the counters of the day it was judged (R-COL-4, R-LIA-1), forged
// evidence points are reversed (R-COL-6), the takeover is re-evaluated, and
// the task's history records it. The task stays completed; a judgment is
// overturned once.
func (e *Engine) OverturnJudgment(ctx context.Context, agent task.Actor, taskID, reason string) (*task.Task, error) {
	var t *task.Task
	err := e.update(ctx, func(x *txn) error {
		if agent.Role != task.RoleAgent {
			return apperr.Forbidden("role", "", "only an agent overturns a judgment")
		}
		if reason == "" {
			return apperr.Invalid("reason", "", "say why the judgment is overturned")
		}
		var err error
		if t, err = x.tx.Task(ctx, taskID); err != nil {
			return apperr.NotFoundAs(err, "task_id", "no task %q", taskID)
		}
		evs, err := x.tx.Events(ctx, t.ID)
		if err != nil {
			return err
		}
		var judged *task.Event
		for i := range evs {
			switch evs[i].Action {
			case string(task.ActJudge):
				judged = &evs[i]
			case "judgment_overturned":
				return apperr.Conflict("judgment.overturned", "", "the judgment of task %s was overturned already", t.ID)
			}
		}
		if judged == nil {
			return apperr.Conflict("judgment.none", "", "task %s has no judgment to overturn", t.ID)
		}
		var jd struct {
			Judgment task.Judgment `json:"judgment"`
		}
		if err := json.Unmarshal(judged.Data, &jd); err != nil {
			return apperr.Internal(err)
		}
		shop, r, err := x.shopRules(ctx, t.ShopID)
		if err != nil {
			return err
		}
		day := scorecard.Day(judged.At, r.Location())
		if err := x.count(ctx, shop, day, scorecard.MetricJudged, -1); err != nil {
			return err
		}
		if jd.Judgment.Liable {
			if err := x.count(ctx, shop, day, scorecard.MetricLiableDisputes, -1); err != nil {
				return err
			}
		}
		data, _ := json.Marshal(map[string]any{"judged_at": judged.At, "judgment": jd.Judgment, "text": reason})
		ev := task.Event{Stream: t.ID, TaskID: t.ID, OrderID: t.OrderID, ShopID: t.ShopID, At: x.now, Actor: agent,
			Action: "judgment_overturned", From: t.State, To: t.State, Reason: reason, Rule: "R-LIA-1",
			PolicyVersion: r.Version, Visibility: task.Public, Data: data}
		if err := x.tx.AppendEvents(ctx, []task.Event{ev}); err != nil {
			return err
		}
		if err := x.reversePoints(ctx, t.ShopID, t.OrderID, func(p judgment.PointsEntry) bool {
			return p.TaskID == t.ID && p.Rule == judgment.RuleForgedPoints
		}, reason); err != nil {
			return err
		}
		if jd.Judgment.Liable {
			_, err = x.evaluateLiability(ctx, shop, "judgment")
		}
		return err
	})
	return t, err
}
