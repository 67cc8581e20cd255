package replicas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/testkit"
)

// The crash tests run on SQLite (one serve process on a file) in a plain
// `go test`, and on PostgreSQL (two replicas on a fresh schema) with
// AFTERSALE_TEST_STORE=postgres, as .ci/run's PostgreSQL step does.
var (
	crashKills = flag.Int("crash.kills", 0, "kill -9s of the crash test (default: 10 on SQLite, 5 on PostgreSQL); e.g. -crash.kills=200 for the long run")
	crashSeed  = flag.Uint64("crash.seed", 0, "the crash test's random seed (default: from the clock; it is logged)")
)

// crashStore returns the store of the crash tests and how many replicas run on it.
func crashStore(t *testing.T) (db string, replicas int) {
	t.Helper()
	if os.Getenv("AFTERSALE_TEST_STORE") == "postgres" {
		return freshSchema(t), 2
	}
	return filepath.Join(t.TempDir(), "crash.db"), 1
}

// crashPolicy makes the urge tasks' reply deadline (R-SLA-1) 2 s.
func crashPolicy() string {
	return policyPatch(time.Now().Add(-time.Minute).Truncate(time.Second), "{tasks: {reply_deadline_by_type: {urge_shipment: 2s}}}")
}

// seedShop ingests the shop and one order past its shipping deadline.
func seedShop(c *cluster, orderIDs ...string) {
	now := time.Now()
	shop := testkit.ShopFact("s1", commerce.Taobao)
	shop.At = now.Add(-3 * time.Hour)
	fs := []commerce.Fact{shop}
	for _, id := range orderIDs {
		fs = append(fs, testkit.OrderFact(id, "s1", "b_"+id, now.Add(-2*time.Hour), now.Add(-time.Hour)))
	}
	c.facts(0, fs...)
}

// urgeBody is POST /v1/orders/{id}/urge's body for the order's buyer.
func urgeBody(orderID string) map[string]any {
	return map[string]any{"actor": map[string]string{"role": "buyer", "id": "b_" + orderID}}
}

// urgeAnswer is the urge's answer.
type urgeAnswer struct {
	Outcome string
	Task    *struct {
		ID    string
		DueAt time.Time `json:"due_at"`
	}
}

// Issue 12, finding 7, with a real kill -9: serve kills itself (SIGKILL) right
// after the transaction of an idempotent urge committed, before it answers
// (AFTERSALE_TEST_CRASH_AFTER_COMMIT, a hook compiled only with the crashtest
// build tag). The client sees the connection cut; after a restart, the
// retry with the same Idempotency-Key gets the original answer — 200, the
// task created, Idempotent-Replayed: true — and the order has one task.
// (Before, the retry answered 409 idempotency.in_progress for good.)
func TestServe_Kill9AfterCommit_RetryGetsTheOriginalAnswer(t *testing.T) {
	db, _ := crashStore(t)
	c := newClusterOn(t, db, 1, "")
	seedShop(c, "o1")
	c.stopAll()
	c.env = []string{"AFTERSALE_TEST_CRASH_AFTER_COMMIT=1"}
	r, err := c.start(binary(t), "r1crash")
	if err != nil {
		t.Fatal(err)
	}
	c.reps[0] = r
	if res, err := c.do(0, http.MethodPost, "/v1/orders/o1/urge", urgeBody("o1"), "Idempotency-Key", "urge-o1"); err == nil {
		t.Fatalf("the request whose process was killed after its commit was answered: %d %s", res.status, res.body)
	}
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("serve still running after the crash hook")
	}
	if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("serve ended with %v, want killed by SIGKILL", r.cmd.ProcessState)
	}
	c.env = nil
	if c.reps[0], err = c.start(binary(t), "r1b"); err != nil {
		t.Fatal(err)
	}
	res, err := c.do(0, http.MethodPost, "/v1/orders/o1/urge", urgeBody("o1"), "Idempotency-Key", "urge-o1")
	if err != nil {
		t.Fatal(err)
	}
	var u urgeAnswer
	json.Unmarshal(res.body, &u)
	if res.status != http.StatusOK || res.header.Get("Idempotent-Replayed") != "true" || u.Outcome != "task_created" || u.Task == nil {
		t.Fatalf("retry after the kill: %d (replayed %q) %s; want the original answer replayed", res.status, res.header.Get("Idempotent-Replayed"), res.body)
	}
	var list struct{ Tasks []struct{ ID string } }
	c.must(0, http.MethodGet, "/v1/tasks?order_id=o1", nil, http.StatusOK, &list)
	if len(list.Tasks) != 1 || list.Tasks[0].ID != u.Task.ID {
		t.Fatalf("tasks on o1: %+v; want the one the answer names, %s", list.Tasks, u.Task.ID)
	}
}

