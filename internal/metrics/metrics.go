// Package metrics exposes the service's metrics in the Prometheus text
// format (version 0.0.4), written by hand: counters and histograms with
// labels, kept with atomics, and gauges computed when scraped. It has no
// dependency beyond the standard library.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// CounterVec is a counter with labels.
type CounterVec struct {
	name, help string
	labels     []string
	mu         sync.RWMutex
	vals       map[string]*counterVal
}

type counterVal struct {
	labels []string
	n      atomic.Uint64
}

// NewCounterVec returns a counter named name with these label names.
func NewCounterVec(name, help string, labels ...string) *CounterVec {
	return &CounterVec{name: name, help: help, labels: labels, vals: map[string]*counterVal{}}
}

// Add adds n to the counter of these label values (given in label order).
func (c *CounterVec) Add(n uint64, values ...string) {
	k := strings.Join(values, "\xff")
	c.mu.RLock()
	v := c.vals[k]
	c.mu.RUnlock()
	if v == nil {
		c.mu.Lock()
		if v = c.vals[k]; v == nil {
			v = &counterVal{labels: append([]string(nil), values...)}
			c.vals[k] = v
		}
		c.mu.Unlock()
	}
	v.n.Add(n)
}

// Inc adds 1.
func (c *CounterVec) Inc(values ...string) { c.Add(1, values...) }

// Value returns the counter of these label values.
func (c *CounterVec) Value(values ...string) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if v := c.vals[strings.Join(values, "\xff")]; v != nil {
		return v.n.Load()
	}
	return 0
}

func (c *CounterVec) write(w *bufio.Writer) {
	header(w, c.name, c.help, "counter")
	c.mu.RLock()
	vals := make([]*counterVal, 0, len(c.vals))
	for _, v := range c.vals {
		vals = append(vals, v)
	}
	c.mu.RUnlock()
	sort.Slice(vals, func(i, j int) bool { return less(vals[i].labels, vals[j].labels) })
	for _, v := range vals {
		sample(w, c.name, c.labels, v.labels, "", "", float64(v.n.Load()))
	}
}

// HistogramVec is a histogram with labels; buckets are upper bounds in
// increasing order (+Inf is implied).
type HistogramVec struct {
	name, help string
	labels     []string
	buckets    []float64
	mu         sync.RWMutex
	vals       map[string]*histVal
}

type histVal struct {
	labels []string
	counts []atomic.Uint64 // per bucket (not cumulative), the last is +Inf
	sum    atomic.Uint64   // float64 bits
	n      atomic.Uint64
}

// NewHistogramVec returns a histogram named name with these buckets and label names.
func NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	return &HistogramVec{name: name, help: help, labels: labels, buckets: buckets, vals: map[string]*histVal{}}
}

// Observe records v for these label values.
func (h *HistogramVec) Observe(v float64, values ...string) {
	hv := h.touch(values...)
	i := sort.SearchFloat64s(h.buckets, v) // the first bucket with bound >= v
	hv.counts[i].Add(1)
	for {
		old := hv.sum.Load()
		if hv.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	hv.n.Add(1)
}

// touch returns the series of these label values, created empty if new.
func (h *HistogramVec) touch(values ...string) *histVal {
	k := strings.Join(values, "\xff")
	h.mu.RLock()
	hv := h.vals[k]
	h.mu.RUnlock()
	if hv == nil {
		h.mu.Lock()
		if hv = h.vals[k]; hv == nil {
			hv = &histVal{labels: append([]string(nil), values...), counts: make([]atomic.Uint64, len(h.buckets)+1)}
			h.vals[k] = hv
		}
		h.mu.Unlock()
	}
	return hv
}

// Count returns how many observations were made for these label values.
func (h *HistogramVec) Count(values ...string) uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if v := h.vals[strings.Join(values, "\xff")]; v != nil {
		return v.n.Load()
	}
	return 0
}

func (h *HistogramVec) write(w *bufio.Writer) {
	header(w, h.name, h.help, "histogram")
	h.mu.RLock()
	vals := make([]*histVal, 0, len(h.vals))
	for _, v := range h.vals {
		vals = append(vals, v)
	}
	h.mu.RUnlock()
	sort.Slice(vals, func(i, j int) bool { return less(vals[i].labels, vals[j].labels) })
	for _, v := range vals {
		var cum uint64
		for i, b := range h.buckets {
			cum += v.counts[i].Load()
			sample(w, h.name+"_bucket", h.labels, v.labels, "le", formatFloat(b), float64(cum))
		}
		cum += v.counts[len(h.buckets)].Load()
		sample(w, h.name+"_bucket", h.labels, v.labels, "le", "+Inf", float64(cum))
		sample(w, h.name+"_sum", h.labels, v.labels, "", "", math.Float64frombits(v.sum.Load()))
		sample(w, h.name+"_count", h.labels, v.labels, "", "", float64(cum))
	}
}

// Gauge is one sample of a gauge family, computed at scrape time.
type Gauge struct {
	Labels []string // values, in the family's label order
	Value  float64
}

// GaugeFamily is a gauge whose samples are computed when scraped.
type GaugeFamily struct {
	Name, Help string
	Labels     []string
	Samples    []Gauge
}

func (g *GaugeFamily) write(w *bufio.Writer) {
	header(w, g.Name, g.Help, "gauge")
	for _, s := range g.Samples {
		sample(w, g.Name, g.Labels, s.Labels, "", "", s.Value)
	}
}

// Write writes the families in the text format.
func Write(out io.Writer, counters []*CounterVec, hists []*HistogramVec, gauges []GaugeFamily) error {
	w := bufio.NewWriter(out)
	for _, c := range counters {
		c.write(w)
	}
	for _, h := range hists {
		h.write(w)
	}
	for i := range gauges {
		gauges[i].write(w)
	}
	return w.Flush()
}

func header(w *bufio.Writer, name, help, typ string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
}

func sample(w *bufio.Writer, name string, names, values []string, extraName, extraValue string, v float64) {
	w.WriteString(name)
	if len(names) > 0 || extraName != "" {
		w.WriteByte('{')
		first := true
		for i, n := range names {
			if !first {
				w.WriteByte(',')
			}
			first = false
			val := ""
			if i < len(values) {
				val = values[i]
			}
			w.WriteString(n)
			w.WriteString(`="`)
			w.WriteString(escapeLabel(val))
			w.WriteByte('"')
		}
		if extraName != "" {
			if !first {
				w.WriteByte(',')
			}
			w.WriteString(extraName)
			w.WriteString(`="`)
			w.WriteString(extraValue)
			w.WriteByte('"')
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(v))
	w.WriteByte('\n')
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }

var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

func less(a, b []string) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
