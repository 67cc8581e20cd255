package engine

import (
	"context"
	"encoding/json"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/policy"
	"aftersale/internal/scorecard"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

func (x *txn) order(ctx context.Context, field, id string) (*commerce.Order, error) {
	o, err := x.loadOrder(ctx, id)
	if err != nil {
		return nil, apperr.NotFoundAs(err, field, "no order %q", id)
	}
	return o, nil
}

func (x *txn) orderEvent(ctx context.Context, o *commerce.Order, actor task.Actor, action, rule, version string, data any) error {
	ev := task.Event{Stream: o.ID, OrderID: o.ID, ShopID: o.ShopID, At: x.now, Actor: actor, Action: action,
		Rule: rule, PolicyVersion: version, Visibility: task.Public}
	if data != nil {
		ev.Data, _ = json.Marshal(data)
	}
	return x.tx.AppendEvents(ctx, []task.Event{ev})
}

// buyerOrder loads an order a buyer acts on, checks the buyer is the
// order's, and resolves the shop and the rules in force now.
func (x *txn) buyerOrder(ctx context.Context, buyer task.Actor, orderID, rule, what string) (*commerce.Order, *commerce.Shop, *policy.RuleSet, error) {
	o, err := x.order(ctx, "order_id", orderID)
	if err != nil {
		return nil, nil, nil, err
	}
	if buyer.Role != task.RoleBuyer || buyer.ID != o.BuyerID {
		return nil, nil, nil, apperr.Forbidden("not_your_order", rule, "only the order's buyer may %s it", what)
	}
	shop, r, err := x.shopRules(ctx, o.ShopID)
	if err != nil {
		return nil, nil, nil, err
	}
	return o, shop, r, nil
}

// UrgeResult is what an urge did.
type UrgeResult struct {
	Outcome string     `json:"outcome"` // "marked" (R-URG-3) or "task_created" (R-URG-1)
	Task    *task.Task `json:"task,omitempty"`
}

// Urge handles the buyer pressing "urge shipment" (R-URG-1..3): within the
// shipping deadline it marks the order as urged; after it, unless an
// exemption of R-URG-2 applies, it creates an urge_shipment task.
func (e *Engine) Urge(ctx context.Context, buyer task.Actor, orderID string) (UrgeResult, error) {
	var res UrgeResult
	err := e.update(ctx, func(x *txn) error {
		o, shop, r, err := x.buyerOrder(ctx, buyer, orderID, "R-URG-1", "urge shipment on")
		if err != nil {
			return err
		}
		out, err := task.EvaluateUrge(o, shop, r, x.now)
		if err != nil {
			return err
		}
		if out == task.UrgeMark {
			now := x.now
			o.UrgedAt = &now
			o.UrgeCount++
			if err := x.putOrder(ctx, o); err != nil {
				return err
			}
			res.Outcome = "marked"
			return x.orderEvent(ctx, o, buyer, "urged", "R-URG-3", r.Version, map[string]any{"ship_by": o.ShipBy, "urge_count": o.UrgeCount})
		}
		t, err := x.create(ctx, o, task.Command{Action: task.ActCreate, Actor: buyer, OrderID: o.ID, Type: task.UrgeShipment})
		if err != nil {
			return err
		}
		res = UrgeResult{Outcome: "task_created", Task: t}
		return nil
	})
	return res, err
}

// KeepContacting handles "继续联系卖家" on an urged order within its deadline:
// the seller gets a chat message card whose response time counts in the
// shop's average manual response time (R-URG-4).
func (e *Engine) KeepContacting(ctx context.Context, buyer task.Actor, orderID string) error {
	return e.update(ctx, func(x *txn) error {
		o, shop, r, err := x.buyerOrder(ctx, buyer, orderID, "R-URG-4", "contact the seller about")
		if err != nil {
			return err
		}
		if o.UrgedAt == nil || o.Shipped() {
			return apperr.Conflict("order.not_urged", "R-URG-4", "\"keep contacting the seller\" follows an urge within the shipping deadline; order %s has none pending", o.ID)
		}
		if o.ChatCardAt == nil {
			now := x.now
			o.ChatCardAt = &now
			if err := x.putOrder(ctx, o); err != nil {
				return err
			}
		}
		payload, _ := json.Marshal(map[string]any{"order_id": o.ID, "buyer_id": o.BuyerID, "urged_at": o.UrgedAt})
		if err := x.tx.AppendOutbox(ctx, []notify.Message{{Kind: notify.KindChatCard, Recipient: shop.MainAccount, OrderID: o.ID,
			ShopID: o.ShopID, At: x.now, Status: notify.Pending, Rule: "R-URG-4", Reason: "buyer pressed keep contacting the seller",
			PolicyVersion: r.Version, Payload: payload}}); err != nil {
			return err
		}
		return x.orderEvent(ctx, o, buyer, "chat_card_sent", "R-URG-4", r.Version, nil)
	})
}

// CreateTask opens a task of cmd.Type on cmd.OrderID: a buyer's stall report
// (R-LOG-2), invoice chase (R-INV-4), or after-sales request, or a
// collaborative task opened by the platform (R-COL-1).
func (e *Engine) CreateTask(ctx context.Context, cmd task.Command) (*task.Task, error) {
	cmd.Action = task.ActCreate
	if err := checkCommandText(cmd); err != nil {
		return nil, err
	}
	var out *task.Task
	err := e.update(ctx, func(x *txn) error {
		o, err := x.order(ctx, "order_id", cmd.OrderID)
		if err != nil {
			return err
		}
		out, err = x.create(ctx, o, cmd)
		return err
	})
	return out, err
}

// Act runs an action on an existing task.
func (e *Engine) Act(ctx context.Context, cmd task.Command) (*task.Task, error) {
	if cmd.Action == task.ActCreate {
		return e.CreateTask(ctx, cmd)
	}
	if err := checkCommandText(cmd); err != nil {
		return nil, err
	}
	var out *task.Task
	err := e.update(ctx, func(x *txn) error {
		t, err := x.tx.Task(ctx, cmd.TaskID)
		if err != nil {
			return apperr.NotFoundAs(err, "task_id", "no task %q", cmd.TaskID)
		}
		if err := x.tenantFirst(ctx, cmd.Actor, t.ShopID, t.BuyerID); err != nil {
			return err
		}
		o, err := x.order(ctx, "order_id", t.OrderID)
		if err != nil {
			return err
		}
		out, err = x.act(ctx, t, o, cmd)
		return err
	})
	return out, err
}

// maxDetails bounds how many request details a command may carry.
const maxDetails = 32

// checkCommandText bounds what a person writes into a command — its text,
// its reply's text and the request details — as facts' texts are bounded
// (commerce.MaxText characters of valid UTF-8; a detail's name
// commerce.MaxShortText), before anything is read: the same refusal for
// every task, yours or not, so it tells nothing.
func checkCommandText(cmd task.Command) error {
	if err := commerce.CheckText("text", cmd.Text, commerce.MaxText); err != nil {
		return err
	}
	if cmd.Reply != nil {
		if err := commerce.CheckText("reply.text", cmd.Reply.Text, commerce.MaxText); err != nil {
			return err
		}
	}
	if len(cmd.Details) > maxDetails {
		return apperr.Invalid("details", "", "details has %d entries; the limit is %d", len(cmd.Details), maxDetails)
	}
	for k, v := range cmd.Details {
		if err := commerce.CheckText("details", k, commerce.MaxShortText); err != nil {
			return err
		}
		if err := commerce.CheckText("details."+k, v, commerce.MaxText); err != nil {
			return err
		}
	}
	return nil
}

// FileComplaint records a buyer's complaint about an order. It matters to
// R-URG-2 (4): while that exclusion is in force, only orders with a complaint
// get an urge task. Filed while the order's task of its kind is open, it
// belongs to that task (R-ST-3, complaintToTask). Judging complaints is the
// judgment package's work.
func (e *Engine) FileComplaint(ctx context.Context, buyer task.Actor, orderID, kind string) (*judgment.Complaint, error) {
	var c *judgment.Complaint
	err := e.update(ctx, func(x *txn) error {
		o, _, r, err := x.buyerOrder(ctx, buyer, orderID, "", "complain about")
		if err != nil {
			return err
		}
		if kind != judgment.ComplaintShipping && kind != judgment.ComplaintInvoice {
			return apperr.Invalid("kind", "", "complaint kind must be shipping or invoice, not %q", kind)
		}
		c = &judgment.Complaint{ID: x.e.ids.New("cmp"), Kind: kind, OrderID: o.ID, ShopID: o.ShopID, Status: judgment.ComplaintOpen,
			FiledBy: buyer.ID, FiledAt: x.now, PolicyVersion: r.Version}
		if kind == judgment.ComplaintShipping {
			c.Standard = r.Complaints.ShippingStandard
		} else {
			c.Standard = r.Complaints.InvoiceStandard
		}
		if err := x.complaintToTask(ctx, c, o, buyer); err != nil { // R-ST-3
			return err
		}
		if err := x.tx.PutComplaint(ctx, c); err != nil {
			return err
		}
		o.Complaints++
		if err := x.putOrder(ctx, o); err != nil {
			return err
		}
		return x.orderEvent(ctx, o, buyer, "complaint_filed", "", r.Version, map[string]string{"complaint_id": c.ID, "kind": kind})
	})
	return c, err
}

// FinishComplaint gives a complaint its final status (upheld, withdrawn,
// dismissed). A task waiting on it completes (R-ST-3).
func (e *Engine) FinishComplaint(ctx context.Context, agent task.Actor, complaintID, status string) (*judgment.Complaint, error) {
	var c *judgment.Complaint
	err := e.update(ctx, func(x *txn) error {
		if agent.Role != task.RoleAgent {
			return apperr.Forbidden("role", "", "only an agent finishes complaints")
		}
		switch status {
		case judgment.ComplaintUpheld, judgment.ComplaintWithdrawn, judgment.ComplaintDismissed:
		default:
			return apperr.Invalid("status", "", "status must be upheld, withdrawn or dismissed, not %q", status)
		}
		var err error
		if c, err = x.tx.Complaint(ctx, complaintID); err != nil {
			return apperr.NotFoundAs(err, "complaint_id", "no complaint %q", complaintID)
		}
		if c.Finished() {
			return apperr.Conflict("complaint.finished", "", "complaint %s is already %s", c.ID, c.Status)
		}
		before := *c
		now := x.now
		c.Status, c.FinishedAt = status, &now
		if err := x.tx.PutComplaint(ctx, c); err != nil {
			return err
		}
		if err := x.complaintEvent(ctx, c, agent, "complaint_"+status, ""); err != nil {
			return err
		}
		if err := x.complaintChanged(ctx, &before, *c); err != nil {
			return err
		}
		if status == judgment.ComplaintUpheld && c.Kind == judgment.ComplaintInvoice {
			if err := x.chargeInvoicePoints(ctx, c); err != nil {
				return err
			}
		}
		if status == judgment.ComplaintUpheld && c.Kind == judgment.ComplaintShipping {
			if err := x.shippingUpheld(ctx, c); err != nil { // R-SLA-3
				return err
			}
		}
		return x.complaintFinishedTask(ctx, c)
	})
	return c, err
}

// Invoice timer kinds (subject: the order id).
const (
	TimerInvoiceFirst  = "invoice_first"
	TimerInvoiceSecond = "invoice_second"
)

// invoiceRequested computes the invoice deadlines from the rules in force at
// the request time A (R-INV-2) and sets their timers.
func (x *txn) invoiceRequested(ctx context.Context, o *commerce.Order, shop *commerce.Shop, f *commerce.Fact) error {
	r, err := x.rules(shop.Platform, f.At)
	if err != nil {
		return err
	}
	inv := o.Invoice
	inv.FirstDeadline = f.At.Add(r.Invoice.FirstDeadline.D())
	inv.SecondTimeoutAt = inv.FirstDeadline.Add(r.Invoice.SecondTimeoutAfter.D())
	inv.PolicyVersion = r.Version
	for _, tm := range []task.Timer{
		{Subject: o.ID, Kind: TimerInvoiceFirst, DueAt: inv.FirstDeadline, SetAt: x.now, PolicyVersion: r.Version},
		{Subject: o.ID, Kind: TimerInvoiceSecond, DueAt: inv.SecondTimeoutAt, SetAt: x.now, PolicyVersion: r.Version},
	} {
		if err := x.setTimer(ctx, tm); err != nil {
			return err
		}
	}
	return x.orderEvent(ctx, o, systemActor("fact"), "invoice_requested", "R-INV-2", r.Version,
		map[string]any{"requested_at": inv.RequestedAt, "first_deadline": inv.FirstDeadline, "second_timeout_at": inv.SecondTimeoutAt})
}

func (x *txn) invoiceIssued(ctx context.Context, o *commerce.Order, shop *commerce.Shop, f *commerce.Fact) error {
	r, err := x.rules(shop.Platform, x.now)
	if err != nil {
		return err
	}
	for _, k := range []string{TimerInvoiceFirst, TimerInvoiceSecond} {
		if err := x.tx.StopTimer(ctx, o.ID, k); err != nil {
			return err
		}
	}
	// The flags follow the issue time, with the deadline instant counted as
	// missed like the timers do: a fact that arrives after a timer fired but
	// says the invoice was issued before the deadline clears the flag (R-INV-2).
	inv := o.Invoice
	inv.Late = !inv.IssuedAt.Before(inv.FirstDeadline)
	inv.SecondTimeout = !inv.IssuedAt.Before(inv.SecondTimeoutAt)
	return x.orderEvent(ctx, o, systemActor("fact"), "invoice_issued", "R-INV-5", r.Version,
		map[string]any{"issued_at": inv.IssuedAt, "late": inv.Late, "after_second_timeout": inv.SecondTimeout})
}

// invoiceDeadline handles an invoice timer: late after the first deadline,
// second timeout (二次超时) after the second (R-INV-2).
func (x *txn) invoiceDeadline(ctx context.Context, tm task.Timer) error {
	o, err := x.loadOrder(ctx, tm.Subject)
	if err != nil {
		return err
	}
	if o.Invoice == nil || o.Invoice.IssuedAt != nil {
		return nil
	}
	action := "invoice_late"
	if tm.Kind == TimerInvoiceFirst {
		o.Invoice.Late = true
	} else {
		o.Invoice.SecondTimeout, action = true, "invoice_second_timeout"
	}
	if err := x.putOrder(ctx, o); err != nil {
		return err
	}
	return x.orderEvent(ctx, o, systemActor("timer"), action, "R-INV-2", tm.PolicyVersion,
		map[string]any{"due_at": tm.DueAt, "requested_at": o.Invoice.RequestedAt})
}

// recordResponse adds the seller's response time to a chat card to the
// shop's per-day counters (R-URG-4).
func (x *txn) recordResponse(ctx context.Context, o *commerce.Order, shop *commerce.Shop, f *commerce.Fact, ms int64) error {
	r, err := x.rules(shop.Platform, f.At)
	if err != nil {
		return err
	}
	day := r.BusinessDay(f.At)
	if err := x.count(ctx, shop, day, scorecard.MetricResponseMS, ms); err != nil {
		return err
	}
	if err := x.count(ctx, shop, day, scorecard.MetricResponses, 1); err != nil {
		return err
	}
	return x.orderEvent(ctx, o, task.Actor{Role: task.RoleShopMain, ID: shop.MainAccount}, "chat_replied", "R-URG-4", r.Version,
		map[string]any{"response_ms": ms, "response": time.Duration(ms * int64(time.Millisecond)).String()})
}

// chargeInvoicePoints charges the shop for an upheld invoice complaint when
// R-INV-3 makes it a case: second timeout reached, an urge_invoice task
// raised, the invoice neither issued nor agreed before the upholding. It
// charges the policy's points per case (0 before 2022-12-16, and only where
// the platform's policy says so), capped so no 30 days hold more than 6. The
// charge, or the cap that stopped it, is recorded on the order's history for
// the shop and agents.
func (x *txn) chargeInvoicePoints(ctx context.Context, c *judgment.Complaint) error {
	o, err := x.loadOrder(ctx, c.OrderID)
	if err != nil {
		return err
	}
	if o.Invoice == nil {
		return nil
	}
	raised := c.TaskID != ""
	if !raised {
		ts, err := x.tx.Tasks(ctx, store.TaskFilter{OrderID: o.ID, Type: task.UrgeInvoice})
		if err != nil {
			return err
		}
		raised = len(ts) > 0
	}
	if !judgment.InvoicePointsDue(judgment.InvoiceCase{SecondTimeoutAt: o.Invoice.SecondTimeoutAt, TaskRaised: raised,
		IssuedAt: o.Invoice.IssuedAt, UpheldAt: x.now}) {
		return nil
	}
	shop, r, err := x.shopRules(ctx, o.ShopID)
	if err != nil {
		return err
	}
	if r.Invoice.PointsPerCase <= 0 {
		return nil
	}
	w := r.Invoice.PointsWindow.D()
	existing, err := x.tx.Points(ctx, shop.ID, x.now.Add(-w))
	if err != nil {
		return err
	}
	n := judgment.InvoicePointsToCharge(existing, x.now, r.Invoice)
	// An order-history event: the task is named in its data, not as TaskID
	// (events with a TaskID are the task's own transitions).
	ev := task.Event{Stream: o.ID, OrderID: o.ID, ShopID: o.ShopID, At: x.now, Actor: systemActor("platform"),
		Rule: judgment.RuleInvoicePoints, PolicyVersion: r.Version, Visibility: task.ShopAgent}
	if n == 0 {
		ev.Action, ev.Reason = "points_capped", "the shop already has the most invoice points allowed in the window"
		ev.Data, _ = json.Marshal(map[string]any{"complaint_id": c.ID, "task_id": c.TaskID, "cap": r.Invoice.PointsCap, "window": r.Invoice.PointsWindow.String()})
		return x.tx.AppendEvents(ctx, []task.Event{ev})
	}
	e := judgment.PointsEntry{ID: x.e.ids.New("pts"), ShopID: shop.ID, Points: n, Kind: judgment.PointsGeneral,
		Rule: judgment.RuleInvoicePoints, TaskID: c.TaskID, ComplaintID: c.ID, At: x.now, PolicyVersion: r.Version}
	if err := x.tx.AppendPoints(ctx, []judgment.PointsEntry{e}); err != nil {
		return err
	}
	ev.Action, ev.Reason = "points_charged", "upheld invoice complaint after the second timeout"
	ev.Data, _ = json.Marshal(map[string]any{"complaint_id": c.ID, "task_id": c.TaskID, "points_id": e.ID, "points": n, "kind": e.Kind})
	return x.tx.AppendEvents(ctx, []task.Event{ev})
}
