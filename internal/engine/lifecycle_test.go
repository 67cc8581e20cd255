package engine_test

import (
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// sellerReply is the action that answers a task of typ within the reply deadline.
func sellerReply(env *testkit.Env, tk *task.Task) task.Command {
	cmd := task.Command{Action: task.ActReply, Actor: shopMain(tk.ShopID + "_main"), TaskID: tk.ID, Text: "on it"}
	if tk.Type == task.Collaborative {
		at := env.Clock.Now()
		cmd.Action = task.ActCollabAgreed
		cmd.Reply = &task.Reply{ContactedAt: &at, Evidence: []string{"chat.png"}}
	}
	return cmd
}

// R-SLA-1: every one of the 14 types gets a 24 h reply deadline; one second
// before it nothing happens, at it the task goes to platform_intervening
// (R-SLA-4), and a reply one second before it stops the timer for good.
func TestReplyDeadline_R_SLA_1_AllTypes(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall)
	if len(task.Types) != 14 {
		t.Fatalf("%d task types, want 14", len(task.Types))
	}
	silent := map[task.Type]*task.Task{}
	replied := map[task.Type]*task.Task{}
	for _, typ := range task.Types {
		silent[typ] = openTask(env, "tm", "s_"+string(typ), typ)
		replied[typ] = openTask(env, "tm", "r_"+string(typ), typ)
	}
	for _, typ := range task.Types {
		tk := env.Task(silent[typ].ID)
		if tk.State != task.AwaitingSellerReply {
			t.Fatalf("%s starts in %s", typ, tk.State)
		}
		if tk.DueAt == nil || !tk.DueAt.Equal(start.Add(24*time.Hour)) {
			t.Fatalf("%s due at %v, want %v", typ, tk.DueAt, start.Add(24*time.Hour))
		}
		var reply *task.Timer
		for _, tm := range env.Timers(tk.ID) {
			if tm.Kind == task.TimerReply {
				tm := tm
				reply = &tm
			}
		}
		if reply == nil || !reply.DueAt.Equal(start.Add(24*time.Hour)) || reply.PolicyVersion == "" {
			t.Fatalf("%s reply timer %+v, want due %v", typ, reply, start.Add(24*time.Hour))
		}
	}

	env.AdvanceTo(start.Add(24*time.Hour - time.Second))
	for _, typ := range task.Types {
		wantState(env, silent[typ].ID, task.AwaitingSellerReply)
		act(env, sellerReply(env, env.Task(replied[typ].ID)))
	}

	env.AdvanceTo(start.Add(24 * time.Hour))
	for _, typ := range task.Types {
		tk := wantState(env, silent[typ].ID, task.PlatformIntervening)
		evs := env.Events(tk.ID)
		var timeout *task.Event
		for i := range evs {
			if evs[i].Action == string(task.ActReplyTimeout) {
				timeout = &evs[i]
			}
		}
		if timeout == nil || timeout.Actor.Role != task.RoleSystem || !timeout.At.Equal(start.Add(24*time.Hour)) {
			t.Fatalf("%s: no reply_timeout event at 24h by the system: %+v", typ, evs)
		}
		if r := env.Task(replied[typ].ID); r.State == task.PlatformIntervening || r.State == task.AwaitingSellerReply {
			t.Fatalf("%s replied at 24h-1s but is %s", typ, r.State)
		}
	}
	env.AdvanceTo(start.Add(24*time.Hour + time.Second))
	for _, typ := range task.Types {
		wantState(env, silent[typ].ID, task.PlatformIntervening)
		if r := env.Task(replied[typ].ID); r.State == task.PlatformIntervening {
			t.Fatalf("%s replied in time but intervened at 24h+1s", typ)
		}
	}
}

// R-SLA-1: once the task has timed out a late reply is refused and changes nothing.
func TestReplyDeadline_R_SLA_1_LateReplyRefused(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tb", commerce.Taobao)
	tk := openTask(env, "tb", "o1", task.Exchange)
	env.Advance(24*time.Hour + time.Second)
	before := snapshot(env, "o1")
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: tk.ID})
	wantErr(t, err, apperr.ECONFLICT, "task.state", "", "R-ST-1")
	sameWorld(t, before, snapshot(env, "o1"))
}

