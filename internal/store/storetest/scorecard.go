package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"aftersale/internal/scorecard"
	"aftersale/internal/store"
)

func init() {
	register("CounterRange", testCounterRange)
	register("Takeover", testTakeover)
	register("AddCounters", testAddCounters)
	register("Takeovers", testTakeovers)
}

// testAddCounters: AddCounters adds like IncrCounter (to new and existing
// keys, negative deltas too); two calls in one transaction on one key sum;
// reads in the transaction (Counter, CounterRange, IncrCounter) see the
// added values; a rolled-back transaction adds nothing.
func testAddCounters(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		get[int64](t)(tx.IncrCounter(ctx, "c:b", 10))
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.AddCounters(ctx, []string{"c:a", "c:b", "c:c"}, []int64{1, -3, 5}))
		must(t, tx.AddCounters(ctx, []string{"c:a", "c:d"}, []int64{2, 0}))
		if got := get[int64](t)(tx.Counter(ctx, "c:a")); got != 3 {
			t.Errorf("Counter(c:a) in the transaction = %d, want 3 (1 + 2)", got)
		}
		must(t, tx.AddCounters(ctx, []string{"c:c"}, []int64{1}))
		if got := get[int64](t)(tx.IncrCounter(ctx, "c:c", 1)); got != 7 {
			t.Errorf("IncrCounter(c:c) after AddCounters = %d, want 7", got)
		}
		must(t, tx.AddCounters(ctx, nil, nil))
	})
	want := map[string]int64{"c:a": 3, "c:b": 7, "c:c": 7, "c:d": 0}
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if got := get[map[string]int64](t)(tx.CounterRange(ctx, "c:", "c:\uffff")); !reflect.DeepEqual(got, want) {
			t.Errorf("after AddCounters: %v, want %v", got, want)
		}
	})
	if err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.AddCounters(context.Background(), []string{"c:a", "c:e"}, []int64{100, 100}); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("rolled-back Update = %v", err)
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if got := get[map[string]int64](t)(tx.CounterRange(ctx, "c:", "c:\uffff")); !reflect.DeepEqual(got, want) {
			t.Errorf("after a rollback: %v, want %v", got, want)
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if err := tx.AddCounters(ctx, []string{"c:a"}, []int64{1, 2}); err == nil {
			t.Error("AddCounters with 1 key and 2 deltas succeeded")
		}
	})
}

// testTakeovers: the batch read returns the stored states of the shops
// asked for, none for a shop never taken over or not asked for.
func testTakeovers(t *testing.T, s store.Store) {
	on := scorecard.Takeover{ShopID: "s1", Active: true, Since: t0, Starts: 2, PolicyVersion: "taote/2022.1"}
	off := scorecard.Takeover{ShopID: "s3", Since: t0.Add(time.Hour), Starts: 1, PolicyVersion: "taote/2022.1"}
	other := scorecard.Takeover{ShopID: "s4", Active: true, Since: t0, Starts: 1, PolicyVersion: "taote/2022.1"}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, to := range []scorecard.Takeover{on, off, other} {
			must(t, tx.PutTakeover(ctx, to))
		}
	})
	check := func(ctx context.Context, tx store.ReadTx) {
		got := get[[]scorecard.Takeover](t)(tx.Takeovers(ctx, []string{"s3", "s1", "s2"}))
		byShop := map[string]scorecard.Takeover{}
		for _, to := range got {
			byShop[to.ShopID] = to
		}
		if len(got) != 2 || !byShop["s1"].Active || byShop["s1"].Starts != 2 || !byShop["s1"].Since.Equal(t0) ||
			byShop["s3"].Active || !byShop["s3"].Since.Equal(off.Since) {
			t.Errorf("Takeovers(s3, s1, s2) = %+v, want s1 (on) and s3 (off)", got)
		}
		if got := get[[]scorecard.Takeover](t)(tx.Takeovers(ctx, nil)); len(got) != 0 {
			t.Errorf("Takeovers(none) = %+v", got)
		}
	}
	view(t, s, check)
	update(t, s, func(ctx context.Context, tx store.Tx) { check(ctx, tx) }) // the locking variant
}

// testCounterRange: a range read returns exactly the keys between its
// bounds in byte order — a shop's days in a window, not another shop's
// whose id shares a prefix, not the days outside.
func testCounterRange(t *testing.T, s store.Store) {
	keys := map[string]int64{
		scorecard.CounterKey("s1", "2023-07-01", scorecard.MetricOrders):         3,
		scorecard.CounterKey("s1", "2023-07-02", scorecard.MetricOrders):         4,
		scorecard.CounterKey("s1", "2023-07-02", scorecard.MetricLiableDisputes): 1,
		scorecard.CounterKey("s1", "2023-07-03", scorecard.MetricOrders):         5,
		scorecard.CounterKey("s1", "2023-06-30", scorecard.MetricOrders):         100, // before the window
		scorecard.CounterKey("s10", "2023-07-02", scorecard.MetricOrders):        7,   // another shop, shared prefix
		scorecard.CounterKey("s1x", "2023-07-02", scorecard.MetricOrders):        8,
		"remind:s1:2023-07-02": 9,
	}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for k, v := range keys {
			get[int64](t)(tx.IncrCounter(ctx, k, v))
		}
	})
	from, to := scorecard.KeyRange(scorecard.ShopPrefix("s1"), "2023-07-01", "2023-07-02")
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got := get[map[string]int64](t)(tx.CounterRange(ctx, from, to))
		want := map[string]int64{
			scorecard.CounterKey("s1", "2023-07-01", scorecard.MetricOrders):         3,
			scorecard.CounterKey("s1", "2023-07-02", scorecard.MetricOrders):         4,
			scorecard.CounterKey("s1", "2023-07-02", scorecard.MetricLiableDisputes): 1,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CounterRange = %v, want %v", got, want)
		}
		if got := get[map[string]int64](t)(tx.CounterRange(ctx, "zz", "zz:\uffff")); len(got) != 0 {
			t.Errorf("CounterRange(nothing there) = %v", got)
		}
	})
}

func testTakeover(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got := get[scorecard.Takeover](t)(tx.Takeover(ctx, "s1"))
		if !reflect.DeepEqual(got, scorecard.Takeover{ShopID: "s1"}) {
			t.Errorf("Takeover(never evaluated) = %+v", got)
		}
	})
	since := t0.In(time.FixedZone("CST", 8*3600))
	on := scorecard.Takeover{ShopID: "s1", Active: true, Since: since, Starts: 1, PolicyVersion: "taote/2022.1"}
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.PutTakeover(ctx, on)) })
	off := on
	off.Active, off.Since = false, t0.Add(time.Hour)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got := get[scorecard.Takeover](t)(tx.Takeover(ctx, "s1"))
		if !got.Active || !got.Since.Equal(t0) || got.Since.Location() != time.UTC || got.Starts != 1 {
			t.Errorf("Takeover after put = %+v", got)
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.PutTakeover(ctx, off)) })
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if got := get[scorecard.Takeover](t)(tx.Takeover(ctx, "s1")); got.Active || !got.Since.Equal(off.Since) {
			t.Errorf("Takeover after the second put = %+v", got)
		}
		if got := get[scorecard.Takeover](t)(tx.Takeover(ctx, "s2")); got.Active {
			t.Errorf("another shop = %+v", got)
		}
	})
}
