package metrics

import (
	"bufio"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"aftersale/internal/store"
	"aftersale/internal/testkit"
)

// scrape serves GET /metrics from s and parses the answer, which must be
// the Prometheus text format 0.0.4.
func scrape(t *testing.T, s *Service) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// documented is one row of the metrics table of docs/config.md.
type documented struct {
	name, typ string
	labels    []string
}

// docTable reads the metrics table of docs/config.md ("Metrics (`GET /metrics`)").
func docTable(t *testing.T) []documented {
	t.Helper()
	f, err := os.Open("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []documented
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### Metrics (`GET /metrics`)"):
			in = true
		case in && strings.HasPrefix(line, "#"):
			in = false
		case in && strings.HasPrefix(line, "| `"):
			cells := strings.Split(line, "|")
			d := documented{name: strings.Trim(cells[1], " `"), typ: strings.TrimSpace(cells[2])}
			for l := range strings.SplitSeq(cells[3], ",") {
				if l = strings.Trim(l, " `"); l != "—" {
					d.labels = append(d.labels, l)
				}
			}
			out = append(out, d)
		}
	}
	if len(out) < 12 {
		t.Fatalf("docs/config.md: %d metrics in the table, want the 12 or more it lists", len(out))
	}
	return out
}

// /metrics carries the Go runtime's and the process's series (go_*,
// process_*) beside every metric the docs table names, each with the
// documented type and label names, all 5 × 14 task pairs, and a HELP line
// for every family.
func TestHandler_GoProcessAndDocumentedSeries(t *testing.T) {
	s := New(Config{Store: testkit.OpenStore(t), Subscribers: func() int { return 2 }})
	// Label sets show once used (requests) or from the start (the rest).
	s.Middleware(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	fams := scrape(t, s)

	for name, typ := range map[string]dto.MetricType{"go_goroutines": dto.MetricType_GAUGE, "process_resident_memory_bytes": dto.MetricType_GAUGE} {
		f := fams[name]
		if f == nil || f.GetType() != typ || len(f.GetMetric()) != 1 || f.GetMetric()[0].GetGauge().GetValue() <= 0 {
			t.Errorf("%s: %v, want a positive %v", name, f, typ)
		}
	}
	types := map[string]dto.MetricType{"gauge": dto.MetricType_GAUGE, "counter": dto.MetricType_COUNTER, "histogram": dto.MetricType_HISTOGRAM}
	for _, d := range docTable(t) {
		f := fams[d.name]
		if f == nil {
			t.Errorf("%s (docs/config.md) is not served", d.name)
			continue
		}
		if want, ok := types[d.typ]; !ok || f.GetType() != want {
			t.Errorf("%s: type %v, docs say %q", d.name, f.GetType(), d.typ)
		}
		if f.GetHelp() == "" {
			t.Errorf("%s: no HELP", d.name)
		}
		for _, m := range f.GetMetric() {
			var names []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
			}
			if !slices.Equal(names, d.labels) {
				t.Errorf("%s: labels %v, docs say %v", d.name, names, d.labels)
			}
		}
	}
	if n := len(fams["aftersale_tasks"].GetMetric()); n != 70 {
		t.Errorf("%d aftersale_tasks samples, want 5 × 14 = 70", n)
	}
	if v := fams["aftersale_sse_subscribers"].GetMetric()[0].GetGauge().GetValue(); v != 2 {
		t.Errorf("aftersale_sse_subscribers = %v, want 2", v)
	}
	if ts := fams["aftersale_metrics_store_read_timestamp_seconds"].GetMetric()[0].GetGauge().GetValue(); time.Since(time.UnixMilli(int64(ts*1000))).Abs() > time.Hour {
		t.Errorf("aftersale_metrics_store_read_timestamp_seconds = %v, not about now", ts)
	}
}

