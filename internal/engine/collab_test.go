package engine_test

import (
	"encoding/json"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

func collab(env *testkit.Env, actor task.Actor, orderID string) (*task.Task, error) {
	return env.Engine.CreateTask(env.Ctx, task.Command{Actor: actor, OrderID: orderID, Type: task.Collaborative})
}

// R-COL-1: collaborative tasks run on Tmall only; the platform (agent or
// system) opens them, never the buyer; the shop's main account gets a card
// from the official service account and an SMS; 24 h to reply.
func TestCollab_R_COL_1_CreationAndChannels(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall, subAcc("tm_s1", true, true))
	addShop(env, "tb", commerce.Taobao)
	addOrder(env, "tm", "o1")
	addOrder(env, "tm", "o2")
	addOrder(env, "tb", "o3")

	_, err := collab(env, buyer(buyerOf("o1")), "o1")
	wantErr(t, err, apperr.EFORBIDDEN, "role", "", "R-ACC-1")
	_, err = collab(env, shopMain("tm_main"), "o1")
	wantErr(t, err, apperr.EFORBIDDEN, "role", "", "R-ACC-1")
	_, err = collab(env, agent("xiaoer"), "o3")
	wantErr(t, err, apperr.EINVALID, "", "type", "")
	if n := len(env.Tasks(store.TaskFilter{})) + len(env.Outbox()); n != 0 {
		t.Fatalf("refusals left %d tasks/messages", n)
	}

	tk, err := collab(env, agent("xiaoer"), "o1")
	if err != nil {
		t.Fatal(err)
	}
	tk2, err := collab(env, system("helpdesk"), "o2")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*task.Task{tk, tk2} {
		if x.State != task.AwaitingSellerReply || x.DueAt == nil || !x.DueAt.Equal(start.Add(24*time.Hour)) {
			t.Fatalf("task %+v", x)
		}
		if ev := env.Events(x.ID)[0]; ev.Rule != "R-COL-1" {
			t.Fatalf("create event cites %q", ev.Rule)
		}
		var kinds []notify.Kind
		for _, m := range env.Outbox() {
			if m.TaskID != x.ID || (m.Kind != notify.KindCollabCard && m.Kind != notify.KindCollabSMS) {
				continue
			}
			if m.Recipient != "tm_main" || m.Rule != "R-COL-1" || m.Status != notify.Pending {
				t.Fatalf("message %+v", m)
			}
			kinds = append(kinds, m.Kind)
		}
		if len(kinds) != 2 || kinds[0] != notify.KindCollabCard || kinds[1] != notify.KindCollabSMS {
			t.Fatalf("collaborative messages %v, want card and SMS", kinds)
		}
	}
}

func contact(at time.Time) *task.Reply { return &task.Reply{ContactedAt: &at} }

// R-COL-2: the reply says whether agreement was reached: agreed completes the
// task, not agreed goes to the platform; both are recorded with their evidence.
func TestCollab_R_COL_2_AgreedOrNot(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall)
	a := openTask(env, "tm", "o1", task.Collaborative)
	b := openTask(env, "tm", "o2", task.Collaborative)
	env.Advance(2 * time.Hour)
	r := contact(start.Add(time.Hour))
	r.Evidence = []string{"sha256:aa"}
	got := act(env, task.Command{Action: task.ActCollabAgreed, Actor: shopMain("tm_main"), TaskID: a.ID, Reply: r, Text: "refunded half"})
	if got.State != task.Completed || got.Outcome != "agreed" || got.Reply.Outcome != "agreed" || len(got.Reply.Evidence) != 1 || got.Reply.Text != "refunded half" {
		t.Fatalf("agreed → %+v %+v", got, got.Reply)
	}
	got = act(env, task.Command{Action: task.ActCollabNotAgreed, Actor: shopMain("tm_main"), TaskID: b.ID, Reply: contact(start.Add(time.Hour))})
	if got.State != task.PlatformIntervening || got.Reply.Outcome != "not_agreed" {
		t.Fatalf("not agreed → %+v", got)
	}
	evs := env.Events(a.ID)
	var rep task.Reply
	if err := json.Unmarshal(evs[len(evs)-1].Data, &rep); err != nil || rep.Outcome != "agreed" || rep.ContactedAt == nil {
		t.Fatalf("event data %s (%v)", evs[len(evs)-1].Data, err)
	}
	if evs[len(evs)-1].Rule != "R-COL-2" {
		t.Fatalf("event cites %q", evs[len(evs)-1].Rule)
	}
}

