package engine_test

import (
	"slices"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/task"
)

// R-ST-3: "发货、退款且投诉完结情况下任务才会完结". A complaint the buyer files
// on an order whose urge_shipment task is open belongs to that task: it is
// linked both ways and recorded on the task's history, and the shipment
// then only marks the completion as pending; the task completes when the
// complaint is finished, with the shipment's outcome.
func TestComplaint_R_ST_3_BuyerComplaintWhileTaskOpen(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openTask(env, "tb", "o1", task.UrgeShipment)
	env.Advance(time.Hour)
	c := shippingComplaint(t, env, "o1")
	if c.TaskID != tk.ID || env.Complaints("o1")[0].TaskID != tk.ID {
		t.Fatalf("complaint %+v, want it to belong to task %s", c, tk.ID)
	}
	got := wantState(env, tk.ID, task.AwaitingSellerReply)
	if got.OpenComplaints != 1 || !slices.Equal(got.ComplaintIDs, []string{c.ID}) {
		t.Fatalf("task %+v, want complaint %s open on it", got, c.ID)
	}
	evs := env.Events(tk.ID)
	if last := evs[len(evs)-1]; last.Action != "buyer_complaint" || last.Rule != "R-ST-3" || last.Actor != buyer(buyerOf("o1")) ||
		last.From != task.AwaitingSellerReply || last.To != task.AwaitingSellerReply {
		t.Fatalf("last task event %+v", last)
	}

	env.Advance(time.Hour)
	env.MustIngest(shipFact("ship1", "o1", env.Clock.Now()))
	got = wantState(env, tk.ID, task.AwaitingSellerReply)
	if got.CompletionPending != "shipped" {
		t.Fatalf("shipped with the buyer's complaint open: %+v", got)
	}
	env.Advance(time.Hour)
	finish(t, env, c.ID, judgment.ComplaintDismissed)
	if got := wantState(env, tk.ID, task.Completed); got.Outcome != "shipped" || got.OpenComplaints != 0 {
		t.Fatalf("after the complaint finished: %+v", got)
	}
}

// R-ST-3: the buyer's complaint and the one the platform filed at the
// timeout (R-SLA-3) both belong to the task; a refund completes it only when
// the last of them is finished.
func TestComplaint_R_ST_3_TwoComplaintsOnTheTask(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openTask(env, "tb", "o1", task.UrgeShipment)
	env.Advance(24 * time.Hour)
	got := wantState(env, tk.ID, task.PlatformIntervening)
	platformFiled := got.ComplaintIDs[0]
	c := shippingComplaint(t, env, "o1")
	if got := env.Task(tk.ID); got.OpenComplaints != 2 || !slices.Equal(got.ComplaintIDs, []string{platformFiled, c.ID}) {
		t.Fatalf("task %+v", got)
	}
	env.MustIngest(refundFact("rf1", "o1", env.Order("o1").PaidFen, env.Clock.Now()))
	wantState(env, tk.ID, task.PlatformIntervening)
	finish(t, env, platformFiled, judgment.ComplaintUpheld)
	if got := wantState(env, tk.ID, task.PlatformIntervening); got.OpenComplaints != 1 || got.CompletionPending != "refunded" {
		t.Fatalf("one complaint left: %+v", got)
	}
	finish(t, env, c.ID, judgment.ComplaintUpheld)
	if got := wantState(env, tk.ID, task.Completed); got.Outcome != "refunded" {
		t.Fatalf("outcome %q", got.Outcome)
	}
}

// R-ST-3: a complaint filed before the task was created, or after it
// completed, is not the task's: the one before (what R-URG-2 (4) asks for
// before an urge creates a task) does not hold the shipment's completion,
// and the one after leaves the completed task alone.
func TestComplaint_R_ST_3_BeforeAndAfterTheTask(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	addOrder(env, "tb", "o1")
	before := shippingComplaint(t, env, "o1")
	env.Advance(time.Second)
	res, err := env.Engine.Urge(env.Ctx, buyer(buyerOf("o1")), "o1")
	if err != nil || res.Task == nil {
		t.Fatalf("urge: %+v %v", res, err)
	}
	tk := res.Task
	if tk.OpenComplaints != 0 || len(tk.ComplaintIDs) != 0 || env.Complaints("o1")[0].TaskID != "" {
		t.Fatalf("a complaint filed before the task was linked: task %+v complaint %+v", tk, env.Complaints("o1")[0])
	}
	env.Advance(time.Hour)
	env.MustIngest(shipFact("ship1", "o1", env.Clock.Now()))
	if got := wantState(env, tk.ID, task.Completed); got.Outcome != "shipped" {
		t.Fatalf("outcome %q", got.Outcome)
	}
	env.Advance(time.Hour)
	after := shippingComplaint(t, env, "o1")
	if after.TaskID != "" {
		t.Fatalf("a complaint filed after the task completed was linked to %s", after.TaskID)
	}
	if got := wantState(env, tk.ID, task.Completed); got.OpenComplaints != 0 || len(got.ComplaintIDs) != 0 {
		t.Fatalf("completed task changed: %+v", got)
	}
	finish(t, env, before.ID, judgment.ComplaintDismissed)
	finish(t, env, after.ID, judgment.ComplaintDismissed)
	wantState(env, tk.ID, task.Completed)
}

// R-ST-3: a complaint belongs to the open task of its kind: an invoice
// complaint to the open urge_invoice task, never to an urge_shipment task,
// and a shipping complaint never to an urge_invoice task.
func TestComplaint_R_ST_3_KindPicksTheTask(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	inv := openTask(env, "tb", "o1", task.UrgeInvoice)
	ship := shippingComplaint(t, env, "o1")
	if ship.TaskID != "" {
		t.Fatalf("shipping complaint linked to %s", ship.TaskID)
	}
	c, err := env.Engine.FileComplaint(env.Ctx, buyer(buyerOf("o1")), "o1", judgment.ComplaintInvoice)
	if err != nil {
		t.Fatal(err)
	}
	if c.TaskID != inv.ID {
		t.Fatalf("invoice complaint %+v, want it on task %s", c, inv.ID)
	}
	if got := env.Task(inv.ID); got.OpenComplaints != 1 || !slices.Equal(got.ComplaintIDs, []string{c.ID}) {
		t.Fatalf("urge_invoice task %+v", got)
	}
}
