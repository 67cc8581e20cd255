package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/evidence"
	"aftersale/internal/notify"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

// KindOrderInstruction is the outbox message that tells the order system to
// open a remedy (return-and-refund, refund or exchange, R-EVD-3).
const KindOrderInstruction notify.Kind = "order_instruction"

// OrderSystem is the recipient of order instructions.
const OrderSystem = "order_system"

// evidenceInput completes a command's input with what its evidence needs:
// an id for the item it gives and its attachments, checked to be uploads of
// the same side to the same task not yet attached elsewhere; and, for a mark,
// the task's items. It writes nothing.
func (x *txn) evidenceInput(ctx context.Context, in *task.Input) error {
	c, t := in.Cmd, in.Task
	if t == nil {
		return nil
	}
	if c.Mark != nil {
		items, err := x.tx.EvidenceItems(ctx, t.ID)
		if err != nil {
			return err
		}
		in.Evidence = items
	}
	if c.Evidence == nil {
		return nil
	}
	side := task.SideOf(c.Actor.Role)
	seen := map[string]bool{}
	for i, aid := range c.Evidence.Attachments {
		field := fmt.Sprintf("evidence.attachments[%d]", i)
		if seen[aid] {
			return apperr.Invalid(field, "", "attachment %s is named twice", aid)
		}
		seen[aid] = true
		a, err := x.tx.Attachment(ctx, aid)
		if apperr.CodeOf(err) == apperr.ENOTFOUND || (err == nil && a.TaskID != t.ID) {
			return apperr.NotFound(field, "task %s has no attachment %q: upload it first", t.ID, aid)
		}
		if err != nil {
			return err
		}
		if a.Side != side {
			return apperr.Forbidden("evidence.attachment_side", "R-MSG-2", "attachment %s was uploaded by the %s, not the %s", aid, a.Side, side)
		}
		if a.ItemID != "" {
			return apperr.New(apperr.ECONFLICT, "evidence.attachment_used", field, "", "attachment %s already belongs to evidence item %s", aid, a.ItemID)
		}
		in.Attachments = append(in.Attachments, *a)
	}
	in.EvidenceID = x.e.ids.New("evd")
	return nil
}

// writeEvidence stores a decision's new evidence items, binding their
// attachments, and an item an agent marked.
func (x *txn) writeEvidence(ctx context.Context, d *task.Decision) error {
	for i := range d.Evidence {
		it := &d.Evidence[i]
		if err := x.tx.PutEvidenceItem(ctx, it); err != nil {
			return err
		}
		for j := range it.Attachments {
			if err := x.tx.PutAttachment(ctx, &it.Attachments[j]); err != nil {
				return err
			}
		}
	}
	if d.Marked != nil {
		return x.tx.PutEvidenceItem(ctx, d.Marked)
	}
	return nil
}

