package task_test

import (
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

var bjZone = time.FixedZone("CST", 8*3600)

func bj(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, bjZone)
}

type fixture struct {
	shop  *commerce.Shop
	order *commerce.Order
	main  *commerce.Account
	subOK *commerce.Account
	subNo *commerce.Account
}

func newFixture(now time.Time) *fixture {
	return &fixture{
		shop: &commerce.Shop{ID: "s1", Platform: commerce.Tmall, MainAccount: "s1_main", ShipFromRegion: "zhejiang"},
		order: &commerce.Order{ID: "o1", ShopID: "s1", BuyerID: "b1", BuyerRegion: "beijing", PaidFen: 10000,
			PaidAt: now.Add(-48 * time.Hour), ShipBy: now.Add(-24 * time.Hour), Items: []commerce.Item{{SKU: "A"}}},
		main:  &commerce.Account{ID: "s1_main", ShopID: "s1", Role: commerce.RoleMain},
		subOK: &commerce.Account{ID: "s1_ok", ShopID: "s1", Role: commerce.RoleSub, Permissions: []string{commerce.PermPlatformTask}},
		subNo: &commerce.Account{ID: "s1_no", ShopID: "s1", Role: commerce.RoleSub},
	}
}

func (f *fixture) create(t *testing.T, r *policy.RuleSet, typ task.Type, actor task.Actor, now time.Time) task.Decision {
	t.Helper()
	d, err := task.Decide(&task.Input{Cmd: task.Command{Action: task.ActCreate, Actor: actor, OrderID: f.order.ID, Type: typ},
		Order: f.order, Shop: f.shop, Rules: r, Now: now})
	if err != nil {
		t.Fatalf("create %s: %v", typ, err)
	}
	d.Task.ID = "tsk_1"
	return d
}

func (f *fixture) decide(tk *task.Task, cmd task.Command, acc *commerce.Account, r *policy.RuleSet, now time.Time) (task.Decision, error) {
	cmd.TaskID = tk.ID
	return task.Decide(&task.Input{Task: tk, Cmd: cmd, Order: f.order, Shop: f.shop, Account: acc, Rules: r, Now: now})
}

func wantRefusal(t *testing.T, err error, code apperr.Code, reason, field, rule string) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Code != code || (reason != "" && ae.Reason != reason) || (field != "" && ae.Field != field) || (rule != "" && ae.Rule != rule) {
		t.Fatalf("got %v (%+v); want %s reason %q field %q rule %q", err, ae, code, reason, field, rule)
	}
}

func kinds(ts []task.Timer) map[string]time.Time {
	m := map[string]time.Time{}
	for _, t := range ts {
		m[t.Kind] = t.DueAt
	}
	return m
}

// R-SLA-1, R-ST-4: creation starts the 24 h reply timer (and the reminder 2 h
// before it), and its event records actor, time, rule, policy version, visibility.
func TestDecide_R_SLA_1_Create(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	r := rulesAt(t, commerce.Tmall, "2023-08-01T10:00:00+08:00")
	f := newFixture(now)
	d := f.create(t, r, task.Exchange, task.Actor{Role: task.RoleBuyer, ID: "b1"}, now)
	if d.Task.State != task.AwaitingSellerReply || d.Task.DueAt == nil || !d.Task.DueAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("task %+v", d.Task)
	}
	k := kinds(d.Start)
	if !k[task.TimerReply].Equal(now.Add(24*time.Hour)) || !k[task.TimerRemind].Equal(now.Add(22*time.Hour)) || len(k) != 2 {
		t.Fatalf("timers %v", k)
	}
	ev := d.Event
	if ev.Actor.ID != "b1" || !ev.At.Equal(now) || ev.Rule != "R-SLA-1" || ev.PolicyVersion != r.Version || ev.Visibility != task.Public || ev.To != task.AwaitingSellerReply {
		t.Fatalf("event %+v", ev)
	}
	if d.Task.PolicyVersion != r.Version || r.Version == "" {
		t.Fatalf("policy version %q / %q", d.Task.PolicyVersion, r.Version)
	}
}

