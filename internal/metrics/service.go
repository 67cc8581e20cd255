package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"aftersale/internal/clock"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// Service holds aftersale's metrics: what the process counts as it works
// (HTTP requests, facts, timer firings) and gauges read from the store when
// scraped (tasks by state and type, due timers, the webhook backlog), at
// most once per TTL.
type Service struct {
	store store.Store
	clk   clock.Clock
	ttl   time.Duration
	subs  func() int

	httpReqs *CounterVec
	httpDur  *HistogramVec
	facts    *CounterVec
	fired    *CounterVec
	lateness *HistogramVec

	mu      sync.Mutex
	cached  []GaugeFamily
	cacheAt time.Time
}

// Config is what a Service reads its gauges from.
type Config struct {
	Store store.Store
	// Clock is the engine's clock (the sandbox clock under --sandbox): timers
	// are due against it.
	Clock clock.Clock
	// Subscribers counts open SSE streams (optional).
	Subscribers func() int
	// TTL is how long store gauges are reused between scrapes (default 5 s):
	// a scrape costs at most a few counting queries per TTL.
	TTL time.Duration
}

// Latency buckets, in seconds.
var (
	httpBuckets = []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10}
	lateBuckets = []float64{.001, .01, .1, .5, 1, 2, 5, 10, 30, 60, 300}
)

// New returns a Service.
func New(c Config) *Service {
	if c.TTL <= 0 {
		c.TTL = 5 * time.Second
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	s := &Service{store: c.Store, clk: c.Clock, ttl: c.TTL, subs: c.Subscribers,
		httpReqs: NewCounterVec("aftersale_http_requests_total", "HTTP requests by route (method and path pattern) and status.", "route", "status"),
		httpDur: NewHistogramVec("aftersale_http_request_duration_seconds", "HTTP request latency by route, from the first byte read to the handler's return (event streams last as long as they are open).",
			httpBuckets, "route"),
		facts: NewCounterVec("aftersale_facts_total", "Facts ingested over POST /v1/facts, by outcome (accepted, duplicate, refused).", "status"),
		fired: NewCounterVec("aftersale_timers_fired_total", "Timers the sweeper fired (taken, or recorded as no longer taken)."),
		lateness: NewHistogramVec("aftersale_timer_lateness_seconds", "How late the sweeper fired each timer: firing time minus due time.",
			lateBuckets),
	}
	// Series without labels, and the fact outcomes, show from the start (as 0).
	s.fired.Add(0)
	s.lateness.touch()
	for _, st := range []string{"accepted", "duplicate", "refused"} {
		s.facts.Add(0, st)
	}
	return s
}

// ObserveFacts counts one batch's outcomes.
func (s *Service) ObserveFacts(accepted, duplicate, refused int) {
	if s == nil {
		return
	}
	s.facts.Add(uint64(accepted), "accepted")
	s.facts.Add(uint64(duplicate), "duplicate")
	s.facts.Add(uint64(refused), "refused")
}

// ObserveFirings records the lateness of fired timers.
func (s *Service) ObserveFirings(late []time.Duration) {
	if s == nil {
		return
	}
	for _, d := range late {
		s.lateness.Observe(d.Seconds())
	}
	s.fired.Add(uint64(len(late)))
}

// FactsCount returns the facts counted with an outcome.
func (s *Service) FactsCount(status string) uint64 { return s.facts.Value(status) }

type routeKey struct{}

type routeHolder struct{ route string }

// SetRoute names the route of the request whose context this is (called by
// the API's router once it matched an operation).
func SetRoute(ctx context.Context, method, pattern string) {
	if h, ok := ctx.Value(routeKey{}).(*routeHolder); ok {
		h.route = method + " " + pattern
	}
}

// Middleware counts requests and their latency by route and status. The
// route is what SetRoute named; a request no operation matched is labelled
// by its path for the documents (/docs, /openapi.json, /openapi.yaml,
// /metrics) and "other" otherwise, so labels stay few.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := &routeHolder{}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), routeKey{}, h)))
		route := h.route
		if route == "" {
			switch r.URL.Path {
			case "/docs", "/openapi.json", "/openapi.yaml", "/metrics":
				route = r.Method + " " + r.URL.Path
			default:
				route = "other"
			}
		}
		s.httpReqs.Inc(route, strconv.Itoa(Status(r, sw.status)))
		s.httpDur.Observe(time.Since(start).Seconds(), route)
	})
}

