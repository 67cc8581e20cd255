package replicas_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/testkit"
)

// sseItem is one server-sent event: its type, the task it is about, and when it arrived.
type sseItem struct {
	event, taskID string
	at            time.Time
}

// openStream opens GET /v1/stream on replica i for actor ("role:id").
func (c *cluster) openStream(i int, actor string) <-chan sseItem {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.reps[i].base+"/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+platformKey)
	req.Header.Set("X-Actor", actor)
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		c.t.Fatalf("stream on %s: %d", c.reps[i].name, res.StatusCode)
	}
	c.t.Cleanup(func() { res.Body.Close() })
	out := make(chan sseItem, 1000)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				var d struct {
					TaskID string `json:"task_id"`
				}
				json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &d)
				out <- sseItem{event: ev, taskID: d.TaskID, at: time.Now()}
			case line == "":
				ev = ""
			}
		}
	}()
	return out
}

// createTask opens a return_refund task for the order's buyer on replica i.
func (c *cluster) createTask(i int, orderID string) (string, error) {
	r, err := c.do(i, http.MethodPost, "/v1/tasks", map[string]any{"type": "return_refund", "order_id": orderID,
		"actor": map[string]string{"role": "buyer", "id": "b_" + orderID}})
	if err != nil {
		return "", err
	}
	var tk struct{ ID string }
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &tk) != nil {
		return "", fmt.Errorf("create task on %s: %d %s", c.reps[i].name, r.status, r.body)
	}
	return tk.ID, nil
}

// A card (R-NTF-2) and a reminder (R-NTF-1) decided on one replica reach a
// sub-account's stream held open on another within a second — through
// PostgreSQL LISTEN/NOTIFY (the hub's fallback poll is 30 s) — and with two
// replicas creating tasks for the same sub-account at once, the daily
// reminder cap holds exactly: 10 reminders sent, the rest kept as
// suppressed, each card sent.
func TestReplicas_LiveAcrossReplicasAndExactReminderCap_R_NTF_1_R_NTF_2(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(shanghai).Format("2006-01-02")
	c := newCluster(t, 3, "")
	now := time.Now()
	shop := testkit.ShopFact("s1", commerce.Taobao, subAccount("r1"))
	shop.At = now.Add(-3 * time.Hour)
	const tasks = 25
	fs := []commerce.Fact{shop}
	for i := range tasks {
		fs = append(fs, testkit.OrderFact(fmt.Sprintf("o%02d", i), "s1", fmt.Sprintf("b_o%02d", i), now.Add(-2*time.Hour), now.Add(24*time.Hour)))
	}
	c.facts(0, fs...)

	// r1's stream on replica 2 (r2); the task is created on replica 1 (r1).
	stream := c.openStream(1, "shop_sub:r1")
	time.Sleep(200 * time.Millisecond) // the stream is registered with r2's hub
	sent := time.Now()
	first, err := c.createTask(0, "o00")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]bool{"card": {}, "reminder": {}}
	var latency [2]time.Duration
	timeout := time.After(5 * time.Second)
	for !got["card"][first] || !got["reminder"][first] {
		select {
		case it, ok := <-stream:
			if !ok {
				t.Fatal("stream ended")
			}
			if got[it.event] != nil {
				got[it.event][it.taskID] = true
				if it.taskID == first && it.event == "card" {
					latency[0] = it.at.Sub(sent)
				} else if it.taskID == first && it.event == "reminder" {
					latency[1] = it.at.Sub(sent)
				}
			}
		case <-timeout:
			t.Fatalf("the card and reminder of a task created on r1 did not reach the stream on r2 within 5 s (got %v)", got)
		}
	}
	if latency[0] > time.Second || latency[1] > time.Second {
		t.Errorf("cross-replica delivery took card %s, reminder %s; want under 1 s", latency[0], latency[1])
	}

	// Two replicas (r1 and r3) create the other 24 tasks at once.
	var wg sync.WaitGroup
	for i := 1; i < tasks; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.createTask(2*(i%2), fmt.Sprintf("o%02d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if now := time.Now().In(shanghai).Format("2006-01-02"); now != day {
		t.Skipf("the business day changed during the test (%s → %s): the cap counts per day", day, now)
	}
	// Every card arrives; then nothing more for a second.
	deadline := time.After(10 * time.Second)
	for len(got["card"]) < tasks {
		select {
		case it := <-stream:
			if got[it.event] != nil {
				got[it.event][it.taskID] = true
			}
		case <-deadline:
			t.Fatalf("cards on the stream: %d of %d", len(got["card"]), tasks)
		}
	}
	quiet := time.After(time.Second)
	for done := false; !done; {
		select {
		case it := <-stream:
			if got[it.event] != nil {
				got[it.event][it.taskID] = true
			}
		case <-quiet:
			done = true
		}
	}
	if n := len(got["reminder"]); n != 10 {
		t.Errorf("reminders on the stream: %d, want exactly 10 (the daily cap, R-NTF-1)", n)
	}
	pending := c.count(`SELECT count(*) FROM outbox WHERE kind = 'reminder' AND recipient = 'r1' AND status = 'pending'`)
	suppressed := c.count(`SELECT count(*) FROM outbox WHERE kind = 'reminder' AND recipient = 'r1' AND status = 'suppressed'`)
	if pending != 10 || suppressed != tasks-10 {
		t.Errorf("reminders decided: %d pending, %d suppressed; want 10 and %d", pending, suppressed, tasks-10)
	}
	if n := c.count(`SELECT value FROM counters WHERE key LIKE 'remind:r1:%'`); n != tasks {
		t.Errorf("reminder counter %d, want %d", n, tasks)
	}
	t.Logf("cross-replica latency: card %s, reminder %s", latency[0].Round(time.Millisecond), latency[1].Round(time.Millisecond))
}
