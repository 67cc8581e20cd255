package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/httpapi"
	"aftersale/internal/id"
	"aftersale/internal/live"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/testkit"
	"aftersale/internal/webhook"
)

// liveEnv is the API with the live hub and a webhook sender (driven by the
// test, on the engine's manual clock).
type liveEnv struct {
	*apiEnv
	hub *live.Hub
	wh  *webhook.Sender
}

func newLiveAPI(t *testing.T, start time.Time, whc webhook.Config) *liveEnv {
	t.Helper()
	st := httpapi.WrapStore(testkit.OpenStore(t), false)
	reg, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(start)
	eng := engine.New(engine.Config{Store: st, Policy: reg, Clock: clk, IDs: &id.Sequence{}})
	hub := live.New(live.Config{Store: st, Presence: eng, Grace: 50 * time.Millisecond})
	eng.OnCommit(hub.Wake)
	ctx, cancel := context.WithCancel(context.Background())
	if err := hub.Init(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = hub.Run(ctx) }()
	whc.Store, whc.Clock = st, clk
	if whc.Guard == nil { // the receivers are httptest servers on loopback
		whc.Guard = &webhook.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	}
	wh := webhook.New(whc)
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Engine: eng, Keys: []httpapi.Key{
		httpapi.NewKey(httpapi.RolePlatform, platformKey), httpapi.NewKey(httpapi.RoleOperator, operatorKey)},
		Live: httpapi.LiveConfig{Hub: hub, Webhooks: wh, Heartbeat: 100 * time.Millisecond}}))
	t.Cleanup(func() {
		hub.Close() // ends the streams, so the server can close
		srv.Close()
		cancel()
		<-done
	})
	return &liveEnv{apiEnv: &apiEnv{t: t, srv: srv, eng: eng, st: st, clock: clk}, hub: hub, wh: wh}
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	ID, Event string
	Data      json.RawMessage
}

// sseClient reads one stream.
type sseClient struct {
	t      *testing.T
	res    *http.Response
	events chan sseEvent
	beats  chan struct{}
	lastID string
}

// stream opens GET /v1/stream for actor ("role:id"), resuming after lastID when not empty.
func (e *liveEnv) stream(actor, lastID string) *sseClient {
	e.t.Helper()
	hs := []string{"Authorization", "Bearer " + platformKey, "X-Actor", actor}
	if lastID != "" {
		hs = append(hs, "Last-Event-ID", lastID)
	}
	return e.openSSE("/v1/stream", hs...)
}

// openSSE opens an event stream at path with the headers (name, value pairs).
func (e *apiEnv) openSSE(path string, headers ...string) *sseClient {
	e.t.Helper()
	r, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		res.Body.Close()
		e.t.Fatalf("stream %s %v: %d %s", path, headers, res.StatusCode, res.Header.Get("Content-Type"))
	}
	c := &sseClient{t: e.t, res: res, events: make(chan sseEvent, 1000), beats: make(chan struct{}, 1000)}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					c.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ": heartbeat"):
				select {
				case c.beats <- struct{}{}:
				default:
				}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data = json.RawMessage(line[6:])
			}
		}
	}()
	e.t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() { c.res.Body.Close() }

// next returns the next event of kind (others are skipped), failing after 5 s.
func (c *sseClient) next(kind string) sseEvent {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("stream ended waiting for %s", kind)
			}
			if ev.ID != "" {
				c.lastID = ev.ID
			}
			if ev.Event == kind {
				return ev
			}
		case <-deadline:
			c.t.Fatalf("no %s event within 5 s", kind)
		}
	}
}

// none checks that no event of kind arrives within d.
func (c *sseClient) none(kind string, d time.Duration) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return
			}
			if ev.ID != "" {
				c.lastID = ev.ID
			}
			if ev.Event == kind {
				c.t.Fatalf("unexpected %s event: %s", kind, ev.Data)
			}
		case <-deadline:
			return
		}
	}
}

// drain returns every event that arrives until the stream is quiet for d.
func (c *sseClient) drain(d time.Duration) []sseEvent {
	var out []sseEvent
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return out
			}
			if ev.ID != "" {
				c.lastID = ev.ID
			}
			out = append(out, ev)
		case <-time.After(d):
			return out
		}
	}
}

