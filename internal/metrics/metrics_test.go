package metrics

import (
	"strings"
	"testing"
	"time"
)

// The text format: HELP and TYPE lines, labels quoted and escaped, sorted
// samples, cumulative buckets with le bounds inclusive (1 s lands in le="1",
// 1 s + 1 µs in le="2"), _sum and _count.
func TestExposition(t *testing.T) {
	c := NewCounterVec("x_total", "Things.\nTwo lines.", "route", "status")
	c.Inc("GET /b", "200")
	c.Add(2, "GET /a", "404")
	c.Inc("GET /a", "404")
	c.Inc(`q"\`+"\n", "500")
	h := NewHistogramVec("lat_seconds", "Latency.", []float64{0.5, 1, 2})
	for _, v := range []float64{0.1, 1, 1.000001, 5} {
		h.Observe(v)
	}
	var b strings.Builder
	if err := Write(&b, []*CounterVec{c}, []*HistogramVec{h}, []GaugeFamily{{Name: "g", Help: "G.", Labels: []string{"k"}, Samples: []Gauge{{Labels: []string{"v"}, Value: 1.5}}}}); err != nil {
		t.Fatal(err)
	}
	want := `# HELP x_total Things.\nTwo lines.
# TYPE x_total counter
x_total{route="GET /a",status="404"} 3
x_total{route="GET /b",status="200"} 1
x_total{route="q\"\\\n",status="500"} 1
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.5"} 1
lat_seconds_bucket{le="1"} 2
lat_seconds_bucket{le="2"} 3
lat_seconds_bucket{le="+Inf"} 4
lat_seconds_sum 7.100001
lat_seconds_count 4
# HELP g G.
# TYPE g gauge
g{k="v"} 1.5
`
	if got := b.String(); got != want {
		t.Fatalf("exposition:\n%s\nwant:\n%s", got, want)
	}
	if c.Value("GET /a", "404") != 3 || c.Value("GET /z", "200") != 0 || h.Count() != 4 {
		t.Fatalf("Value/Count: %d %d %d", c.Value("GET /a", "404"), c.Value("GET /z", "200"), h.Count())
	}
}

// Firings' lateness goes to the histogram in seconds and counts as fired.
func TestObserveFirings(t *testing.T) {
	s := New(Config{})
	s.ObserveFirings([]time.Duration{0, 300 * time.Millisecond, 90 * time.Second})
	s.ObserveFacts(998, 1, 1)
	if s.lateness.Count() != 3 || s.fired.Value() != 3 || s.FactsCount("accepted") != 998 || s.FactsCount("refused") != 1 {
		t.Fatalf("lateness %d, fired %d, facts %d", s.lateness.Count(), s.fired.Value(), s.FactsCount("accepted"))
	}
	var nilService *Service
	nilService.ObserveFacts(1, 0, 0) // a server without metrics passes nil
}
