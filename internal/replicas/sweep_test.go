package replicas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/testkit"
	"aftersale/internal/webhook"
)

// whReceiver is a Standard Webhooks endpoint: it verifies every signature
// and keeps every receipt by webhook-id, so that a redelivery (the same id
// again) is counted once — the deduplication Standard Webhooks asks of
// receivers, since delivery is at least once.
type whReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	secret   string
	receipts int
	bad      []string          // receipts whose signature did not verify
	bodies   map[string][]byte // by webhook-id, the first body
	copies   map[string]int    // by webhook-id, how many times it came
	mismatch []string          // ids that came again with another body
}

func newReceiver(t *testing.T) *whReceiver {
	r := &whReceiver{bodies: map[string][]byte{}, copies: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		defer r.mu.Unlock()
		r.receipts++
		if err := webhook.Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute); err != nil {
			r.bad = append(r.bad, id+": "+err.Error())
		}
		if prev, ok := r.bodies[id]; ok && !bytes.Equal(prev, body) {
			r.mismatch = append(r.mismatch, id)
		} else if !ok {
			r.bodies[id] = body
		}
		r.copies[id]++
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *whReceiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.copies)
}

// envInt reads a positive integer from the environment, or def.
func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
		return n
	}
	return def
}

// The must-show test of issue 6: three real `aftersale serve` processes on
// one PostgreSQL schema; 20,000 urge_shipment tasks created through the API
// whose reply deadlines (R-SLA-1, set to 15 s by an operator policy version
// loaded with --policy) fall due; one replica SIGKILLed while the replicas
// sweep. The replicas create the tasks as API-only replicas (--timers=false:
// they must fire nothing), then restart with their sweepers on, as after a
// deploy, with every deadline due at once: three sweepers race over 20,000
// due timers, where creating the tasks through the API would otherwise
// pace the firing. The event log must show every timeout fired exactly
// once — one reply_timeout event and one complaint (R-SLA-3) per task, none
// lost, none twice — and the webhook receiver must have every
// task.state_changed delivery, each webhook-id once after deduplication
// (Standard Webhooks: at least once; a delivery the killed replica had sent
// but not recorded is sent again under the same id, with the same body).
func TestThreeReplicas_DeadlinesFireOnceWhenOneIsKilled_R_SLA_1_R_SLA_3(t *testing.T) {
	n := envInt("AFTERSALE_REPLICAS_TASKS", 20000)
	const replyDeadline, nShops = 15 * time.Second, 50
	began := time.Now()
	from := began.Add(-time.Second).Truncate(time.Second)
	c := newCluster(t, 3, policyPatch(from, "{tasks: {reply_deadline_by_type: {urge_shipment: 15s}}}"), "--webhook-lease", "5s", "--timers=false")
	started := time.Since(began)
	ctx := context.Background()

	// A webhook subscription to the state changes (only the timeouts change states here).
	rcv := newReceiver(t)
	var sub struct{ ID, Secret string }
	c.must(0, http.MethodPost, "/v1/webhooks", map[string]any{"url": rcv.srv.URL, "events": []string{webhook.TaskStateChanged}, "audience": "platform"},
		http.StatusCreated, &sub, "Authorization", "Bearer "+operatorKey)
	rcv.mu.Lock()
	rcv.secret = sub.Secret
	rcv.mu.Unlock()

	// n orders in nShops shops, whose shipping deadline passed an hour ago.
	now := time.Now()
	// The orders are spread over shops, as a marketplace's are: every task
	// of one shop updates the same per-shop counters (scorecards) in its
	// transaction, so one shop's writes take turns on that row.
	var shops []commerce.Fact
	for k := range nShops {
		shop := testkit.ShopFact(fmt.Sprintf("s%02d", k), commerce.Taobao)
		shop.At = now.Add(-3 * time.Hour)
		shops = append(shops, shop)
	}
	c.facts(0, shops...)
	var wg sync.WaitGroup
	const batch = 1000
	for b := 0; b*batch < n; b++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var fs []commerce.Fact
			for i := b * batch; i < min(n, (b+1)*batch); i++ {
				fs = append(fs, testkit.OrderFact(fmt.Sprintf("o%05d", i), fmt.Sprintf("s%02d", i%nShops), fmt.Sprintf("b%05d", i), now.Add(-2*time.Hour), now.Add(-time.Hour)))
			}
			c.facts(b%3, fs...)
		}()
		if b%3 == 2 {
			wg.Wait()
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// The buyers urge: each urge creates an urge_shipment task (R-URG-1), spread over the replicas.
	createStart := time.Now()
	taskIDs := make([]string, n)
	var next atomic.Int64
	var failed atomic.Bool
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				var out struct {
					Outcome string
					Task    struct{ ID string }
				}
				r, err := c.do((i+w)%3, http.MethodPost, fmt.Sprintf("/v1/orders/o%05d/urge", i), map[string]any{"actor": map[string]string{"role": "buyer", "id": fmt.Sprintf("b%05d", i)}})
				if err == nil && r.status == http.StatusOK {
					err = json.Unmarshal(r.body, &out)
				}
				if err != nil || r.status != http.StatusOK || out.Outcome != "task_created" || out.Task.ID == "" {
					failed.Store(true)
					t.Errorf("urge o%05d: %v %d %s", i, err, r.status, r.body)
					return
				}
				taskIDs[i] = out.Task.ID
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	created := time.Since(createStart)

	remaining := func() int { return c.count(`SELECT count(*) FROM timers WHERE kind = 'reply'`) }
	waitUntil := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		end := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(end) {
				t.Fatalf("%s: not within %s", what, limit)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	// Every deadline passes; the API-only replicas fire none of them.
	waitUntil("every reply deadline passed", replyDeadline+time.Minute, func() bool {
		return c.count(`SELECT count(*) FROM timers WHERE kind = 'reply' AND due_at > now()`) == 0
	})
	time.Sleep(time.Second) // a sweeper that wrongly ran would have fired by now
	if left, fired := remaining(), c.count(`SELECT count(*) FROM events WHERE body::jsonb->>'action' = 'reply_timeout'`); left != n || fired != 0 {
		t.Fatalf("replicas with --timers=false: %d of %d timers left, %d fired; want all left, none fired", left, n, fired)
	}
	var dueSpread time.Duration
	c.pool.QueryRow(ctx, `SELECT extract(epoch FROM max(due_at) - min(due_at)) * interval '1 second' FROM timers WHERE kind = 'reply'`).Scan(&dueSpread)

	// The deploy: the replicas restart with their sweepers on.
	restartAt := time.Now()
	c.restart("--webhook-lease", "5s")
	restarted := time.Since(restartAt)

	// Kill one replica while the sweep is under way: once a quarter of the
	// deadlines have fired.
	var left int
	waitUntil("a quarter of the deadlines fired", replyDeadline+time.Minute, func() bool { left = remaining(); return n-left >= n/4 })
	if left == 0 {
		t.Fatalf("every deadline had fired before the kill (creating %d tasks took %s, longer than the %s deadline): not a kill mid-sweep", n, created, replyDeadline)
	}
	killed := c.reps[1]
	killed.kill(t)
	killedAt := time.Now()
	t.Logf("SIGKILLed %s with %d of %d deadlines fired, %d still due", killed.name, n-left, n, left)

	// The two survivors finish the sweep, including whatever the killed one
	// had claimed in its open transaction (rolled back by PostgreSQL).
	waitUntil("every deadline fired", 2*time.Minute, func() bool { return remaining() == 0 })
	swept := time.Since(killedAt)

	// The event log: exactly one reply_timeout per task, on our tasks only.
	const timeouts = `FROM events WHERE body::jsonb->>'action' = 'reply_timeout'`
	if got := c.count(`SELECT count(*) ` + timeouts); got != n {
		t.Errorf("reply_timeout events: %d, want %d (one per task)", got, n)
	}
	if got := c.count(`SELECT count(*) FROM (SELECT task_id ` + timeouts + ` GROUP BY task_id HAVING count(*) > 1) twice`); got != 0 {
		t.Errorf("%d tasks timed out more than once", got)
	}
	if got := c.count(`SELECT count(DISTINCT task_id) `+timeouts+` AND task_id = ANY($1) AND body::jsonb->>'rule' = 'R-SLA-3'`, taskIDs); got != n {
		t.Errorf("tasks created through the API with their R-SLA-3 timeout: %d, want %d (none lost)", got, n)
	}
	if got := c.count(`SELECT count(*) FROM firings WHERE kind = 'reply'`); got != n {
		t.Errorf("recorded firings: %d, want %d", got, n)
	}
	if got := c.count(`SELECT count(DISTINCT subject) FROM firings WHERE kind = 'reply'`); got != n {
		t.Errorf("distinct fired timers: %d, want %d", got, n)
	}
	if got, orders := c.count(`SELECT count(*) FROM complaints`), c.count(`SELECT count(DISTINCT order_id) FROM complaints`); got != n || orders != n {
		t.Errorf("complaints filed on timeout (R-SLA-3): %d on %d orders, want %d on %d", got, orders, n, n)
	}
	if got := c.count(`SELECT count(*) FROM tasks WHERE type = 'urge_shipment' AND state = 'platform_intervening'`); got != n {
		t.Errorf("tasks in platform_intervening: %d, want %d", got, n)
	}

	// Webhooks: every state change delivered; after deduplication by
	// webhook-id each event once; a repeat is the same delivery (same id,
	// same body), from a claim the killed replica held.
	// Deliveries go out one at a time per replica: wait while they progress.
	for last, idle := rcv.distinct(), time.Now(); last < n; {
		time.Sleep(100 * time.Millisecond)
		if d := rcv.distinct(); d > last {
			last, idle = d, time.Now()
		} else if time.Since(idle) > 30*time.Second {
			var dbg []string
			for _, q := range []string{`SELECT count(*) FROM webhook_deliveries`, `SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'`,
				`SELECT coalesce(max(seq),0) FROM events`, `SELECT count(*) FROM events`} {
				dbg = append(dbg, fmt.Sprintf("%s = %d", q, c.count(q)))
			}
			errs, _ := c.pool.Query(ctx, `SELECT coalesce(left(data::jsonb->>'last_error', 80), ''), (data::jsonb->>'attempts')::int, count(*)
				FROM webhook_deliveries WHERE status = 'pending' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5`)
			for errs.Next() {
				var text string
				var attempts, k int64
				errs.Scan(&text, &attempts, &k)
				dbg = append(dbg, fmt.Sprintf("%d pending after %d attempts (%q)", k, attempts, text))
			}
			errs.Close()
			rows, _ := c.pool.Query(ctx, `SELECT name, seq FROM cursors`)
			for rows.Next() {
				var name string
				var pos int64
				rows.Scan(&name, &pos)
				dbg = append(dbg, fmt.Sprintf("cursor %s = %d", name, pos))
			}
			rows.Close()
			t.Fatalf("webhooks: %d of %d delivered, none for 30 s (%s)", d, n, strings.Join(dbg, "; "))
		}
	}
	delivered := time.Since(killedAt)
	time.Sleep(500 * time.Millisecond) // let a straggling duplicate arrive before counting
	rows, err := c.pool.Query(ctx, `SELECT seq `+timeouts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for rows.Next() {
		var seq int64
		rows.Scan(&seq)
		want[fmt.Sprintf("msg_%s_events_%d", sub.ID, seq)] = true
	}
	rows.Close()
	rcv.mu.Lock()
	dups := rcv.receipts - len(rcv.copies)
	var missing, unexpected int
	for id := range want {
		if rcv.copies[id] == 0 {
			missing++
		}
	}
	for id := range rcv.copies {
		if !want[id] {
			unexpected++
		}
	}
	if missing > 0 || unexpected > 0 || len(rcv.copies) != n {
		t.Errorf("webhooks: %d distinct ids received, %d events missing, %d ids that are not a timeout", len(rcv.copies), missing, unexpected)
	}
	if len(rcv.bad) > 0 || len(rcv.mismatch) > 0 {
		t.Errorf("webhooks: %d bad signatures (%v), %d ids repeated with another body", len(rcv.bad), rcv.bad[:min(3, len(rcv.bad))], len(rcv.mismatch))
	}
	// A sender claims 20 deliveries at a time: a repeat comes only from a
	// claim whose lease lapsed (the killed replica's, or one slowed past 5 s).
	if dups > 3*20 {
		t.Errorf("webhooks: %d repeated deliveries, more than the replicas had in flight", dups)
	}
	rcv.mu.Unlock()
	if got := c.count(`SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'`); got != n {
		t.Errorf("deliveries recorded as succeeded: %d, want %d", got, n)
	}

	// Figures.
	var first, last time.Time
	var peak int
	if err := c.pool.QueryRow(ctx, `SELECT min(fired_at), max(fired_at) FROM firings WHERE kind = 'reply'`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	c.pool.QueryRow(ctx, `SELECT count(*) FROM firings WHERE kind = 'reply' GROUP BY date_trunc('second', fired_at) ORDER BY 1 DESC LIMIT 1`).Scan(&peak)
	span := last.Sub(first)
	t.Logf("replicas up in %s; %d urge tasks created through the API in %s (%.0f/s over 3 replicas), their deadlines due over %s; restarted with sweepers on in %s",
		started.Round(time.Millisecond), n, created.Round(time.Millisecond), float64(n)/created.Seconds(), dueSpread.Round(time.Millisecond), restarted.Round(time.Millisecond))
	t.Logf("timeouts fired from %s to %s: %s, %.0f timers/s on average, peak %d in one second; after the kill the survivors finished in %s",
		first.Format("15:04:05.000"), last.Format("15:04:05.000"), span.Round(time.Millisecond), float64(n)/span.Seconds(), peak, swept.Round(time.Millisecond))
	t.Logf("webhooks: %d distinct deliveries, all received %s after the kill, %d repeated (deduplicated by webhook-id); whole test %s",
		n, delivered.Round(time.Millisecond), dups, time.Since(began).Round(time.Millisecond))
}
