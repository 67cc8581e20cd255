package engine_test

// Fuzz target for fact ingest: the body of POST /v1/facts, decoded as the API
// decodes it, through the engine on a real SQLite store (testkit).
//
//	go test ./internal/engine -run '^$' -fuzz '^FuzzIngest$' -fuzztime 10m
//
// The seeds are testdata/fuzz/FuzzIngest and the batches below; `go test
// ./...` runs them as a plain test.

import (
	"encoding/json"
	"fmt"
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/ident"
	"aftersale/internal/testkit"
)

// ingestFuzzNow is the engine's clock in FuzzIngest: the seeds' facts happen before it.
const ingestFuzzNow = "2023-08-01T12:00:00+08:00"

// ingestFuzzMaxFacts bounds a batch so that one input stays fast.
const ingestFuzzMaxFacts = 64

// ingestSeeds are fact batches as the order system posts them: a shop, its
// orders and their later facts, with some facts the engine must refuse
// (unknown order, a second shipment, a refund above the paid amount, a
// fact from the future) or answer as duplicates, between accepted ones.
var ingestSeeds = []string{
	`{"facts":[
{"id":"shop-s1","type":"shop","at":"2023-07-01T09:00:00+08:00","shop":{"id":"s1","platform":"tmall","industry":"apparel","main_account":"s1_main","ship_from_region":"zhejiang","invoice_mode":"upload","sub_accounts":[{"id":"sub1","permissions":["platform_task"],"subscribes_reminders":true},{"id":"sub2"}]}},
{"id":"order-o1","type":"order","at":"2023-07-29T10:00:00+08:00","order":{"id":"o1","shop_id":"s1","buyer_id":"b1","buyer_region":"beijing","items":[{"sku":"A","category":"apparel","product_id":"p1"}],"paid_fen":10000,"paid_at":"2023-07-29T10:00:00+08:00","ship_by":"2023-07-31T10:00:00+08:00","promises":[{"kind":"time","ship_within":"48h"}]}},
{"id":"ship-o9","type":"shipment","at":"2023-07-30T12:00:00+08:00","shipment":{"order_id":"o9","carrier":"SF","tracking_no":"SF9"}},
{"id":"ship-o1","type":"shipment","at":"2023-07-30T12:00:00+08:00","shipment":{"order_id":"o1","carrier":"SF","tracking_no":"SF100"}},
{"id":"ship-o1-again","type":"shipment","at":"2023-07-30T13:00:00+08:00","shipment":{"order_id":"o1","carrier":"YTO","tracking_no":"Y1"}},
{"id":"tr-o1","type":"tracking","at":"2023-07-31T12:00:00+08:00","tracking":{"order_id":"o1","status":"in_transit","location":"Hangzhou"}},
{"id":"rf-o1","type":"refund","at":"2023-08-01T08:00:00+08:00","refund":{"order_id":"o1","amount_fen":50000}},
{"id":"rf-o1-part","type":"refund","at":"2023-08-01T08:00:00+08:00","refund":{"order_id":"o1","amount_fen":500}},
{"id":"ship-o1","type":"shipment","at":"2023-07-30T12:00:00+08:00","shipment":{"order_id":"o1","carrier":"SF","tracking_no":"SF100"}},
{"id":"future","type":"presence","at":"2030-01-01T00:00:00+08:00","presence":{"account_id":"sub1","online":true}}
]}`,
	`{"facts":[
{"id":"shop-s2","type":"shop","at":"2023-07-01T09:00:00+08:00","shop":{"id":"s2","platform":"taobao","main_account":"s2_main","invoice_mode":"tax_office_proxy"}},
{"id":"acc-s2","type":"account","at":"2023-07-01T09:10:00+08:00","account":{"id":"s2_sub","shop_id":"s2","role":"sub","permissions":["platform_task"],"subscribes_reminders":true}},
{"id":"pr-s2","type":"presence","at":"2023-07-01T09:20:00+08:00","presence":{"account_id":"s2_sub","online":true}},
{"id":"dep-s2","type":"deposit","at":"2023-07-01T09:30:00+08:00","deposit":{"shop_id":"s2","amount_fen":100000}},
{"id":"prod-s2","type":"product","at":"2023-07-01T09:40:00+08:00","product":{"id":"p2","shop_id":"s2","title":"mug"}},
{"id":"order-o2","type":"order","at":"2023-07-20T10:00:00+08:00","order":{"id":"o2","shop_id":"s2","buyer_id":"b2","buyer_region":"310000","items":[{"sku":"M","product_id":"p2"}],"paid_fen":2000,"paid_at":"2023-07-20T10:00:00+08:00","ship_by":"2023-07-22T10:00:00+08:00","presale":"staged"}},
{"id":"dr-o2","type":"delay_report","at":"2023-07-21T10:00:00+08:00","delay_report":{"order_id":"o2","reported_ship_by":"2023-07-25T10:00:00+08:00","approved":true}},
{"id":"ship-o2","type":"shipment","at":"2023-07-24T10:00:00+08:00","shipment":{"order_id":"o2","carrier":"ZTO","tracking_no":"Z2"}},
{"id":"tr-o2","type":"tracking","at":"2023-07-26T10:00:00+08:00","tracking":{"order_id":"o2","status":"signed","signed_region":"310000"}},
{"id":"rc-o2","type":"receipt_confirmed","at":"2023-07-27T10:00:00+08:00","receipt_confirmed":{"order_id":"o2"}},
{"id":"ir-o2","type":"invoice_requested","at":"2023-07-27T11:00:00+08:00","invoice_requested":{"order_id":"o2"}},
{"id":"ii-o2","type":"invoice_issued","at":"2023-07-28T11:00:00+08:00","invoice_issued":{"order_id":"o2"}},
{"id":"cr-o2","type":"chat_reply","at":"2023-07-28T12:00:00+08:00","chat_reply":{"order_id":"o2"}},
{"id":"oc-o2","type":"order_closed","at":"2023-07-29T12:00:00+08:00","order_closed":{"order_id":"o2"}},
{"id":"oc-o2-again","type":"order_closed","at":"2023-07-29T13:00:00+08:00","order_closed":{"order_id":"o2"}}
]}`,
	`{"facts":[{"id":"","type":"shop","at":"2023-07-01T09:00:00+08:00"},{"id":"x","type":"teleport","at":"2023-07-01T09:00:00+08:00","shipment":{"order_id":"o1"}},{"id":"y","type":"refund"}]}`,
	`{"facts":[]}`,
}

