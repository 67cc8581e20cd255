package engine_test

import (
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

func reportStall(env *testkit.Env, orderID string) (*task.Task, error) {
	return env.Engine.CreateTask(env.Ctx, task.Command{Actor: buyer(buyerOf(orderID)), OrderID: orderID, Type: task.LogisticsStall})
}

// shippedOrder adds an order (remote or not) shipped at lastUpdate, its last tracking update.
func shippedOrder(env *testkit.Env, shopID, orderID string, remote bool, lastUpdate time.Time) {
	env.T.Helper()
	f := testkit.OrderFact(orderID, shopID, buyerOf(orderID), lastUpdate.Add(-48*time.Hour), lastUpdate.Add(-24*time.Hour))
	f.Order.RemoteArea = remote
	env.MustIngest(f, shipFact("ship-"+orderID, orderID, lastUpdate.Add(-time.Hour)),
		trackFact("trk-"+orderID, orderID, commerce.TrackingInTransit, lastUpdate))
}

// stallCase: a report at now with the last tracking update `since` before it.
type stallCase struct {
	name    string
	remote  bool
	since   time.Duration
	stalled bool
}

func runStallCases(t *testing.T, env *testkit.Env, cases []stallCase) {
	t.Helper()
	now := env.Clock.Now()
	for i, c := range cases {
		id := c.name
		shippedOrder(env, "tb", id, c.remote, now.Add(-c.since))
		before := snapshot(env, id)
		tk, err := reportStall(env, id)
		if c.stalled {
			if err != nil {
				t.Fatalf("case %d %s: %v", i, c.name, err)
			}
			if tk.State != task.AwaitingSellerReply {
				t.Fatalf("case %s: state %s", c.name, tk.State)
			}
			continue
		}
		wantErr(t, err, apperr.ECONFLICT, "logistics.not_stalled", "", "R-LOG-2")
		sameWorld(t, before, snapshot(env, id))
	}
}

// R-LOG-1: from 2022-12-15 00:00 +08:00 a parcel is stalled after more than
// 72 h without a tracking update, 96 h in remote areas.
func TestStall_R_LOG_1_Thresholds72And96(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-10T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	h := time.Hour
	runStallCases(t, env, []stallCase{
		{"n71", false, 71 * h, false},
		{"n72", false, 72 * h, false},
		{"n72s", false, 72*h + time.Second, true},
		{"r72s", true, 72*h + time.Second, false},
		{"r96", true, 96 * h, false},
		{"r96s", true, 96*h + time.Second, true},
	})
}

// R-LOG-1: before 2022-12-15 00:00 +08:00 the thresholds were 48 h and 72 h.
func TestStall_R_LOG_1_Thresholds48And72Before(t *testing.T) {
	env := newEnv(t, bj(t, "2022-12-10T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	h := time.Hour
	runStallCases(t, env, []stallCase{
		{"n48", false, 48 * h, false},
		{"n48s", false, 48*h + time.Second, true},
		{"r48s", true, 48*h + time.Second, false},
		{"r72", true, 72 * h, false},
		{"r72s", true, 72*h + time.Second, true},
	})
}

// R-LOG-1: the thresholds are those in force at the time of the report: the
// same staleness (48 h + 1 s, remote 72 h + 1 s) is a stall at 2022-12-14
// 23:59:59 +08:00 and not one second later.
func TestStall_R_LOG_1_VersionByTimeInForce(t *testing.T) {
	cut := bj(t, "2022-12-15T00:00:00")
	env := newEnv(t, cut.Add(-time.Second))
	addShop(env, "tb", commerce.Taobao)
	h := time.Hour
	shippedOrder(env, "tb", "n_before", false, cut.Add(-time.Second-48*h-time.Second))
	shippedOrder(env, "tb", "r_before", true, cut.Add(-time.Second-72*h-time.Second))
	shippedOrder(env, "tb", "n_after", false, cut.Add(-48*h-time.Second))
	shippedOrder(env, "tb", "r_after", true, cut.Add(-72*h-time.Second))

	env.AdvanceTo(cut.Add(-time.Second))
	for _, id := range []string{"n_before", "r_before"} {
		tk, err := reportStall(env, id)
		if err != nil {
			t.Fatalf("%s at 23:59:59: %v", id, err)
		}
		if !strings.HasPrefix(tk.PolicyVersion, "taobao/2022.1") || strings.Contains(tk.PolicyVersion, "2022.12.15") {
			t.Fatalf("policy version %q", tk.PolicyVersion)
		}
	}
	env.AdvanceTo(cut)
	for id, want := range map[string]string{"n_after": "72h", "r_after": "96h"} {
		_, err := reportStall(env, id)
		ae := wantErr(t, err, apperr.ECONFLICT, "logistics.not_stalled", "", "R-LOG-2")
		if !strings.Contains(ae.Message, want) || !strings.Contains(ae.Message, "taobao/2022.12.15") {
			t.Fatalf("%s: message %q should name %s and the version", id, ae.Message, want)
		}
	}
}

// R-LOG-2: only a stalled parcel may be reported (not unshipped, not signed,
// not fresh); the report creates the task with 24 h to reply; a signed
// tracking update completes it.
func TestStall_R_LOG_2_ReportCreatesTask(t *testing.T) {
	start := bj(t, "2023-08-10T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tb", commerce.Taobao)
	addOrder(env, "tb", "unshipped")
	_, err := reportStall(env, "unshipped")
	wantErr(t, err, apperr.ECONFLICT, "logistics.unshipped", "", "R-LOG-2")

	shippedOrder(env, "tb", "signed", false, start.Add(-100*time.Hour))
	env.MustIngest(trackFact("sig-signed", "signed", commerce.TrackingSigned, start.Add(-99*time.Hour)))
	_, err = reportStall(env, "signed")
	wantErr(t, err, apperr.ECONFLICT, "logistics.signed", "", "R-LOG-2")

	shippedOrder(env, "tb", "stalled", false, start.Add(-80*time.Hour))
	// the shop cannot report for the buyer
	_, err = env.Engine.CreateTask(env.Ctx, task.Command{Actor: shopMain("tb_main"), OrderID: "stalled", Type: task.LogisticsStall})
	wantErr(t, err, apperr.EFORBIDDEN, "role", "", "R-ACC-1")
	if n := len(env.Tasks(store.TaskFilter{})); n != 0 {
		t.Fatalf("%d tasks after refusals", n)
	}
	tk, err := reportStall(env, "stalled")
	if err != nil {
		t.Fatal(err)
	}
	if tk.DueAt == nil || !tk.DueAt.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("due %v, want 24 h", tk.DueAt)
	}
	if ev := env.Events(tk.ID)[0]; ev.Rule != "R-LOG-2" {
		t.Fatalf("create event cites %q", ev.Rule)
	}
	env.Advance(5 * time.Hour)
	env.MustIngest(trackFact("sig-stalled", "stalled", commerce.TrackingSigned, env.Clock.Now()))
	if got := wantState(env, tk.ID, task.Completed); got.Outcome != "delivered" {
		t.Fatalf("outcome %q", got.Outcome)
	}
}

// R-LOG-2: a stall task not answered in 24 h goes to the platform (R-SLA-4).
func TestStall_R_LOG_2_ReplyWithin24h(t *testing.T) {
	start := bj(t, "2023-08-10T10:00:00")
	env := newEnv(t, start)
	addShop(env, "tb", commerce.Taobao)
	shippedOrder(env, "tb", "o1", false, start.Add(-80*time.Hour))
	tk, err := reportStall(env, "o1")
	if err != nil {
		t.Fatal(err)
	}
	env.AdvanceTo(start.Add(24*time.Hour - time.Second))
	wantState(env, tk.ID, task.AwaitingSellerReply)
	env.AdvanceTo(start.Add(24 * time.Hour))
	wantState(env, tk.ID, task.PlatformIntervening)
}

// R-LOG-3: an end date set later on the 72/96 h layer brings 48/72 h back
// after it, while later layers still apply. Here the end is set in a
// modified default file.
func TestStall_R_LOG_3_EndDateInFile(t *testing.T) {
	reg := modifiedRegistry(t, commerce.Taobao,
		"    effective_until:\n", "    effective_until: 2023-09-01T00:00:00+08:00\n")
	end := bj(t, "2023-09-01T00:00:00")
	env := newEnvWith(t, reg, end.Add(-time.Second))
	addShop(env, "tb", commerce.Taobao)
	h := time.Hour
	shippedOrder(env, "tb", "n_before", false, end.Add(-time.Second-48*h-time.Second))
	shippedOrder(env, "tb", "r_before", true, end.Add(-time.Second-72*h-time.Second))
	shippedOrder(env, "tb", "n_after", false, end.Add(-48*h-time.Second))
	shippedOrder(env, "tb", "r_after", true, end.Add(-72*h-time.Second))
	shippedOrder(env, "tb", "n_fresh", false, end.Add(-48*h))

	env.AdvanceTo(end.Add(-time.Second))
	for _, id := range []string{"n_before", "r_before"} {
		_, err := reportStall(env, id)
		wantErr(t, err, apperr.ECONFLICT, "logistics.not_stalled", "", "R-LOG-2")
	}
	env.AdvanceTo(end)
	for _, id := range []string{"n_after", "r_after"} {
		tk, err := reportStall(env, id)
		if err != nil {
			t.Fatalf("%s after the end date: %v", id, err)
		}
		if strings.Contains(tk.PolicyVersion, "2022.12.15") || !strings.Contains(tk.PolicyVersion, "taobao/2023.7.15") {
			t.Fatalf("policy version %q: want the 72/96 layer gone and later layers kept", tk.PolicyVersion)
		}
	}
	_, err := reportStall(env, "n_fresh")
	wantErr(t, err, apperr.ECONFLICT, "logistics.not_stalled", "", "R-LOG-2")
}

// R-LOG-3: the end date announced at run time (Registry.SetUntil) on the
// engine's own registry has the same effect.
func TestStall_R_LOG_3_EndDateAnnounced(t *testing.T) {
	end := bj(t, "2023-09-01T00:00:00")
	env := newEnv(t, end.Add(-time.Hour))
	addShop(env, "tb", commerce.Taobao)
	shippedOrder(env, "tb", "o1", false, end.Add(-60*time.Hour))
	shippedOrder(env, "tb", "o2", false, end.Add(-60*time.Hour))
	env.AdvanceTo(end)
	_, err := reportStall(env, "o1")
	wantErr(t, err, apperr.ECONFLICT, "logistics.not_stalled", "", "R-LOG-2")
	if err := env.Policy.SetUntil(commerce.Taobao, "taobao/2022.12.15", end); err != nil {
		t.Fatal(err)
	}
	if _, err := reportStall(env, "o2"); err != nil {
		t.Fatalf("after the end date 60 h is a stall again: %v", err)
	}
}
