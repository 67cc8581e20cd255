package engine_test

import (
	"encoding/json"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/judgment"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

const day = 24 * time.Hour

func chase(env *testkit.Env, orderID string) (*task.Task, error) {
	return env.Engine.CreateTask(env.Ctx, task.Command{Actor: buyer(buyerOf(orderID)), OrderID: orderID, Type: task.UrgeInvoice})
}

func orderEventData(env *testkit.Env, orderID, action string) map[string]any {
	env.T.Helper()
	for _, ev := range env.Events(orderID) {
		if ev.Action == action {
			m := map[string]any{}
			if err := json.Unmarshal(ev.Data, &m); err != nil {
				env.T.Fatal(err)
			}
			m["_rule"] = ev.Rule
			return m
		}
	}
	return nil
}

// R-INV-1: the buyer can chase an invoice only after applying for one, and
// not once it is issued (R-INV-5).
func TestInvoice_R_INV_1_ChaseNeedsRequest(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	addOrder(env, "tm", "o1")
	before := snapshot(env, "o1")
	_, err := chase(env, "o1")
	wantErr(t, err, apperr.ECONFLICT, "invoice.not_requested", "", "R-INV-1")
	sameWorld(t, before, snapshot(env, "o1"))

	env.MustIngest(invoiceRequestFact("req1", "o1", env.Clock.Now()))
	env.Advance(time.Hour)
	env.MustIngest(invoiceIssuedFact("iss1", "o1", env.Clock.Now()))
	_, err = chase(env, "o1")
	wantErr(t, err, apperr.ECONFLICT, "invoice.issued", "", "R-INV-5")

	addOrder(env, "tm", "o2")
	env.MustIngest(invoiceRequestFact("req2", "o2", env.Clock.Now()))
	tk, err := chase(env, "o2")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Type != task.UrgeInvoice || tk.State != task.AwaitingSellerReply || tk.AfterFinalDeadline {
		t.Fatalf("task %+v", tk)
	}
}

// R-INV-2: applied at A, the first deadline is A+10d (late, 延迟开票, from then)
// and the second timeout (二次超时) is A+20d; one second before each nothing is flagged.
func TestInvoice_R_INV_2_Deadlines(t *testing.T) {
	a := bj(t, "2022-12-05T10:00:00") // seed 001's example: applied 12-05, latest 12-25
	env := newEnv(t, a)
	addShop(env, "tm", commerce.Tmall)
	addOrder(env, "tm", "o1")
	env.MustIngest(invoiceRequestFact("req1", "o1", a))
	inv := env.Order("o1").Invoice
	if !inv.RequestedAt.Equal(a) || !inv.FirstDeadline.Equal(a.Add(10*day)) || !inv.SecondTimeoutAt.Equal(a.Add(20*day)) || inv.PolicyVersion == "" {
		t.Fatalf("invoice %+v", inv)
	}
	if inv.SecondTimeoutAt.In(beijing).Format("2006-01-02") != "2022-12-25" {
		t.Fatalf("second timeout %v, want 2022-12-25", inv.SecondTimeoutAt)
	}
	ts := env.Timers("o1")
	if len(ts) != 2 || ts[0].Kind != engine.TimerInvoiceFirst || !ts[0].DueAt.Equal(a.Add(10*day)) ||
		ts[1].Kind != engine.TimerInvoiceSecond || !ts[1].DueAt.Equal(a.Add(20*day)) {
		t.Fatalf("timers %+v", ts)
	}

	env.AdvanceTo(a.Add(10*day - time.Second))
	if inv := env.Order("o1").Invoice; inv.Late || inv.SecondTimeout {
		t.Fatalf("flagged before the first deadline: %+v", inv)
	}
	env.AdvanceTo(a.Add(10 * day))
	if inv := env.Order("o1").Invoice; !inv.Late || inv.SecondTimeout {
		t.Fatalf("at the first deadline: %+v", inv)
	}
	if d := orderEventData(env, "o1", "invoice_late"); d == nil || d["_rule"] != "R-INV-2" {
		t.Fatalf("no invoice_late event citing R-INV-2: %v", d)
	}
	env.AdvanceTo(a.Add(10*day + time.Second))
	if inv := env.Order("o1").Invoice; !inv.Late || inv.SecondTimeout {
		t.Fatalf("one second after the first deadline: %+v", inv)
	}
	env.AdvanceTo(a.Add(20*day - time.Second))
	if inv := env.Order("o1").Invoice; inv.SecondTimeout {
		t.Fatalf("second timeout one second early")
	}
	env.AdvanceTo(a.Add(20 * day))
	if inv := env.Order("o1").Invoice; !inv.Late || !inv.SecondTimeout {
		t.Fatalf("at the second timeout: %+v", inv)
	}
	if d := orderEventData(env, "o1", "invoice_second_timeout"); d == nil || d["_rule"] != "R-INV-2" {
		t.Fatalf("no invoice_second_timeout event: %v", d)
	}
	env.AdvanceTo(a.Add(20*day + time.Second))
	if inv := env.Order("o1").Invoice; !inv.SecondTimeout || inv.IssuedAt != nil {
		t.Fatalf("one second after the second timeout: %+v", inv)
	}
	if ts := env.Timers("o1"); len(ts) != 0 {
		t.Fatalf("timers left %+v", ts)
	}
}

// R-INV-2: issuing before a deadline stops its timer; issued in time it is
// never late, issued between the deadlines it is late but never a second timeout.
func TestInvoice_R_INV_2_IssuingStopsTimers(t *testing.T) {
	a := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, a)
	addShop(env, "tm", commerce.Tmall)
	addOrder(env, "tm", "intime")
	addOrder(env, "tm", "late")
	env.MustIngest(invoiceRequestFact("req1", "intime", a), invoiceRequestFact("req2", "late", a))

	env.AdvanceTo(a.Add(10*day - time.Second))
	env.MustIngest(invoiceIssuedFact("iss1", "intime", env.Clock.Now()))
	if ts := env.Timers("intime"); len(ts) != 0 {
		t.Fatalf("timers after issuing: %+v", ts)
	}
	if d := orderEventData(env, "intime", "invoice_issued"); d == nil || d["late"] != false {
		t.Fatalf("issued event %v, want late=false", d)
	}

	env.AdvanceTo(a.Add(15 * day))
	env.MustIngest(invoiceIssuedFact("iss2", "late", env.Clock.Now()))
	if ts := env.Timers("late"); len(ts) != 0 {
		t.Fatalf("timers after issuing: %+v", ts)
	}
	if d := orderEventData(env, "late", "invoice_issued"); d == nil || d["late"] != true || d["after_second_timeout"] != false {
		t.Fatalf("issued event %v, want late=true after_second_timeout=false", d)
	}

	env.AdvanceTo(a.Add(30 * day))
	if inv := env.Order("intime").Invoice; inv.Late || inv.SecondTimeout || inv.IssuedAt == nil {
		t.Fatalf("in-time invoice %+v", inv)
	}
	if inv := env.Order("late").Invoice; !inv.Late || inv.SecondTimeout {
		t.Fatalf("late invoice %+v", inv)
	}
}

