package timer_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/testkit"
	"aftersale/internal/timer"
)

// OnFire hands metrics each fired timer's lateness, one for each firing
// recorded, in order (R-SLA-1's deadlines, measured as the time the firing
// is seen minus its due time): the record's is taken before the commit and
// OnFire's after it, so OnFire's is never less.
func TestSweeperOnFireReportsLateness(t *testing.T) {
	clk := &offsetClock{}
	env := testkit.New(t, time.Now().UTC())
	env.Engine = newEngineWithClock(t, env, clk)
	env.MustIngest(testkit.ShopFact("s1", commerce.Taobao))
	tk := newTask(t, env, clk, "1")
	// Both the reminder and the 24 h reply deadline are past when the sweeper starts.
	clk.shift(25 * time.Hour)

	var mu sync.Mutex
	var late []time.Duration
	sw := &timer.Sweeper{Engine: env.Engine, Clock: clk, Idle: time.Hour,
		OnFire: func(r engine.FireResult) { mu.Lock(); late = append(late, r.Lateness...); mu.Unlock() }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sw.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(firings(t, env)) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	fs := firings(t, env)
	if len(fs) < 2 {
		t.Fatalf("%d firings for task %s, want the reminder and the reply deadline", len(fs), tk.ID)
	}
	var want []time.Duration
	for _, f := range fs {
		want = append(want, f.Late)
		if f.Late < time.Hour {
			t.Errorf("firing %s/%s late %s, want over an hour (the clock jumped 25 h)", f.Subject, f.Kind, f.Late)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(late) != len(want) {
		t.Fatalf("OnFire lateness %v, firings recorded %v", late, want)
	}
	for i := range want {
		if late[i] < want[i] {
			t.Fatalf("OnFire lateness %v is less than recorded %v (firing %d)", late[i], want[i], i)
		}
	}
}
