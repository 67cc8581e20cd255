package engine_test

import (
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/scorecard"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// intervenedCollab opens a collaborative task on a new order of the Tmall
// shop and lets the shop stay silent for 24 h, so the platform intervenes
// with the shop's evidence waived (R-COL-4).
func intervenedCollab(t *testing.T, env *testkit.Env, orderID string, mod ...func(*commerce.Order)) *task.Task {
	t.Helper()
	addOrderShipBy(env, "tm", orderID, env.Clock.Now().Add(-time.Hour), mod...)
	tk, err := env.Engine.CreateTask(env.Ctx, task.Command{Actor: agent("xiaoer"), OrderID: orderID, Type: task.Collaborative})
	if err != nil {
		t.Fatalf("open collaborative task: %v", err)
	}
	env.Advance(24 * time.Hour)
	got := env.Task(tk.ID)
	if got.State != task.PlatformIntervening || !got.EvidenceWaived {
		t.Fatalf("after 24 h: %s, evidence waived %v", got.State, got.EvidenceWaived)
	}
	return got
}

func judge(env *testkit.Env, taskID string, j *task.Judgment) (*task.Task, error) {
	return env.Engine.Act(env.Ctx, task.Command{Action: task.ActJudge, Actor: agent("xiaoer"), TaskID: taskID, Judgment: j})
}

// R-COL-6: forged evidence costs 12 general points, a serious case 48
// serious points, each in the ledger with the task; R-COL-4: every judged
// case counts in the shop's day counter, a liable one also as a liable
// dispute (R-LIA-1), and the task completes with the outcome.
func TestJudgment_R_COL_6_ForgedEvidencePoints(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	general := intervenedCollab(t, env, "o1")
	serious := intervenedCollab(t, env, "o2")
	clean := intervenedCollab(t, env, "o3")

	got, err := judge(env, general.ID, &task.Judgment{Liable: true, Forged: task.ForgedGeneral})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != task.Completed || got.Outcome != "seller_liable" {
		t.Fatalf("judged task %s / %s", got.State, got.Outcome)
	}
	if _, err := judge(env, serious.ID, &task.Judgment{Liable: true, Forged: task.ForgedSerious}); err != nil {
		t.Fatal(err)
	}
	if got, err := judge(env, clean.ID, &task.Judgment{Liable: false}); err != nil || got.Outcome != "seller_not_liable" {
		t.Fatalf("not liable: %+v %v", got, err)
	}

	_, entries := points(t, env, "tm")
	if len(entries) != 2 {
		t.Fatalf("ledger %+v", entries)
	}
	want := []struct {
		task, kind string
		n          int
	}{{general.ID, judgment.PointsGeneral, 12}, {serious.ID, judgment.PointsSerious, 48}}
	for i, w := range want {
		e := entries[i]
		if e.TaskID != w.task || e.Kind != w.kind || e.Points != w.n || e.Rule != "R-COL-6" {
			t.Fatalf("entry %d: %+v, want %d %s points for %s", i, e, w.n, w.kind, w.task)
		}
	}
	// The charge follows the judgment in the history: its seq is after the judge event's.
	var judged, charged int64
	for _, ev := range env.Events(serious.ID) {
		if ev.Action == string(task.ActJudge) {
			judged = ev.Seq
		}
	}
	for _, ev := range env.Events("o2") {
		if ev.Action == "points_charged" {
			charged = ev.Seq
		}
	}
	if judged == 0 || charged == 0 || charged < judged {
		t.Fatalf("judge event seq %d, points_charged seq %d: want the charge after the judgment", judged, charged)
	}
	// Each intervenedCollab moves the clock 24 h: the judgments are made on
	// 2023-08-04 10:00 +08:00, and count on that business day.
	day := "2023-08-04"
	if !env.Clock.Now().Equal(bj(t, "2023-08-04T10:00:00")) {
		t.Fatalf("clock at %s", env.Clock.Now())
	}
	if n := counter(env, scorecard.CounterKey("tm", day, scorecard.MetricJudged)); n != 3 {
		t.Fatalf("judged cases on %s: %d, want 3", day, n)
	}
	if n := counter(env, scorecard.CounterKey("tm", day, scorecard.MetricLiableDisputes)); n != 2 {
		t.Fatalf("liable disputes on %s: %d, want 2", day, n)
	}
}

// R-COL-5: a worry-free purchase (无忧购) follows its own process: an agent's
// judgment is refused and changes nothing. A judgment needs its content.
func TestJudgment_R_COL_5_WorryFreeNotJudged(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	tk := intervenedCollab(t, env, "o1", func(o *commerce.Order) { o.WorryFree = true })
	events := len(env.Events(tk.ID))

	_, err := judge(env, tk.ID, &task.Judgment{Liable: true, Forged: task.ForgedGeneral})
	testkit.Refusal(t, err, "R-COL-5", "worry_free.no_judgment")
	if got := env.Task(tk.ID); got.Rev != tk.Rev || got.State != task.PlatformIntervening || len(env.Events(tk.ID)) != events {
		t.Fatalf("a refused judgment changed the task: %+v", got)
	}
	if total, _ := points(t, env, "tm"); total != 0 {
		t.Fatalf("points charged on a refused judgment: %d", total)
	}

	other := intervenedCollab(t, env, "o2")
	_, err = judge(env, other.ID, nil)
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.EINVALID || ae.Field != "judgment" {
		t.Fatalf("missing judgment: %v", err)
	}
	_, err = judge(env, other.ID, &task.Judgment{Forged: "mild"})
	if ae, ok := apperr.As(err); !ok || ae.Field != "judgment.forged" || ae.Rule != "R-COL-6" {
		t.Fatalf("bad forged value: %v", err)
	}
	// Only agents judge.
	_, err = env.Engine.Act(env.Ctx, task.Command{Action: task.ActJudge, Actor: buyer(buyerOf("o2")), TaskID: other.ID,
		Judgment: &task.Judgment{Liable: true}})
	if apperr.CodeOf(err) != apperr.EFORBIDDEN {
		t.Fatalf("buyer judging: %v", err)
	}
}
