package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"aftersale/internal/scorecard"
	"aftersale/internal/store"
)

func init() {
	register("CounterRange", testCounterRange)
	register("Takeover", testTakeover)
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
