package engine_test

import (
	"strings"
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

// A person's text in a command is bounded as a fact's is: 4000 characters
// of valid UTF-8 (commerce.MaxText). The 4000th character is taken; the
// 4001st is refused naming the field and changes nothing (issue 12: "cap
// text lengths"), on another shop's task too, so it tells nothing.
func TestCommandText_Bounded(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T08:00:00"))
	addShop(env, "tb", commerce.Taobao)
	addOrder(env, "tb", "o1")
	res := mustUrge(env, "o1", "task_created")
	before := len(env.Events(res.Task.ID))

	for _, c := range []struct {
		name  string
		cmd   task.Command
		field string
	}{
		{"reply text", task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: res.Task.ID,
			Reply: &task.Reply{Text: strings.Repeat("发", commerce.MaxText+1)}}, "reply.text"},
		{"note text", task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: res.Task.ID,
			Text: strings.Repeat("a", commerce.MaxText+1)}, "text"},
		{"invalid UTF-8", task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: res.Task.ID,
			Text: "ok\xff"}, "text"},
		{"another shop's task", task.Command{Action: task.ActReply, Actor: shopMain("other_main"), TaskID: res.Task.ID,
			Text: strings.Repeat("a", commerce.MaxText+1)}, "text"},
		{"an unknown task", task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: "tsk_unknown",
			Text: strings.Repeat("a", commerce.MaxText+1)}, "text"},
		{"a detail on creation", task.Command{Action: task.ActCreate, Actor: buyer(buyerOf("o1")), OrderID: "o1", Type: task.Resend,
			Details: map[string]string{"text": strings.Repeat("a", commerce.MaxText+1)}}, "details.text"},
	} {
		_, err := env.Engine.Act(env.Ctx, c.cmd)
		ae, ok := apperr.As(err)
		if !ok || ae.Code != apperr.EINVALID || ae.Field != c.field {
			t.Errorf("%s: %v, want invalid naming %s", c.name, err, c.field)
		}
	}
	if n := len(env.Events(res.Task.ID)); n != before {
		t.Fatalf("refused commands changed the task's history: %d events, had %d", n, before)
	}
	wantState(env, res.Task.ID, task.AwaitingSellerReply)

	tk := act(env, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: res.Task.ID,
		Reply: &task.Reply{Text: strings.Repeat("发", commerce.MaxText)}})
	if tk.State == task.AwaitingSellerReply {
		t.Fatalf("a reply of exactly %d characters was not taken", commerce.MaxText)
	}
}
