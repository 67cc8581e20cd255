package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
	"aftersale/internal/store"
	"aftersale/internal/store/sqlite"
	"aftersale/internal/testkit"
)

// runServer starts httpapi.Run on a free port and returns its address, a
// cancel that begins shutdown, and Run's result.
func runServer(t *testing.T, c httpapi.RunConfig) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	c.Addr = "127.0.0.1:0"
	c.Keys = []httpapi.Key{httpapi.NewKey(httpapi.RolePlatform, platformKey), httpapi.NewKey(httpapi.RoleOperator, operatorKey)}
	c.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	c.Ready = func(a string) { ready <- a }
	go func() { done <- httpapi.Run(ctx, c) }()
	select {
	case a := <-ready:
		return a, cancel, done
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready after 10 s")
	}
	return "", cancel, done
}

func factsBody(t *testing.T, fs ...commerce.Fact) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"facts": fs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func platformPost(t *testing.T, url, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+platformKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// scrape reads /metrics into sample → value, with the operator key (on
// the API's address /metrics wants an API key).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	return scrapeWith(t, url, operatorKey)
}

// scrapeWith is scrape with key ("" for none).
func scrapeWith(t *testing.T, url, key string) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// /metrics on the API's address: requests by route and status with their
// latency, facts by outcome, tasks by state and type (0 for pairs with none),
// due timers, the webhook backlog and SSE subscribers.
func TestMetrics_OnTheAPIAddress(t *testing.T) {
	addr, _, _ := runServer(t, httpapi.RunConfig{DB: filepath.Join(t.TempDir(), "m.db")})
	now := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	shop := testkit.ShopFact("s1", commerce.Taobao)
	shop.At = now
	late := testkit.OrderFact("o1", "s1", "b1", now.Add(-72*time.Hour), now.Add(-24*time.Hour))
	late.At = now
	bad := testkit.OrderFact("o2", "s_none", "b1", now.Add(-time.Hour), now.Add(time.Hour))
	bad.At = now
	res := platformPost(t, "http://"+addr+"/v1/facts", factsBody(t, shop, late, bad, shop))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("facts: %d", res.StatusCode)
	}
	res = platformPost(t, "http://"+addr+"/v1/orders/o1/urge", `{"actor": {"role": "buyer", "id": "b1"}}`)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("urge: %d", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/tasks?limit=5", nil)
	req.Header.Set("Authorization", "Bearer "+operatorKey)
	for range 3 {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	res, _ = http.Get("http://" + addr + "/v1/tasks") // no key
	res.Body.Close()
	res, _ = http.Get("http://" + addr + "/v1/nope/123") // no route: labelled "other", so labels stay few
	res.Body.Close()

	m := scrape(t, "http://"+addr+"/metrics")
	for k, want := range map[string]float64{
		`aftersale_facts_total{status="accepted"}`:                                      2,
		`aftersale_facts_total{status="duplicate"}`:                                     1,
		`aftersale_facts_total{status="refused"}`:                                       1,
		`aftersale_http_requests_total{route="POST /v1/facts",status="200"}`:            1,
		`aftersale_http_requests_total{route="GET /v1/tasks",status="200"}`:             3,
		`aftersale_http_requests_total{route="GET /v1/tasks",status="401"}`:             1,
		`aftersale_http_request_duration_seconds_count{route="GET /v1/tasks"}`:          4,
		`aftersale_http_requests_total{route="POST /v1/orders/{id}/urge",status="200"}`: 1,
		`aftersale_tasks{state="awaiting_seller_reply",type="urge_shipment"}`:           1,
		`aftersale_tasks{state="completed",type="collaborative"}`:                       0,
		`aftersale_http_requests_total{route="other",status="404"}`:                     1,
		`aftersale_timers_due`:                 0,
		`aftersale_timer_next_due_lag_seconds`: 0,
		`aftersale_webhook_deliveries_pending`: 0,
		`aftersale_webhook_dead_letters`:       0,
		`aftersale_sse_subscribers`:            0,
		`aftersale_http_request_duration_seconds_bucket{route="GET /v1/tasks",le="+Inf"}`:  4,
		`aftersale_http_request_duration_seconds_bucket{route="POST /v1/facts",le="+Inf"}`: 1,
		`aftersale_timers_fired_total`:                                                       0,
		`aftersale_timer_lateness_seconds_count`:                                             0,
		`aftersale_tasks{state="platform_intervening",type="urge_shipment"}`:                 0,
		`aftersale_http_requests_total{route="POST /v1/orders/{id}/urge",status="409"}`:      -1, // absent
		`aftersale_http_request_duration_seconds_count{route="POST /v1/orders/{id}/urge"}`:   1,
		`aftersale_http_request_duration_seconds_bucket{route="POST /v1/facts",le="0.001"}`:  -2, // present, any value
		`aftersale_http_request_duration_seconds_bucket{route="POST /v1/facts",le="0.0025"}`: -2,
	} {
		got, ok := m[k]
		switch {
		case want == -1 && ok:
			t.Errorf("%s present (%v), want absent", k, got)
		case want == -2 && !ok:
			t.Errorf("%s absent", k)
		case want >= 0 && (!ok || got != want):
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	// 5 states × 14 types, every pair listed.
	n := 0
	for k := range m {
		if strings.HasPrefix(k, "aftersale_tasks{") {
			n++
		}
	}
	if n != 70 {
		t.Errorf("%d aftersale_tasks samples, want 70", n)
	}
}

// --metrics-addr: /metrics on a listener of its own, and not on the API's
// address; "off" serves it nowhere.
func TestMetrics_OwnListenerAndOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := ln.Addr().String()
	ln.Close()
	addr, _, _ := runServer(t, httpapi.RunConfig{DB: filepath.Join(t.TempDir(), "m.db"), MetricsAddr: maddr})
	if m := scrapeWith(t, "http://"+maddr+"/metrics", ""); len(m) < 70 { // its own listener wants no key
		t.Errorf("own listener: %d samples", len(m))
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the API address with --metrics-addr: %d, want 404", res.StatusCode)
	}

	addr, _, _ = runServer(t, httpapi.RunConfig{DB: filepath.Join(t.TempDir(), "off.db"), MetricsAddr: "off"})
	res, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics with metrics off: %d, want 404", res.StatusCode)
	}
}

// Graceful shutdown: a request in flight when shutdown begins (its body only
// half sent) is read to the end, applied and answered; Run then returns nil,
// and the facts it carried are in the store.
func TestShutdown_FinishesInFlightRequest(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	addr, cancel, done := runServer(t, httpapi.RunConfig{DB: db, ShutdownTimeout: 10 * time.Second})
	now := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	var facts []commerce.Fact
	shop := testkit.ShopFact("s1", commerce.Taobao)
	shop.At = now
	facts = append(facts, shop)
	for i := range 50 {
		f := testkit.OrderFact(fmt.Sprintf("o%d", i), "s1", "b1", now.Add(-time.Hour), now.Add(time.Hour))
		f.At = now
		facts = append(facts, f)
	}
	body := factsBody(t, facts...)
	half := len(body) / 2

	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/facts", pr)
	req.Header.Set("Authorization", "Bearer "+platformKey)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		status int
		body   httpapi.FactsResult
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		var r result
		r.status = res.StatusCode
		r.err = json.NewDecoder(res.Body).Decode(&r.body)
		got <- r
	}()
	// The write returns once the transport has connected and is sending the
	// body; the pause lets the server accept the connection and read the
	// headers (a connection still in the listen backlog when the listener
	// closes is reset by the kernel, not a request in flight).
	if _, err := io.WriteString(pw, body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cancel() // shutdown begins: the listener closes, in-flight requests may finish
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 5 s after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := io.WriteString(pw, body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-got
	if r.err != nil || r.status != http.StatusOK || r.body.Accepted != len(facts) {
		t.Fatalf("in-flight request: status %d, %+v, %v; want 200 with %d accepted", r.status, r.body, r.err, len(facts))
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.View(context.Background(), func(tx store.ReadTx) error {
		seen, err := tx.FactsSeen(context.Background(), []string{facts[1].ID, facts[len(facts)-1].ID})
		if err != nil || len(seen) != 2 {
			t.Errorf("facts of the in-flight request in the store: %v, %v", seen, err)
		}
		return nil
	})
}

// The two endpoints that pass bytes through (POST /v1/facts decodes its body
// once; GET /v1/tasks writes stored tasks as they are) keep their schemas in
// the OpenAPI document, and the list answers TaskList's JSON with a cursor.
func TestRawBodies_DocumentedAndShaped(t *testing.T) {
	addr, _, _ := runServer(t, httpapi.RunConfig{DB: filepath.Join(t.TempDir(), "o.db"), MetricsAddr: "off"})
	res, err := http.Get("http://" + addr + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *struct {
				Required bool
				Content  map[string]struct{ Schema map[string]any }
			} `json:"requestBody"`
			Responses map[string]struct {
				Content map[string]struct{ Schema map[string]any }
			}
		}
	}
	json.NewDecoder(res.Body).Decode(&doc)
	res.Body.Close()
	if rb := doc.Paths["/v1/facts"]["post"].RequestBody; rb == nil || !rb.Required || rb.Content["application/json"].Schema["$ref"] != "#/components/schemas/FactsRequest" {
		t.Errorf("POST /v1/facts request body in the OpenAPI document: %+v", rb)
	}
	if s := doc.Paths["/v1/tasks"]["get"].Responses["200"].Content["application/json"].Schema["$ref"]; s != "#/components/schemas/TaskList" {
		t.Errorf("GET /v1/tasks 200 schema: %v", s)
	}

	now := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	facts := []commerce.Fact{testkit.ShopFact("s1", commerce.Taobao)}
	for i := range 3 {
		facts = append(facts, testkit.OrderFact(fmt.Sprintf("o%d", i), "s1", "b1", now.Add(-72*time.Hour), now.Add(-24*time.Hour)))
	}
	for i := range facts {
		facts[i].At = now
	}
	platformPost(t, "http://"+addr+"/v1/facts", factsBody(t, facts...)).Body.Close()
	for i := range 3 {
		platformPost(t, fmt.Sprintf("http://%s/v1/orders/o%d/urge", addr, i), `{"actor": {"role": "buyer", "id": "b1"}}`).Body.Close()
	}
	get := func(q string) (httpapi.TaskList, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/tasks"+q, nil)
		req.Header.Set("Authorization", "Bearer "+operatorKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var l httpapi.TaskList
		if err := json.NewDecoder(res.Body).Decode(&l); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/tasks%s: %d %v", q, res.StatusCode, err)
		}
		return l, res.Header.Get("Content-Type")
	}
	p1, ct := get("?limit=2")
	if ct != "application/json" || len(p1.Tasks) != 2 || p1.NextCursor != p1.Tasks[1].ID || p1.Tasks[0].Type != "urge_shipment" || p1.Tasks[0].ShopID != "s1" {
		t.Fatalf("first page (%s): %+v", ct, p1)
	}
	p2, _ := get("?limit=2&cursor=" + p1.NextCursor)
	if len(p2.Tasks) != 1 || p2.NextCursor != "" || p2.Tasks[0].ID == p1.Tasks[1].ID {
		t.Fatalf("last page: %+v", p2)
	}
	if empty, _ := get("?shop_id=none"); empty.Tasks == nil || len(empty.Tasks) != 0 {
		t.Fatalf("empty page: %+v", empty)
	}
}