// R-SLA-2: within 24 h of an urge_shipment task, shipping completes it.
func TestUrgeTask_R_SLA_2_ShipCompletes(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openTask(env, "tb", "o1", task.UrgeShipment)
	env.Advance(23*time.Hour + 59*time.Minute + 59*time.Second)
	env.MustIngest(shipFact("ship1", "o1", env.Clock.Now()))
	got := wantState(env, tk.ID, task.Completed)
	if got.Outcome != "shipped" {
		t.Fatalf("outcome %q, want shipped", got.Outcome)
	}
	if ts := env.Timers(tk.ID); len(ts) != 0 {
		t.Fatalf("timers left after completion: %v", ts)
	}
	env.Advance(time.Hour)
	wantState(env, tk.ID, task.Completed)
	if cs := env.Complaints("o1"); len(cs) != 0 {
		t.Fatalf("complaints %+v: the platform must not file one for a task completed in time", cs)
	}
}

// R-SLA-2: a full refund within 24 h completes the urge task; a partial one does not.
func TestUrgeTask_R_SLA_2_FullRefundCompletes(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openTask(env, "tb", "o1", task.UrgeShipment)
	env.Advance(time.Hour)
	env.MustIngest(refundFact("rf1", "o1", 4000, env.Clock.Now()))
	wantState(env, tk.ID, task.AwaitingSellerReply)
	env.Advance(time.Hour)
	env.MustIngest(refundFact("rf2", "o1", 6000, env.Clock.Now()))
	if got := wantState(env, tk.ID, task.Completed); got.Outcome != "refunded" {
		t.Fatalf("outcome %q, want refunded", got.Outcome)
	}
}

// R-SLA-2, R-ST-1: replying within 24 h changes the state (→ awaiting_seller_action)
// and stops the reply timer; shipping then completes the task.
func TestUrgeTask_R_SLA_2_ReplyChangesState(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tb", commerce.Taobao)
	tk := openTask(env, "tb", "o1", task.UrgeShipment)
	env.Advance(2 * time.Hour)
	got := act(env, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: tk.ID, Text: "shipping tomorrow"})
	if got.State != task.AwaitingSellerAction || got.Reply == nil || got.Reply.Text != "shipping tomorrow" {
		t.Fatalf("after reply: %+v", got)
	}
	if kinds := timerKinds(env.Timers(tk.ID)); len(kinds) != 1 || kinds[0] != task.TimerAction {
		t.Fatalf("timers after reply %v, want only the action timer", kinds)
	}
	env.AdvanceTo(start.Add(25 * time.Hour))
	wantState(env, tk.ID, task.AwaitingSellerAction)
	env.MustIngest(shipFact("ship1", "o1", env.Clock.Now()))
	wantState(env, tk.ID, task.Completed)
}

// R-SLA-3: at the 24 h timeout of an urge_shipment task the platform files a
// shipping complaint for the buyer, judged by the platform's standard, and intervenes.
func TestUrgeTask_R_SLA_3_TimeoutFilesComplaint(t *testing.T) {
	for _, c := range []struct {
		p        commerce.Platform
		standard string
	}{{commerce.Taobao, "淘宝网发货管理规范"}, {commerce.Tmall, "天猫物流时效管理规范"}} {
		t.Run(string(c.p), func(t *testing.T) {
			start := bj(t, "2023-08-01T10:00:00")
			env := newEnv(t, start)
			addShop(env, "s", c.p)
			tk := openTask(env, "s", "o1", task.UrgeShipment)
			env.AdvanceTo(start.Add(24*time.Hour - time.Second))
			if cs := env.Complaints("o1"); len(cs) != 0 {
				t.Fatalf("complaint before the deadline: %+v", cs)
			}
			env.AdvanceTo(start.Add(24 * time.Hour))
			got := wantState(env, tk.ID, task.PlatformIntervening)
			cs := env.Complaints("o1")
			if len(cs) != 1 {
				t.Fatalf("complaints %+v, want 1", cs)
			}
			cp := cs[0]
			if cp.Kind != judgment.ComplaintShipping || cp.TaskID != tk.ID || cp.FiledBy != "platform" ||
				cp.Status != judgment.ComplaintOpen || cp.Standard != c.standard || !cp.FiledAt.Equal(start.Add(24*time.Hour)) {
				t.Fatalf("complaint %+v", cp)
			}
			if len(got.ComplaintIDs) != 1 || got.ComplaintIDs[0] != cp.ID || got.OpenComplaints != 1 {
				t.Fatalf("task complaints %v open %d", got.ComplaintIDs, got.OpenComplaints)
			}
			if o := env.Order("o1"); o.Complaints != 1 {
				t.Fatalf("order complaints %d, want 1", o.Complaints)
			}
			found := false
			for _, ev := range env.Events(tk.ID) {
				if ev.Action == "complaint_filed" && ev.Rule == "R-SLA-3" {
					found = true
				}
				if ev.Action == string(task.ActReplyTimeout) && ev.Rule != "R-SLA-3" {
					t.Fatalf("timeout event cites %s, want R-SLA-3", ev.Rule)
				}
			}
			if !found {
				t.Fatalf("no complaint_filed event citing R-SLA-3")
			}
		})
	}
}