// Histogram buckets are the documented upper bounds, inclusive (1 s lands
// in le="1", 1 s + 1 µs in le="2"), cumulative, with _sum and _count;
// firings also count as fired, facts by outcome.
func TestObserveFirings(t *testing.T) {
	s := New(Config{Store: testkit.OpenStore(t)})
	s.ObserveFirings([]time.Duration{0, 300 * time.Millisecond, time.Second, time.Second + time.Microsecond, 90 * time.Second})
	s.ObserveFacts(998, 1, 1)
	fams := scrape(t, s)
	h := fams["aftersale_timer_lateness_seconds"].GetMetric()[0].GetHistogram()
	var bounds []float64
	cum := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
		cum[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	if !slices.Equal(bounds, append(slices.Clone(lateBuckets), math.Inf(1))) || cum[0.5] != 2 || cum[1] != 3 || cum[2] != 4 || cum[60] != 4 || cum[300] != 5 ||
		h.GetSampleCount() != 5 || math.Abs(h.GetSampleSum()-92.300001) > 1e-9 {
		t.Errorf("lateness: bounds %v, cumulative %v, count %d, sum %v", bounds, cum, h.GetSampleCount(), h.GetSampleSum())
	}
	if v := fams["aftersale_timers_fired_total"].GetMetric()[0].GetCounter().GetValue(); v != 5 {
		t.Errorf("aftersale_timers_fired_total = %v, want 5", v)
	}
	facts := map[string]float64{}
	for _, m := range fams["aftersale_facts_total"].GetMetric() {
		facts[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	if facts["accepted"] != 998 || facts["duplicate"] != 1 || facts["refused"] != 1 {
		t.Errorf("aftersale_facts_total: %v", facts)
	}
	var nilService *Service
	nilService.ObserveFacts(1, 0, 0) // a server without metrics passes nil
	nilService.ObserveFirings([]time.Duration{time.Second})
}

// countingStore counts read transactions.
type countingStore struct {
	store.Store
	views atomic.Int32
}

func (c *countingStore) View(ctx context.Context, fn func(store.ReadTx) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, fn)
}

// Store gauges are read once per TTL however often /metrics is scraped.
func TestStoreGauges_ReadOncePerTTL(t *testing.T) {
	st := &countingStore{Store: testkit.OpenStore(t)}
	s := New(Config{Store: st, TTL: time.Hour})
	for range 3 {
		if fams := scrape(t, s); len(fams["aftersale_tasks"].GetMetric()) != 70 {
			t.Fatalf("aftersale_tasks: %v", fams["aftersale_tasks"])
		}
	}
	if n := st.views.Load(); n != 1 {
		t.Errorf("%d store reads for 3 scrapes within the TTL, want 1", n)
	}
}

// A store that cannot be read answers 503, not a partial page.
func TestHandler_StoreDown(t *testing.T) {
	st := testkit.OpenStore(t)
	s := New(Config{Store: st})
	st.Close()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("GET /metrics with the store closed: %d, want 503", rec.Code)
	}
}

// A scraper that asks for the protobuf format by Accept gets it, with the
// same families.
func TestHandler_Protobuf(t *testing.T) {
	s := New(Config{Store: testkit.OpenStore(t)})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	ct := rec.Header().Get("Content-Type")
	if rec.Code != http.StatusOK || !strings.HasPrefix(ct, "application/vnd.google.protobuf") {
		t.Fatalf("GET /metrics asking for protobuf: %d %q", rec.Code, ct)
	}
	dec := expfmt.NewDecoder(rec.Body, expfmt.Format(ct))
	names := map[string]bool{}
	for {
		var f dto.MetricFamily
		if err := dec.Decode(&f); err != nil {
			break
		}
		names[f.GetName()] = true
	}
	for _, n := range []string{"go_goroutines", "process_resident_memory_bytes", "aftersale_tasks", "aftersale_timer_lateness_seconds"} {
		if !names[n] {
			t.Errorf("%s not in the protobuf answer (%d families)", n, len(names))
		}
	}
}
