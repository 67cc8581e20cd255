package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

const loadgenUsage = `usage: aftersale loadgen --key PLATFORM_KEY [flags]

Drives a running aftersale serve over HTTP with a marketplace's mix: fact
batches (new orders, shipments, tracking, refunds, invoice requests), buyers
urging and opening tasks, sellers replying, and task-list reads. It prints
throughput and latency percentiles per operation, and exits 1 when the share
of failed requests is above --max-error-rate. It is bounded by --duration and
--max-requests, and talks to loopback addresses only unless --allow-remote.

`

// loadOps are the operations, in report order.
var loadOps = []string{"facts", "urge", "open", "reply", "list"}

type loadgenOptions struct {
	target, key      string
	duration         time.Duration
	maxRequests      int64
	concurrency      int
	rate             float64
	mix              map[string]int
	batch            int
	shops, seed      int
	maxErrorRate     float64
	allowRemote      bool
	jsonOut          bool
	runID            string
	timeout          time.Duration
	pastDeadlineRate float64
}

func parseMix(s string) (map[string]int, error) {
	m := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 || !slices.Contains(loadOps, name) {
			return nil, fmt.Errorf("--mix %q: want op=weight pairs of %s, e.g. facts=1,list=10", s, strings.Join(loadOps, ", "))
		}
		m[name] = n
	}
	total := 0
	for _, n := range m {
		total += n
	}
	if total == 0 {
		return nil, fmt.Errorf("--mix %q: the weights sum to 0", s)
	}
	return m, nil
}