// FuzzIngest decodes a batch as POST /v1/facts does (each fact strictly, by
// commerce.DecodeFact; a fact that does not decode is the API's own refusal
// and left out) and ingests it, checking:
//
//   - ingest never returns a system error (the API would answer 500) nor panics;
//   - every fact gets one result, in order, with its id (when the id is
//     one, by the id rule of internal/ident): accepted or
//     duplicate without an error, or refused with a refusal (not internal)
//     that has a reason and, when invalid or not found, names a field;
//   - the batch is the sum of its facts: ingesting the same facts one per
//     batch on a fresh store gives the same results, so the refusal of one
//     fact of a batch neither drops nor changes the others;
//   - the batch sent again answers every fact it accepted as a duplicate.
func FuzzIngest(f *testing.F) {
	for _, s := range ingestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body struct {
			Facts []json.RawMessage `json:"facts"`
		}
		if err := json.Unmarshal(data, &body); err != nil || len(body.Facts) > ingestFuzzMaxFacts {
			return // the API answers 400/422/413 before the engine
		}
		facts := make([]commerce.Fact, 0, len(body.Facts))
		for _, raw := range body.Facts {
			if f, err := commerce.DecodeFact(raw); err == nil {
				facts = append(facts, f) // the API refuses the others itself
			}
		}
		now := testkit.Time(t, ingestFuzzNow)

		batch := testkit.New(t, now)
		res, err := batch.Engine.Ingest(batch.Ctx, cloneFacts(facts))
		if err != nil {
			t.Fatalf("batch ingest: system error %v (input %q)", err, data)
		}
		if len(res) != len(facts) {
			t.Fatalf("%d results for %d facts", len(res), len(facts))
		}
		n := map[string]int{}
		for i, r := range res {
			checkFactResult(t, i, facts[i], r)
			n[resultKey(r)]++
		}
		t.Logf("%d facts: %v", len(facts), n)

		single := testkit.New(t, now)
		for i := range facts {
			one, err := single.Engine.Ingest(single.Ctx, cloneFacts(facts[i:i+1]))
			if err != nil {
				t.Fatalf("fact %d alone: system error %v", i, err)
			}
			if len(one) != 1 {
				t.Fatalf("fact %d alone: %d results", i, len(one))
			}
			if got, want := resultKey(one[0]), resultKey(res[i]); got != want {
				t.Fatalf("fact %d (%s %q): %s in the batch but %s alone (input %q)", i, facts[i].Type, facts[i].ID, want, got, data)
			}
		}

		again, err := batch.Engine.Ingest(batch.Ctx, cloneFacts(facts))
		if err != nil {
			t.Fatalf("batch again: system error %v", err)
		}
		for i, r := range res {
			if r.Status != engine.FactRefused && again[i].Status != engine.FactDuplicate {
				t.Fatalf("fact %d (%q) was %s, then %s when sent again; want duplicate", i, facts[i].ID, r.Status, again[i].Status)
			}
		}
	})
}

