package engine_test

import (
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/id"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

const futureStall = `platform: tmall
versions:
  - id: tmall/ops.2023.9
    effective_from: 2023-09-01T00:00:00+08:00
    comment: stall reports after 60 h
    rules:
      logistics: {stall_after: 60h}
`

// Policy (RULES.md): an operator loads a version that takes effect at a
// future time. The preview names the rules it changes and loads nothing; the
// load stores it, decisions from its start use it (and record its version),
// decisions before it do not; a second engine on the same store (a replica,
// or a restart) picks it up with SyncPolicies.
func TestPolicy_LoadFutureVersion(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-20T10:00:00"))
	p, err := env.Engine.PreviewPolicy(commerce.Tmall, "", []byte(futureStall))
	if err != nil {
		t.Fatal(err)
	}
	if p.Loaded || len(p.Changes) != 1 || len(p.Changes[0].Rules) != 1 || p.Changes[0].Rules[0].Path != "logistics.stall_after" {
		t.Fatalf("preview %+v", p)
	}
	if r, _ := env.Policy.At(commerce.Tmall, bj(t, "2023-09-01T00:00:00")); strings.Contains(r.Version, "ops.2023.9") {
		t.Fatal("a preview loaded the version")
	}
	if _, err := env.Engine.LoadPolicy(env.Ctx, "operator:o1", commerce.Tmall, "", []byte(futureStall)); err != nil {
		t.Fatal(err)
	}
	before, _ := env.Policy.At(commerce.Tmall, bj(t, "2023-08-31T23:59:59"))
	after, _ := env.Policy.At(commerce.Tmall, bj(t, "2023-09-01T00:00:00"))
	if strings.Contains(before.Version, "ops.2023.9") || !strings.HasSuffix(after.Version, "+tmall/ops.2023.9") || after.Logistics.StallAfter.D() != 60*time.Hour {
		t.Fatalf("in force: before %s, after %s (%s)", before.Version, after.Version, after.Logistics.StallAfter)
	}
	// Loading the same version again is refused, naming the duplicate id.
	_, err = env.Engine.LoadPolicy(env.Ctx, "operator:o1", commerce.Tmall, "", []byte(futureStall))
	if ae, ok := apperr.As(err); !ok || ae.Reason != "policy.invalid" || !strings.Contains(ae.Message, "duplicate id") {
		t.Fatalf("second load: %v", err)
	}

	// A replica (or the process after a restart) on the same store.
	reg, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	other := engine.New(engine.Config{Store: env.Store, Policy: reg, Clock: clock.NewManual(env.Clock.Now()), IDs: &id.Sequence{}})
	if n, err := other.SyncPolicies(env.Ctx); err != nil || n != 1 {
		t.Fatalf("sync: %d, %v", n, err)
	}
	if r, _ := reg.At(commerce.Tmall, bj(t, "2023-09-01T00:00:00")); !strings.HasSuffix(r.Version, "+tmall/ops.2023.9") {
		t.Fatalf("replica's version %s", r.Version)
	}
	if n, _ := other.SyncPolicies(env.Ctx); n != 0 {
		t.Fatalf("second sync loaded %d", n)
	}

	// The version decides from its start: a stall task opened after it carries it.
	addShop(env, "tm", commerce.Tmall)
	env.AdvanceTo(bj(t, "2023-09-01T00:00:00"))
	tk := openTask(env, "tm", "o1", task.Resend)
	if !strings.Contains(tk.PolicyVersion, "ops.2023.9") {
		t.Fatalf("task policy %s", tk.PolicyVersion)
	}
}

// A version must start after now; a broken file is refused by path; a file
// for another platform is refused; nothing is stored.
func TestPolicy_LoadRefusals(t *testing.T) {
	env := newEnv(t, bj(t, "2023-09-01T00:00:00"))
	_, err := env.Engine.LoadPolicy(env.Ctx, "operator:o1", commerce.Tmall, "", []byte(futureStall))
	wantErr(t, err, apperr.EINVALID, "policy.not_future", "versions[0].effective_from", "")
	bad := strings.Replace(futureStall, "stall_after: 60h", "stall_after: sixty", 1)
	bad = strings.Replace(bad, "2023-09-01", "2023-10-01", 1)
	_, err = env.Engine.LoadPolicy(env.Ctx, "operator:o1", commerce.Tmall, "", []byte(bad))
	wantErr(t, err, apperr.EINVALID, "policy.invalid", "versions[0].rules.logistics.stall_after", "")
	_, err = env.Engine.LoadPolicy(env.Ctx, "operator:o1", commerce.Taobao, "", []byte(strings.Replace(futureStall, "2023-09-01", "2023-10-01", 1)))
	wantErr(t, err, apperr.EINVALID, "invalid", "platform", "")
	if n, err := env.Engine.SyncPolicies(env.Ctx); err != nil || n != 0 {
		t.Fatalf("stored after refusals: %d %v", n, err)
	}
}
