package engine_test

import (
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/testkit"
)

// wantResults checks a batch's statuses and, for each refused fact, that its
// refusal names want[i]'s field.
func wantResults(t *testing.T, res []engine.FactResult, want ...[2]string) {
	t.Helper()
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(res), len(want), res)
	}
	for i, w := range want {
		r := res[i]
		if r.Status != w[0] {
			t.Errorf("fact %d: %+v (error %v), want %s", i, r, r.Error, w[0])
			continue
		}
		if w[0] == engine.FactRefused && (r.Error == nil || r.Error.Code != apperr.EINVALID || r.Error.Field != w[1]) {
			t.Errorf("fact %d: refusal %+v, want an invalid refusal naming %s", i, r.Error, w[1])
		}
	}
}

var (
	acceptedR = [2]string{engine.FactAccepted}
	refusedOn = func(field string) [2]string { return [2]string{engine.FactRefused, field} }
)

// A deposit of MaxInt64 fen is that fact's own refusal naming amount_fen;
// the batch's other facts are applied; later deposits to the shop work; a
// top-up that would take the balance past the limit is refused, not a crash.
func TestFacts_AmountBeyondTheLimitIsItsOwnRefusal(t *testing.T) {
	env := factEnv(t)
	now := env.Clock.Now()
	res := env.Ingest(refundFact("rf1", "o1", 100, now), depositFact("dep-huge", "tb", 1<<63-1), depositFact("dep-1", "tb", 5000))
	wantResults(t, res, acceptedR, refusedOn("deposit.amount_fen"), acceptedR)
	if o := env.Order("o1"); o.RefundedFen != 100 {
		t.Fatalf("refunded %d, want 100", o.RefundedFen)
	}
	if got := deposit(env, "tb"); got != 5000 {
		t.Fatalf("deposit %d, want 5000", got)
	}
	res = env.Ingest(depositFact("dep-2", "tb", 7000))
	wantResults(t, res, acceptedR)
	// up to the limit, then one fen more is refused, alone
	res = env.Ingest(depositFact("dep-max", "tb", commerce.MaxFen-12000), depositFact("dep-over", "tb", 1), depositFact("dep-3", "nope", 1))
	if res[0].Status != engine.FactAccepted || res[1].Status != engine.FactRefused || res[1].Error.Field != "deposit.amount_fen" {
		t.Fatalf("results %+v", res)
	}
	if got := deposit(env, "tb"); got != commerce.MaxFen {
		t.Fatalf("deposit %d, want %d", got, commerce.MaxFen)
	}
	if res[2].Status != engine.FactRefused || res[2].Error.Code != apperr.ENOTFOUND {
		t.Fatalf("deposit to an unknown shop: %+v", res[2])
	}
}

// An order paid before the earliest policy version (or in year 0000) is
// that fact's refusal naming order.paid_at; its neighbours are applied.
func TestFacts_TimeNoPolicyCoversIsItsOwnRefusal(t *testing.T) {
	env := factEnv(t)
	now := env.Clock.Now()
	early := testkit.OrderFact("o-early", "tb", "b1", time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC), now)
	zero := testkit.OrderFact("o-zero", "tb", "b1", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), now)
	early.At, zero.At = now, now // the facts arrive now; the orders were paid long ago
	good := testkit.OrderFact("o-good", "tb", "b1", now.Add(-time.Hour), now.Add(48*time.Hour))
	res := env.Ingest(refundFact("rf1", "o1", 100, now), early, zero, good, shipFact("ship-good", "o-good", now))
	wantResults(t, res, acceptedR, refusedOn("order.paid_at"), refusedOn("order.paid_at"), acceptedR, acceptedR)
	if !strings.Contains(res[1].Error.Message, "no policy") {
		t.Errorf("message %q does not say no policy covers the time", res[1].Error.Message)
	}
	if o := env.Order("o-good"); o.ShippedAt == nil {
		t.Fatalf("the good order after the bad ones: %+v", o)
	}
	if o := env.Order("o1"); o.RefundedFen != 100 {
		t.Fatalf("refunded %d, want 100", o.RefundedFen)
	}
}

// Ids that break the id rule (a NUL, 129 characters, invalid UTF-8, RLO,
// zero-width space, a megabyte) are each their fact's refusal naming the
// field, on every store, and the good facts around them are applied.
func TestFacts_BadIdsAreTheirOwnRefusals(t *testing.T) {
	env := factEnv(t)
	now := env.Clock.Now()
	bad := []string{"f\x00", strings.Repeat("a", 129), "f\xff", "f\u202e1", "f\u200b", strings.Repeat("x", 1<<20)}
	facts := []commerce.Fact{refundFact("rf-ok", "o1", 100, now)}
	want := [][2]string{acceptedR}
	for i, id := range bad {
		facts = append(facts, refundFact(id, "o1", 1, now), refundFact("rf-"+string(rune('a'+i)), id, 1, now))
		want = append(want, refusedOn("id"), refusedOn("refund.order_id"))
	}
	facts = append(facts, shipFact("ship", "o1", now))
	want = append(want, acceptedR)
	res := env.Ingest(facts...)
	wantResults(t, res, want...)
	for i := range bad {
		if res[1+2*i].ID != "" {
			t.Errorf("a malformed id is echoed: %q", res[1+2*i].ID)
		}
	}
	if o := env.Order("o1"); o.RefundedFen != 100 || o.ShippedAt == nil {
		t.Fatalf("order %+v", o)
	}
	// alone (no batch prefetch) too
	wantResults(t, env.Ingest(refundFact("f\x00", "o1", 1, now)), refusedOn("id"))
}
