package engine_test

// Several replicas on one PostgreSQL database:
//
//	AFTERSALE_TEST_STORE=postgres go test ./internal/engine -run '^$' -bench TimerSweepReplicas -benchtime 10x
//
// BENCH_REPLICAS (default 2) engines, each with a store (a pool) of its own
// on one schema, sweep the same due timers at once; FOR UPDATE SKIP LOCKED
// gives them disjoint batches.

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"aftersale/internal/clock"
	"aftersale/internal/cputime"
	"aftersale/internal/engine"
	"aftersale/internal/policy"
	"aftersale/internal/store/postgres"
	"aftersale/internal/store/postgres/pgtest"
)

// BenchmarkTimerSweepReplicas is BenchmarkTimerSweep with the sweep shared
// by several engines on one database. Every timer must fire exactly once.
func BenchmarkTimerSweepReplicas(b *testing.B) {
	if os.Getenv("AFTERSALE_TEST_STORE") != "postgres" {
		b.Skip("several replicas share a PostgreSQL database: set AFTERSALE_TEST_STORE=postgres")
	}
	n := int(propEnvInt("BENCH_TIMERS", 5000))
	limit := int(propEnvInt("BENCH_SWEEP_BATCH", 1000))
	replicas := int(propEnvInt("BENCH_REPLICAS", 2))
	start := time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)
	ctx := context.Background()
	url := pgtest.FreshSchema(b)
	reg, err := policy.Default()
	if err != nil {
		b.Fatal(err)
	}
	clk := clock.NewManual(start)
	var engines []*engine.Engine
	for range replicas {
		st, err := postgres.Open(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		engines = append(engines, engine.New(engine.Config{Store: st, Policy: reg, Clock: clk}))
	}
	e0 := engines[0]
	shops := benchShops(b, e0, 60, start)
	var fired int
	var cpu cputime.Meter
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		benchTasks(b, e0, e0.Store(), shops, i*n, n, clk.Now())
		clk.Advance(25 * time.Hour)
		now := clk.Now()
		b.StartTimer()
		cpu.Start()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, e := range engines {
			wg.Go(func() {
				for {
					res, err := e.FireDue(ctx, now, limit)
					if err != nil {
						b.Error(err)
						return
					}
					if res.Skipped > 0 {
						b.Errorf("%d timers skipped", res.Skipped)
					}
					mu.Lock()
					fired += res.Fired
					mu.Unlock()
					if res.Fired == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		cpu.Stop()
		b.StopTimer()
	}
	if fired != b.N*n {
		b.Fatalf("fired %d timers, want %d (each exactly once)", fired, b.N*n)
	}
	cpu.Report(b, fired, "timer", true)
}
