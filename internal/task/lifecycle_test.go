package task_test

import (
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

func rulesAt(t testing.TB, p commerce.Platform, at string) *policy.RuleSet {
	t.Helper()
	reg, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	r, err := reg.At(p, tm)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Every one of the 14 types has exactly one lifecycle, starting in awaiting_seller_reply.
func TestTables_EveryTypeOneLifecycle(t *testing.T) {
	seen := map[task.Type]string{}
	for _, lc := range task.Lifecycles {
		if lc.Initial != task.AwaitingSellerReply {
			t.Fatalf("%s starts in %s", lc.Family, lc.Initial)
		}
		for _, typ := range lc.Types {
			if f, ok := seen[typ]; ok {
				t.Fatalf("%s in both %s and %s", typ, f, lc.Family)
			}
			seen[typ] = lc.Family
		}
	}
	if len(seen) != 14 || len(task.Types) != 14 {
		t.Fatalf("%d types in lifecycles, %d declared; want 14", len(seen), len(task.Types))
	}
	for _, typ := range task.Types {
		if task.For(typ) == nil {
			t.Fatalf("%s has no lifecycle", typ)
		}
	}
}

// R-ST-4: no row of any lifecycle table moves a task into
// awaiting_seller_reply, and every row names its rule and visibility.
func TestTables_R_ST_4_NoWayBackToReply(t *testing.T) {
	rows := 0
	for _, lc := range task.Lifecycles {
		for _, tr := range lc.Transitions {
			rows++
			if tr.To == task.AwaitingSellerReply {
				t.Fatalf("%s: %s moves into awaiting_seller_reply", lc.Family, tr.On)
			}
			if tr.Rule == "" || tr.Visibility == "" || len(tr.By) == 0 || len(tr.From) == 0 {
				t.Fatalf("%s: row %s lacks rule, visibility, roles or states: %+v", lc.Family, tr.On, tr)
			}
			for _, s := range tr.From {
				if s == task.Completed {
					t.Fatalf("%s: %s leaves completed", lc.Family, tr.On)
				}
			}
		}
	}
	if rows == 0 {
		t.Fatal("no rows")
	}
}

func rowsFor(lc *task.Lifecycle, a task.Action, from task.State) []task.Transition {
	var out []task.Transition
	for _, tr := range lc.Transitions {
		if tr.On != a {
			continue
		}
		for _, s := range tr.From {
			if s == from {
				out = append(out, tr)
			}
		}
	}
	return out
}

// R-SLA-1: every type's lifecycle starts a reply timer on entering
// awaiting_seller_reply, due 24 h later by the default policy of every platform.
func TestTables_R_SLA_1_ReplyTimer24h(t *testing.T) {
	created := time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)
	for _, p := range []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote} {
		r := rulesAt(t, p, "2023-08-01T10:00:00+08:00")
		for _, typ := range task.Types {
			lc := task.For(typ)
			def, ok := lc.TimerFor(task.TimerReply)
			if !ok || def.State != task.AwaitingSellerReply || def.Fire != task.ActReplyTimeout {
				t.Fatalf("%s: reply timer %+v", typ, def)
			}
			due, ok := def.Due(r, &task.Task{Type: typ, CreatedAt: created}, created)
			if !ok || !due.Equal(created.Add(24*time.Hour)) {
				t.Fatalf("%s on %s: reply due %v, want %v", typ, p, due, created.Add(24*time.Hour))
			}
		}
	}
}