// R-ST-3: shipping completes an urge task by itself, but only once the
// complaint raised for it is finished.
func TestUrgeTask_R_ST_3_CompletionWaitsForComplaint(t *testing.T) {
	for _, c := range []struct {
		name    string
		fact    func(at time.Time) commerce.Fact
		outcome string
	}{
		{"ship", func(at time.Time) commerce.Fact { return shipFact("f1", "o1", at) }, "shipped"},
		{"refund", func(at time.Time) commerce.Fact { return refundFact("f1", "o1", 10000, at) }, "refunded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
			addShop(env, "tb", commerce.Taobao)
			tk := openTask(env, "tb", "o1", task.UrgeShipment)
			env.Advance(24 * time.Hour)
			wantState(env, tk.ID, task.PlatformIntervening)
			env.Advance(2 * time.Hour)
			env.MustIngest(c.fact(env.Clock.Now()))
			got := wantState(env, tk.ID, task.PlatformIntervening)
			if got.CompletionPending != c.outcome {
				t.Fatalf("completion pending %q, want %q", got.CompletionPending, c.outcome)
			}
			env.Advance(time.Hour)
			if _, err := env.Engine.FinishComplaint(env.Ctx, agent("xiaoer"), got.ComplaintIDs[0], judgment.ComplaintUpheld); err != nil {
				t.Fatal(err)
			}
			got = wantState(env, tk.ID, task.Completed)
			if got.Outcome != c.outcome || got.OpenComplaints != 0 {
				t.Fatalf("outcome %q open %d, want %q 0", got.Outcome, got.OpenComplaints, c.outcome)
			}
		})
	}
}

// R-ST-3: a complaint finished before shipping leaves the task intervening; the
// shipment then completes it at once.
func TestUrgeTask_R_ST_3_ComplaintFinishedFirst(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openTask(env, "tb", "o1", task.UrgeShipment)
	env.Advance(24 * time.Hour)
	cid := env.Task(tk.ID).ComplaintIDs[0]
	if _, err := env.Engine.FinishComplaint(env.Ctx, agent("xiaoer"), cid, judgment.ComplaintDismissed); err != nil {
		t.Fatal(err)
	}
	if got := wantState(env, tk.ID, task.PlatformIntervening); got.OpenComplaints != 0 || got.CompletionPending != "" {
		t.Fatalf("after the complaint: %+v", got)
	}
	env.MustIngest(shipFact("ship1", "o1", env.Clock.Now()))
	if got := wantState(env, tk.ID, task.Completed); got.Outcome != "shipped" {
		t.Fatalf("outcome %q", got.Outcome)
	}
}

// R-ST-1: replying moves the task to awaiting_seller_action; proposing a plan
// the buyer must accept moves it to awaiting_buyer_confirmation.
func TestReply_R_ST_1_ReplyAndPlan(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	a := openTask(env, "tb", "o1", task.Repair)
	b := openTask(env, "tb", "o2", task.Repair)
	env.Advance(time.Hour)
	got := act(env, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: a.ID})
	if got.State != task.AwaitingSellerAction {
		t.Fatalf("reply → %s", got.State)
	}
	got = act(env, task.Command{Action: task.ActProposePlan, Actor: shopMain("tb_main"), TaskID: b.ID, Text: "repair at our cost"})
	if got.State != task.AwaitingBuyerConfirmation || got.Reply.Kind != string(task.ActProposePlan) {
		t.Fatalf("plan → %+v", got)
	}
	if kinds := timerKinds(env.Timers(b.ID)); len(kinds) != 1 || kinds[0] != task.TimerConfirm {
		t.Fatalf("timers %v, want the confirm timer only", kinds)
	}
	for _, id := range []string{a.ID, b.ID} {
		evs := env.Events(id)
		last := evs[len(evs)-1]
		if last.From != task.AwaitingSellerReply || last.Rule != "R-ST-1" {
			t.Fatalf("last event %+v", last)
		}
	}
	// Replying is only possible from awaiting_seller_reply.
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: a.ID})
	wantErr(t, err, apperr.ECONFLICT, "task.state", "", "R-ST-1")
}