func field(t *testing.T, ev sseEvent, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		t.Fatalf("event data %s: %v", ev.Data, err)
	}
	s, _ := m[name].(string)
	return s
}

func (e *liveEnv) online(acc string) bool {
	e.t.Helper()
	var a *commerce.Account
	if err := e.st.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		a, err = tx.Account(context.Background(), acc)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return a.Online
}

func (e *liveEnv) waitOnline(acc string, want bool) {
	e.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if e.online(acc) == want {
			return
		}
	}
	e.t.Fatalf("%s online=%v, want %v", acc, e.online(acc), want)
}

// R-NTF-2: two sub-accounts with the permission, online by holding their
// streams, both get the card of a new return_refund task; a third without
// the permission, online too, does not. A sub-account whose last stream
// closed goes offline after the grace period and gets no further card.
func TestStream_R_NTF_2_CardsToOnlineSubAccounts(t *testing.T) {
	e := newLiveAPI(t, bj(t, "2023-07-05T10:00:00"), webhook.Config{})
	e.shop("tm", commerce.Tmall, subAcc("s1", true), subAcc("s2", true), subAcc("s3", false))
	e.order("tm", "o1", e.clock.Now().Add(48*time.Hour))
	e.order("tm", "o2", e.clock.Now().Add(48*time.Hour))
	if e.online("s1") {
		t.Fatal("s1 online before any stream")
	}
	c1, c2, c3 := e.stream("shop_sub:s1", ""), e.stream("shop_sub:s2", ""), e.stream("shop_sub:s3", "")
	for _, acc := range []string{"s1", "s2", "s3"} {
		if !e.online(acc) { // online as soon as the stream is open (R-NTF-2's presence)
			t.Fatalf("%s not online while holding a stream", acc)
		}
	}
	tk := e.createTask("return_refund", "o1")
	for i, c := range []*sseClient{c1, c2} {
		ev := c.next("card")
		if field(t, ev, "task_id") != tk.ID || field(t, ev, "rule") != "R-NTF-2" || field(t, ev, "recipient") != fmt.Sprintf("s%d", i+1) {
			t.Fatalf("card to s%d: %s", i+1, ev.Data)
		}
		if !strings.Contains(ev.ID, "-") {
			t.Fatalf("event id %q, want OUTBOX-EVENTS", ev.ID)
		}
	}
	c3.none("card", 300*time.Millisecond)

	// s1 closes its only stream: offline after the grace period, no card for the next task
	c1.close()
	e.waitOnline("s1", false)
	tk2 := e.createTask("return_refund", "o2")
	if ev := c2.next("card"); field(t, ev, "task_id") != tk2.ID {
		t.Fatalf("s2's second card: %s", ev.Data)
	}
	var cards []string
	for _, m := range outbox(e) {
		if m.Kind == "task_card" && m.TaskID == tk2.ID {
			cards = append(cards, m.Recipient)
		}
	}
	if !slices.Equal(cards, []string{"s2"}) {
		t.Fatalf("second task's cards to %v, want only s2", cards)
	}
}

// A reconnect within the grace period does not flap the presence.
func TestStream_PresenceGrace(t *testing.T) {
	e := newLiveAPI(t, bj(t, "2023-07-05T10:00:00"), webhook.Config{})
	e.shop("tm", commerce.Tmall, subAcc("s1", true))
	c := e.stream("shop_sub:s1", "")
	c2 := e.stream("shop_sub:s1", "")
	c.close()
	time.Sleep(150 * time.Millisecond) // > grace, but a second stream is open
	if !e.online("s1") {
		t.Fatal("offline while a second stream is open")
	}
	c2.close()
	c3 := e.stream("shop_sub:s1", "") // reconnects at once
	time.Sleep(150 * time.Millisecond)
	if !e.online("s1") {
		t.Fatal("offline after a reconnect within the grace period")
	}
	c3.close()
	e.waitOnline("s1", false) // the last stream closed: offline after the grace period
}

