package task_test

import (
	"slices"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

func timerKindsOf(ts []task.Timer) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Kind)
	}
	return out
}

// R-INV-4: a chase created at the final deadline gets the issue clock, 24 h
// from creation, in place of the reply deadline; the reply and a plan carry
// it (not stopped, not restarted) and the task stays due at its end; the
// buyer's acceptance carries it on; at its end the platform intervenes and
// files the invoice complaint. One second before the final deadline the
// chase has no issue clock and an ordinary reply deadline (R-SLA-4).
func TestDecide_R_INV_4_IssueClockRunsThroughReply(t *testing.T) {
	now := bj(2023, 8, 21, 10, 0, 0)
	r := rulesAt(t, commerce.Tmall, "2023-08-21T10:00:00+08:00")
	f := newFixture(now)
	f.order.Invoice = &commerce.Invoice{RequestedAt: now.Add(-20 * 24 * time.Hour), FirstDeadline: now.Add(-10 * 24 * time.Hour), SecondTimeoutAt: now}
	end := now.Add(24 * time.Hour)

	d := f.create(t, r, task.UrgeInvoice, task.Actor{Role: task.RoleBuyer, ID: "b1"}, now)
	tk := d.Task
	if !tk.AfterFinalDeadline || tk.IssueBy == nil || !tk.IssueBy.Equal(end) || tk.DueAt == nil || !tk.DueAt.Equal(end) {
		t.Fatalf("created %+v, want issue by and due %v", tk, end)
	}
	if ks := timerKindsOf(d.Start); !slices.Contains(ks, task.TimerIssue) || slices.Contains(ks, task.TimerReply) {
		t.Fatalf("timers started %v: want the issue clock and no reply deadline", ks)
	}

	for _, c := range []struct {
		act  task.Action
		by   task.Actor
		acc  *commerce.Account
		want task.State
	}{
		{task.ActProposePlan, task.Actor{Role: task.RoleShopMain, ID: "s1_main"}, f.main, task.AwaitingBuyerConfirmation},
		{task.ActAcceptPlan, task.Actor{Role: task.RoleBuyer, ID: "b1"}, nil, task.AwaitingSellerAction},
	} {
		d, err := f.decide(&tk, task.Command{Action: c.act, Actor: c.by}, c.acc, r, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if d.Task.State != c.want || !slices.Contains(d.Carried, task.TimerIssue) || slices.Contains(d.Stop, task.TimerIssue) ||
			slices.Contains(timerKindsOf(d.Start), task.TimerIssue) || d.Task.DueAt == nil || !d.Task.DueAt.Equal(end) {
			t.Fatalf("%s: state %s carried %v stop %v start %v due %v", c.act, d.Task.State, d.Carried, d.Stop, timerKindsOf(d.Start), d.Task.DueAt)
		}
		tk = d.Task
	}

	d, err := f.decide(&tk, task.Command{Action: task.ActIssueTimeout, Actor: task.Actor{Role: task.RoleSystem, ID: "timer"}}, nil, r, end)
	if err != nil {
		t.Fatal(err)
	}
	if d.Task.State != task.PlatformIntervening || d.Event.Rule != "R-INV-4" || !slices.Contains(d.Effects, task.EffFileComplaint) ||
		!slices.Contains(d.Stop, task.TimerIssue) || len(d.Carried) != 0 {
		t.Fatalf("issue timeout: %+v", d)
	}

	early := newFixture(now)
	early.order.Invoice = &commerce.Invoice{RequestedAt: now.Add(-20 * 24 * time.Hour), FirstDeadline: now.Add(-10 * 24 * time.Hour), SecondTimeoutAt: now.Add(time.Second)}
	d = early.create(t, r, task.UrgeInvoice, task.Actor{Role: task.RoleBuyer, ID: "b1"}, now)
	if d.Task.AfterFinalDeadline || d.Task.IssueBy != nil || !slices.Contains(timerKindsOf(d.Start), task.TimerReply) || slices.Contains(timerKindsOf(d.Start), task.TimerIssue) {
		t.Fatalf("chase 1 s before the final deadline: %+v timers %v", d.Task, timerKindsOf(d.Start))
	}
}