// R-ST-2: the buyer accepting the plan → awaiting_seller_action; rejecting it
// → platform_intervening. Only the order's buyer answers.
func TestPlan_R_ST_2_AcceptReject(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	a := openTask(env, "tb", "o1", task.Exchange)
	b := openTask(env, "tb", "o2", task.Exchange)
	for _, tk := range []*task.Task{a, b} {
		act(env, task.Command{Action: task.ActProposePlan, Actor: shopMain("tb_main"), TaskID: tk.ID})
	}
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActAcceptPlan, Actor: shopMain("tb_main"), TaskID: a.ID})
	wantErr(t, err, apperr.EFORBIDDEN, "role", "", "R-ACC-1")
	_, err = env.Engine.Act(env.Ctx, task.Command{Action: task.ActAcceptPlan, Actor: buyer(buyerOf("o2")), TaskID: a.ID})
	wantErr(t, err, apperr.EFORBIDDEN, "not_your_order", "", "")
	wantState(env, a.ID, task.AwaitingBuyerConfirmation)

	if got := act(env, task.Command{Action: task.ActAcceptPlan, Actor: buyer(buyerOf("o1")), TaskID: a.ID}); got.State != task.AwaitingSellerAction {
		t.Fatalf("accept → %s", got.State)
	}
	if got := act(env, task.Command{Action: task.ActRejectPlan, Actor: buyer(buyerOf("o2")), TaskID: b.ID}); got.State != task.PlatformIntervening {
		t.Fatalf("reject → %s", got.State)
	}
	for _, id := range []string{a.ID, b.ID} {
		evs := env.Events(id)
		if last := evs[len(evs)-1]; last.Rule != "R-ST-2" || last.From != task.AwaitingBuyerConfirmation || last.Actor.Role != task.RoleBuyer {
			t.Fatalf("last event %+v", last)
		}
	}
}

// R-SLA-4: timeout or no agreement → platform_intervening: reply timeout,
// action timeout, plan rejected, refusal, collaborative "not agreed".
func TestIntervene_R_SLA_4_AllPaths(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall)
	replyTO := openTask(env, "tm", "o1", task.ReturnRefund)
	actionTO := openTask(env, "tm", "o2", task.Resend)
	rejected := openTask(env, "tm", "o3", task.PostageRefund)
	refused := openTask(env, "tm", "o4", task.DeliveryProblem)
	collab := openTask(env, "tm", "o5", task.Collaborative)
	confirmTO := openTask(env, "tm", "o6", task.ChangeAddress)

	act(env, task.Command{Action: task.ActReply, Actor: shopMain("tm_main"), TaskID: actionTO.ID})
	act(env, task.Command{Action: task.ActProposePlan, Actor: shopMain("tm_main"), TaskID: rejected.ID})
	act(env, task.Command{Action: task.ActRejectPlan, Actor: buyer(buyerOf("o3")), TaskID: rejected.ID})
	act(env, task.Command{Action: task.ActRefuse, Actor: shopMain("tm_main"), TaskID: refused.ID, Text: "not our fault"})
	at := start
	act(env, task.Command{Action: task.ActCollabNotAgreed, Actor: shopMain("tm_main"), TaskID: collab.ID, Reply: &task.Reply{ContactedAt: &at}})
	act(env, task.Command{Action: task.ActProposePlan, Actor: shopMain("tm_main"), TaskID: confirmTO.ID})
	for _, tk := range []*task.Task{rejected, refused, collab} {
		wantState(env, tk.ID, task.PlatformIntervening)
	}

	env.AdvanceTo(start.Add(24 * time.Hour))
	wantState(env, replyTO.ID, task.PlatformIntervening)
	// action deadline (48 h by default) after the reply at start
	env.AdvanceTo(start.Add(48*time.Hour - time.Second))
	wantState(env, actionTO.ID, task.AwaitingSellerAction)
	env.AdvanceTo(start.Add(48 * time.Hour))
	wantState(env, actionTO.ID, task.PlatformIntervening)
	// buyer's silence on a plan: accepted by default (72 h), not intervention
	env.AdvanceTo(start.Add(72 * time.Hour))
	wantState(env, confirmTO.ID, task.AwaitingSellerAction)

	for _, tk := range []*task.Task{replyTO, actionTO, rejected, refused, collab} {
		evs := env.Events(tk.ID)
		last := evs[len(evs)-1]
		if last.To != task.PlatformIntervening || last.Rule == "" {
			t.Fatalf("%s: last event %+v", tk.Type, last)
		}
	}
	// the agent judges and closes
	got := act(env, task.Command{Action: task.ActResolve, Actor: agent("xiaoer"), TaskID: refused.ID, Outcome: "judged"})
	if got.State != task.Completed || got.Outcome != "judged" {
		t.Fatalf("resolve → %+v", got)
	}
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActResolve, Actor: shopMain("tm_main"), TaskID: replyTO.ID})
	wantErr(t, err, apperr.EFORBIDDEN, "role", "", "R-ACC-1")
}