func outbox(e *liveEnv) []struct {
	Kind, Recipient, TaskID, Status string
} {
	e.t.Helper()
	var out []struct{ Kind, Recipient, TaskID, Status string }
	if err := e.st.View(context.Background(), func(tx store.ReadTx) error {
		ms, err := tx.Outbox(context.Background(), 0, 0)
		for _, m := range ms {
			out = append(out, struct{ Kind, Recipient, TaskID, Status string }{string(m.Kind), m.Recipient, m.TaskID, string(m.Status)})
		}
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// R-NTF-1: a sub-account's stream gets 10 reminders on a business day
// (Asia/Shanghai); the 11th, at 23:59:59 +08:00, is not sent; the next one
// at 00:00:00 +08:00 (the same UTC day) is.
func TestStream_R_NTF_1_ReminderCapPerBusinessDay(t *testing.T) {
	e := newLiveAPI(t, bj(t, "2023-08-01T09:00:00"), webhook.Config{})
	r := subAcc("r1", true)
	r.SubscribesReminders = true
	e.shop("tb", commerce.Taobao, r)
	for i := 1; i <= 12; i++ {
		e.order("tb", fmt.Sprintf("o%02d", i), bj(t, "2023-08-05T00:00:00"))
	}
	c := e.stream("shop_sub:r1", "")
	ctx := context.Background()
	var got []string
	for i := 1; i <= 11; i++ {
		at := bj(t, "2023-08-01T10:00:00").Add(time.Duration(i) * time.Minute)
		if i >= 10 {
			at = bj(t, "2023-08-01T23:59:59")
		}
		if _, err := e.eng.AdvanceTo(ctx, e.clock, at); err != nil {
			t.Fatal(err)
		}
		tk := e.createTask("return_refund", fmt.Sprintf("o%02d", i))
		if i <= 10 {
			ev := c.next("reminder")
			if field(t, ev, "task_id") != tk.ID || field(t, ev, "rule") != "R-NTF-1" {
				t.Fatalf("reminder %d: %s (task %s)", i, ev.Data, tk.ID)
			}
			got = append(got, tk.ID)
		}
	}
	c.none("reminder", 300*time.Millisecond) // the 11th is over the cap
	if len(got) != 10 {
		t.Fatalf("%d reminders", len(got))
	}
	if _, err := e.eng.AdvanceTo(ctx, e.clock, bj(t, "2023-08-02T00:00:00")); err != nil {
		t.Fatal(err)
	}
	tk := e.createTask("return_refund", "o12")
	if ev := c.next("reminder"); field(t, ev, "task_id") != tk.ID {
		t.Fatalf("next business day's reminder: %s", ev.Data)
	}
	// a reconnect from the start replays the 11 sent reminders, each once, never the suppressed one
	c.close()
	again := e.stream("shop_sub:r1", "0-0")
	var replayed []string
	for _, ev := range again.drain(300 * time.Millisecond) {
		if ev.Event == "reminder" {
			replayed = append(replayed, field(t, ev, "task_id"))
		}
	}
	if want := append(got, tk.ID); !slices.Equal(replayed, want) {
		t.Fatalf("replayed reminders %v, want %v", replayed, want)
	}
}

// Last-Event-ID: a shop stream that reconnects gets exactly the events it
// missed, in order, each once, then live ones.
func TestStream_LastEventIDReplay(t *testing.T) {
	e := newLiveAPI(t, bj(t, "2023-07-05T10:00:00"), webhook.Config{})
	e.shop("tm", commerce.Tmall)
	for _, o := range []string{"o1", "o2", "o3"} {
		e.order("tm", o, e.clock.Now().Add(48*time.Hour))
	}
	c := e.stream("shop_main:tm_main", "")
	a := e.createTask("return_refund", "o1")
	if ev := c.next("task_event"); field(t, ev, "task_id") != a.ID || field(t, ev, "action") != "create" {
		t.Fatalf("first event %s", ev.Data)
	}
	c.drain(200 * time.Millisecond)
	last := c.lastID
	c.close()

	// missed while away: B's creation and a reply on A
	b := e.createTask("exchange", "o2")
	e.ok(e.action(a.ID, map[string]any{"action": "reply", "actor": actor("shop_main", "tm_main"), "reply": map[string]any{"text": "ok"}}), http.StatusOK, nil)

	c2 := e.stream("shop_main:tm_main", last)
	var seen []string
	for _, ev := range c2.drain(300 * time.Millisecond) {
		if ev.Event == "task_event" {
			seen = append(seen, field(t, ev, "task_id")+":"+field(t, ev, "action"))
		}
	}
	if want := []string{b.ID + ":create", a.ID + ":reply"}; !slices.Equal(seen, want) {
		t.Fatalf("replayed %v, want %v", seen, want)
	}
	cc := e.createTask("repair", "o3")
	if ev := c2.next("task_event"); field(t, ev, "task_id") != cc.ID {
		t.Fatalf("live after replay: %s", ev.Data)
	}
	if rest := c2.drain(200 * time.Millisecond); len(rest) != 0 {
		t.Fatalf("more events after the live one (duplicates?): %v", rest)
	}
	select {
	case <-c2.beats:
	case <-time.After(2 * time.Second):
		t.Fatal("no heartbeat comment")
	}
	// a bad Last-Event-ID is refused, naming the field
	r := e.get("/v1/stream", "X-Actor", "shop_main:tm_main", "Last-Event-ID", "nope")
	e.wantProblem(r, http.StatusUnprocessableEntity, "invalid", "", "Last-Event-ID")
	// an account of another role is refused
	e.wantProblem(e.get("/v1/stream", "X-Actor", "shop_sub:tm_main"), http.StatusForbidden, "role", "", "viewer")
}

// R-MSG-2: a buyer's stream (live or replayed) never carries the shop's
// message to the agent (shop_agent) or an agent's note (agent_only); the
// shop's gets the message but not the note; an agent's gets both.
func TestStream_R_MSG_2_BuyerNeverGetsShopAgentItems(t *testing.T) {
	e := newLiveAPI(t, bj(t, "2023-07-05T10:00:00"), webhook.Config{})
	e.shop("tm", commerce.Tmall)
	e.order("tm", "o1", e.clock.Now().Add(48*time.Hour))
	e.order("tm", "o2", e.clock.Now().Add(48*time.Hour))
	buyer, shop, agent := e.stream("buyer:"+buyerOf("o1"), ""), e.stream("shop_main:tm_main", ""), e.stream("agent:a1", "")
	other := e.stream("buyer:"+buyerOf("o2"), "")
	tk := e.createTask("return_refund", "o1")
	e.ok(e.action(tk.ID, map[string]any{"action": "refuse", "actor": actor("shop_main", "tm_main"), "reply": map[string]any{"text": "no"}}), http.StatusOK, nil)
	e.ok(e.action(tk.ID, map[string]any{"action": "message_agent", "actor": actor("shop_main", "tm_main"), "text": "see the photos"}), http.StatusOK, nil)
	e.ok(e.action(tk.ID, map[string]any{"action": "agent_note", "actor": actor("agent", "a1"), "text": "internal"}), http.StatusOK, nil)
	actions := func(evs []sseEvent) []string {
		var out []string
		for _, ev := range evs {
			if ev.Event == "task_event" {
				out = append(out, field(t, ev, "action")+"/"+field(t, ev, "visibility"))
			}
		}
		return out
	}
	got := map[string][]string{"buyer": actions(buyer.drain(300 * time.Millisecond)), "shop": actions(shop.drain(100 * time.Millisecond)),
		"agent": actions(agent.drain(100 * time.Millisecond)), "other": actions(other.drain(100 * time.Millisecond))}
	want := map[string][]string{
		"buyer": {"create/public", "refuse/public"},
		"shop":  {"create/public", "refuse/public", "message_agent/shop_agent"},
		"agent": {"create/public", "refuse/public", "message_agent/shop_agent", "agent_note/agent_only"},
		"other": nil,
	}
	for who, w := range want {
		if !slices.Equal(got[who], w) {
			t.Errorf("%s stream: %v, want %v", who, got[who], w)
		}
	}
	replay := actions(e.stream("buyer:"+buyerOf("o1"), "0-0").drain(300 * time.Millisecond))
	if !slices.Equal(replay, want["buyer"]) {
		t.Errorf("buyer replay: %v, want %v", replay, want["buyer"])
	}
}
