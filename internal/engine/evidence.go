package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

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
		daily, err := x.uploadQuota(ctx, t, actor, side, int64(len(data)), r)
		if err != nil {
			return err
		}
		a := &task.Attachment{ID: x.e.ids.New("att"), TaskID: t.ID, Name: name, ContentType: ct, Size: int64(len(data)),
			SHA256: evidence.SHA256(data), Side: side, UploadedBy: actor, At: x.now}
		if err := x.tx.PutAttachmentBytes(ctx, a.SHA256, data); err != nil {
			return err
		}
		if err := x.tx.PutAttachment(ctx, a); err != nil {
			return err
		}
		ev := task.Event{Stream: t.ID, TaskID: t.ID, OrderID: t.OrderID, ShopID: t.ShopID, At: x.now, Actor: actor,
			Action: "attachment_uploaded", From: t.State, To: t.State, Rule: "R-EVD-1", PolicyVersion: r.Version, Visibility: uploadVisibility(side)}
		ev.Data, _ = json.Marshal(map[string]any{"attachment_id": a.ID, "content_type": ct, "size": a.Size, "sha256": a.SHA256})
		if err := x.tx.AppendEvents(ctx, []task.Event{ev}); err != nil {
			return err
		}
		if daily != "" {
			if _, err := x.tx.IncrCounter(ctx, daily, a.Size); err != nil {
				return err
			}
		}
		out = a
		return nil
	})
	return out, err
}

// UploadCounterKey is the counter of the bytes a person (role:id) uploaded
// on a business day, over all tasks (the policy's
// evidence.person_daily_max_bytes).
func UploadCounterKey(a task.Actor, day string) string {
	return "upload_bytes:" + string(a.Role) + ":" + a.ID + ":" + day
}

// uploadQuota checks an upload of size bytes by actor against the policy's
// quotas (issue 12): the files and bytes the actor's side holds on the task,
// attached to evidence or not yet, and, for buyers and shop accounts, the
// bytes the actor uploaded this business day over all tasks. It returns the
// day's counter to add the upload to ("" for agents, or with no daily
// quota).
func (x *txn) uploadQuota(ctx context.Context, t *task.Task, actor task.Actor, side task.Side, size int64, r *policy.RuleSet) (string, error) {
	ev := r.Evidence
	if ev.TaskMaxFiles > 0 || ev.TaskMaxBytes > 0 {
		atts, err := x.tx.Attachments(ctx, t.ID)
		if err != nil {
			return "", err
		}
		var files int
		var held int64
		for _, a := range atts {
			if a.Side == side {
				files++
				held += a.Size
			}
		}
		if ev.TaskMaxFiles > 0 && files+1 > ev.TaskMaxFiles {
			return "", apperr.New(apperr.EINVALID, "evidence.quota_task_files", "file", "",
				"the %s side already holds %d files on task %s; the limit is evidence.task_max_files = %d (policy %s)",
				side, files, t.ID, ev.TaskMaxFiles, r.Version)
		}
		if ev.TaskMaxBytes > 0 && held+size > ev.TaskMaxBytes {
			return "", apperr.New(apperr.EINVALID, "evidence.quota_task_bytes", "file", "",
				"the %s side holds %d bytes on task %s and the file has %d; the limit is evidence.task_max_bytes = %d (policy %s)",
				side, held, t.ID, size, ev.TaskMaxBytes, r.Version)
		}
	}
	if ev.PersonDailyMaxBytes <= 0 || side == task.SideAgent {
		return "", nil
	}
	day := r.BusinessDay(x.now)
	key := UploadCounterKey(actor, day)
	used, err := x.tx.Counter(ctx, key)
	if err != nil {
		return "", err
	}
	if used+size > ev.PersonDailyMaxBytes {
		return "", apperr.New(apperr.EINVALID, "evidence.quota_daily_bytes", "file", "",
			"%s %s uploaded %d bytes on %s and the file has %d; the limit is evidence.person_daily_max_bytes = %d a business day (policy %s)",
			actor.Role, actor.ID, used, day, size, ev.PersonDailyMaxBytes, r.Version)
	}
	return key, nil
}

// SweepUploads removes at most limit uploads that were never attached to
// evidence and are older than grace (issue 12), with their bytes when no
// other attachment holds them, and records an attachment_removed event on
// each one's task, seen by the side that uploaded it. It returns how many
// it removed. An attachment of an evidence item is never removed.
func (e *Engine) SweepUploads(ctx context.Context, grace time.Duration, limit int) (int, error) {
	n := 0
	err := e.update(ctx, func(x *txn) error {
		gone, err := x.tx.DeleteUnreferencedAttachments(ctx, x.now.Add(-grace), limit)
		if err != nil {
			return err
		}
		n = len(gone)
		evs := make([]task.Event, 0, len(gone))
		for _, a := range gone {
			t, err := x.tx.Task(ctx, a.TaskID)
			if apperr.CodeOf(err) == apperr.ENOTFOUND {
				continue
			}
			if err != nil {
				return err
			}
			ev := task.Event{Stream: t.ID, TaskID: t.ID, OrderID: t.OrderID, ShopID: t.ShopID, At: x.now, Actor: systemActor("upload_sweep"),
				Action: "attachment_removed", From: t.State, To: t.State, Reason: "never attached to evidence within " + grace.String(),
				Visibility: uploadVisibility(a.Side)}
			ev.Data, _ = json.Marshal(map[string]any{"attachment_id": a.ID, "uploaded_at": a.At, "size": a.Size, "sha256": a.SHA256})
			evs = append(evs, ev)
		}
		if len(evs) == 0 {
			return nil
		}
		return x.tx.AppendEvents(ctx, evs)
	})
	return n, err
}

// uploadVisibility is who sees the events of an upload: its side (and agents).
func uploadVisibility(s task.Side) task.Visibility {
	switch s {
	case task.SideShop:
		return task.ShopAgent
	case task.SideAgent:
		return task.AgentsOnly
	}
	return task.Public
}
