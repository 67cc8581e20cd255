package console_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/httpapi"
	"aftersale/internal/id"
	"aftersale/internal/live"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// The console's live cards: a signed-in sub-account's GET /v1/stream is
// its own (an actor named in the query is ignored), holding it makes the
// sub-account online, and a new R-NTF-2 task sends it a card.
func TestStream_SessionIsOwnStream_R_NTF_2_Card(t *testing.T) {
	st := httpapi.WrapStore(testkit.OpenStore(t), true)
	reg, _ := policy.Default()
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
	srv := httptestServer(httpapi.New(httpapi.Config{Engine: eng, Sandbox: clk, Sessions: httpapi.SessionConfig{Hash: fastHash},
		Live: httpapi.LiveConfig{Hub: hub, Heartbeat: 100 * time.Millisecond}}))
	t.Cleanup(func() { hub.Close(); srv.Close(); cancel(); <-done })
	e := &env{t: t, srv: srv, eng: eng, st: st, clock: clk}
	e.shop()
	e.facts(testkit_order("o1", clk.Now().Add(24*time.Hour)))
	e.person("subok", auth.RoleShopSub, "sub_ok")
	b := e.signIn("subok")

	// A signed-in person's stream is their own: naming another account is refused.
	req, _ := http.NewRequest("GET", srv.URL+"/v1/stream?actor=shop_sub:sub_no", nil)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("stream naming another account: %d", res.StatusCode)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/v1/stream", nil)
	res, err = b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	online := func(acc string) bool {
		var a *commerce.Account
		_ = st.View(context.Background(), func(tx store.ReadTx) error { a, _ = tx.Account(context.Background(), acc); return nil })
		return a != nil && a.Online
	}
	deadline := time.Now().Add(5 * time.Second)
	for !online("sub_ok") {
		if time.Now().After(deadline) {
			t.Fatal("sub_ok did not come online while holding its stream")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if online("sub_no") {
		t.Fatal("the query's actor was honoured: sub_no is online")
	}
	tk, err := eng.CreateTask(context.Background(), task.Command{Actor: task.Actor{Role: task.RoleBuyer, ID: "b_o1"}, OrderID: "o1", Type: task.Resend})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(res.Body)
		ev := ""
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "event: ") {
				ev = strings.TrimPrefix(line, "event: ")
			}
			if ev == "card" && strings.HasPrefix(line, "data: ") && strings.Contains(line, tk.ID) {
				got <- line
				return
			}
		}
	}()
	select {
	case line := <-got:
		if !strings.Contains(line, `"recipient":"sub_ok"`) || !strings.Contains(line, "R-NTF-2") {
			t.Fatalf("card: %s", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no card on the sub-account's stream")
	}
}
