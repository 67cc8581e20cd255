package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"aftersale/internal/clock"
	"aftersale/internal/store"
)

// Service holds aftersale's metrics: what the process counts as it works
// (HTTP requests, facts, timer firings), gauges read from the store when
// scraped (tasks by state and type, due timers, the webhook backlog), at
// most once per TTL, and the Go runtime's and the process's series, all in
// one Prometheus registry of its own.
type Service struct {
	store store.Store
	clk   clock.Clock
	ttl   time.Duration

	reg      *prometheus.Registry
	httpReqs *prometheus.CounterVec
	httpDur  *prometheus.HistogramVec
	facts    *prometheus.CounterVec
	fired    prometheus.Counter
	lateness prometheus.Histogram

	mu     sync.Mutex
	cached *storeGauges
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
	s := &Service{store: c.Store, clk: c.Clock, ttl: c.TTL, reg: prometheus.NewRegistry(),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aftersale_http_requests_total",
			Help: "HTTP requests by route (method and path pattern) and status."}, []string{"route", "status"}),
		httpDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "aftersale_http_request_duration_seconds",
			Help:    "HTTP request latency by route, from the first byte read to the handler's return (event streams last as long as they are open).",
			Buckets: httpBuckets}, []string{"route"}),
		facts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aftersale_facts_total",
			Help: "Facts ingested over POST /v1/facts, by outcome (accepted, duplicate, refused)."}, []string{"status"}),
		fired: prometheus.NewCounter(prometheus.CounterOpts{Name: "aftersale_timers_fired_total",
			Help: "Timers the sweeper fired (taken, or recorded as no longer taken)."}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "aftersale_timer_lateness_seconds",
			Help: "How late the sweeper fired each timer: firing time minus due time.", Buckets: lateBuckets}),
	}
	// The fact outcomes show from the start (as 0), like the series without labels.
	for _, st := range []string{"accepted", "duplicate", "refused"} {
		s.facts.WithLabelValues(st)
	}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		s.httpReqs, s.httpDur, s.facts, s.fired, s.lateness, storeCollector{s})
	if subs := c.Subscribers; subs != nil {
		s.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aftersale_sse_subscribers",
			Help: "Open event streams (GET /v1/stream)."}, func() float64 { return float64(subs()) }))
	}
	return s
}

// ObserveFacts counts one batch's outcomes.
func (s *Service) ObserveFacts(accepted, duplicate, refused int) {
	if s == nil {
		return
	}
	s.facts.WithLabelValues("accepted").Add(float64(accepted))
	s.facts.WithLabelValues("duplicate").Add(float64(duplicate))
	s.facts.WithLabelValues("refused").Add(float64(refused))
}

// ObserveFirings records the lateness of fired timers.
func (s *Service) ObserveFirings(late []time.Duration) {
	if s == nil {
		return
	}
	for _, d := range late {
		s.lateness.Observe(d.Seconds())
	}
	s.fired.Add(float64(len(late)))
}

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
		s.httpReqs.WithLabelValues(route, strconv.Itoa(Status(r, sw.status))).Inc()
		s.httpDur.WithLabelValues(route).Observe(time.Since(start).Seconds())
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

// Handler serves the metrics in the Prometheus text format (or another
// format the scraper asks for). It renews the store gauges first, with the
// request's context, when they are older than the TTL: a store that cannot
// be read answers 503.
func (s *Service) Handler() http.Handler {
	h := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.storeGauges(r.Context()); err != nil {
			http.Error(w, "metrics: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}
