package engine_test

import (
	"slices"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// lateChases requests an invoice on each order at a, moves to the final
// deadline (A + 20 d) and chases them then: the tasks are created after the
// final deadline (R-INV-4).
func lateChases(t *testing.T, env *testkit.Env, shopID string, a time.Time, orderIDs ...string) []*task.Task {
	t.Helper()
	for _, o := range orderIDs {
		addOrder(env, shopID, o)
		env.MustIngest(invoiceRequestFact("req-"+o, o, a))
	}
	env.AdvanceTo(a.Add(20 * day))
	var out []*task.Task
	for _, o := range orderIDs {
		tk, err := chase(env, o)
		if err != nil {
			t.Fatal(err)
		}
		if !tk.AfterFinalDeadline {
			t.Fatalf("task %s not after the final deadline", tk.ID)
		}
		out = append(out, tk)
	}
	return out
}

// R-INV-4: a chase created after the final deadline gives the shop 24 hours
// to issue the invoice ("24小时后仍然未开票成功，平台介入"). Replying does not
// stop that clock: at 24 h − 1 s the replied task is still the seller's to
// perform, at 24 h the platform intervenes on an invoice complaint it files,
// exactly as for the task that was never replied to. The task's due time
// stays the end of the 24 h after the reply.
func TestInvoice_R_INV_4_ReplyDoesNotStopIssueClock(t *testing.T) {
	a := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, a)
	addShop(env, "tm", commerce.Tmall)
	ts := lateChases(t, env, "tm", a, "silent", "replied")
	silent, replied := ts[0], ts[1]
	created := env.Clock.Now()
	end := created.Add(24 * time.Hour)
	if silent.DueAt == nil || !silent.DueAt.Equal(end) {
		t.Fatalf("due %v, want %v", silent.DueAt, end)
	}

	env.Advance(time.Hour)
	act(env, task.Command{Action: task.ActReply, Actor: shopMain("tm_main"), TaskID: replied.ID, Text: "今天开票"})
	got := wantState(env, replied.ID, task.AwaitingSellerAction)
	if got.DueAt == nil || !got.DueAt.Equal(end) {
		t.Fatalf("after the reply the task is due %v, want %v (24 h from creation)", got.DueAt, end)
	}
	if ks := timerKinds(env.Timers(replied.ID)); !slices.Contains(ks, task.TimerIssue) {
		t.Fatalf("the reply stopped the issue clock: timers %v", ks)
	}

	env.AdvanceTo(end.Add(-time.Second))
	wantState(env, silent.ID, task.AwaitingSellerReply)
	wantState(env, replied.ID, task.AwaitingSellerAction)
	if n := len(env.Complaints("silent")) + len(env.Complaints("replied")); n != 0 {
		t.Fatalf("%d complaints before 24 h", n)
	}

	env.AdvanceTo(end)
	for _, tk := range []*task.Task{silent, replied} {
		got := wantState(env, tk.ID, task.PlatformIntervening)
		cs := env.Complaints(tk.OrderID)
		if len(cs) != 1 || cs[0].Kind != judgment.ComplaintInvoice || cs[0].TaskID != tk.ID || cs[0].FiledBy != "platform" {
			t.Fatalf("%s: complaints %+v", tk.OrderID, cs)
		}
		if got.OpenComplaints != 1 || len(got.ComplaintIDs) != 1 {
			t.Fatalf("%s: task %+v", tk.OrderID, got)
		}
		evs := env.Events(tk.ID)
		var moved bool
		for _, ev := range evs {
			if ev.To == task.PlatformIntervening && ev.Rule == "R-INV-4" && ev.At.Equal(end) {
				moved = true
			}
		}
		if !moved {
			t.Fatalf("%s: no move to platform_intervening citing R-INV-4 at %v: %+v", tk.OrderID, end, evs)
		}
		if ks := timerKinds(env.Timers(tk.ID)); slices.Contains(ks, task.TimerIssue) || slices.Contains(ks, task.TimerAction) {
			t.Fatalf("%s: timers left %v", tk.OrderID, ks)
		}
	}
}

// R-INV-4: only the invoice being issued stops the clock (R-INV-5): issued at
// 24 h − 1 s, after a reply, the task completes and nothing fires at 24 h.
// A plan the buyer is still considering does not stop it either.
func TestInvoice_R_INV_4_IssuedBeforeClockEnds(t *testing.T) {
	a := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, a)
	addShop(env, "tm", commerce.Tmall)
	ts := lateChases(t, env, "tm", a, "issued", "plan")
	issued, plan := ts[0], ts[1]
	end := env.Clock.Now().Add(24 * time.Hour)
	act(env, task.Command{Action: task.ActReply, Actor: shopMain("tm_main"), TaskID: issued.ID})
	act(env, task.Command{Action: task.ActProposePlan, Actor: shopMain("tm_main"), TaskID: plan.ID, Text: "电子发票可以吗"})

	env.AdvanceTo(end.Add(-time.Second))
	env.MustIngest(invoiceIssuedFact("iss", "issued", env.Clock.Now()))
	if got := wantState(env, issued.ID, task.Completed); got.Outcome != "invoice_issued" {
		t.Fatalf("outcome %q", got.Outcome)
	}
	wantState(env, plan.ID, task.AwaitingBuyerConfirmation)

	env.AdvanceTo(end)
	wantState(env, issued.ID, task.Completed)
	if cs := env.Complaints("issued"); len(cs) != 0 {
		t.Fatalf("complaint after the invoice was issued: %+v", cs)
	}
	wantState(env, plan.ID, task.PlatformIntervening)
	if cs := env.Complaints("plan"); len(cs) != 1 || cs[0].Kind != judgment.ComplaintInvoice {
		t.Fatalf("plan: complaints %+v", cs)
	}
}

// R-INV-4, R-SLA-4: before the final deadline the chase is ordinary: a reply
// moves it to the seller's action with the action deadline (48 h from the
// reply), and nothing happens at 24 h.
func TestInvoice_R_INV_4_BeforeFinalReplyIsOrdinary(t *testing.T) {
	a := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, a)
	addShop(env, "tm", commerce.Tmall)
	addOrder(env, "tm", "o1")
	env.MustIngest(invoiceRequestFact("req", "o1", a))
	env.AdvanceTo(a.Add(20*day - time.Second))
	tk, err := chase(env, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if tk.AfterFinalDeadline || tk.IssueBy != nil {
		t.Fatalf("task %+v", tk)
	}
	act(env, task.Command{Action: task.ActReply, Actor: shopMain("tm_main"), TaskID: tk.ID})
	env.AdvanceTo(env.Clock.Now().Add(24 * time.Hour))
	wantState(env, tk.ID, task.AwaitingSellerAction)
	if ks := timerKinds(env.Timers(tk.ID)); !slices.Equal(ks, []string{task.TimerAction}) {
		t.Fatalf("timers %v", ks)
	}
}
