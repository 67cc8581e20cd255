package demo_test

import (
	"context"
	"testing"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/demo"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestSeedCoversStatesAndTypes seeds a fresh store and checks the demo shows
// every task state (RULES.md §2), the task types it promises, deadlines due
// within hours and one passed (R-SLA-1, R-SLA-4), the complaint the
// platform filed on timeout (R-SLA-3), forged-evidence points (R-COL-6), a
// claim (R-PRM-5), questions (R-QA-1..4) and logins that verify.
func TestSeedCoversStatesAndTypes(t *testing.T) {
	ctx := context.Background()
	st := testkit.OpenStore(t)
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	res, err := demo.Seed(ctx, demo.Config{Store: st, Now: now, Hash: cheap})
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	if !res.Seeded || res.People != len(demo.Logins) || res.Tasks < 12 || res.Facts < 30 || res.Fired == 0 {
		t.Fatalf("Seed result = %+v", res)
	}
	var tasks []task.Task
	err = st.View(ctx, func(tx store.ReadTx) error {
		var err error
		tasks, err = tx.Tasks(ctx, store.TaskFilter{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != res.Tasks {
		t.Errorf("%d tasks stored, result says %d", len(tasks), res.Tasks)
	}
	states := map[task.State]int{}
	types := map[task.Type]int{}
	platforms := map[string]bool{}
	var dueSoon, overdue int
	for _, tk := range tasks {
		states[tk.State]++
		types[tk.Type]++
		platforms[tk.Platform] = true
		if tk.DueAt != nil && tk.DueAt.After(now) && tk.DueAt.Sub(now) <= 6*time.Hour {
			dueSoon++
		}
		if tk.DueAt != nil && !tk.DueAt.After(now) {
			t.Errorf("task %s (%s) is due at %s, before now, but its timer did not fire", tk.ID, tk.Type, tk.DueAt)
		}
	}
	for _, s := range task.States {
		if states[s] == 0 {
			t.Errorf("no task in state %s; states %v", s, states)
		}
	}
	for _, ty := range []task.Type{task.UrgeShipment, task.LogisticsStall, task.UrgeInvoice, task.ReturnRefund, task.Exchange, task.Collaborative} {
		if types[ty] == 0 {
			t.Errorf("no %s task; types %v", ty, types)
		}
	}
	for _, p := range []string{"taobao", "tmall", "taote"} {
		if !platforms[p] {
			t.Errorf("no task on %s", p)
		}
	}
	if dueSoon < 2 {
		t.Errorf("%d tasks due within 6 h, want at least 2", dueSoon)
	}

	err = st.View(ctx, func(tx store.ReadTx) error {
		// The silent shop's urge task timed out (R-SLA-4) and a complaint was filed (R-SLA-3).
		ts, err := tx.Tasks(ctx, store.TaskFilter{OrderID: "tb-1001"})
		if err != nil || len(ts) != 1 {
			t.Fatalf("tb-1001 tasks = %v, %v", ts, err)
		}
		if ts[0].State != task.PlatformIntervening || len(ts[0].ComplaintIDs) != 1 {
			t.Errorf("tb-1001: state %s, complaints %v; want platform_intervening with a complaint", ts[0].State, ts[0].ComplaintIDs)
		}
		evs, err := tx.Events(ctx, ts[0].ID)
		if err != nil {
			return err
		}
		timedOut := false
		for _, e := range evs {
			if e.Action == string(task.ActReplyTimeout) {
				timedOut = true
				overdue++
			}
		}
		if !timedOut {
			t.Errorf("tb-1001: no reply_timeout event in %d events", len(evs))
		}
		cs, err := tx.Complaints(ctx, "tt-3002")
		if err != nil || len(cs) != 1 {
			t.Errorf("tt-3002 complaints = %v, %v; want the buyer's one", cs, err)
		}
		pts, err := tx.Points(ctx, demo.ShopTmall, time.Time{})
		if err != nil || len(pts) == 0 || pts[0].Rule != "R-COL-6" {
			t.Errorf("tm_demo points = %+v, %v; want the forged-evidence entry (R-COL-6)", pts, err)
		}
		people, err := tx.People(ctx, "")
		if err != nil || len(people) != len(demo.Logins) {
			t.Fatalf("people = %d, %v", len(people), err)
		}
		p, err := tx.PersonByLogin(ctx, "tb.intern")
		if err != nil {
			return err
		}
		if ok, err := auth.VerifyPassword(demo.Password, p.PasswordHash); !ok || err != nil {
			t.Errorf("the demo password does not verify for tb.intern: %v", err)
		}
		if ok, _ := auth.VerifyPassword("wrong password", p.PasswordHash); ok {
			t.Error("a wrong password verifies")
		}
		acc, err := tx.Account(ctx, "tb_intern")
		if err != nil || len(acc.Permissions) != 0 {
			t.Errorf("tb_intern = %+v, %v; want a sub-account without platform_task", acc, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if overdue == 0 {
		t.Error("no overdue task")
	}

	// A second run on the now non-empty store writes nothing and says why.
	again, err := demo.Seed(ctx, demo.Config{Store: st, Now: now.Add(time.Hour), Hash: cheap})
	if err != nil || again.Seeded || again.Why == "" || again.Tasks != 0 {
		t.Fatalf("second Seed = %+v, %v; want nothing seeded, with a reason", again, err)
	}
	err = st.View(ctx, func(tx store.ReadTx) error {
		ts, err := tx.Tasks(ctx, store.TaskFilter{})
		if len(ts) != len(tasks) {
			t.Errorf("after a second Seed: %d tasks, want %d", len(ts), len(tasks))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