// checkFactResult checks one fact's result in a batch.
func checkFactResult(t *testing.T, i int, f commerce.Fact, r engine.FactResult) {
	t.Helper()
	want := f.ID
	if !ident.Valid(want) {
		want = "" // an id that breaks the id rule is not echoed
	}
	if r.ID != want {
		t.Fatalf("result %d is for id %q, the fact's id is %q", i, r.ID, f.ID)
	}
	switch r.Status {
	case engine.FactAccepted, engine.FactDuplicate:
		if r.Error != nil {
			t.Fatalf("fact %d %s with an error: %v", i, r.Status, r.Error)
		}
	case engine.FactRefused:
		e := r.Error
		if e == nil {
			t.Fatalf("fact %d refused without an error", i)
		}
		if e.Code == apperr.EINTERNAL || e.Code == "" || e.Reason == "" || e.Message == "" {
			t.Fatalf("fact %d refused with %+v: want a refusal with a code, reason and message", i, e)
		}
		if (e.Code == apperr.EINVALID || e.Code == apperr.ENOTFOUND) && e.Field == "" {
			t.Fatalf("fact %d refused as %s without naming a field: %v", i, e.Code, e)
		}
	default:
		t.Fatalf("fact %d: status %q", i, r.Status)
	}
}

// resultKey is what must agree between a fact ingested in a batch and alone.
func resultKey(r engine.FactResult) string {
	if r.Error == nil {
		return r.Status
	}
	return fmt.Sprintf("%s(%s %s field=%q rule=%q)", r.Status, r.Error.Code, r.Error.Reason, r.Error.Field, r.Error.Rule)
}

// cloneFacts copies facts deeply enough that the engine's normalising of a
// fact (its time to UTC, defaults) in one run does not leak into the next.
func cloneFacts(fs []commerce.Fact) []commerce.Fact {
	b, err := json.Marshal(fs)
	if err != nil {
		// A decoded fact always encodes unless a time left [0, 9999];
		// such a fact is cloned shallowly and the engine must refuse it.
		out := make([]commerce.Fact, len(fs))
		copy(out, fs)
		return out
	}
	var out []commerce.Fact
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	if out == nil {
		out = []commerce.Fact{}
	}
	return out
}