// evidenceDefault applies R-EVD-3 right after a change that leaves a task
// intervened with the seller's evidence missing or invalid: the platform
// opens the remedy the buyer asked for, completes the task and judges the
// seller liable, in the same transaction. Where no judgment is possible
// (a worry-free order, R-COL-5) the task stays with the agent.
func (x *txn) evidenceDefault(ctx context.Context, t *task.Task, o *commerce.Order) (*task.Task, error) {
	if t.State != task.PlatformIntervening || t.Evidence == nil || t.Evidence.Default == "" {
		return t, nil
	}
	cmd := task.Command{Action: task.ActOpenRemedy, Actor: systemActor("platform"), TaskID: t.ID,
		Judgment: &task.Judgment{Liable: true}, Reason: "seller evidence: " + t.Evidence.Default}
	if o == nil {
		var err error
		if o, err = x.order(ctx, "order_id", t.OrderID); err != nil {
			return nil, apperr.Internal(err)
		}
	}
	in, d, err := x.decide(ctx, t, o, cmd)
	if apperr.IsApp(err) {
		return t, nil
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return x.persist(ctx, in, &d, o)
}

// openRemedy instructs the order system to open the remedy (R-EVD-3): an
// outbox message and an event on the order's history.
func (x *txn) openRemedy(ctx context.Context, t *task.Task, o *commerce.Order, r *policy.RuleSet) ([]task.Event, error) {
	remedy := t.Outcome
	basis := ""
	if t.Evidence != nil {
		basis = t.Evidence.Default
	}
	payload, _ := json.Marshal(map[string]any{"order_id": o.ID, "task_id": t.ID, "remedy": remedy, "paid_fen": o.PaidFen, "basis": basis})
	if err := x.tx.AppendOutbox(ctx, []notify.Message{{Kind: KindOrderInstruction, Recipient: OrderSystem, TaskID: t.ID,
		OrderID: o.ID, ShopID: o.ShopID, At: x.now, Status: notify.Pending, Rule: "R-EVD-3",
		Reason: "open " + remedy + ": " + basis, PolicyVersion: r.Version, Payload: payload}}); err != nil {
		return nil, err
	}
	data, _ := json.Marshal(map[string]any{"task_id": t.ID, "remedy": remedy, "basis": basis})
	return []task.Event{{Stream: o.ID, OrderID: o.ID, ShopID: o.ShopID, At: x.now, Actor: systemActor("platform"),
		Action: "remedy_opened", Reason: basis, Rule: "R-EVD-3", PolicyVersion: r.Version, Visibility: task.Public, Data: data}}, nil
}

// UploadAttachment stores an evidence file for a task (R-EVD-1, R-EVD-4):
// its type is sniffed from the bytes and must be one the policy accepts, its
// size at most the policy's limit; the bytes are kept by SHA-256. The buyer
// of the task, an account of its shop with the platform-task permission
// (R-ACC-1) or an agent may upload while the task is open. The attachment
// belongs to no item until evidence names it.
func (e *Engine) UploadAttachment(ctx context.Context, actor task.Actor, taskID, name string, data []byte) (*task.Attachment, error) {
	var out *task.Attachment
	err := e.update(ctx, func(x *txn) error {
		t, err := x.tx.Task(ctx, taskID)
		if err != nil {
			return apperr.NotFoundAs(err, "task_id", "no task %q", taskID)
		}
		in, err := x.input(ctx, t, nil, task.Command{Action: task.ActProvideEvidence, Actor: actor, TaskID: t.ID})
		if err != nil {
			return err
		}
		if err := task.Authorize(in, []task.Role{task.RoleBuyer, task.RoleShopMain, task.RoleShopSub, task.RoleAgent}); err != nil {
			return err
		}
		if !task.EvidenceFamily(t.Type) {
			return apperr.Invalid("task_id", "R-EVD-4", "evidence is for refund-family and exchange tasks, not %s", t.Type)
		}
		if !t.State.Open() {
			return apperr.Conflict("task.completed", "R-ST-4", "task %s is completed; no more evidence", t.ID)
		}
		r := in.Rules
		if r.Evidence == nil {
			return apperr.Conflict("evidence.no_policy", "R-EVD-5", "policy %s has no evidence rules", r.Version)
		}
		if len(data) == 0 {
			return apperr.Invalid("file", "", "the file is empty")
		}
		if int64(len(data)) > r.Evidence.AttachmentMaxBytes {
			return apperr.New(apperr.EINVALID, "evidence.too_large", "file", "",
				"the file has %d bytes; the limit is %d (policy %s)", len(data), r.Evidence.AttachmentMaxBytes, r.Version)
		}
		ct := evidence.Sniff(data)
		if !slices.Contains(r.Evidence.AttachmentTypes, ct) {
			return apperr.New(apperr.EINVALID, "evidence.type", "file", "",
				"the file's content is %s; accepted: %s (policy %s)", ct, strings.Join(r.Evidence.AttachmentTypes, ", "), r.Version)
		}
		if len(name) > 255 {
			return apperr.Invalid("name", "", "the file name has %d bytes; at most 255", len(name))
		}
		side := task.SideOf(actor.Role)
		a := &task.Attachment{ID: x.e.ids.New("att"), TaskID: t.ID, Name: name, ContentType: ct, Size: int64(len(data)),
			SHA256: evidence.SHA256(data), Side: side, UploadedBy: actor, At: x.now}
		if err := x.tx.PutAttachmentBytes(ctx, a.SHA256, data); err != nil {
			return err
		}
		if err := x.tx.PutAttachment(ctx, a); err != nil {
			return err
		}
		vis := task.Public
		switch side {
		case task.SideShop:
			vis = task.ShopAgent
		case task.SideAgent:
			vis = task.AgentsOnly
		}
		ev := task.Event{Stream: t.ID, TaskID: t.ID, OrderID: t.OrderID, ShopID: t.ShopID, At: x.now, Actor: actor,
			Action: "attachment_uploaded", From: t.State, To: t.State, Rule: "R-EVD-1", PolicyVersion: r.Version, Visibility: vis}
		ev.Data, _ = json.Marshal(map[string]any{"attachment_id": a.ID, "content_type": ct, "size": a.Size, "sha256": a.SHA256})
		if err := x.tx.AppendEvents(ctx, []task.Event{ev}); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}
