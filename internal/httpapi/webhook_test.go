package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/notify"
	"aftersale/internal/webhook"
)

// receiver is a webhook endpoint that verifies every signature and answers
// with the status it is told.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	status int
	got    []received
	now    func() time.Time
}

type received struct {
	ID, Type string
	Verified bool
	Body     []byte
}

func newReceiver(t *testing.T, now func() time.Time) *receiver {
	r := &receiver{t: t, status: http.StatusOK, now: now}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		err := webhook.Verify(r.secret, req.Header, body, r.now(), 5*time.Minute)
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		r.got = append(r.got, received{ID: req.Header.Get("webhook-id"), Type: p.Type, Verified: err == nil, Body: body})
		w.WriteHeader(r.status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) answer(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type subJSON struct {
	ID       string   `json:"id"`
	URL      string   `json:"url"`
	Events   []string `json:"events"`
	Audience string   `json:"audience"`
	Secret   string   `json:"secret"`
}

type deliveryJSON struct {
	ID         string    `json:"id"`
	EventType  string    `json:"event_type"`
	Status     string    `json:"status"`
	Attempts   int       `json:"attempts"`
	NextAt     time.Time `json:"next_at"`
	LastStatus int       `json:"last_status"`
}

func (e *liveEnv) round() int {
	e.t.Helper()
	n, err := e.wh.Round(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *liveEnv) deliveries(path string) []deliveryJSON {
	e.t.Helper()
	var out struct{ Deliveries []deliveryJSON }
	e.ok(e.get(path), http.StatusOK, &out)
	return out.Deliveries
}

// Webhooks: a signed delivery verifies at the receiver; a 500 is retried
// on the schedule (1 min, then 2 min, ± 20 % jitter: here +10 %) and not
// before; after the last attempt the delivery is dead-lettered; redeliver
// sends it again with the same webhook-id.
func TestWebhooks_SignRetryDeadLetterRedeliver(t *testing.T) {
	e := newLiveAPI(t, bj(t, "2023-07-05T10:00:00"), webhook.Config{
		Schedule: []time.Duration{time.Minute, 2 * time.Minute}, Jitter: 0.2, Rand: func() float64 { return 0.75 }})
	rcv := newReceiver(t, e.clock.Now)
	e.shop("tm", commerce.Tmall)
	e.order("tm", "o1", e.clock.Now().Add(48*time.Hour))
	e.order("tm", "o2", e.clock.Now().Add(48*time.Hour))

	e.wantProblem(e.post("/v1/webhooks", map[string]any{"url": "ftp://x", "events": []string{"task.created"}}), http.StatusUnprocessableEntity, "invalid", "", "url")
	e.wantProblem(e.post("/v1/webhooks", map[string]any{"url": rcv.srv.URL, "events": []string{"task.exploded"}}), http.StatusUnprocessableEntity, "invalid", "", "events")
	var sub subJSON
	e.ok(e.post("/v1/webhooks", map[string]any{"url": rcv.srv.URL, "events": []string{"task.created"}, "audience": "platform"}), http.StatusCreated, &sub)
	if !strings.HasPrefix(sub.Secret, "whsec_") || sub.Audience != "platform" {
		t.Fatalf("created %+v", sub)
	}
	rcv.secret = sub.Secret
	var list struct{ Subscriptions []subJSON }
	e.ok(e.get("/v1/webhooks"), http.StatusOK, &list)
	if len(list.Subscriptions) != 1 || list.Subscriptions[0].Secret != "" {
		t.Fatalf("list shows %+v (the secret is shown once)", list)
	}

	tk := e.createTask("return_refund", "o1")
	if n := e.round(); n != 1 {
		t.Fatalf("round sent %d, want 1", n)
	}
	got := rcv.all()
	if len(got) != 1 || !got[0].Verified || got[0].Type != "task.created" || !strings.Contains(string(got[0].Body), tk.ID) {
		t.Fatalf("received %+v", got)
	}
	if e.round() != 0 {
		t.Fatal("a delivered webhook was sent again")
	}

	rcv.answer(http.StatusInternalServerError)
	e.createTask("exchange", "o2")
	t0 := e.clock.Now()
	e.round() // attempt 1 fails
	ds := e.deliveries("/v1/webhooks/deliveries?status=pending")
	if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastStatus != 500 || !ds[0].NextAt.Equal(t0.Add(66*time.Second)) {
		t.Fatalf("after the first failure: %+v (want next at +66 s)", ds)
	}
	e.clock.Set(t0.Add(66*time.Second - time.Microsecond))
	if n := e.round(); n != 0 {
		t.Fatalf("retried %d before the back-off elapsed", n)
	}
	e.clock.Set(t0.Add(66 * time.Second))
	e.round() // attempt 2 fails: next in 2 min + 10 %
	e.clock.Set(t0.Add(66*time.Second + 132*time.Second))
	e.round() // attempt 3 fails: the last
	dead := e.deliveries("/v1/webhooks/dead-letters")
	if len(dead) != 1 || dead[0].Attempts != 3 || dead[0].Status != "dead" || dead[0].LastStatus != 500 {
		t.Fatalf("dead letters %+v", dead)
	}
	e.clock.Set(e.clock.Now().Add(24 * time.Hour))
	if n := e.round(); n != 0 {
		t.Fatal("a dead letter was retried")
	}
	if n := len(rcv.all()); n != 4 {
		t.Fatalf("%d requests, want 1 + 3 attempts", n)
	}

	rcv.answer(http.StatusNoContent)
	e.wantProblem(e.post("/v1/webhooks/deliveries/nope/redeliver", nil), http.StatusNotFound, "not_found", "", "delivery_id")
	e.ok(e.post("/v1/webhooks/deliveries/"+dead[0].ID+"/redeliver", nil), http.StatusOK, nil)
	e.wantProblem(e.post("/v1/webhooks/deliveries/"+dead[0].ID+"/redeliver", nil), http.StatusConflict, "webhook.pending", "", "")
	e.round()
	all := rcv.all()
	if last := all[len(all)-1]; last.ID != dead[0].ID || !last.Verified {
		t.Fatalf("redelivered %+v, want webhook-id %s", last, dead[0].ID)
	}
	if d := e.deliveries("/v1/webhooks/deliveries?status=succeeded"); len(d) != 2 {
		t.Fatalf("succeeded deliveries %+v", d)
	}
	for _, r := range all {
		if !r.Verified {
			t.Fatalf("unverified delivery %s", r.ID)
		}
	}

	// deleting the subscription stops its deliveries
	e.ok(e.req(http.MethodDelete, "/v1/webhooks/"+sub.ID, platformKey, nil), http.StatusNoContent, nil)
	e.wantProblem(e.req(http.MethodDelete, "/v1/webhooks/"+sub.ID, platformKey, nil), http.StatusNotFound, "not_found", "", "subscription_id")
}

// R-MSG-2: a public (buyer-facing) subscription never receives the shop's
// message to the agent or an agent note, nor cards; a platform one does.
func TestWebhooks_R_MSG_2_PublicAudience(t *testing.T) {
	e := newLiveAPI(t, bj(t, "2023-07-05T10:00:00"), webhook.Config{})
	pub, plat := newReceiver(t, e.clock.Now), newReceiver(t, e.clock.Now)
	e.shop("tm", commerce.Tmall, subAcc("s1", true))
	e.order("tm", "o1", e.clock.Now().Add(48*time.Hour))
	for _, r := range []struct {
		rcv *receiver
		aud string
	}{{pub, "public"}, {plat, "platform"}} {
		var sub subJSON
		e.ok(e.post("/v1/webhooks", map[string]any{"url": r.rcv.srv.URL, "events": []string{"*"}, "audience": r.aud}), http.StatusCreated, &sub)
		r.rcv.secret = sub.Secret
	}
	e.stream("shop_sub:s1", "") // online: the task's creation sends a card
	tk := e.createTask("return_refund", "o1")
	e.ok(e.action(tk.ID, map[string]any{"action": "refuse", "actor": actor("shop_main", "tm_main"), "reply": map[string]any{"text": "no"}}), http.StatusOK, nil)
	e.ok(e.action(tk.ID, map[string]any{"action": "message_agent", "actor": actor("shop_main", "tm_main"), "text": "see the photos"}), http.StatusOK, nil)
	e.ok(e.action(tk.ID, map[string]any{"action": "agent_note", "actor": actor("agent", "a1"), "text": "internal"}), http.StatusOK, nil)
	e.round()
	types := func(r *receiver) map[string]int {
		m := map[string]int{}
		for _, g := range r.all() {
			if !g.Verified {
				t.Fatalf("unverified %s", g.ID)
			}
			var p struct {
				Data struct {
					Visibility string `json:"visibility"`
				} `json:"data"`
			}
			_ = json.Unmarshal(g.Body, &p)
			m[g.Type+"/"+p.Data.Visibility]++
		}
		return m
	}
	gp, gl := types(pub), types(plat)
	if gp["task.created/public"] != 1 || gp["task.state_changed/public"] != 1 || len(gp) != 2 {
		t.Errorf("public subscription got %v", gp)
	}
	if gl["task.updated/shop_agent"] != 1 || gl["task.updated/agent_only"] != 1 || gl["card/"] != 1 || gl["reminder/"] != 0 {
		t.Errorf("platform subscription got %v", gl)
	}
	var notPending int
	for _, d := range e.deliveries("/v1/webhooks/deliveries?limit=500") {
		if d.Status != string(notify.DeliverySucceeded) {
			notPending++
		}
	}
	if notPending != 0 {
		t.Errorf("%d deliveries not succeeded", notPending)
	}
}
