// Package metrics exposes the service's metrics in the Prometheus text
// format through github.com/prometheus/client_golang: a registry of its own
// with the Go runtime's (go_*) and the process's (process_*) collectors, the
// service's counters and histograms, and the store gauges, which a collector
// of its own reads at scrape time from a cache renewed at most once per TTL.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"aftersale/internal/store"
	"aftersale/internal/task"
)

// storeGauges is one read of the store: what the store gauges show.
type storeGauges struct {
	counts        map[[2]string]int // by (state, type)
	due           int
	lag           float64 // seconds
	pending, dead int
	readAt        time.Time
}

// Store gauges' descriptions.
var (
	tasksDesc = prometheus.NewDesc("aftersale_tasks",
		"Tasks by state and type (every state and type is listed, 0 when none).", []string{"state", "type"}, nil)
	dueDesc = prometheus.NewDesc("aftersale_timers_due",
		"Timers due at or before now and not yet fired.", nil, nil)
	lagDesc = prometheus.NewDesc("aftersale_timer_next_due_lag_seconds",
		"How far now is past the earliest unfired timer's due time (0 when none is due): a sweeper falling behind shows here.", nil, nil)
	pendingDesc = prometheus.NewDesc("aftersale_webhook_deliveries_pending",
		"Webhook deliveries waiting to be sent or retried.", nil, nil)
	deadDesc = prometheus.NewDesc("aftersale_webhook_dead_letters",
		"Webhook deliveries that exhausted their attempts (the dead-letter list).", nil, nil)
	readAtDesc = prometheus.NewDesc("aftersale_metrics_store_read_timestamp_seconds",
		"When the store gauges above were read (they are reused for a few seconds).", nil, nil)
)

// storeCollector collects the store gauges from the Service's cache.
type storeCollector struct{ s *Service }

// Describe sends the store gauges' descriptions.
func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{tasksDesc, dueDesc, lagDesc, pendingDesc, deadDesc, readAtDesc} {
		ch <- d
	}
}

// Collect sends the store gauges: the cached read, or a new one when it is
// older than the TTL (Handler renews it first, with the request's context).
func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	g, err := c.s.storeGauges(context.Background())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(tasksDesc, err)
		return
	}
	for _, st := range task.States {
		for _, ty := range task.Types {
			ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, float64(g.counts[[2]string{string(st), string(ty)}]), string(st), string(ty))
		}
	}
	ch <- prometheus.MustNewConstMetric(dueDesc, prometheus.GaugeValue, float64(g.due))
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, g.lag)
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(g.pending))
	ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, float64(g.dead))
	ch <- prometheus.MustNewConstMetric(readAtDesc, prometheus.GaugeValue, float64(g.readAt.UnixMilli())/1000)
}

// storeGauges returns the store gauges, read again when the cached read is
// older than the TTL.
func (s *Service) storeGauges(ctx context.Context) (*storeGauges, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.cached == nil || now.Sub(s.cached.readAt) >= s.ttl {
		g, err := s.read(ctx)
		if err != nil {
			return nil, err
		}
		s.cached = g
	}
	return s.cached, nil
}

// read asks the store, in one read snapshot: counting queries only.
func (s *Service) read(ctx context.Context) (*storeGauges, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var (
		counts  []store.TaskCount
		next    time.Time
		hasNext bool
		g       = &storeGauges{counts: map[[2]string]int{}}
	)
	now := s.clk.Now()
	err := s.store.View(ctx, func(tx store.ReadTx) error {
		var err error
		if counts, err = tx.TaskCounts(ctx); err != nil {
			return err
		}
		if g.due, err = tx.TimersDue(ctx, now); err != nil {
			return err
		}
		if next, hasNext, err = tx.NextDue(ctx); err != nil {
			return err
		}
		g.pending, g.dead, err = tx.WebhookBacklog(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		g.counts[[2]string{string(c.State), string(c.Type)}] = c.N
	}
	if hasNext && !next.After(now) {
		g.lag = now.Sub(next).Seconds()
	}
	g.readAt = time.Now()
	return g, nil
}