func parseLoadgen(args []string, getenv func(string) string, stderr io.Writer) (loadgenOptions, error) {
	var o loadgenOptions
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := getenv("AFTERSALE_LOADGEN_TARGET")
	if target == "" {
		target = "http://127.0.0.1:8080"
	}
	fs.StringVar(&o.target, "target", target, "the server's base URL (env AFTERSALE_LOADGEN_TARGET)")
	fs.StringVar(&o.key, "key", getenv("AFTERSALE_LOADGEN_KEY"), "a platform API key (env AFTERSALE_LOADGEN_KEY)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to run (at most 10m)")
	fs.Int64Var(&o.maxRequests, "max-requests", 1_000_000, "stop after this many requests (at most 10,000,000)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "requests in flight at once (1–512)")
	fs.Float64Var(&o.rate, "rate", 0, "requests per second over all workers, paced open-loop (0: as fast as the workers go)")
	mix := fs.String("mix", "facts=1,urge=3,open=2,reply=3,list=20", "weights of the operations: facts (a batch), urge, open, reply, list")
	fs.IntVar(&o.batch, "batch", 1000, "facts per batch (1–1000)")
	fs.IntVar(&o.shops, "shops", 12, "shops to create (4 of each platform per 12)")
	fs.IntVar(&o.seed, "seed-orders", 2000, "orders ingested before the run, so buyers and sellers have something to act on")
	fs.Float64Var(&o.pastDeadlineRate, "late-share", 0.7, "share of new orders already past their shipping deadline (their urges create tasks)")
	fs.Float64Var(&o.maxErrorRate, "max-error-rate", 0.01, "exit 1 when failed requests / requests exceeds this")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.StringVar(&o.runID, "run-id", "", "prefix of the ids this run makes (default: random), so runs never collide")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.Usage = func() {
		fmt.Fprint(stderr, loadgenUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	fail := func(format string, a ...any) (loadgenOptions, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "aftersale loadgen:", err)
		return o, err
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.mix, err = parseMix(*mix); err != nil {
		return fail("%v", err)
	}
	switch {
	case o.key == "":
		return fail("--key (or AFTERSALE_LOADGEN_KEY) is required: a platform API key of the server")
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return fail("--duration %s: want 0 < d <= 10m", o.duration)
	case o.maxRequests <= 0 || o.maxRequests > 10_000_000:
		return fail("--max-requests %d: want 1..10000000", o.maxRequests)
	case o.concurrency < 1 || o.concurrency > 512:
		return fail("--concurrency %d: want 1..512", o.concurrency)
	case o.rate < 0 || o.rate > 100_000:
		return fail("--rate %v: want 0..100000", o.rate)
	case o.batch < 1 || o.batch > 1000:
		return fail("--batch %d: want 1..1000", o.batch)
	case o.shops < 1 || o.shops > 1000 || o.seed < 0 || o.seed > 100_000:
		return fail("--shops (1..1000) or --seed-orders (0..100000) out of range")
	case o.maxErrorRate < 0 || o.maxErrorRate > 1 || o.pastDeadlineRate < 0 || o.pastDeadlineRate > 1:
		return fail("--max-error-rate and --late-share are shares between 0 and 1")
	}
	u, err := url.Parse(o.target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail("--target %q: want a URL such as http://127.0.0.1:8080", o.target)
	}
	if !o.allowRemote {
		if err := checkLoopback(u.Hostname()); err != nil {
			return fail("%v (pass --allow-remote to load another machine)", err)
		}
	}
	o.target = strings.TrimRight(o.target, "/")
	if o.runID == "" {
		b := make([]byte, 4)
		rand.Read(b)
		o.runID = "lg" + hex.EncodeToString(b)
	}
	return o, nil
}

// checkLoopback accepts localhost and loopback IPs only (no DNS lookups of other names).
func checkLoopback(host string) error {
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("target host %q is not a loopback address", host)
}

// opStats are one operation's results.
type opStats struct {
	mu        sync.Mutex
	lat       []time.Duration
	ok        int64 // 2xx
	refused   int64 // 409: the engine refused (a rule, a state): expected in a mix
	errors    int64 // transport errors, 5xx, other 4xx
	facts     [3]int64
	lastError string
	// lastRefusal is a refused fact's problem, to show why.
	lastRefusal string
}

func (s *opStats) record(d time.Duration, outcome int, errText string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lat = append(s.lat, d)
	switch outcome {
	case outcomeOK:
		s.ok++
	case outcomeRefused:
		s.refused++
		s.lastRefusal = errText
	default:
		s.errors++
		s.lastError = errText
	}
}

const (
	outcomeOK = iota
	outcomeRefused
	outcomeError
)

// OpReport is one operation's line of the report.
type OpReport struct {
	Op        string  `json:"op"`
	Requests  int64   `json:"requests"`
	OK        int64   `json:"ok"`
	Refused   int64   `json:"refused"`
	Errors    int64   `json:"errors"`
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// Facts (facts only): accepted, duplicate and refused facts, and accepted per second.
	FactsAccepted  int64   `json:"facts_accepted,omitempty"`
	FactsDuplicate int64   `json:"facts_duplicate,omitempty"`
	FactsRefused   int64   `json:"facts_refused,omitempty"`
	FactsPerSecond float64 `json:"facts_per_second,omitempty"`
	LastError      string  `json:"last_error,omitempty"`
	// LastRefusal is why a request (409) or a fact was refused.
	LastRefusal string `json:"last_refused_fact,omitempty"`
}

// LoadReport is what loadgen prints.
type LoadReport struct {
	Target      string     `json:"target"`
	RunID       string     `json:"run_id"`
	Seconds     float64    `json:"seconds"`
	Concurrency int        `json:"concurrency"`
	Rate        float64    `json:"rate"`
	Requests    int64      `json:"requests"`
	Errors      int64      `json:"errors"`
	ErrorRate   float64    `json:"error_rate"`
	Missed      int64      `json:"missed_ticks,omitempty"` // --rate: sends skipped because every worker was busy
	Ops         []OpReport `json:"ops"`
}

// percentile returns the q-quantile (nearest rank) of sorted durations, in ms.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / float64(time.Millisecond)
}

// world is what the run knows of the marketplace it builds: orders in each
// stage, and tasks waiting for the seller.
type world struct {
	mu         sync.Mutex
	o          loadgenOptions
	shops      []shopRef
	unshipped  []orderRef // ship next, or urge
	shipped    []orderRef // tracking, refund, invoice, open tasks
	awaitReply []taskRef
	nOrder     atomic.Int64
	nFact      atomic.Int64
}

type shopRef struct{ id, main, platform string }

type orderRef struct {
	id, buyer string
	shop      int
	invoiced  bool
}

type taskRef struct{ id, main string }

func (w *world) take(list *[]orderRef, r *mrand.Rand) (orderRef, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(*list)
	if n == 0 {
		return orderRef{}, false
	}
	// Prefer recent entries, so new orders move on while old ones stay put.
	i := n - 1 - r.IntN(min(n, 256))
	o := (*list)[i]
	(*list)[i] = (*list)[n-1]
	*list = (*list)[:n-1]
	return o, true
}

func (w *world) put(list *[]orderRef, o orderRef) {
	w.mu.Lock()
	*list = append(*list, o)
	if len(*list) > 200_000 { // bounded memory: forget the oldest
		*list = append((*list)[:0], (*list)[100_000:]...)
	}
	w.mu.Unlock()
}

func (w *world) peek(list []orderRef, r *mrand.Rand) (orderRef, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(list) == 0 {
		return orderRef{}, false
	}
	return list[r.IntN(len(list))], true
}

type fact = map[string]any

func (w *world) factID(kind string) string {
	return fmt.Sprintf("%s-f%d-%s", w.o.runID, w.nFact.Add(1), kind)
}

// newOrder makes an order fact: paid 3 days ago, its deadline passed or not.
func (w *world) newOrder(r *mrand.Rand, now time.Time) (fact, orderRef) {
	n := w.nOrder.Add(1)
	shop := r.IntN(len(w.shops))
	o := orderRef{id: fmt.Sprintf("%s-o%d", w.o.runID, n), buyer: fmt.Sprintf("%s-b%d", w.o.runID, r.IntN(50_000)), shop: shop}
	paid := now.Add(-72 * time.Hour)
	shipBy := now.Add(-24 * time.Hour)
	if r.Float64() >= w.o.pastDeadlineRate {
		shipBy = now.Add(24 * time.Hour)
	}
	return fact{"id": w.factID("order"), "type": "order", "at": now, "order": fact{
		"id": o.id, "shop_id": w.shops[shop].id, "buyer_id": o.buyer, "buyer_region": "beijing",
		"items": []fact{{"sku": "SKU-" + strconv.Itoa(r.IntN(500)), "category": "apparel"}}, "paid_fen": 1000 + r.IntN(50_000),
		"paid_at": paid, "ship_by": shipBy}}, o
}

// batch makes n facts: about 30 % new orders, the rest moving known orders
// on (shipment, tracking, invoice request, refund). The orders it made or
// moved join the pools only when commit is called, after the server took
// the batch, so no buyer acts on an order the server has not seen.
func (w *world) batch(r *mrand.Rand, n int) (facts []fact, commit func()) {
	now := time.Now().UTC()
	out := make([]fact, 0, n)
	var unshipped, shipped []orderRef
	commit = func() {
		w.mu.Lock()
		w.unshipped = append(w.unshipped, unshipped...)
		w.shipped = append(w.shipped, shipped...)
		for _, l := range []*[]orderRef{&w.unshipped, &w.shipped} {
			if len(*l) > 200_000 { // bounded memory: forget the oldest
				*l = append((*l)[:0], (*l)[100_000:]...)
			}
		}
		w.mu.Unlock()
	}
	for len(out) < n {
		p := r.Float64()
		switch {
		case p < 0.30:
			f, o := w.newOrder(r, now)
			out = append(out, f)
			unshipped = append(unshipped, o)
		// An update of an order is stamped when the order is taken from
		// its pool, which is after the batch that last moved it was
		// accepted: a batch stamped at its start could carry an update
		// older than the one another batch sent meanwhile (refused as out
		// of order).
		case p < 0.55:
			o, ok := w.take(&w.unshipped, r)
			if !ok {
				continue
			}
			out = append(out, fact{"id": w.factID("ship"), "type": "shipment", "at": time.Now().UTC(),
				"shipment": fact{"order_id": o.id, "carrier": "ZTO", "tracking_no": "ZT" + o.id}})
			shipped = append(shipped, o)
		case p < 0.85:
			// Taken out of the pool until the batch is in, so two batches in
			// flight never carry updates of one order out of order.
			o, ok := w.take(&w.shipped, r)
			if !ok {
				continue
			}
			out = append(out, fact{"id": w.factID("track"), "type": "tracking", "at": time.Now().UTC(),
				"tracking": fact{"order_id": o.id, "status": "in_transit", "location": "hub " + strconv.Itoa(r.IntN(90))}})
			shipped = append(shipped, o)
		case p < 0.95:
			o, ok := w.take(&w.shipped, r)
			if !ok {
				continue
			}
			if !o.invoiced {
				o.invoiced = true
				out = append(out, fact{"id": w.factID("inv"), "type": "invoice_requested", "at": time.Now().UTC(),
					"invoice_requested": fact{"order_id": o.id}})
			}
			shipped = append(shipped, o)
		default:
			o, ok := w.take(&w.shipped, r)
			if !ok {
				continue
			}
			out = append(out, fact{"id": w.factID("refund"), "type": "refund", "at": time.Now().UTC(),
				"refund": fact{"order_id": o.id, "amount_fen": 100}})
			shipped = append(shipped, o)
		}
	}
	return out, commit
}

type loadClient struct {
	o    loadgenOptions
	http *http.Client
}

// do sends one request and classifies its answer.
func (c *loadClient) do(ctx context.Context, method, path string, body any, out any) (time.Duration, int, string) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, outcomeError, err.Error()
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.o.target+path, rd)
	if err != nil {
		return 0, outcomeError, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+c.o.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return time.Since(start), outcomeError, err.Error()
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	d := time.Since(start)
	if err != nil {
		return d, outcomeError, err.Error()
	}
	switch {
	case res.StatusCode/100 == 2:
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				return d, outcomeError, "decode: " + err.Error()
			}
		}
		return d, outcomeOK, ""
	case res.StatusCode == http.StatusConflict:
		var p struct {
			Reason string `json:"reason"`
			Detail string `json:"detail"`
		}
		json.Unmarshal(b, &p)
		return d, outcomeRefused, p.Reason + ": " + p.Detail
	}
	return d, outcomeError, fmt.Sprintf("%s %s: %d %s", method, path, res.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])))
}

