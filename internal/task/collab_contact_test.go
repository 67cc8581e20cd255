package task_test

import (
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

// R-COL-3: "如果多次联系不上" — an unreachable reply states at least two
// contact attempts (collaborative.unreachable_min_attempts, inferred 2): one
// attempt is refused naming reply.attempts, two are accepted. A reply may
// name the channel it contacted the buyer by ("联系方式不限(旺旺、电话、短信等)"),
// one of collaborative.contact_channels; an unknown one is refused and an
// omitted one is accepted (old clients) and recorded as not stated.
func TestDecide_R_COL_3_AttemptsAndChannel(t *testing.T) {
	now := bj(2023, 8, 1, 10, 0, 0)
	r := rulesAt(t, commerce.Tmall, "2023-08-01T10:00:00+08:00")
	if r.Collaborative.UnreachableMinAttempts != 2 {
		t.Fatalf("policy unreachable_min_attempts %d, want 2", r.Collaborative.UnreachableMinAttempts)
	}
	f := newFixture(now)
	tk := f.create(t, r, task.Collaborative, task.Actor{Role: task.RoleAgent, ID: "a1"}, now).Task
	seller := task.Actor{Role: task.RoleShopMain, ID: "s1_main"}
	later := now.Add(2 * time.Hour)
	contacted := now.Add(time.Hour)
	reply := func(channel string, attempts int) *task.Reply {
		return &task.Reply{ContactedAt: &contacted, Channel: channel, Attempts: attempts, Evidence: []string{"call.log"}}
	}
	for _, c := range []struct {
		name  string
		a     task.Action
		reply *task.Reply
		field string
	}{
		{"one attempt", task.ActCollabUnreachable, reply("phone", 1), "reply.attempts"},
		{"no attempts", task.ActCollabUnreachable, reply("phone", 0), "reply.attempts"},
		{"unknown channel", task.ActCollabAgreed, reply("carrier pigeon", 0), "reply.channel"},
		{"unknown channel, unreachable", task.ActCollabUnreachable, reply("email", 2), "reply.channel"},
	} {
		_, err := f.decide(&tk, task.Command{Action: c.a, Actor: seller, Reply: c.reply}, f.main, r, later)
		if ae, ok := apperr.As(err); !ok || ae.Code != apperr.EINVALID || ae.Field != c.field || ae.Rule != "R-COL-3" {
			t.Errorf("%s: got %v, want EINVALID %s citing R-COL-3", c.name, err, c.field)
		}
	}
	for _, ch := range []string{"wangwang", "phone", "sms", "other", ""} {
		d, err := f.decide(&tk, task.Command{Action: task.ActCollabUnreachable, Actor: seller, Reply: reply(ch, 2)}, f.main, r, later)
		if err != nil || d.Task.State != task.PlatformIntervening || d.Task.Reply.Channel != ch || d.Task.Reply.Attempts != 2 {
			t.Errorf("two attempts by %q: %v %+v", ch, err, d.Task.Reply)
		}
	}
	// Agreement needs no attempts: one contact is enough.
	d, err := f.decide(&tk, task.Command{Action: task.ActCollabAgreed, Actor: seller, Reply: reply("wangwang", 1)}, f.main, r, later)
	if err != nil || d.Task.State != task.Completed || d.Task.Reply.Channel != "wangwang" {
		t.Fatalf("agreed by wangwang: %v %+v", err, d.Task.Reply)
	}
}