// R-INV-4: an urge_invoice task created after the final deadline is flagged;
// one created a second before is not. Still not issued 24 h later, the
// platform intervenes and files an invoice complaint.
func TestInvoice_R_INV_4_AfterFinalDeadline(t *testing.T) {
	a := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, a)
	addShop(env, "tm", commerce.Tmall)
	addOrder(env, "tm", "before")
	addOrder(env, "tm", "after")
	env.MustIngest(invoiceRequestFact("req1", "before", a), invoiceRequestFact("req2", "after", a))

	env.AdvanceTo(a.Add(20*day - time.Second))
	early, err := chase(env, "before")
	if err != nil {
		t.Fatal(err)
	}
	if early.AfterFinalDeadline {
		t.Fatalf("flagged one second before the final deadline")
	}
	env.AdvanceTo(a.Add(20 * day))
	late, err := chase(env, "after")
	if err != nil {
		t.Fatal(err)
	}
	if !late.AfterFinalDeadline || env.Task(late.ID).AfterFinalDeadline != true {
		t.Fatalf("not flagged AfterFinalDeadline at the final deadline")
	}
	if ev := env.Events(late.ID)[0]; ev.Rule != "R-INV-4" {
		t.Fatalf("create event cites %q", ev.Rule)
	}

	env.AdvanceTo(a.Add(21*day - time.Second))
	wantState(env, late.ID, task.AwaitingSellerReply)
	// The task chased a second before the final deadline escalates at its own
	// 24 h like any task (R-SLA-4), without an invoice complaint.
	if e := wantState(env, early.ID, task.PlatformIntervening); len(e.ComplaintIDs) != 0 || len(env.Complaints("before")) != 0 {
		t.Fatalf("a task chased before the final deadline got a complaint: %+v", e)
	}
	env.AdvanceTo(a.Add(21 * day))
	got := wantState(env, late.ID, task.PlatformIntervening)
	cs := env.Complaints("after")
	if len(cs) != 1 {
		t.Fatalf("complaints %+v", cs)
	}
	c := cs[0]
	if c.Kind != judgment.ComplaintInvoice || c.TaskID != late.ID || c.Standard != "天猫发票管理规范" || c.FiledBy != "platform" {
		t.Fatalf("complaint %+v", c)
	}
	if len(got.ComplaintIDs) != 1 || got.ComplaintIDs[0] != c.ID {
		t.Fatalf("task complaints %v", got.ComplaintIDs)
	}
	found := false
	for _, ev := range env.Events(late.ID) {
		if ev.Action == "complaint_filed" && ev.Rule == "R-INV-4" {
			found = true
		}
	}
	if !found {
		t.Fatal("no complaint_filed event citing R-INV-4")
	}
}