type factsAnswer struct {
	Accepted  int `json:"accepted"`
	Duplicate int `json:"duplicate"`
	Refused   int `json:"refused"`
	Results   []struct {
		Status  string          `json:"status"`
		Problem json.RawMessage `json:"problem"`
	} `json:"results"`
}

type taskAnswer struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

func actorBody(role, id string) map[string]string { return map[string]string{"role": role, "id": id} }

// setup makes the shops and the seed orders (half of them shipped).
func (c *loadClient) setup(ctx context.Context, w *world) error {
	platforms := []string{"taobao", "tmall", "taote"}
	var fs []fact
	now := time.Now().UTC()
	for i := range c.o.shops {
		s := shopRef{id: fmt.Sprintf("%s-s%d", c.o.runID, i), platform: platforms[i%3]}
		s.main = s.id + "-main"
		w.shops = append(w.shops, s)
		fs = append(fs, fact{"id": w.factID("shop"), "type": "shop", "at": now, "shop": fact{"id": s.id, "platform": s.platform,
			"industry": "apparel", "main_account": s.main, "ship_from_region": "zhejiang", "invoice_mode": "upload",
			"sub_accounts": []fact{{"id": s.id + "-cs", "permissions": []string{"platform_task"}}}}})
	}
	r := mrand.New(mrand.NewPCG(1, 2))
	for range c.o.seed {
		f, o := w.newOrder(r, now)
		fs = append(fs, f)
		if r.IntN(2) == 0 {
			fs = append(fs, fact{"id": w.factID("ship"), "type": "shipment", "at": now,
				"shipment": fact{"order_id": o.id, "carrier": "ZTO", "tracking_no": "ZT" + o.id}})
			w.shipped = append(w.shipped, o)
		} else {
			w.unshipped = append(w.unshipped, o)
		}
	}
	for len(fs) > 0 {
		n := min(len(fs), 1000)
		var ans factsAnswer
		if _, outcome, msg := c.do(ctx, http.MethodPost, "/v1/facts", map[string]any{"facts": fs[:n]}, &ans); outcome != outcomeOK {
			return fmt.Errorf("setup: %s", msg)
		}
		if ans.Refused > 0 {
			for _, r := range ans.Results {
				if r.Status == "refused" {
					return fmt.Errorf("setup: %d facts refused, e.g. %s", ans.Refused, r.Problem)
				}
			}
		}
		fs = fs[n:]
	}
	return nil
}