// R-SLA-4: in every lifecycle, reply timeout, action timeout and a rejected
// plan lead to platform_intervening, and the seller can say there is no
// agreement (refuse, or "not agreed" for collaborative tasks).
func TestTables_R_SLA_4_TimeoutOrNoAgreementIntervenes(t *testing.T) {
	for _, lc := range task.Lifecycles {
		for _, c := range []struct {
			a    task.Action
			from task.State
		}{
			{task.ActReplyTimeout, task.AwaitingSellerReply},
			{task.ActActionTimeout, task.AwaitingSellerAction},
			{task.ActRejectPlan, task.AwaitingBuyerConfirmation},
		} {
			// Several rows may exist, told apart by guards (R-INV-4 files a
			// complaint only after the final deadline); every one intervenes.
			rs := rowsFor(lc, c.a, c.from)
			if len(rs) == 0 {
				t.Fatalf("%s: no %s row from %s", lc.Family, c.a, c.from)
			}
			for _, r := range rs {
				if r.To != task.PlatformIntervening {
					t.Fatalf("%s: %s from %s → %+v, want platform_intervening", lc.Family, c.a, c.from, rs)
				}
			}
		}
		noAgreement := task.ActRefuse
		if lc.Family == "collaborative" {
			noAgreement = task.ActCollabNotAgreed
		}
		// The refund and service families tell refusals apart by their
		// evidence (R-EVD-1, R-EVD-2); every row intervenes.
		rs := rowsFor(lc, noAgreement, task.AwaitingSellerReply)
		if len(rs) == 0 {
			t.Fatalf("%s: no %s row", lc.Family, noAgreement)
		}
		for _, r := range rs {
			if r.To != task.PlatformIntervening {
				t.Fatalf("%s: %s → %+v", lc.Family, noAgreement, rs)
			}
		}
		if rs := rowsFor(lc, task.ActResolve, task.PlatformIntervening); len(rs) != 1 || rs[0].To != task.Completed {
			t.Fatalf("%s: the agent cannot resolve an intervened task", lc.Family)
		}
	}
}

// R-ST-1, R-ST-2: the common rows of every lifecycle.
func TestTables_R_ST_1_R_ST_2_Rows(t *testing.T) {
	for _, lc := range task.Lifecycles {
		for _, c := range []struct {
			a        task.Action
			from, to task.State
		}{
			{task.ActReply, task.AwaitingSellerReply, task.AwaitingSellerAction},
			{task.ActProposePlan, task.AwaitingSellerReply, task.AwaitingBuyerConfirmation},
			{task.ActAcceptPlan, task.AwaitingBuyerConfirmation, task.AwaitingSellerAction},
			{task.ActRejectPlan, task.AwaitingBuyerConfirmation, task.PlatformIntervening},
		} {
			rs := rowsFor(lc, c.a, c.from)
			if lc.Family == "collaborative" && (c.a == task.ActReply || c.a == task.ActProposePlan) {
				// R-COL-2: a collaborative reply is one of the receipt options, never a plain reply or plan.
				if len(rs) != 0 {
					t.Fatalf("collaborative accepts %s: %+v", c.a, rs)
				}
				continue
			}
			if len(rs) != 1 || rs[0].To != c.to {
				t.Fatalf("%s: %s from %s → %+v, want %s", lc.Family, c.a, c.from, rs, c.to)
			}
		}
	}
}

// R-MSG-1, R-MSG-2: messages to the agent only from platform_intervening, by
// the shop, visible to shop and agents; agent notes to agents only.
func TestTables_R_MSG_1_R_MSG_2_MessageRows(t *testing.T) {
	for _, lc := range task.Lifecycles {
		var msg, note *task.Transition
		for i := range lc.Transitions {
			switch lc.Transitions[i].On {
			case task.ActMessage:
				msg = &lc.Transitions[i]
			case task.ActAgentNote:
				note = &lc.Transitions[i]
			}
		}
		if msg == nil || len(msg.From) != 1 || msg.From[0] != task.PlatformIntervening || msg.To != "" ||
			msg.Visibility != task.ShopAgent || msg.Guard != task.GuardAgentMessageType {
			t.Fatalf("%s: message row %+v", lc.Family, msg)
		}
		for _, r := range msg.By {
			if r != task.RoleShopMain && r != task.RoleShopSub {
				t.Fatalf("%s: %s may message the agent", lc.Family, r)
			}
		}
		if note == nil || note.Visibility != task.AgentsOnly {
			t.Fatalf("%s: agent note row %+v", lc.Family, note)
		}
	}
}
