package replicas_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/testkit"
)

// race sends the same request to replicas 0 and 1 at the same moment.
func race(c *cluster, method, path string, body any, headers ...string) [2]resp {
	c.t.Helper()
	var out [2]resp
	var errs [2]error
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			out[i], errs[i] = c.do(i, method, path, body, headers...)
		}()
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			c.t.Fatalf("%s %s on %s: %v", method, path, c.reps[i].name, err)
		}
	}
	return out
}

// The same batch of facts sent to two replicas at once is applied once: each
// fact is accepted by exactly one of them and answered as a duplicate by the
// other (a fact's id is its idempotency key). The batch mixes new orders
// (nothing in the database to lock: only the fact id tells the two apart)
// and deposit top-ups (保证金, from which R-PRM-1 compensation is paid), which
// add to a balance — applied twice, the balance and its events would show it.
func TestTwoReplicas_SameFactBatchAppliedOnce(t *testing.T) {
	c := newCluster(t, 2, "")
	now := time.Now()
	shop := testkit.ShopFact("s1", commerce.Taobao)
	shop.At = now.Add(-3 * time.Hour)
	c.facts(0, shop)
	const rounds, orders, deposits = 4, 200, 200
	var total int64
	for r := range rounds {
		var fs []commerce.Fact
		for i := range orders {
			id := fmt.Sprintf("r%d_o%03d", r, i)
			fs = append(fs, testkit.OrderFact(id, "s1", "b_"+id, now.Add(-2*time.Hour), now.Add(time.Hour)))
		}
		for i := range deposits {
			amount := int64(100*r + i + 1)
			total += amount
			fs = append(fs, commerce.Fact{ID: fmt.Sprintf("dep-r%d-%03d", r, i), Type: commerce.FactDeposit, At: now.Add(-time.Minute),
				Deposit: &commerce.DepositFact{ShopID: "s1", AmountFen: amount}})
		}
		got := race(c, http.MethodPost, "/v1/facts", map[string]any{"facts": fs})
		var res [2]factsResult
		for i := range 2 {
			if got[i].status != http.StatusOK || json.Unmarshal(got[i].body, &res[i]) != nil {
				t.Fatalf("round %d, %s: %d %s", r, c.reps[i].name, got[i].status, got[i].body)
			}
		}
		size := len(fs)
		if res[0].Accepted+res[1].Accepted != size || res[0].Duplicate+res[1].Duplicate != size || res[0].Refused+res[1].Refused != 0 {
			t.Fatalf("round %d: accepted %d+%d, duplicate %d+%d, refused %d+%d; want each of the %d facts accepted once and answered duplicate once",
				r, res[0].Accepted, res[1].Accepted, res[0].Duplicate, res[1].Duplicate, res[0].Refused, res[1].Refused, size)
		}
		for j := range fs {
			a, b := res[0].Results[j].Status, res[1].Results[j].Status
			if (a == "accepted") == (b == "accepted") {
				t.Fatalf("round %d, fact %s: %s on r1, %s on r2", r, fs[j].ID, a, b)
			}
		}
		if n := c.count(`SELECT count(*) FROM facts WHERE id LIKE $1 OR id LIKE $2`, fmt.Sprintf("order-r%d_%%", r), fmt.Sprintf("dep-r%d-%%", r)); n != size {
			t.Errorf("round %d: %d facts recorded, want %d", r, n, size)
		}
		if n := c.count(`SELECT count(*) FROM orders WHERE id LIKE $1`, fmt.Sprintf("r%d_%%", r)); n != orders {
			t.Errorf("round %d: %d orders, want %d", r, n, orders)
		}
		if n := c.count(`SELECT count(*) FROM events WHERE stream = 'deposit:s1' AND body::jsonb->>'reason' LIKE $1`, fmt.Sprintf("fact dep-r%d-%%", r)); n != deposits {
			t.Errorf("round %d: %d deposit events, want %d", r, n, deposits)
		}
		if bal := c.count(`SELECT balance_fen FROM deposits WHERE shop_id = 's1'`); int64(bal) != total {
			t.Errorf("round %d: deposit balance %d fen, want %d (each top-up once)", r, bal, total)
		}
	}
}

// The same Idempotency-Key POST sent to two replicas at once is applied
// once. The action is an agent's note (R-MSG-2: agent_only), which nothing
// in the domain stops from being appended twice: only the key does. Of the
// two answers one is the note (200); the other is either the same answer
// replayed (Idempotent-Replayed: true) or 409 idempotency.in_progress while
// the first is still being recorded. A retry afterwards, on either replica,
// replays the first answer byte for byte.
func TestTwoReplicas_SameIdempotencyKeyAppliedOnce_R_MSG_2(t *testing.T) {
	c := newCluster(t, 2, "")
	now := time.Now()
	shop := testkit.ShopFact("s1", commerce.Taobao)
	shop.At = now.Add(-3 * time.Hour)
	c.facts(0, shop, testkit.OrderFact("o1", "s1", "b1", now.Add(-2*time.Hour), now.Add(time.Hour)))
	var tk struct{ ID string }
	c.must(0, http.MethodPost, "/v1/tasks", map[string]any{"type": "return_refund", "order_id": "o1", "actor": map[string]string{"role": "buyer", "id": "b1"}},
		http.StatusCreated, &tk)
	const keys = 12
	conflicts, replays := 0, 0
	for k := range keys {
		key := fmt.Sprintf("note-%d-%d", now.UnixNano(), k)
		body := map[string]any{"action": "agent_note", "actor": map[string]string{"role": "agent", "id": "a1"}, "text": fmt.Sprintf("note %d", k)}
		got := race(c, http.MethodPost, "/v1/tasks/"+tk.ID+"/actions", body, "Idempotency-Key", key)
		var first *resp
		for i := range got {
			r := &got[i]
			switch {
			case r.status == http.StatusOK && r.header.Get("Idempotent-Replayed") != "true":
				if first != nil {
					t.Fatalf("key %s applied on both replicas:\n%s\n%s", key, first.body, r.body)
				}
				first = r
			case r.status == http.StatusOK:
				replays++
			case r.status == http.StatusConflict && bytes.Contains(r.body, []byte(`"idempotency.in_progress"`)):
				conflicts++
			default:
				t.Fatalf("key %s on %s: %d %s", key, c.reps[i].name, r.status, r.body)
			}
		}
		if first == nil {
			t.Fatalf("key %s: neither replica applied it: %d %s / %d %s", key, got[0].status, got[0].body, got[1].status, got[1].body)
		}
		for i := range got {
			if got[i].status == http.StatusOK && !bytes.Equal(got[i].body, first.body) {
				t.Errorf("key %s: replayed answer differs:\n%s\n%s", key, got[i].body, first.body)
			}
		}
		// A retry after both answered, on each replica: the first answer again.
		for i := range 2 {
			r, err := c.do(i, http.MethodPost, "/v1/tasks/"+tk.ID+"/actions", body, "Idempotency-Key", key)
			if err != nil || r.status != http.StatusOK || r.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r.body, first.body) {
				t.Errorf("key %s, retry on %s: %v %d %q %s", key, c.reps[i].name, err, r.status, r.header.Get("Idempotent-Replayed"), r.body)
			}
		}
	}
	if n := c.count(`SELECT count(*) FROM events WHERE task_id = $1 AND body::jsonb->>'action' = 'agent_note'`, tk.ID); n != keys {
		t.Errorf("%d agent notes for %d keys sent twice each, want %d", n, keys, keys)
	}
	t.Logf("%d keys raced on two replicas: %d answered 409 in progress, %d replayed", keys, conflicts, replays)
}
