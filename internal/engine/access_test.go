package engine_test

import (
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

// R-ACC-1: a sub-account without the platform-task permission is refused
// with reason permission.platform_task, and nothing changes (same task rev,
// no new events, same timers, no messages); with the permission it works.
func TestAccess_R_ACC_1_SubAccountPermission(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao, subAcc("tb_ok", true, false), subAcc("tb_no", false, false))
	tk := openTask(env, "tb", "o1", task.ReturnRefund)
	env.Advance(time.Hour)

	for _, a := range []task.Action{task.ActReply, task.ActProposePlan, task.ActRefuse} {
		before := snapshot(env, "o1")
		rev := env.Task(tk.ID).Rev
		_, err := env.Engine.Act(env.Ctx, task.Command{Action: a, Actor: sub("tb_no"), TaskID: tk.ID, Text: "hi"})
		wantErr(t, err, apperr.EFORBIDDEN, "permission.platform_task", "", "R-ACC-1")
		sameWorld(t, before, snapshot(env, "o1"))
		if got := env.Task(tk.ID); got.Rev != rev || got.State != task.AwaitingSellerReply || got.Reply != nil {
			t.Fatalf("%s by a sub without permission changed the task: %+v", a, got)
		}
	}
	got := act(env, task.Command{Action: task.ActReply, Actor: sub("tb_ok"), TaskID: tk.ID})
	if got.State != task.AwaitingSellerAction || got.Reply.By != sub("tb_ok") {
		t.Fatalf("reply by a permitted sub: %+v", got)
	}
	// performing is working the task: the same permission is needed
	before := snapshot(env, "o1")
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActPerform, Actor: sub("tb_no"), TaskID: tk.ID})
	wantErr(t, err, apperr.EFORBIDDEN, "permission.platform_task", "", "R-ACC-1")
	sameWorld(t, before, snapshot(env, "o1"))
	if got := act(env, task.Command{Action: task.ActPerform, Actor: sub("tb_ok"), TaskID: tk.ID}); got.State != task.Completed {
		t.Fatalf("perform → %s", got.State)
	}
}

// R-ACC-1: granting the permission later (an account fact) lets the sub-account work.
func TestAccess_R_ACC_1_PermissionGranted(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao, subAcc("tb_s", false, false))
	tk := openTask(env, "tb", "o1", task.Exchange)
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActReply, Actor: sub("tb_s"), TaskID: tk.ID})
	wantErr(t, err, apperr.EFORBIDDEN, "permission.platform_task", "", "R-ACC-1")
	env.MustIngest(commerce.Fact{ID: "acc1", Type: commerce.FactAccount, Account: &commerce.Account{
		ID: "tb_s", ShopID: "tb", Role: commerce.RoleSub, Permissions: []string{commerce.PermPlatformTask}}})
	if got := act(env, task.Command{Action: task.ActReply, Actor: sub("tb_s"), TaskID: tk.ID}); got.State != task.AwaitingSellerAction {
		t.Fatalf("state %s", got.State)
	}
}

// R-ACC-1: the main account always works; another shop's accounts never do,
// whatever their permissions; a sub-account cannot pass for a main account.
func TestAccess_R_ACC_1_MainAndOtherShops(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao, subAcc("tb_ok", true, false))
	addShop(env, "xx", commerce.Taobao, subAcc("xx_ok", true, false))
	tk := openTask(env, "tb", "o1", task.Resend)
	before := snapshot(env, "o1")
	for _, c := range []struct {
		actor  task.Actor
		reason string
	}{
		{shopMain("xx_main"), "not_your_shop"},
		{sub("xx_ok"), "not_your_shop"},
		{sub("ghost"), "not_your_shop"},
		{shopMain("tb_ok"), "role"},
		{sub("tb_main"), "role"},
	} {
		_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActReply, Actor: c.actor, TaskID: tk.ID})
		wantErr(t, err, apperr.EFORBIDDEN, c.reason, "", "")
		sameWorld(t, before, snapshot(env, "o1"))
	}
	if got := act(env, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: tk.ID}); got.State != task.AwaitingSellerAction {
		t.Fatalf("main account reply → %s", got.State)
	}
}
