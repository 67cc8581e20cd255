package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/clock"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
	"aftersale/internal/webhook"
)

// lookup resolves names from a table, as a DNS server would; other names
// are not found.
func lookup(table map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := table[host]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return nil, errors.New("no such host " + host)
	}
}

// A subscription's URL may not lead to loopback, private, link-local,
// carrier-grade NAT, unspecified or multicast addresses, named or resolved
// (a refusal is invalid "url"), unless the allow-list holds them; public
// addresses and names that do not resolve yet are accepted.
func TestGuard_CheckURL(t *testing.T) {
	names := lookup(map[string]string{"hooks.example": "127.0.0.1", "intranet.example": "10.1.2.3", "shop.example": "203.0.114.7"})
	deny := &webhook.Guard{Lookup: names}
	for _, u := range []string{"http://127.0.0.1:8080/hook", "http://10.0.0.1/hook", "http://[::1]/hook", "https://hooks.example/hook",
		"http://intranet.example/x", "http://172.16.0.5/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data",
		"http://100.64.0.1/", "http://0.0.0.0:9/", "http://[fd00::1]/", "http://[fe80::1]/", "http://224.0.0.1/", "http://[::ffff:127.0.0.1]/"} {
		err := deny.CheckURL(t.Context(), u)
		ae, ok := apperr.As(err)
		if !ok || ae.Code != apperr.EINVALID || ae.Field != "url" {
			t.Errorf("CheckURL(%s) = %v, want invalid url", u, err)
		}
	}
	for _, u := range []string{"https://203.0.113.10/hook", "https://shop.example/hook", "https://not-yet.example/hook", "http://[2606:4700::1111]/"} {
		if err := deny.CheckURL(t.Context(), u); err != nil {
			t.Errorf("CheckURL(%s) = %v, want accepted", u, err)
		}
	}
	allow := &webhook.Guard{Lookup: names, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.0.0.0/8")}}
	for _, u := range []string{"http://127.0.0.1:8080/hook", "http://10.0.0.1/hook", "http://[::1]/hook", "https://hooks.example/hook", "http://intranet.example/x"} {
		if err := allow.CheckURL(t.Context(), u); err != nil {
			t.Errorf("with the allow-list, CheckURL(%s) = %v, want accepted", u, err)
		}
	}
	if err := allow.CheckURL(t.Context(), "http://192.168.1.1/"); err == nil {
		t.Error("192.168.1.1 accepted, not in the allow-list")
	}
}

// A delivery connects only to an allowed address, checked on the address
// resolved when it is sent: a name that resolved to a public address at
// registration and to loopback now (DNS rebinding) is not reached, and the
// delivery fails; with loopback allowed it is delivered.
func TestGuard_DeliveryRefusedAfterDNS(t *testing.T) {
	var hits atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer rcv.Close()
	_, port, _ := strings.Cut(strings.TrimPrefix(rcv.URL, "http://"), ":")
	names := map[string]string{"hooks.example": "203.0.113.10"}
	guard := &webhook.Guard{Lookup: lookup(names)}
	hookURL := "http://hooks.example:" + port + "/hook"
	if err := guard.CheckURL(t.Context(), hookURL); err != nil {
		t.Fatalf("public at registration: %v", err)
	}
	names["hooks.example"] = "127.0.0.1" // rebound

	for _, tc := range []struct {
		name    string
		allow   []netip.Prefix
		want    notify.DeliveryStatus
		wantHit int32
	}{
		{"public only", nil, notify.DeliveryPending, 0},
		{"loopback allowed", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, notify.DeliverySucceeded, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			st := testkit.OpenStore(t)
			ctx := t.Context()
			clk := clock.NewManual(time.Date(2023, 7, 5, 2, 0, 0, 0, time.UTC))
			sub, err := webhook.NewSubscription(hookURL, []string{webhook.TaskCreated}, notify.AudiencePublic, "", clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := webhook.Create(ctx, st, sub); err != nil {
				t.Fatal(err)
			}
			ev := task.Event{Stream: "tsk_1", TaskID: "tsk_1", OrderID: "o", ShopID: "s", At: clk.Now(),
				Action: string(task.ActCreate), To: task.AwaitingSellerReply, PolicyVersion: "v", Visibility: task.Public}
			if err := st.Update(ctx, func(tx store.Tx) error { return tx.AppendEvents(ctx, []task.Event{ev}) }); err != nil {
				t.Fatal(err)
			}
			s := webhook.New(webhook.Config{Store: st, Clock: clk, Guard: &webhook.Guard{Lookup: lookup(names), Allow: tc.allow}})
			if _, err := s.Round(ctx); err != nil {
				t.Fatal(err)
			}
			ds, err := webhook.Deliveries(ctx, st, store.WebhookFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 1 || ds[0].Status != tc.want || ds[0].Attempts != 1 || hits.Load() != tc.wantHit {
				t.Fatalf("deliveries %+v, receiver hit %d times; want %s after one attempt, %d hits", ds, hits.Load(), tc.want, tc.wantHit)
			}
			if tc.want == notify.DeliveryPending && !strings.Contains(ds[0].LastError, "not allowed") {
				t.Errorf("the failed attempt says %q, want why", ds[0].LastError)
			}
		})
	}
}