// op runs one operation and records it.
func (c *loadClient) op(ctx context.Context, name string, w *world, r *mrand.Rand, st *opStats) {
	var (
		d       time.Duration
		outcome int
		msg     string
	)
	switch name {
	case "facts":
		var ans factsAnswer
		facts, commit := w.batch(r, c.o.batch)
		d, outcome, msg = c.do(ctx, http.MethodPost, "/v1/facts", map[string]any{"facts": facts}, &ans)
		if outcome == outcomeOK {
			commit()
		}
		st.mu.Lock()
		st.facts[0] += int64(ans.Accepted)
		st.facts[1] += int64(ans.Duplicate)
		st.facts[2] += int64(ans.Refused)
		for _, r := range ans.Results {
			if r.Status == "refused" {
				st.lastRefusal = string(r.Problem)
				break
			}
		}
		st.mu.Unlock()
	case "urge":
		o, ok := w.take(&w.unshipped, r)
		if !ok {
			return
		}
		var ans struct {
			Outcome string      `json:"outcome"`
			Task    *taskAnswer `json:"task"`
		}
		d, outcome, msg = c.do(ctx, http.MethodPost, "/v1/orders/"+o.id+"/urge", map[string]any{"actor": actorBody("buyer", o.buyer)}, &ans)
		if ans.Task != nil {
			w.mu.Lock()
			w.awaitReply = append(w.awaitReply, taskRef{id: ans.Task.ID, main: w.shops[o.shop].main})
			w.mu.Unlock()
		}
		w.put(&w.unshipped, o)
	case "open":
		o, ok := w.peek(w.shipped, r)
		if !ok {
			return
		}
		typ := []string{"resend", "repair", "change_address", "delivery_problem"}[r.IntN(4)]
		var ans taskAnswer
		d, outcome, msg = c.do(ctx, http.MethodPost, "/v1/tasks", map[string]any{"type": typ, "order_id": o.id,
			"details": map[string]string{"reason": "load test"}, "actor": actorBody("buyer", o.buyer)}, &ans)
		if outcome == outcomeOK {
			w.mu.Lock()
			w.awaitReply = append(w.awaitReply, taskRef{id: ans.ID, main: w.shops[o.shop].main})
			w.mu.Unlock()
		}
	case "reply":
		w.mu.Lock()
		n := len(w.awaitReply)
		if n == 0 {
			w.mu.Unlock()
			return
		}
		i := r.IntN(n)
		t := w.awaitReply[i]
		w.awaitReply[i] = w.awaitReply[n-1]
		w.awaitReply = w.awaitReply[:n-1]
		w.mu.Unlock()
		d, outcome, msg = c.do(ctx, http.MethodPost, "/v1/tasks/"+t.id+"/actions",
			map[string]any{"action": "reply", "actor": actorBody("shop_main", t.main), "text": "已处理，今天发出"}, nil)
	case "list":
		s := w.shops[r.IntN(len(w.shops))]
		q := "/v1/tasks?limit=50&shop_id=" + url.QueryEscape(s.id)
		if r.IntN(2) == 0 {
			q += "&state=awaiting_seller_reply"
		}
		d, outcome, msg = c.do(ctx, http.MethodGet, q, nil, nil)
	}
	if ctx.Err() != nil && outcome == outcomeError {
		return // cut off by the end of the run: not the server's failure
	}
	st.record(d, outcome, msg)
}

