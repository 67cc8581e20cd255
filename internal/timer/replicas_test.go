package timer_test

import (
	"context"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/store/postgres"
	"aftersale/internal/store/postgres/pgtest"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
	"aftersale/internal/timer"
)

// Two replicas on one PostgreSQL schema: replica A moves a task's reply
// deadline (R-SLA-1) to 300 ms from now; replica B's sweeper, asleep for its
// hour-long idle limit and told nothing by A's engine, hears the commit
// (LISTEN/NOTIFY through timer.Listener) and fires the timer at its due time.
func TestSweeperWakesOnOtherReplicasTimer_R_SLA_1(t *testing.T) {
	url := pgtest.FreshSchema(t)
	ctx := t.Context()
	stA, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer stA.Close()
	stB, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer stB.Close()

	clk := &offsetClock{}
	envA := testkit.NewOn(t, stA, time.Now().UTC())
	envA.Engine = newEngineWithClock(t, envA, clk)
	envA.MustIngest(testkit.ShopFact("s1", commerce.Taobao))
	tk := newTask(t, envA, clk, "1")

	envB := testkit.NewOn(t, stB, time.Now().UTC())
	engB := newEngineWithClock(t, envB, clk)
	sw := &timer.Sweeper{Engine: engB, Clock: clk, Idle: time.Hour, Remote: stB}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sw.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	// Let B sweep once and go to sleep (the task's timers are hours away).
	time.Sleep(300 * time.Millisecond)
	if got := envA.Task(tk.ID).State; got != task.AwaitingSellerReply {
		t.Fatalf("fired early: state %s", got)
	}
	// Until B's listener is up a move can go unheard: move the deadline again
	// every 500 ms (each time to 300 ms ahead) until it fires.
	deadline := time.Now().Add(10 * time.Second)
	for envA.Task(tk.ID).State == task.AwaitingSellerReply {
		if time.Now().After(deadline) {
			t.Fatal("replica B's sweeper never fired the timer replica A moved")
		}
		due := clk.Now().Add(300 * time.Millisecond)
		if err := stA.Update(ctx, func(tx store.Tx) error {
			return tx.SetTimer(ctx, task.Timer{Subject: tk.ID, Kind: task.TimerReply, DueAt: due, SetAt: clk.Now(), PolicyVersion: tk.PolicyVersion})
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got := envA.Task(tk.ID).State; got != task.PlatformIntervening {
		t.Fatalf("state %s, want %s", got, task.PlatformIntervening)
	}
	var reply *task.Firing
	for _, f := range firings(t, envA) {
		if f.Subject == tk.ID && f.Kind == task.TimerReply {
			reply = &f
		}
	}
	if reply == nil {
		t.Fatal("no firing recorded")
	}
	if reply.Late < 0 || reply.Late > 2*time.Second {
		t.Fatalf("fired %s after due, want at its due time", reply.Late)
	}
	if n, _ := sw.Stats(); n < 1 {
		t.Fatalf("replica B fired %d timers", n)
	}
}
