package storetest

// Benchmarks shared by every store, like the conformance suite: each store's
// bench_test.go calls these with its own opener, so the figures compare.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/cputime"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

const batch = 1000 // facts per Update, as the engine batches them

// report reports items/s (wall) and CPU µs per item since cpu0.
func report(b *testing.B, items int, unit string, cpu0 time.Duration) {
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), unit+"/s")
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(items), "cpu-µs/"+unit)
}

var base = time.Date(2023, 7, 5, 10, 0, 0, 0, time.UTC)

func benchOrder(i int) *commerce.Order {
	return &commerce.Order{ID: fmt.Sprintf("ord_%08d", i), ShopID: fmt.Sprintf("shp_%03d", i%100), BuyerID: fmt.Sprintf("byr_%06d", i%5000),
		BuyerRegion: "上海市", Items: []commerce.Item{{SKU: "sku-1", Category: "shoes"}, {SKU: "sku-2"}},
		PaidFen: 12900, PaidAt: base, ShipBy: base.Add(48 * time.Hour)}
}

// seedOrders stores n orders.
func seedOrders(b *testing.B, s store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	for lo := 0; lo < n; lo += batch {
		err := s.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < min(lo+batch, n); i++ {
				if err := tx.PutOrder(ctx, benchOrder(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// applyFact is roughly what the engine does per shipment fact: check and
// record it, load the order, fold the fact in and store the order. Fact n
// is for order pick(n).
func applyFact(ctx context.Context, tx store.Tx, n int, pick func(int) int) error {
	f := commerce.Fact{ID: fmt.Sprintf("fct_%09d", n), Type: commerce.FactShipment, At: base.Add(time.Duration(n) * time.Millisecond),
		Shipment: &commerce.ShipmentFact{OrderID: fmt.Sprintf("ord_%08d", pick(n)), Carrier: "SF", TrackingNo: fmt.Sprintf("SF%09d", n)}}
	payload, err := json.Marshal(&f)
	if err != nil {
		return err
	}
	if seen, err := tx.FactSeen(ctx, f.ID); err != nil || seen {
		return fmt.Errorf("fact seen: %v, err %v", seen, err)
	}
	dup, err := tx.RecordFact(ctx, f.ID, f.Type, f.At, payload)
	if err != nil || dup {
		return fmt.Errorf("record fact: dup %v, err %v", dup, err)
	}
	o, err := tx.Order(ctx, f.Shipment.OrderID)
	if err != nil {
		return err
	}
	at := f.At
	o.ShippedAt, o.LastTrackingAt, o.Carrier, o.TrackingNo, o.TrackingStatus = &at, &at, "SF", f.Shipment.TrackingNo, commerce.TrackingInTransit
	return tx.PutOrder(ctx, o)
}

const orders = 20000 // stored orders the facts are about

// Order access patterns: scattered visits orders far apart (7919 is prime),
// so nearly every update dirties a page of its own, as facts for many
// unrelated orders would; local visits them in id order, so neighbouring
// updates share pages, as facts for orders paid around the same time would.
var patterns = []struct {
	name string
	pick func(int) int
}{
	{"scattered", func(n int) int { return (n * 7919) % orders }},
	{"local", func(n int) int { return n % orders }},
}

// BenchRecordFactAndPutOrder measures the engine's per-fact store cost:
// FactSeen + RecordFact + Order + PutOrder, 1000 facts per Update, over
// 20,000 stored orders.
func BenchRecordFactAndPutOrder(b *testing.B, open func(testing.TB) store.Store) {
	for _, p := range patterns {
		b.Run(p.name, func(b *testing.B) { benchFacts(b, open(b), p.pick, nil) })
	}
}

// BenchFactsWithTasks is BenchRecordFactAndPutOrder/scattered where
// one fact in ten also opens a task: InsertTask, an event, a timer and an
// outbox card.
func BenchFactsWithTasks(b *testing.B, open func(testing.TB) store.Store) {
	benchFacts(b, open(b), patterns[0].pick, func(ctx context.Context, tx store.Tx, n int) error {
		if n%10 != 0 {
			return nil
		}
		return openTask(ctx, tx, n)
	})
}

// benchFacts applies batches of 1000 facts per Update to s (seeded with
// the stored orders), running also, when set, after each fact; it reports
// facts/s and CPU per fact.
func benchFacts(b *testing.B, s store.Store, pick func(int) int, also func(context.Context, store.Tx, int) error) {
	defer s.Close()
	seedOrders(b, s, orders)
	ctx := context.Background()
	n := 0
	b.ResetTimer()
	cpu0 := cputime.Process()
	for range b.N {
		err := s.Update(ctx, func(tx store.Tx) error {
			for range batch {
				n++
				if err := applyFact(ctx, tx, n, pick); err != nil {
					return err
				}
				if also != nil {
					if err := also(ctx, tx, n); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	report(b, b.N*batch, "fact", cpu0)
}

// openTask writes what the engine writes when a fact opens a task: the
// task, its create event, its reply timer and a card in the outbox.
func openTask(ctx context.Context, tx store.Tx, n int) error {
	id := fmt.Sprintf("tsk_%09d", n)
	at := base.Add(time.Duration(n) * time.Millisecond)
	due := at.Add(24 * time.Hour)
	x := &task.Task{ID: id, Type: task.LogisticsStall, State: task.AwaitingSellerReply, OrderID: fmt.Sprintf("ord_x%08d", n),
		ShopID: "shp_001", BuyerID: "byr_1", Platform: "taobao", CreatedAt: at, UpdatedAt: at, DueAt: &due, PolicyVersion: "v1", Rev: 1}
	if err := tx.InsertTask(ctx, x); err != nil {
		return err
	}
	ev := []task.Event{{Stream: id, TaskID: id, OrderID: x.OrderID, ShopID: x.ShopID, At: at, Actor: task.Actor{Role: task.RoleSystem, ID: "engine"},
		Action: "create", To: x.State, Rule: "R-LOG-1", PolicyVersion: "v1", Visibility: task.Public}}
	if err := tx.AppendEvents(ctx, ev); err != nil {
		return err
	}
	if err := tx.SetTimer(ctx, task.Timer{Subject: id, Kind: "reply", DueAt: due, SetAt: at, PolicyVersion: "v1"}); err != nil {
		return err
	}
	m := []notify.Message{{Kind: notify.KindCard, Recipient: "acc_1", TaskID: id, OrderID: x.OrderID, ShopID: x.ShopID, At: at,
		Status: notify.Pending, Rule: "R-NTF-2", PolicyVersion: "v1", Payload: json.RawMessage(`{"order":"x"}`)}}
	return tx.AppendOutbox(ctx, m)
}

// BenchClaimDue measures the sweeper's store cost: claim 1000 due timers and
// record their firings in one Update, until all are fired. With several
// stores (replicas on one database) they sweep the same timers at once, and
// every timer must be claimed exactly once.
func BenchClaimDue(b *testing.B, stores ...store.Store) {
	ctx := context.Background()
	total := b.N * batch
	for lo := 0; lo < total; lo += batch {
		err := stores[0].Update(ctx, func(tx store.Tx) error {
			for i := lo; i < lo+batch; i++ {
				tm := task.Timer{Subject: fmt.Sprintf("tsk_%09d", i), Kind: "reply", DueAt: base.Add(time.Duration(i) * time.Millisecond),
					SetAt: base, PolicyVersion: "v1"}
				if err := tx.SetTimer(ctx, tm); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	now := base.Add(time.Duration(total) * time.Millisecond)
	b.ResetTimer()
	cpu0 := cputime.Process()
	var claimed atomic.Int64
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			for {
				n := 0
				err := s.Update(ctx, func(tx store.Tx) error {
					ts, err := tx.ClaimDue(ctx, now, batch)
					if err != nil {
						return err
					}
					n = len(ts)
					fs := make([]task.Firing, len(ts))
					for i, t := range ts {
						fs[i] = task.Firing{Subject: t.Subject, Kind: t.Kind, DueAt: t.DueAt, FiredAt: now, Late: now.Sub(t.DueAt)}
					}
					return tx.RecordFirings(ctx, fs)
				})
				if err != nil {
					b.Error(err)
					return
				}
				if n == 0 {
					return
				}
				claimed.Add(int64(n))
			}
		})
	}
	wg.Wait()
	if got := claimed.Load(); got != int64(total) {
		b.Fatalf("claimed %d timers, want %d", got, total)
	}
	report(b, total, "timer", cpu0)
}

// BenchViewOrder measures a point read through the reader pool.
func BenchViewOrder(b *testing.B, open func(testing.TB) store.Store) {
	s := open(b)
	defer s.Close()
	seedOrders(b, s, 1000)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			err := s.View(ctx, func(tx store.ReadTx) error {
				_, err := tx.Order(ctx, fmt.Sprintf("ord_%08d", i%1000))
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