// R-COL-3: a contact time before the task was created does not meet the
// standard: refused with field reply.contacted_at and nothing changes; at the
// creation instant it does. "Unreachable" needs attempts and contact evidence.
func TestCollab_R_COL_3_ContactAfterCreation(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall)
	a := openTask(env, "tm", "o1", task.Collaborative)
	b := openTask(env, "tm", "o2", task.Collaborative)
	env.Advance(3 * time.Hour)

	for _, c := range []struct {
		name  string
		cmd   task.Command
		field string
	}{
		{"before creation", task.Command{Action: task.ActCollabAgreed, Reply: contact(start.Add(-time.Second))}, "reply.contacted_at"},
		{"no time", task.Command{Action: task.ActCollabAgreed, Reply: &task.Reply{}}, "reply.contacted_at"},
		{"no reply", task.Command{Action: task.ActCollabNotAgreed}, "reply.contacted_at"},
		{"future", task.Command{Action: task.ActCollabAgreed, Reply: contact(env.Clock.Now().Add(time.Minute))}, "reply.contacted_at"},
		{"unreachable before creation", task.Command{Action: task.ActCollabUnreachable,
			Reply: &task.Reply{ContactedAt: ptr(start.Add(-time.Hour)), Attempts: 3, Evidence: []string{"call.log"}}}, "reply.contacted_at"},
		{"unreachable no attempts", task.Command{Action: task.ActCollabUnreachable,
			Reply: &task.Reply{ContactedAt: ptr(start.Add(time.Hour)), Evidence: []string{"call.log"}}}, "reply.attempts"},
		{"unreachable no evidence", task.Command{Action: task.ActCollabUnreachable,
			Reply: &task.Reply{ContactedAt: ptr(start.Add(time.Hour)), Attempts: 3}}, "reply.evidence"},
	} {
		cmd := c.cmd
		cmd.Actor, cmd.TaskID = shopMain("tm_main"), a.ID
		before := snapshot(env, "o1")
		_, err := env.Engine.Act(env.Ctx, cmd)
		if ae := wantErr(t, err, apperr.EINVALID, "", c.field, "R-COL-3"); ae == nil {
			t.Fatalf("%s: no refusal", c.name)
		}
		sameWorld(t, before, snapshot(env, "o1"))
	}
	wantState(env, a.ID, task.AwaitingSellerReply)

	// contact exactly at creation meets the standard
	got := act(env, task.Command{Action: task.ActCollabAgreed, Actor: shopMain("tm_main"), TaskID: a.ID, Reply: contact(start)})
	if got.State != task.Completed {
		t.Fatalf("state %s", got.State)
	}
	got = act(env, task.Command{Action: task.ActCollabUnreachable, Actor: shopMain("tm_main"), TaskID: b.ID,
		Reply: &task.Reply{ContactedAt: ptr(start.Add(time.Hour)), Attempts: 3, Evidence: []string{"call.log"}}})
	if got.State != task.PlatformIntervening || got.Reply.Outcome != "unreachable" || got.Reply.Attempts != 3 {
		t.Fatalf("unreachable → %+v", got)
	}
}

// R-COL-4: a collaborative task left without a reply goes to the platform and
// the shop has waived its evidence.
func TestCollab_R_COL_4_TimeoutWaivesEvidence(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tm", commerce.Tmall)
	tk := openTask(env, "tm", "o1", task.Collaborative)
	env.AdvanceTo(start.Add(24 * time.Hour))
	got := wantState(env, tk.ID, task.PlatformIntervening)
	if !got.EvidenceWaived {
		t.Fatal("evidence not waived")
	}
}

func ptr[T any](v T) *T { return &v }