// pick chooses an operation by weight; when an operation has nothing to act
// on (no unshipped order to urge yet) it still counts as chosen, and op
// skips it.
func pick(mix map[string]int, r *mrand.Rand) string {
	total := 0
	for _, op := range loadOps {
		total += mix[op]
	}
	n := r.IntN(total)
	for _, op := range loadOps {
		if n < mix[op] {
			return op
		}
		n -= mix[op]
	}
	return loadOps[len(loadOps)-1]
}

// runLoad runs the load and returns the report.
func runLoad(ctx context.Context, o loadgenOptions, client *http.Client) (*LoadReport, error) {
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConns: o.concurrency * 2, MaxIdleConnsPerHost: o.concurrency * 2}}
	}
	client.Timeout = o.timeout
	c := &loadClient{o: o, http: client}
	w := &world{o: o}
	if err := c.setup(ctx, w); err != nil {
		return nil, err
	}
	stats := map[string]*opStats{}
	for _, op := range loadOps {
		stats[op] = &opStats{}
	}
	runCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var sent atomic.Int64
	var missed atomic.Int64
	tokens := make(chan struct{}, o.concurrency)
	if o.rate > 0 {
		go func() {
			interval := time.Duration(float64(time.Second) / o.rate)
			next := time.Now()
			for {
				next = next.Add(interval)
				if d := time.Until(next); d > 0 {
					t := time.NewTimer(d)
					select {
					case <-runCtx.Done():
						t.Stop()
						close(tokens)
						return
					case <-t.C:
					}
				} else if runCtx.Err() != nil {
					close(tokens)
					return
				}
				select {
				case tokens <- struct{}{}:
				default:
					missed.Add(1)
				}
			}
		}()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(uint64(i)+7, uint64(time.Now().UnixNano())))
			for runCtx.Err() == nil {
				if o.rate > 0 {
					if _, ok := <-tokens; !ok {
						return
					}
				}
				if sent.Add(1) > o.maxRequests {
					return
				}
				op := pick(o.mix, r)
				c.op(runCtx, op, w, r, stats[op])
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	rep := &LoadReport{Target: o.target, RunID: o.runID, Seconds: elapsed, Concurrency: o.concurrency, Rate: o.rate, Missed: missed.Load()}
	for _, op := range loadOps {
		s := stats[op]
		s.mu.Lock()
		lat := s.lat
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		n := int64(len(lat))
		or := OpReport{Op: op, Requests: n, OK: s.ok, Refused: s.refused, Errors: s.errors, PerSecond: float64(n) / elapsed,
			P50ms: percentile(lat, 0.50), P90ms: percentile(lat, 0.90), P99ms: percentile(lat, 0.99), LastError: s.lastError, LastRefusal: s.lastRefusal}
		if n > 0 {
			or.MaxMs = float64(lat[n-1]) / float64(time.Millisecond)
		}
		if op == "facts" {
			or.FactsAccepted, or.FactsDuplicate, or.FactsRefused = s.facts[0], s.facts[1], s.facts[2]
			or.FactsPerSecond = float64(s.facts[0]) / elapsed
		}
		s.mu.Unlock()
		rep.Requests += n
		rep.Errors += or.Errors
		rep.Ops = append(rep.Ops, or)
	}
	if rep.Requests > 0 {
		rep.ErrorRate = float64(rep.Errors) / float64(rep.Requests)
	}
	return rep, nil
}