// R-ST-4: a task never goes back to awaiting_seller_reply, a completed task
// takes no more actions, and every event records actor, time, rule, policy
// version and visibility.
func TestHistory_R_ST_4_EventsAndNoWayBack(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall)
	var ids []string
	for i, typ := range task.Types {
		tk := openTask(env, "tm", "o"+string(rune('a'+i)), typ)
		ids = append(ids, tk.ID)
	}
	// drive a mix of paths
	t0 := env.Task(ids[5]) // return_refund
	act(env, task.Command{Action: task.ActProposePlan, Actor: shopMain("tm_main"), TaskID: t0.ID})
	act(env, task.Command{Action: task.ActRejectPlan, Actor: buyer(t0.BuyerID), TaskID: t0.ID})
	act(env, task.Command{Action: task.ActMessage, Actor: shopMain("tm_main"), TaskID: t0.ID, Text: "please look at the photos"})
	act(env, task.Command{Action: task.ActAgentNote, Actor: agent("xiaoer"), TaskID: t0.ID, Text: "checked"})
	act(env, task.Command{Action: task.ActResolve, Actor: agent("xiaoer"), TaskID: t0.ID, Outcome: "refund"})
	env.Advance(80 * time.Hour)

	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActAgentNote, Actor: agent("xiaoer"), TaskID: t0.ID})
	wantErr(t, err, apperr.ECONFLICT, "task.completed", "", "R-ST-4")
	_, err = env.Engine.Act(env.Ctx, task.Command{Action: task.ActReply, Actor: shopMain("tm_main"), TaskID: ids[6]})
	wantErr(t, err, apperr.ECONFLICT, "task.state", "", "")

	for _, id := range ids {
		evs := env.Events(id)
		if len(evs) < 2 {
			t.Fatalf("task %s has %d events", id, len(evs))
		}
		for i, ev := range evs {
			if ev.At.IsZero() || ev.Actor.Role == "" || ev.Actor.ID == "" || ev.Rule == "" || ev.PolicyVersion == "" || ev.Visibility == "" || ev.Action == "" {
				t.Fatalf("task %s event %d lacks actor/time/rule/policy/visibility: %+v", id, i, ev)
			}
			if ev.TaskID != id || ev.Stream != id {
				t.Fatalf("event %d of %s is on %s/%s", i, id, ev.TaskID, ev.Stream)
			}
			if i == 0 {
				if ev.Action != string(task.ActCreate) || ev.To != task.AwaitingSellerReply {
					t.Fatalf("first event %+v", ev)
				}
				continue
			}
			if ev.To == task.AwaitingSellerReply && ev.From != task.AwaitingSellerReply {
				t.Fatalf("task %s went back to awaiting_seller_reply: %+v", id, ev)
			}
			if i > 0 && ev.From != evs[i-1].To {
				t.Fatalf("task %s: event %d from %s but the previous left it %s", id, i, ev.From, evs[i-1].To)
			}
		}
		if got := env.Task(id); got.State != evs[len(evs)-1].To {
			t.Fatalf("task %s is %s but its last event says %s", id, got.State, evs[len(evs)-1].To)
		}
	}
}
