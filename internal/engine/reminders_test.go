package engine_test

import (
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/notify"
	"aftersale/internal/task"
)

// R-NTF-1: reminders are pop-ups a sub-account subscribes to. The shop's
// main account turns them off and on (recorded on the shop's account
// stream); a task created while they are off reminds nobody, one created
// after they are back on reminds the sub-account. Only the main account may
// change them; setting what is set records nothing.
func TestReminders_R_NTF_1_Settings(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall, subAcc("cs1", true, true))
	if _, err := env.Engine.SetReminders(env.Ctx, sub("cs1"), "cs1", false); apperr.CodeOf(err) != apperr.EFORBIDDEN {
		t.Fatalf("a sub-account changing its settings: %v", err)
	}
	acc, err := env.Engine.SetReminders(env.Ctx, shopMain("tm_main"), "cs1", false)
	if err != nil || acc.SubscribesReminders {
		t.Fatalf("off: %+v %v", acc, err)
	}
	off := openTask(env, "tm", "o1", task.Resend)
	for _, m := range outboxOf(env, notify.KindReminder) {
		if m.TaskID == off.ID && m.Recipient == "cs1" {
			t.Fatalf("reminder while off: %+v", m)
		}
	}
	if _, err := env.Engine.SetReminders(env.Ctx, shopMain("tm_main"), "cs1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Engine.SetReminders(env.Ctx, shopMain("tm_main"), "cs1", true); err != nil {
		t.Fatal(err)
	}
	on := openTask(env, "tm", "o2", task.Resend)
	got := 0
	for _, m := range outboxOf(env, notify.KindReminder) {
		if m.TaskID == on.ID && m.Recipient == "cs1" {
			got++
		}
	}
	if got != 1 {
		t.Fatalf("%d reminders to cs1 once back on, want 1", got)
	}
	var changes []string
	for _, ev := range env.Events(engine.AccountStream("tm")) {
		changes = append(changes, ev.Action+"/"+ev.Rule)
	}
	if len(changes) != 2 || changes[0] != "reminders_off/R-NTF-1" || changes[1] != "reminders_on/R-NTF-1" {
		t.Fatalf("account stream %v", changes)
	}
}