func printReport(w io.Writer, rep *LoadReport) {
	fmt.Fprintf(w, "target %s  run %s  %.1f s  concurrency %d", rep.Target, rep.RunID, rep.Seconds, rep.Concurrency)
	if rep.Rate > 0 {
		fmt.Fprintf(w, "  rate %.0f/s (missed ticks %d)", rep.Rate, rep.Missed)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\trequests\tok\trefused\terrors\treq/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	for _, o := range rep.Ops {
		if o.Requests == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", o.Op, o.Requests, o.OK, o.Refused, o.Errors, o.PerSecond, o.P50ms, o.P90ms, o.P99ms, o.MaxMs)
	}
	tw.Flush()
	for _, o := range rep.Ops {
		if o.Op == "facts" && o.Requests > 0 {
			fmt.Fprintf(w, "facts: %d accepted (%.0f/s), %d duplicate, %d refused\n", o.FactsAccepted, o.FactsPerSecond, o.FactsDuplicate, o.FactsRefused)
		}
		if o.LastRefusal != "" {
			fmt.Fprintf(w, "%s: refused, e.g. %s\n", o.Op, o.LastRefusal)
		}
		if o.LastError != "" {
			fmt.Fprintf(w, "%s: last error: %s\n", o.Op, o.LastError)
		}
	}
	fmt.Fprintf(w, "requests %d, errors %d (%.2f %%)\n", rep.Requests, rep.Errors, 100*rep.ErrorRate)
}

func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseLoadgen(args, os.Getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rep, err := runLoad(ctx, o, nil)
	if err != nil {
		fmt.Fprintf(stderr, "aftersale loadgen: %v\n", err)
		return 1
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printReport(stdout, rep)
	}
	if rep.Requests == 0 {
		fmt.Fprintln(stderr, "aftersale loadgen: no request completed")
		return 1
	}
	if rep.ErrorRate > o.maxErrorRate {
		fmt.Fprintf(stderr, "aftersale loadgen: error rate %.2f %% is above --max-error-rate %.2f %%\n", 100*rep.ErrorRate, 100*o.maxErrorRate)
		return 1
	}
	return 0
}