// R-ST-1: reply → awaiting_seller_action (reply and reminder timers stop, the
// action timer starts); plan → awaiting_buyer_confirmation (confirm timer).
// R-ST-2: accept → awaiting_seller_action; reject → platform_intervening.
func TestDecide_R_ST_1_R_ST_2_Transitions(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	r := rulesAt(t, commerce.Tmall, "2023-08-01T10:00:00+08:00")
	f := newFixture(now)
	seller := task.Actor{Role: task.RoleShopMain, ID: "s1_main"}
	b := task.Actor{Role: task.RoleBuyer, ID: "b1"}
	created := f.create(t, r, task.Repair, b, now).Task

	later := now.Add(time.Hour)
	d, err := f.decide(&created, task.Command{Action: task.ActReply, Actor: seller}, f.main, r, later)
	if err != nil {
		t.Fatal(err)
	}
	if d.Task.State != task.AwaitingSellerAction || d.Task.Rev != created.Rev+1 || d.Event.From != task.AwaitingSellerReply || d.Event.Rule != "R-ST-1" {
		t.Fatalf("reply: %+v / %+v", d.Task, d.Event)
	}
	if len(d.Stop) != 2 || !kinds(d.Start)[task.TimerAction].Equal(later.Add(48*time.Hour)) {
		t.Fatalf("reply timers: stop %v start %v", d.Stop, d.Start)
	}

	d, err = f.decide(&created, task.Command{Action: task.ActProposePlan, Actor: seller, Text: "plan"}, f.main, r, later)
	if err != nil {
		t.Fatal(err)
	}
	plan := d.Task
	if plan.State != task.AwaitingBuyerConfirmation || plan.Reply == nil || plan.Reply.Text != "plan" || !kinds(d.Start)[task.TimerConfirm].Equal(later.Add(72*time.Hour)) {
		t.Fatalf("plan: %+v %v", plan, d.Start)
	}
	d, err = f.decide(&plan, task.Command{Action: task.ActAcceptPlan, Actor: b}, nil, r, later)
	if err != nil || d.Task.State != task.AwaitingSellerAction || d.Event.Rule != "R-ST-2" {
		t.Fatalf("accept: %v %+v", err, d.Task)
	}
	d, err = f.decide(&plan, task.Command{Action: task.ActRejectPlan, Actor: b}, nil, r, later)
	if err != nil || d.Task.State != task.PlatformIntervening || d.Event.Rule != "R-ST-2" {
		t.Fatalf("reject: %v %+v", err, d.Task)
	}
	_, err = f.decide(&plan, task.Command{Action: task.ActAcceptPlan, Actor: task.Actor{Role: task.RoleBuyer, ID: "b2"}}, nil, r, later)
	wantRefusal(t, err, apperr.EFORBIDDEN, "not_your_order", "", "")
	_, err = f.decide(&plan, task.Command{Action: task.ActReply, Actor: seller}, f.main, r, later)
	wantRefusal(t, err, apperr.ECONFLICT, "task.state", "", "R-ST-1")
}

// R-ST-4: a completed task takes no action.
func TestDecide_R_ST_4_CompletedIsFinal(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	r := rulesAt(t, commerce.Tmall, "2023-08-01T10:00:00+08:00")
	f := newFixture(now)
	tk := f.create(t, r, task.ReturnRefund, task.Actor{Role: task.RoleBuyer, ID: "b1"}, now).Task
	tk.State = task.Completed
	for _, a := range []task.Action{task.ActReply, task.ActReplyTimeout, task.ActResolve, task.ActRefunded} {
		_, err := f.decide(&tk, task.Command{Action: a, Actor: task.Actor{Role: task.RoleSystem, ID: "x"}}, nil, r, now)
		wantRefusal(t, err, apperr.ECONFLICT, "task.completed", "", "R-ST-4")
	}
}