// crashRun is the state of the crash test: the replicas' addresses (a
// killed one is replaced), their downtimes, and what the clients were told.
type crashRun struct {
	c  *cluster
	mu sync.Mutex
	up []bool
	// down holds the windows in which a replica was down ([0]: killed, [1]: serving again).
	down [][2]time.Time

	retried atomic.Int64 // requests answered after a sent attempt was cut (or answered 503 or in progress)
	// committedCut counts those whose cut attempt had committed: the retry
	// got the original answer replayed (a fact: duplicate).
	committedCut atomic.Int64
	replayed     atomic.Int64 // repeats of answered keys checked against their first answer
	attempts     atomic.Int64
	ackFacts     atomic.Int64
	mismatch     atomic.Int64
	answersMu    sync.Mutex
	answers      []keyed // every answered Idempotency-Key request
	tasks        []crashTask
}

// keyed is an answered request with an Idempotency-Key.
type keyed struct {
	path, key string
	body      any
	answer    []byte
	status    int
}

// crashTask is an urge task the clients were told about.
type crashTask struct {
	order, id string
	due       time.Time
}

// base returns the address of replica i and whether it is up.
func (cr *crashRun) base(i int) (string, bool) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.c.reps[i].base, cr.up[i]
}

// send sends a request until it is answered, on replica w first and then on
// the others in turn: a cut connection (the replica was killed), 503 and 409
// idempotency.in_progress are tried again, as a client would. It gives up
// after a minute.
func (cr *crashRun) send(t *testing.T, w int, method, path string, body any, headers ...string) (r resp, cut bool) {
	n := len(cr.c.reps)
	end := time.Now().Add(time.Minute)
	failed := false // a request was sent and not answered (cut, 503, in progress)
	for attempt := 0; ; attempt++ {
		base, up := cr.base((w + attempt) % n)
		r = resp{}
		err := errors.New("replica down")
		if up {
			cr.attempts.Add(1)
			r, err = cr.c.doAt(base, method, path, body, headers...)
		}
		if err == nil && r.status != http.StatusServiceUnavailable &&
			!(r.status == http.StatusConflict && bytes.Contains(r.body, []byte(`"idempotency.in_progress"`))) {
			if failed {
				cr.retried.Add(1)
			}
			return r, failed
		}
		failed = failed || up
		if time.Now().After(end) {
			t.Errorf("%s %s not answered within a minute: %v %d %s", method, path, err, r.status, r.body)
			return r, failed
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client runs worker w until stop: new orders (facts), urges and agent
// notes with Idempotency-Keys, and repeats of earlier keys.
func (cr *crashRun) client(t *testing.T, w int, rng *rand.Rand, stop *atomic.Bool) {
	for j := 0; !stop.Load() && !t.Failed(); j++ {
		id := fmt.Sprintf("o%d_%d", w, j)
		now := time.Now()
		f := testkit.OrderFact(id, "s1", "b_"+id, now.Add(-2*time.Hour), now.Add(-time.Hour))
		r, cut := cr.send(t, w, http.MethodPost, "/v1/facts", map[string]any{"facts": []commerce.Fact{f}})
		var fr factsResult
		if r.status != http.StatusOK || json.Unmarshal(r.body, &fr) != nil || fr.Accepted+fr.Duplicate != 1 || (fr.Duplicate == 1 && !cut) {
			t.Errorf("fact %s: %d %s", id, r.status, r.body)
			return
		}
		cr.ackFacts.Add(1)
		if fr.Duplicate == 1 {
			cr.committedCut.Add(1) // the cut attempt had committed it
		}

		urge := keyed{path: "/v1/orders/" + id + "/urge", key: "urge-" + id, body: urgeBody(id)}
		r, cut = cr.send(t, w, http.MethodPost, urge.path, urge.body, "Idempotency-Key", urge.key)
		cr.cutAnswer(t, urge.key, r, cut)
		var u urgeAnswer
		if r.status != http.StatusOK || json.Unmarshal(r.body, &u) != nil || u.Outcome != "task_created" || u.Task == nil {
			t.Errorf("urge %s: %d %s", id, r.status, r.body)
			return
		}
		urge.answer, urge.status = r.body, r.status

		note := keyed{path: "/v1/tasks/" + u.Task.ID + "/actions", key: "note-" + id,
			body: map[string]any{"action": "agent_note", "actor": map[string]string{"role": "agent", "id": "a1"}, "text": "note " + id}}
		r, cut = cr.send(t, w, http.MethodPost, note.path, note.body, "Idempotency-Key", note.key)
		cr.cutAnswer(t, note.key, r, cut)
		if r.status != http.StatusOK {
			t.Errorf("note on %s: %d %s", u.Task.ID, r.status, r.body)
			return
		}
		note.answer, note.status = r.body, r.status

		cr.answersMu.Lock()
		cr.answers = append(cr.answers, urge, note)
		cr.tasks = append(cr.tasks, crashTask{order: id, id: u.Task.ID, due: u.Task.DueAt})
		old := cr.answers[rng.IntN(len(cr.answers))]
		cr.answersMu.Unlock()
		cr.repeat(t, w, old)
	}
}

// cutAnswer counts the first answers of keyed requests whose earlier attempt
// was cut after its commit (the answer is replayed); a first answer is
// replayed only then.
func (cr *crashRun) cutAnswer(t *testing.T, key string, r resp, cut bool) {
	if r.header.Get("Idempotent-Replayed") == "true" {
		if !cut {
			t.Errorf("%s: first answer replayed, but no attempt of it was cut", key)
		}
		cr.committedCut.Add(1)
	}
}

// repeat sends an answered request again: it must get its first answer.
func (cr *crashRun) repeat(t *testing.T, w int, k keyed) {
	r, _ := cr.send(t, w, http.MethodPost, k.path, k.body, "Idempotency-Key", k.key)
	cr.replayed.Add(1)
	if r.status != k.status || r.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r.body, k.answer) {
		cr.mismatch.Add(1)
		t.Errorf("repeat of %s: %d (replayed %q) %s; first answer %d %s", k.key, r.status, r.header.Get("Idempotent-Replayed"), r.body, k.status, k.answer)
	}
}

// The crash test. Clients send facts (new orders), commands (urges, which
// open urge_shipment tasks with a 2 s reply deadline, and agent notes, which
// nothing but the Idempotency-Key keeps from being appended twice) and
// repeats of answered keys, while serve is killed with SIGKILL at random
// moments and restarted after a random downtime (0.3-2.5 s; on PostgreSQL
// one of two replicas at a time, the clients going to the other). A request
// cut by a kill is sent again with the same key until answered. Then:
// every acknowledged fact's order was urged; every acknowledged urge has
// exactly its one task, every note is recorded once; every repeat got the
// first answer, byte for byte, replayed; every reply deadline — those due
// while serve was down included — fired exactly once (one reply_timeout
// event per task). `-crash.kills=N` runs N kills (default 10 on SQLite, 5 on
// PostgreSQL).
func TestServe_Kill9AtRandom_NoAcknowledgedWriteLostOrDuplicated(t *testing.T) {
	db, n := crashStore(t)
	kills := *crashKills
	if kills <= 0 {
		kills = map[int]int{1: 10, 2: 5}[n]
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-crash.seed), %d kills, %d replica(s) on %s", seed, kills, n, map[int]string{1: "SQLite", 2: "PostgreSQL"}[n])
	rng := rand.New(rand.NewPCG(seed, 1))
	c := newClusterOn(t, db, n, crashPolicy())
	seedShop(c)
	cr := &crashRun{c: c, up: make([]bool, n)}
	for i := range cr.up {
		cr.up[i] = true
	}
	began := time.Now()

	var stop atomic.Bool
	var wg sync.WaitGroup
	const clients = 4
	for w := range clients {
		wrng := rand.New(rand.NewPCG(seed, uint64(w)+2))
		wg.Go(func() { cr.client(t, w, wrng, &stop) })
	}
	exe := binary(t)
	for k := 0; k < kills && !t.Failed(); k++ {
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		i := rng.IntN(n)
		cr.mu.Lock()
		cr.up[i] = false
		r := c.reps[i]
		cr.mu.Unlock()
		from := time.Now()
		r.kill(t)
		time.Sleep(time.Duration(300+rng.IntN(2200)) * time.Millisecond)
		nr, err := c.start(exe, fmt.Sprintf("r%d_%d", i+1, k+1))
		if err != nil {
			t.Fatal(err)
		}
		cr.mu.Lock()
		c.reps[i], cr.up[i] = nr, true
		cr.down = append(cr.down, [2]time.Time{from, time.Now()})
		cr.mu.Unlock()
	}
	time.Sleep(500 * time.Millisecond) // the last start serves some requests too
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}
	worked := time.Since(began)

	// Every deadline fires: wait for the last one, then read every task.
	var last time.Time
	for _, tk := range cr.tasks {
		if tk.due.After(last) {
			last = tk.due
		}
	}
	time.Sleep(time.Until(last.Add(500 * time.Millisecond)))
	dueWhileDown, lost, duplicated := 0, 0, 0
	for _, tk := range cr.tasks {
		for _, w := range cr.down {
			if !tk.due.Before(w[0]) && tk.due.Before(w[1]) {
				dueWhileDown++
				break
			}
		}
		var list struct{ Tasks []struct{ ID string } }
		c.must(0, http.MethodGet, "/v1/tasks?order_id="+tk.order, nil, http.StatusOK, &list)
		switch {
		case len(list.Tasks) == 0:
			lost++
			t.Errorf("order %s: the acknowledged urge's task %s is missing", tk.order, tk.id)
		case len(list.Tasks) > 1 || list.Tasks[0].ID != tk.id:
			duplicated++
			t.Errorf("order %s: tasks %+v, want the one acknowledged, %s", tk.order, list.Tasks, tk.id)
		}
		var timeouts, notes int
		for end := time.Now().Add(15 * time.Second); ; {
			var d struct{ Events []struct{ Action string } }
			c.must(0, http.MethodGet, "/v1/tasks/"+tk.id, nil, http.StatusOK, &d)
			timeouts, notes = 0, 0
			for _, ev := range d.Events {
				switch ev.Action {
				case "reply_timeout":
					timeouts++
				case "agent_note":
					notes++
				}
			}
			if timeouts > 0 || time.Now().After(end) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if notes != 1 {
			if notes == 0 {
				lost++
			} else {
				duplicated++
			}
			t.Errorf("task %s: %d agent notes, want the one acknowledged", tk.id, notes)
		}
		if timeouts != 1 {
			t.Errorf("task %s (due %s): %d reply_timeout events, want 1", tk.id, tk.due.Format(time.RFC3339Nano), timeouts)
		}
	}
	acked := int(cr.ackFacts.Load()) + len(cr.answers)
	t.Logf("%d kills in %.1f s; %d acknowledged writes (%d facts, %d urges, %d notes): %d lost, %d duplicated; "+
		"%d requests answered when sent again after a cut (%d of them had committed before the kill and got the original answer replayed; %d requests sent in all), %d repeats of answered keys all got their first answer replayed (%d differed); "+
		"%d reply deadlines fell while a replica was down, %d deadlines fired exactly once each",
		kills, worked.Seconds(), acked, cr.ackFacts.Load(), len(cr.tasks), len(cr.tasks), lost, duplicated,
		cr.retried.Load(), cr.committedCut.Load(), cr.attempts.Load(), cr.replayed.Load(), cr.mismatch.Load(), dueWhileDown, len(cr.tasks))
}
