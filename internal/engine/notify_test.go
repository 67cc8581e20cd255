package engine_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// openAt moves the clock to at and opens a return_refund task on a new order.
func openAt(env *testkit.Env, at time.Time, shopID, orderID string) *task.Task {
	env.T.Helper()
	env.AdvanceTo(at)
	return openTask(env, shopID, orderID, task.ReturnRefund)
}

func reminderFor(env *testkit.Env, taskID string) []notify.Message {
	var out []notify.Message
	for _, m := range outboxOf(env, notify.KindReminder) {
		if m.TaskID == taskID {
			out = append(out, m)
		}
	}
	return out
}

// R-NTF-1: reminders go only to subscribed sub-accounts with the permission;
// at most 10 per account per business day (Asia/Shanghai): the 10th at
// 23:59:59 +08:00 is sent, the 11th is kept as suppressed, and the next one at
// 00:00:00 +08:00 (still the same UTC day) starts a new day.
func TestRemind_R_NTF_1_DailyCap(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T09:00:00"))
	addShop(env, "tb", commerce.Taobao,
		subAcc("s_ok", true, true), subAcc("s_noperm", false, true), subAcc("s_nosub", true, false))
	var tasks []*task.Task
	for i := 1; i <= 9; i++ {
		tasks = append(tasks, openAt(env, bj(t, "2023-08-01T10:00:00").Add(time.Duration(i)*time.Minute), "tb", fmt.Sprintf("o%02d", i)))
	}
	tasks = append(tasks, openAt(env, bj(t, "2023-08-01T23:59:59"), "tb", "o10"))
	tasks = append(tasks, openAt(env, bj(t, "2023-08-01T23:59:59"), "tb", "o11"))
	tasks = append(tasks, openAt(env, bj(t, "2023-08-02T00:00:00"), "tb", "o12"))

	for i, tk := range tasks {
		ms := reminderFor(env, tk.ID)
		if len(ms) != 1 || ms[0].Recipient != "s_ok" || ms[0].Rule != "R-NTF-1" {
			t.Fatalf("reminder %d: %+v, want one to s_ok", i+1, ms)
		}
		want := notify.Pending
		if i+1 == 11 {
			want = notify.Suppressed
		}
		if ms[0].Status != want {
			t.Fatalf("reminder %d at %s: %s, want %s", i+1, ms[0].At.In(beijing), ms[0].Status, want)
		}
	}
	if n := counter(env, engine.ReminderCounterKey("s_ok", "2023-08-01")); n != 11 {
		t.Fatalf("day counter %d, want 11", n)
	}
	if n := counter(env, engine.ReminderCounterKey("s_ok", "2023-08-02")); n != 1 {
		t.Fatalf("next day counter %d, want 1", n)
	}
	for _, m := range env.Outbox() {
		if m.Kind == notify.KindReminder && m.Recipient != "s_ok" {
			t.Fatalf("reminder to %s (unsubscribed or without permission)", m.Recipient)
		}
	}
}

// R-NTF-1: the reminder before the reply deadline (22 h after creation by
// default) counts under the same cap.
func TestRemind_R_NTF_1_DeadlineReminderCapped(t *testing.T) {
	start := bj(t, "2023-08-01T01:00:00")
	env := newEnv(t, start)
	addShop(env, "tb", commerce.Taobao, subAcc("s_ok", true, true))
	first := openTask(env, "tb", "o00", task.Exchange) // its deadline reminder is at 2023-08-01T23:00 +08:00
	// 9 more creation reminders on 2023-08-01 → 10 that day
	for i := 1; i <= 9; i++ {
		openAt(env, start.Add(time.Duration(i)*time.Hour), "tb", fmt.Sprintf("o%02d", i))
	}
	env.AdvanceTo(bj(t, "2023-08-01T22:59:59"))
	if ms := reminderFor(env, first.ID); len(ms) != 1 {
		t.Fatalf("deadline reminder early: %+v", ms)
	}
	env.AdvanceTo(bj(t, "2023-08-01T23:00:00"))
	ms := reminderFor(env, first.ID)
	if len(ms) != 2 || ms[1].Status != notify.Suppressed || ms[1].Reason != "deadline: daily cap reached" {
		t.Fatalf("deadline reminder: %+v, want the 11th suppressed", ms)
	}
	wantState(env, first.ID, task.AwaitingSellerReply)
	// the next task's deadline reminder falls on the next business day
	env.AdvanceTo(bj(t, "2023-08-02T00:00:00"))
	ms = reminderFor(env, env.Tasks(store.TaskFilter{OrderID: "o01"})[0].ID)
	if len(ms) != 2 || ms[1].Status != notify.Pending || ms[1].Reason != "deadline" {
		t.Fatalf("next-day deadline reminder: %+v", ms)
	}
}