// R-INV-5: the invoice_issued fact completes the urge_invoice task from every open state.
func TestInvoice_R_INV_5_IssuedCompletesFromAnyOpenState(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall)
	reply := openTask(env, "tm", "reply", task.UrgeInvoice)
	action := openTask(env, "tm", "action", task.UrgeInvoice)
	confirm := openTask(env, "tm", "confirm", task.UrgeInvoice)
	intervene := openTask(env, "tm", "intervene", task.UrgeInvoice)
	act(env, task.Command{Action: task.ActReply, Actor: shopMain("tm_main"), TaskID: action.ID})
	act(env, task.Command{Action: task.ActProposePlan, Actor: shopMain("tm_main"), TaskID: confirm.ID})
	act(env, task.Command{Action: task.ActRefuse, Actor: shopMain("tm_main"), TaskID: intervene.ID})
	want := map[string]task.State{reply.ID: task.AwaitingSellerReply, action.ID: task.AwaitingSellerAction,
		confirm.ID: task.AwaitingBuyerConfirmation, intervene.ID: task.PlatformIntervening}
	env.Advance(time.Hour)
	for _, tk := range []*task.Task{reply, action, confirm, intervene} {
		wantState(env, tk.ID, want[tk.ID])
		env.MustIngest(invoiceIssuedFact("iss-"+tk.OrderID, tk.OrderID, env.Clock.Now()))
		got := wantState(env, tk.ID, task.Completed)
		if got.Outcome != "invoice_issued" {
			t.Fatalf("outcome %q", got.Outcome)
		}
		if ts := env.Timers(tk.ID); len(ts) != 0 {
			t.Fatalf("task timers left %+v", ts)
		}
		evs := env.Events(tk.ID)
		if last := evs[len(evs)-1]; last.Rule != "R-INV-5" || last.From != want[tk.ID] || last.Actor.Role != task.RoleSystem {
			t.Fatalf("last event %+v", last)
		}
	}
	if n := len(env.Tasks(store.TaskFilter{State: task.Completed})); n != 4 {
		t.Fatalf("%d completed, want 4", n)
	}
}

// R-INV-2: the late flags follow the issue time. Issued at exactly the first
// deadline counts as late (the deadline instant is when the timer marks it);
// an issue fact that arrives after the timer fired but says the invoice was
// issued a second before the deadline clears the flag.
func TestInvoice_R_INV_2_FlagsFollowIssueTime(t *testing.T) {
	a := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, a)
	addShop(env, "tm", commerce.Tmall)
	addOrder(env, "tm", "exact")
	addOrder(env, "tm", "backdated")
	env.MustIngest(invoiceRequestFact("req1", "exact", a), invoiceRequestFact("req2", "backdated", a))

	env.AdvanceTo(a.Add(10 * day))
	env.MustIngest(invoiceIssuedFact("iss1", "exact", env.Clock.Now()))
	inv := env.Order("exact").Invoice
	if d := orderEventData(env, "exact", "invoice_issued"); !inv.Late || d["late"] != true {
		t.Fatalf("issued at the deadline: invoice %+v event %v, want late", inv, d)
	}

	env.AdvanceTo(a.Add(11 * day))
	if !env.Order("backdated").Invoice.Late {
		t.Fatal("the first-deadline timer did not mark the invoice late")
	}
	env.MustIngest(invoiceIssuedFact("iss2", "backdated", a.Add(10*day-time.Second)))
	inv = env.Order("backdated").Invoice
	if d := orderEventData(env, "backdated", "invoice_issued"); inv.Late || inv.SecondTimeout || d["late"] != false {
		t.Fatalf("issued before the deadline: invoice %+v event %v, want not late", inv, d)
	}
	if ts := env.Timers("backdated"); len(ts) != 0 {
		t.Fatalf("timers left %+v", ts)
	}
}

// R-INV-4: the invoice complaint the platform filed can be finished by an
// agent; the task keeps intervening (the invoice is still due) and counts it
// as finished; issuing then completes it (R-INV-5).
func TestInvoice_R_INV_4_ComplaintCanBeFinished(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall)
	addOrder(env, "tm", "o1")
	env.MustIngest(invoiceRequestFact("req1", "o1", start))
	env.AdvanceTo(start.Add(20 * day))
	tk, err := chase(env, "o1")
	if err != nil {
		t.Fatal(err)
	}
	env.AdvanceTo(start.Add(21 * day))
	got := wantState(env, tk.ID, task.PlatformIntervening)
	if len(got.ComplaintIDs) != 1 || got.OpenComplaints != 1 {
		t.Fatalf("task %+v", got)
	}
	c, err := env.Engine.FinishComplaint(env.Ctx, agent("xiaoer"), got.ComplaintIDs[0], judgment.ComplaintUpheld)
	if err != nil {
		t.Fatalf("finish the invoice complaint: %v", err)
	}
	if c.Status != judgment.ComplaintUpheld || env.Complaints("o1")[0].Status != judgment.ComplaintUpheld {
		t.Fatalf("complaint %+v", c)
	}
	if got := wantState(env, tk.ID, task.PlatformIntervening); got.OpenComplaints != 0 {
		t.Fatalf("open complaints %d", got.OpenComplaints)
	}
	env.MustIngest(invoiceIssuedFact("iss1", "o1", env.Clock.Now()))
	wantState(env, tk.ID, task.Completed)
}
