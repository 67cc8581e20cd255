package engine_test

import (
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/task"
)

// Issue 12, finding 2: a command on another tenant's object is refused as
// not theirs before anything about the object's state or the request is
// checked, so a stranger never learns that an order has an open task (and
// its id), that a task is completed or waits on someone else, that an
// attachment is used, or that an account is a sub-account. The refusal is
// the same not_your_order / not_your_shop the decision gives (the API
// answers people an unknown id's 404 for it), and nothing changes.
func TestTenantCheckedBeforeConflictsAndValidation(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao, subAcc("tb_s1", true, false))
	addShop(env, "xx", commerce.Taobao)
	open := openTask(env, "tb", "o1", task.Resend) // o1 has an open resend task
	done := openTask(env, "tb", "o2", task.Resend)
	act(env, task.Command{Action: task.ActRefuse, Actor: shopMain("tb_main"), TaskID: done.ID, Text: "no"})
	act(env, task.Command{Action: task.ActResolve, Actor: agent("a1"), TaskID: done.ID, Outcome: "resent"})
	refund := openRefund(t, env, "o3", task.ReturnRefund, "not_received", "")
	att, err := env.Engine.UploadAttachment(env.Ctx, buyer(buyerOf("o3")), refund.ID, "p.png", pngBytes)
	if err != nil {
		t.Fatal(err)
	}
	act(env, task.Command{Action: task.ActProvideEvidence, Actor: buyer(buyerOf("o3")), TaskID: refund.ID,
		Evidence: &task.EvidenceInput{Description: "crushed", Attachments: []string{att.ID}}})
	before := map[string]world{}
	for _, o := range []string{"o1", "o2", "o3"} {
		before[o] = snapshot(env, o)
	}
	stranger, otherShop := buyer("b_stranger"), shopMain("xx_main")

	cases := []struct {
		name   string
		run    func() error
		reason string
	}{
		{"open a task on an order that has one open", func() error {
			_, err := env.Engine.CreateTask(env.Ctx, task.Command{Actor: stranger, OrderID: "o1", Type: task.Resend})
			return err
		}, "not_your_order"},
		{"open a task of an unknown type", func() error {
			_, err := env.Engine.CreateTask(env.Ctx, task.Command{Actor: stranger, OrderID: "o1", Type: "no_such_type"})
			return err
		}, "not_your_order"},
		{"act on a completed task", func() error {
			_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActReply, Actor: otherShop, TaskID: done.ID})
			return err
		}, "not_your_shop"},
		{"act on a task in another state", func() error {
			_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActAcceptPlan, Actor: stranger, TaskID: open.ID})
			return err
		}, "not_your_order"},
		{"give evidence naming a used attachment", func() error {
			_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActProvideEvidence, Actor: stranger, TaskID: refund.ID,
				Evidence: &task.EvidenceInput{Description: "mine", Attachments: []string{att.ID}}})
			return err
		}, "not_your_order"},
		{"give evidence naming an attachment twice", func() error {
			_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActProvideEvidence, Actor: otherShop, TaskID: refund.ID,
				Evidence: &task.EvidenceInput{Description: "mine", Attachments: []string{att.ID, att.ID}}})
			return err
		}, "not_your_shop"},
		{"complain with an unknown kind", func() error {
			_, err := env.Engine.FileComplaint(env.Ctx, stranger, "o1", "no_such_kind")
			return err
		}, "not_your_order"},
		{"claim with an unknown kind", func() error {
			_, err := env.Engine.FileClaim(env.Ctx, stranger, "o1", engine.ClaimInput{Kind: "no_such_kind"})
			return err
		}, "not_your_order"},
		{"subscribe another shop's sub-account", func() error {
			_, err := env.Engine.Subscribe(env.Ctx, otherShop, "tb_s1", "ask_everyone", true)
			return err
		}, "not_your_shop"},
		{"subscribe with an unknown topic", func() error {
			_, err := env.Engine.Subscribe(env.Ctx, otherShop, "tb_main", "no_such_topic", true)
			return err
		}, "not_your_shop"},
		{"make a sub-account with an unknown permission", func() error {
			_, err := env.Engine.CreateSubAccount(env.Ctx, otherShop, "tb", "tb_new", []string{"no_such_permission"}, &auth.Person{Login: "tb.new"})
			return err
		}, "not_your_shop"},
		{"grant an unknown permission", func() error {
			_, err := env.Engine.SetPermission(env.Ctx, otherShop, "tb_s1", "no_such_permission", true)
			return err
		}, "not_your_shop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, c.run(), apperr.EFORBIDDEN, c.reason, "", "")
			for o, w := range before {
				sameWorld(t, w, snapshot(env, o))
			}
		})
	}
	// the owner still gets the specific refusals
	_, err = env.Engine.CreateTask(env.Ctx, task.Command{Actor: buyer(buyerOf("o1")), OrderID: "o1", Type: task.Resend})
	wantErr(t, err, apperr.ECONFLICT, "task.open_exists", "type", "")
	_, err = env.Engine.FileComplaint(env.Ctx, buyer(buyerOf("o1")), "o1", "no_such_kind")
	wantErr(t, err, apperr.EINVALID, "", "kind", "")
	_, err = env.Engine.Subscribe(env.Ctx, shopMain("tb_main"), "tb_s1", "ask_everyone", true)
	wantErr(t, err, apperr.EFORBIDDEN, "qa.not_main_account", "", "")
}