// StatusClientGone is the status recorded (in the access log and the
// request counter) for a request whose client went away before its answer:
// nginx's 499, not a server error.
const StatusClientGone = 499

// Status is the status to record for r, answered status: StatusClientGone
// when its client went away (the request's context ended) and the answer is
// an error only because of that, else status.
func Status(r *http.Request, status int) int {
	if status >= 500 && r.Context().Err() != nil {
		return StatusClientGone
	}
	return status
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (event streams flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Handler serves the metrics in the Prometheus text format.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gauges, err := s.gauges(r.Context())
		if err != nil {
			http.Error(w, "metrics: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = Write(w, []*CounterVec{s.httpReqs, s.facts, s.fired}, []*HistogramVec{s.httpDur, s.lateness}, gauges)
	})
}

// gauges returns the store gauges (cached for the TTL) and the live ones.
func (s *Service) gauges(ctx context.Context) ([]GaugeFamily, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.cached == nil || now.Sub(s.cacheAt) >= s.ttl {
		fams, err := s.read(ctx)
		if err != nil {
			return nil, err
		}
		s.cached, s.cacheAt = fams, now
	}
	out := append([]GaugeFamily(nil), s.cached...)
	if s.subs != nil {
		out = append(out, GaugeFamily{Name: "aftersale_sse_subscribers", Help: "Open event streams (GET /v1/stream).",
			Samples: []Gauge{{Value: float64(s.subs())}}})
	}
	return out, nil
}

// read asks the store, in one read snapshot: counting queries only.
func (s *Service) read(ctx context.Context) ([]GaugeFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var (
		counts        []store.TaskCount
		due           int
		next          time.Time
		hasNext       bool
		pending, dead int
	)
	now := s.clk.Now()
	err := s.store.View(ctx, func(tx store.ReadTx) error {
		var err error
		if counts, err = tx.TaskCounts(ctx); err != nil {
			return err
		}
		if due, err = tx.TimersDue(ctx, now); err != nil {
			return err
		}
		if next, hasNext, err = tx.NextDue(ctx); err != nil {
			return err
		}
		pending, dead, err = tx.WebhookBacklog(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	tasks := GaugeFamily{Name: "aftersale_tasks", Help: "Tasks by state and type (every state and type is listed, 0 when none).", Labels: []string{"state", "type"}}
	m := map[[2]string]int{}
	for _, c := range counts {
		m[[2]string{string(c.State), string(c.Type)}] = c.N
	}
	for _, st := range task.States {
		for _, ty := range task.Types {
			tasks.Samples = append(tasks.Samples, Gauge{Labels: []string{string(st), string(ty)}, Value: float64(m[[2]string{string(st), string(ty)}])})
		}
	}
	lag := 0.0
	if hasNext && !next.After(now) {
		lag = now.Sub(next).Seconds()
	}
	return []GaugeFamily{
		tasks,
		{Name: "aftersale_timers_due", Help: "Timers due at or before now and not yet fired.", Samples: []Gauge{{Value: float64(due)}}},
		{Name: "aftersale_timer_next_due_lag_seconds", Help: "How far now is past the earliest unfired timer's due time (0 when none is due): a sweeper falling behind shows here.",
			Samples: []Gauge{{Value: lag}}},
		{Name: "aftersale_webhook_deliveries_pending", Help: "Webhook deliveries waiting to be sent or retried.", Samples: []Gauge{{Value: float64(pending)}}},
		{Name: "aftersale_webhook_dead_letters", Help: "Webhook deliveries that exhausted their attempts (the dead-letter list).", Samples: []Gauge{{Value: float64(dead)}}},
		{Name: "aftersale_metrics_store_read_timestamp_seconds", Help: "When the store gauges above were read (they are reused for a few seconds).",
			Samples: []Gauge{{Value: float64(time.Now().UnixMilli()) / 1000}}},
	}, nil
}
