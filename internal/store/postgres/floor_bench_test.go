package postgres

// The database's floor for the timer sweep: what PostgreSQL on this machine
// costs, and how fast it goes, when it does only the row work a timeout must
// do, with no engine in front of it:
//
//	go test ./internal/store/postgres -run '^$' -bench FiringFloor -benchtime 5x
//
// Each batch, in one transaction, is the store's own statements: claim the
// due timers (FOR UPDATE SKIP LOCKED), read and lock their tasks, update the
// tasks' state (one statement over unnest arrays), append one event per task,
// record the firings, stop the tasks' other timers, commit. The client does
// no decisions and no JSON (it sends back bytes it was given), so the rate is
// the most the engine could reach here, and machine-cpu-µs/timer is what the
// server spends per firing (plus the small client).

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"aftersale/internal/cputime"
	"aftersale/internal/store/postgres/pgtest"
)

// BenchmarkFiringFloor sweeps BENCH_TIMERS (default 5000) due timers per
// iteration with BENCH_REPLICAS (default 2) connections at once, each taking
// batches of BENCH_SWEEP_BATCH (default 1000). Every timer must fire once.
func BenchmarkFiringFloor(b *testing.B) {
	n, limit, replicas := floorEnv("BENCH_TIMERS", 5000), floorEnv("BENCH_SWEEP_BATCH", 1000), floorEnv("BENCH_REPLICAS", 2)
	ctx := context.Background()
	url := pgtest.FreshSchema(b)
	st, err := Open(ctx, url) // migrates
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	pool := st.pool
	start := time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)
	// a history the size of a few sweeps, so indexes are not empty
	floorTasks(b, pool, 0, 4*n, start.Add(-48*time.Hour), start.Add(-47*time.Hour))
	if _, err := pool.Exec(ctx, `DELETE FROM timers`); err != nil { // fired long ago
		b.Fatal(err)
	}
	var fired int
	var cpu cputime.Meter
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		lo := (i + 4) * n
		now := start.Add(time.Duration(i+1) * 25 * time.Hour)
		floorTasks(b, pool, lo, n, now.Add(-25*time.Hour), now.Add(-time.Hour))
		b.StartTimer()
		cpu.Start()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range replicas {
			wg.Go(func() {
				for {
					k, err := floorSweep(ctx, pool, now, limit)
					if err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					fired += k
					mu.Unlock()
					if k == 0 {
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

func floorEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// floorTasks inserts tasks lo..lo+n-1 created at created, awaiting the
// seller's reply, each with its creation event and a reply timer due at due.
func floorTasks(b *testing.B, pool *pgxpool.Pool, lo, n int, created, due time.Time) {
	b.Helper()
	ctx := context.Background()
	id := `'tsk_' || lpad(i::text, 8, '0')`
	body := `'{"id":"' || ` + id + ` || '","type":"urge_shipment","state":"awaiting_seller_reply","order_id":"ord_' || lpad(i::text, 8, '0') || '","shop_id":"shp_' || (i % 60) || '","buyer_id":"byr_' || lpad((i % 5000)::text, 6, '0') || '","platform":"taobao","created_at":"2023-08-01T02:00:00Z","updated_at":"2023-08-01T02:00:00Z","due_at":"2023-08-02T02:00:00Z","policy_version":"taobao/2022.1+taobao/2022.12.15+taobao/2023.7.4+taobao/2023.7.15","rev":1}'`
	for _, q := range []string{
		`INSERT INTO tasks (id, order_id, shop_id, buyer_id, type, state, created_at, due_at, rev, data)
			SELECT ` + id + `, 'ord_' || lpad(i::text, 8, '0'), 'shp_' || (i % 60), 'byr_' || lpad((i % 5000)::text, 6, '0'),
				'urge_shipment', 'awaiting_seller_reply', $3, $4, 1, ` + body + `
			FROM generate_series($1::int, $2::int) i`,
		`INSERT INTO events (stream, task_id, order_id, shop_id, at, body)
			SELECT 'task:' || ` + id + `, ` + id + `, 'ord_' || lpad(i::text, 8, '0'), 'shp_' || (i % 60), $3, ` + body + `
			FROM generate_series($1::int, $2::int) i WHERE $4::timestamptz IS NOT NULL`,
		`INSERT INTO timers (subject, kind, due_at, set_at, policy_version)
			SELECT ` + id + `, 'seller_reply', $4, $3, 'taobao/2023.7.15' FROM generate_series($1::int, $2::int) i`,
	} {
		if _, err := pool.Exec(ctx, q, lo, lo+n-1, created, due); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	if _, err := pool.Exec(ctx, `ANALYZE tasks, events, timers`); err != nil {
		b.Fatal(err)
	}
}

// floorSweep fires up to limit timers due at now in one transaction, as the
// engine's sweep does, minus the engine. It returns how many it fired.
func floorSweep(ctx context.Context, pool *pgxpool.Pool, now time.Time, limit int) (int, error) {
	var fired int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, wClaimDue, now, limit)
		if err != nil {
			return err
		}
		var ids, kinds []string
		var dues []time.Time
		for rows.Next() {
			var subject, kind, version string
			var due, set time.Time
			if err := rows.Scan(&subject, &kind, &due, &set, &version); err != nil {
				return err
			}
			ids, kinds, dues = append(ids, subject), append(kinds, kind), append(dues, due)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		// the store's read of a sweep's tasks (qTasksByIDLock), with the id
		rows, err = tx.Query(ctx, `SELECT id, data FROM tasks WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		byID := make(map[string]string, len(ids))
		for rows.Next() {
			var id, d string
			if err := rows.Scan(&id, &d); err != nil {
				return err
			}
			byID[id] = d
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(byID) != len(ids) {
			return fmt.Errorf("%d tasks for %d timers", len(byID), len(ids))
		}
		k := len(ids)
		data := make([]string, k)
		for i, id := range ids {
			data[i] = byID[id]
		}
		states, nodue, revs := make([]string, k), make([]*time.Time, k), make([]int64, k)
		streams, orders, shops, ats, nows, lates := make([]string, k), make([]string, k), make([]string, k), make([]time.Time, k), make([]time.Time, k), make([]int64, k)
		for i := range k {
			states[i], revs[i] = "platform_intervening", 2
			streams[i], orders[i], shops[i] = "task:"+ids[i], "ord_"+ids[i][4:], "shp_0"
			ats[i], nows[i], lates[i] = now, now, int64(now.Sub(dues[i]))
		}
		batch := &pgx.Batch{}
		batch.Queue(bulkSpecs[bTaskUpdate].sql, ids, states, nodue, revs, data)
		batch.Queue(`INSERT INTO events (stream, task_id, order_id, shop_id, at, body)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])`,
			streams, ids, orders, shops, ats, data)
		batch.Queue(bulkSpecs[bFiring].sql, ids, kinds, dues, nows, lates)
		batch.Queue(`DELETE FROM timers WHERE subject = ANY($1::text[])`, ids)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		fired = k
		return nil
	})
	return fired, err
}