// R-ST-3: a shipment while a complaint is open leaves the task open with the
// completion pending; finishing the complaint completes it.
func TestDecide_R_ST_3_PendingCompletion(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	r := rulesAt(t, commerce.Taobao, "2023-08-01T10:00:00+08:00")
	f := newFixture(now)
	f.shop.Platform = commerce.Taobao
	tk := f.create(t, r, task.UrgeShipment, task.Actor{Role: task.RoleBuyer, ID: "b1"}, now).Task
	sys := task.Actor{Role: task.RoleSystem, ID: "fact"}

	d, err := f.decide(&tk, task.Command{Action: task.ActShipped, Actor: sys}, nil, r, now)
	if err != nil || d.Task.State != task.Completed || d.Task.Outcome != "shipped" {
		t.Fatalf("no complaint: %v %+v", err, d.Task)
	}

	tk.State, tk.OpenComplaints, tk.ComplaintIDs = task.PlatformIntervening, 1, []string{"cmp_1"}
	d, err = f.decide(&tk, task.Command{Action: task.ActShipped, Actor: sys}, nil, r, now)
	if err != nil || d.Task.State != task.PlatformIntervening || d.Task.CompletionPending != "shipped" {
		t.Fatalf("open complaint: %v %+v", err, d.Task)
	}
	pending := d.Task
	d, err = f.decide(&pending, task.Command{Action: task.ActComplaintFinished, Actor: sys}, nil, r, now)
	if err != nil || d.Task.State != task.Completed || d.Task.Outcome != "shipped" || d.Task.OpenComplaints != 0 {
		t.Fatalf("complaint finished: %v %+v", err, d.Task)
	}
}

// R-ACC-1: a sub-account needs the platform-task permission; the main account
// has every permission; an account of another shop is refused.
func TestDecide_R_ACC_1_Permission(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	r := rulesAt(t, commerce.Tmall, "2023-08-01T10:00:00+08:00")
	f := newFixture(now)
	tk := f.create(t, r, task.Resend, task.Actor{Role: task.RoleBuyer, ID: "b1"}, now).Task
	reply := func(role task.Role, acc *commerce.Account) error {
		_, err := f.decide(&tk, task.Command{Action: task.ActReply, Actor: task.Actor{Role: role, ID: acc.ID}}, acc, r, now)
		return err
	}
	wantRefusal(t, reply(task.RoleShopSub, f.subNo), apperr.EFORBIDDEN, "permission.platform_task", "", "R-ACC-1")
	if err := reply(task.RoleShopSub, f.subOK); err != nil {
		t.Fatal(err)
	}
	if err := reply(task.RoleShopMain, f.main); err != nil {
		t.Fatal(err)
	}
	other := &commerce.Account{ID: "x_main", ShopID: "x", Role: commerce.RoleMain}
	wantRefusal(t, reply(task.RoleShopMain, other), apperr.EFORBIDDEN, "not_your_shop", "", "")
	wantRefusal(t, reply(task.RoleShopMain, f.subOK), apperr.EFORBIDDEN, "role", "", "")
	_, err := f.decide(&tk, task.Command{Action: task.ActReply, Actor: task.Actor{Role: task.RoleBuyer, ID: "b1"}}, nil, r, now)
	wantRefusal(t, err, apperr.EFORBIDDEN, "role", "", "R-ACC-1")
	if !f.main.Has(commerce.PermPlatformTask) || f.subNo.Has(commerce.PermPlatformTask) || !f.subOK.Has(commerce.PermPlatformTask) {
		t.Fatal("Account.Has")
	}
}

// R-COL-3: the contact time must not be before creation nor after now;
// unreachable needs attempts and evidence.
func TestDecide_R_COL_3_ContactGuard(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	r := rulesAt(t, commerce.Tmall, "2023-08-01T10:00:00+08:00")
	f := newFixture(now)
	tk := f.create(t, r, task.Collaborative, task.Actor{Role: task.RoleAgent, ID: "a1"}, now).Task
	seller := task.Actor{Role: task.RoleShopMain, ID: "s1_main"}
	later := now.Add(2 * time.Hour)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	for _, c := range []struct {
		a     task.Action
		reply *task.Reply
		field string
	}{
		{task.ActCollabAgreed, &task.Reply{ContactedAt: at(-time.Second)}, "reply.contacted_at"},
		{task.ActCollabAgreed, &task.Reply{ContactedAt: at(3 * time.Hour)}, "reply.contacted_at"},
		{task.ActCollabNotAgreed, nil, "reply.contacted_at"},
		{task.ActCollabUnreachable, &task.Reply{ContactedAt: at(time.Hour), Evidence: []string{"e"}}, "reply.attempts"},
		{task.ActCollabUnreachable, &task.Reply{ContactedAt: at(time.Hour), Attempts: 2}, "reply.evidence"},
	} {
		_, err := f.decide(&tk, task.Command{Action: c.a, Actor: seller, Reply: c.reply}, f.main, r, later)
		wantRefusal(t, err, apperr.EINVALID, "", c.field, "R-COL-3")
	}
	d, err := f.decide(&tk, task.Command{Action: task.ActCollabAgreed, Actor: seller, Reply: &task.Reply{ContactedAt: at(0)}}, f.main, r, later)
	if err != nil || d.Task.State != task.Completed || d.Task.Outcome != "agreed" {
		t.Fatalf("contact at creation: %v %+v", err, d.Task)
	}
	d, err = f.decide(&tk, task.Command{Action: task.ActCollabUnreachable, Actor: seller,
		Reply: &task.Reply{ContactedAt: at(time.Hour), Attempts: 3, Evidence: []string{"call.log"}}}, f.main, r, later)
	if err != nil || d.Task.State != task.PlatformIntervening || d.Event.Rule != "R-COL-3" {
		t.Fatalf("unreachable: %v %+v", err, d.Task)
	}
}