// R-NTF-2: from 2023-07-04 00:00 +08:00 the creation of exactly eight types
// sends a card with the order's details to the shop's online sub-accounts
// with the permission; none before, none for the other types.
func TestCards_R_NTF_2_EightTypesOnlineWithPermission(t *testing.T) {
	env := newEnv(t, bj(t, "2023-07-03T20:00:00"))
	addShop(env, "tm", commerce.Tmall,
		subAcc("on_ok", true, false), subAcc("off_ok", true, false), subAcc("on_noperm", false, false))
	setOnline(env, "on_ok", true)
	setOnline(env, "on_noperm", true)

	before := openAt(env, bj(t, "2023-07-03T23:59:59"), "tm", "before")
	if n := len(outboxOf(env, notify.KindCard)); n != 0 {
		t.Fatalf("%d cards before 2023-07-04", n)
	}
	first := openAt(env, bj(t, "2023-07-04T00:00:00"), "tm", "first")
	cards := outboxOf(env, notify.KindCard)
	if len(cards) != 1 || cards[0].TaskID != first.ID || cards[0].Recipient != "on_ok" || cards[0].Rule != "R-NTF-2" {
		t.Fatalf("cards %+v", cards)
	}
	var p struct {
		TaskType task.Type       `json:"task_type"`
		OrderID  string          `json:"order_id"`
		PaidFen  int64           `json:"paid_fen"`
		Items    []commerce.Item `json:"items"`
	}
	if err := json.Unmarshal(cards[0].Payload, &p); err != nil || p.OrderID != "first" || p.PaidFen != 10000 || len(p.Items) != 1 || p.TaskType != task.ReturnRefund {
		t.Fatalf("card payload %s (%v)", cards[0].Payload, err)
	}
	if n := len(env.Events(before.ID)); n != 1 {
		t.Fatalf("task before 2023-07-04 has %d events", n)
	}

	eight := []task.Type{task.ReturnRefund, task.Exchange, task.ChangeAddress, task.Resend,
		task.ProvideReturnAddress, task.Repair, task.PostageRefund, task.DeliveryProblem}
	others := []task.Type{task.UrgeShipment, task.SignedElsewhere, task.LogisticsStall, task.UrgeInvoice,
		task.PresaleDepositRefund, task.Collaborative}
	env.AdvanceTo(bj(t, "2023-07-05T10:00:00"))
	is8 := map[task.Type]bool{}
	for _, typ := range eight {
		is8[typ] = true
	}
	for _, typ := range append(eight, others...) {
		tk := openTask(env, "tm", "x_"+string(typ), typ)
		var got []notify.Message
		for _, m := range outboxOf(env, notify.KindCard) {
			if m.TaskID == tk.ID {
				got = append(got, m)
			}
		}
		if is8[typ] {
			if len(got) != 1 || got[0].Recipient != "on_ok" {
				t.Fatalf("%s: cards %+v, want one to on_ok", typ, got)
			}
		} else if len(got) != 0 {
			t.Fatalf("%s: %d cards, want none", typ, len(got))
		}
	}

	// offline again: no card
	setOnline(env, "on_ok", false)
	tk := openTask(env, "tm", "offline", task.Repair)
	for _, m := range outboxOf(env, notify.KindCard) {
		if m.TaskID == tk.ID {
			t.Fatalf("card to %s while every permitted sub-account is offline", m.Recipient)
		}
	}
}

// R-MSG-1: from 2023-07-04, for the eight types only and only while the task
// is platform_intervening, the shop may leave a message to the agent.
// R-MSG-2: that message is visible to the shop and agents only, never public.
func TestMessage_R_MSG_1_R_MSG_2_AgentMessage(t *testing.T) {
	start := bj(t, "2023-07-02T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall, subAcc("tm_ok", true, false), subAcc("tm_no", false, false))
	rr := openTask(env, "tm", "o1", task.ReturnRefund)
	inv := openTask(env, "tm", "o2", task.UrgeInvoice)
	rep := openTask(env, "tm", "o3", task.Repair)
	msg := func(id string, actor task.Actor) (*task.Task, error) {
		return env.Engine.Act(env.Ctx, task.Command{Action: task.ActMessage, Actor: actor, TaskID: id, Text: "see the photos"})
	}
	// not while awaiting the seller
	_, err := msg(rep.ID, shopMain("tm_main"))
	wantErr(t, err, apperr.ECONFLICT, "task.state", "", "R-MSG-1")

	env.AdvanceTo(start.Add(24 * time.Hour)) // 2023-07-03 10:00: all intervening
	before := snapshot(env, "o1")
	_, err = msg(rr.ID, shopMain("tm_main"))
	wantErr(t, err, apperr.EFORBIDDEN, "message_agent.type", "", "R-MSG-1")
	sameWorld(t, before, snapshot(env, "o1"))

	env.AdvanceTo(bj(t, "2023-07-04T00:00:00"))
	for _, id := range []string{rr.ID, rep.ID} {
		got, err := msg(id, shopMain("tm_main"))
		if err != nil {
			t.Fatalf("message on %s: %v", id, err)
		}
		if got.State != task.PlatformIntervening {
			t.Fatalf("a message changed the state to %s", got.State)
		}
		evs := env.Events(id)
		last := evs[len(evs)-1]
		if last.Action != string(task.ActMessage) || last.Visibility != task.ShopAgent || last.Visibility == task.Public || last.Rule != "R-MSG-1" {
			t.Fatalf("message event %+v", last)
		}
	}
	if _, err := msg(rr.ID, sub("tm_ok")); err != nil {
		t.Fatalf("permitted sub-account: %v", err)
	}
	_, err = msg(rr.ID, sub("tm_no"))
	wantErr(t, err, apperr.EFORBIDDEN, "permission.platform_task", "", "R-ACC-1")
	_, err = msg(rr.ID, buyer(buyerOf("o1")))
	wantErr(t, err, apperr.EFORBIDDEN, "role", "", "")
	_, err = msg(inv.ID, shopMain("tm_main"))
	wantErr(t, err, apperr.EFORBIDDEN, "message_agent.type", "", "R-MSG-1")

	// R-MSG-2: no shop-to-agent message is ever public
	for _, ev := range allEvents(env) {
		if ev.Action == string(task.ActMessage) && ev.Visibility != task.ShopAgent {
			t.Fatalf("message event visible as %s", ev.Visibility)
		}
	}
}
