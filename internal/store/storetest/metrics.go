package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

func init() {
	register("TaskCounts", testTaskCounts)
	register("TimersDue", testTimersDue)
	register("WebhookBacklog", testWebhookBacklog)
}

// testTaskCounts: counts by (state, type) agree with the task set, in order.
func testTaskCounts(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if cs := get[[]store.TaskCount](t)(tx.TaskCounts(ctx)); len(cs) != 0 {
			t.Errorf("TaskCounts on an empty store = %v", cs)
		}
	})
	set := loadTaskSet(t, s)
	m := map[[2]string]int{}
	for _, x := range set {
		m[[2]string{string(x.State), string(x.Type)}]++
	}
	var want []store.TaskCount
	for k, n := range m {
		want = append(want, store.TaskCount{State: task.State(k[0]), Type: task.Type(k[1]), N: n})
	}
	slices.SortFunc(want, func(a, b store.TaskCount) int {
		if c := strings.Compare(string(a.State), string(b.State)); c != 0 {
			return c
		}
		return strings.Compare(string(a.Type), string(b.Type))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "TaskCounts", get[[]store.TaskCount](t)(tx.TaskCounts(ctx)), want)
	})
}

// testTimersDue: a timer due exactly at now counts, one a nanosecond later does not.
func testTimersDue(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for i, d := range []time.Duration{-time.Hour, 0, time.Millisecond, time.Hour} {
			must(t, tx.SetTimer(ctx, task.Timer{Subject: "tsk_" + string(rune('a'+i)), Kind: "reply", DueAt: at(d), SetAt: at(-2 * time.Hour), PolicyVersion: "v"}))
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		for _, c := range []struct {
			now  time.Time
			want int
		}{{at(-2 * time.Hour), 0}, {at(-time.Hour), 1}, {at(0), 2}, {at(time.Millisecond - time.Microsecond), 2}, {at(time.Millisecond), 3}, {at(48 * time.Hour), 4}} {
			if n := get[int](t)(tx.TimersDue(ctx, c.now)); n != c.want {
				t.Errorf("TimersDue(t0%+v) = %d, want %d", c.now.Sub(t0), n, c.want)
			}
		}
	})
}

// testWebhookBacklog: pending and dead deliveries are counted apart; succeeded ones not at all.
func testWebhookBacklog(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		p, d, err := tx.WebhookBacklog(ctx)
		if err != nil || p != 0 || d != 0 {
			t.Errorf("WebhookBacklog on an empty store = %d, %d, %v", p, d, err)
		}
	})
	sub := newSub("whs_m", notify.AudiencePlatform, "*")
	ds := []notify.Delivery{newDelivery("d1", "whs_m", 1, at(0)), newDelivery("d2", "whs_m", 2, at(0)), newDelivery("d3", "whs_m", 3, at(0)),
		newDelivery("d4", "whs_m", 4, at(0)), newDelivery("d5", "whs_m", 5, at(0)), newDelivery("d6", "whs_m", 6, at(0))}
	ds[3].Status, ds[4].Status, ds[5].Status = notify.DeliveryDead, notify.DeliveryDead, notify.DeliverySucceeded
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutWebhookSubscription(ctx, &sub))
		get[int](t)(tx.InsertWebhookDeliveries(ctx, ds))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		p, d, err := tx.WebhookBacklog(ctx)
		if err != nil || p != 3 || d != 2 {
			t.Errorf("WebhookBacklog = %d pending, %d dead, %v; want 3, 2", p, d, err)
		}
	})
}