// R-COL-1: collaborative tasks are opened by the platform, on Tmall only.
func TestDecide_R_COL_1_CreatedByPlatformOnTmall(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	f := newFixture(now)
	cmd := task.Command{Action: task.ActCreate, OrderID: "o1", Type: task.Collaborative}
	in := func(r *policy.RuleSet, a task.Actor) *task.Input {
		c := cmd
		c.Actor = a
		return &task.Input{Cmd: c, Order: f.order, Shop: f.shop, Rules: r, Now: now}
	}
	tm := rulesAt(t, commerce.Tmall, "2023-08-01T10:00:00+08:00")
	tb := rulesAt(t, commerce.Taobao, "2023-08-01T10:00:00+08:00")
	_, err := task.Decide(in(tm, task.Actor{Role: task.RoleBuyer, ID: "b1"}))
	wantRefusal(t, err, apperr.EFORBIDDEN, "role", "", "R-ACC-1")
	_, err = task.Decide(in(tb, task.Actor{Role: task.RoleAgent, ID: "a"}))
	wantRefusal(t, err, apperr.EINVALID, "", "type", "")
	for _, a := range []task.Actor{{Role: task.RoleAgent, ID: "a"}, {Role: task.RoleSystem, ID: "s"}} {
		d, err := task.Decide(in(tm, a))
		if err != nil || d.Event.Rule != "R-COL-1" || len(d.Effects) != 1 || d.Effects[0] != task.EffNotifyCreated {
			t.Fatalf("%s: %v %+v", a.Role, err, d)
		}
	}
}

// R-MSG-1: the message guard follows the policy's type list in force;
// R-MSG-2: the event is shop_agent.
func TestDecide_R_MSG_1_Guard(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	f := newFixture(now)
	seller := task.Actor{Role: task.RoleShopMain, ID: "s1_main"}
	before := rulesAt(t, commerce.Tmall, "2023-07-03T23:59:59+08:00")
	after := rulesAt(t, commerce.Tmall, "2023-07-04T00:00:00+08:00")
	for _, typ := range task.Types {
		tk := task.Task{ID: "t", Type: typ, State: task.PlatformIntervening, OrderID: "o1", ShopID: "s1", BuyerID: "b1", Rev: 3}
		_, err := f.decide(&tk, task.Command{Action: task.ActMessage, Actor: seller, Text: "hi"}, f.main, before, now)
		wantRefusal(t, err, apperr.EFORBIDDEN, "message_agent.type", "", "R-MSG-1")
		d, err := f.decide(&tk, task.Command{Action: task.ActMessage, Actor: seller, Text: "hi"}, f.main, after, now)
		eight := policy.Contains(after.Notify.CardTypes, string(typ))
		if eight != (err == nil) {
			t.Fatalf("%s: message allowed=%v, want %v (%v)", typ, err == nil, eight, err)
		}
		if err == nil && (d.Event.Visibility != task.ShopAgent || d.Task.State != task.PlatformIntervening) {
			t.Fatalf("%s: %+v", typ, d.Event)
		}
	}
	if len(after.Messages.AgentMessageTypes) != 8 || len(after.Notify.CardTypes) != 8 {
		t.Fatalf("policy lists %v / %v, want 8 types each", after.Messages.AgentMessageTypes, after.Notify.CardTypes)
	}
}
