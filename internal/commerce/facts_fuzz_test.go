package commerce_test

// Fuzz target for the decoding of one fact as the API receives it (an
// element of the "facts" list of POST /v1/facts) and its validation:
//
//	go test ./internal/commerce -run '^$' -fuzz '^FuzzFactJSON$' -fuzztime 10m
//
// The seeds are testdata/fuzz/FuzzFactJSON and the facts below, one of each
// type; `go test ./...` runs them as a plain test.

import (
	"bytes"
	"encoding/json"
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
)

// factSeeds are valid facts of every type, as the order system sends them.
var factSeeds = []string{
	`{"id":"shop-s1","type":"shop","at":"2023-08-01T09:00:00+08:00","shop":{"id":"s1","platform":"tmall","industry":"apparel","main_account":"s1_main","ship_from_region":"zhejiang","invoice_mode":"upload","sub_accounts":[{"id":"sub1","permissions":["platform_task"],"subscribes_reminders":true}]}}`,
	`{"id":"acc-1","type":"account","at":"2023-08-01T09:00:00+08:00","account":{"id":"sub2","shop_id":"s1","role":"sub","permissions":["platform_task"]}}`,
	`{"id":"pr-1","type":"presence","at":"2023-08-01T09:00:00+08:00","presence":{"account_id":"sub1","online":true}}`,
	`{"id":"order-o1","type":"order","at":"2023-07-29T10:00:00+08:00","order":{"id":"o1","shop_id":"s1","buyer_id":"b1","buyer_region":"beijing","items":[{"sku":"A","category":"apparel","product_id":"p1"}],"paid_fen":10000,"paid_at":"2023-07-29T10:00:00+08:00","ship_by":"2023-07-31T10:00:00+08:00","promises":[{"kind":"time","ship_within":"48h"},{"kind":"return","period":"7d"}]}}`,
	`{"id":"dr-1","type":"delay_report","at":"2023-07-30T10:00:00+08:00","delay_report":{"order_id":"o1","reported_ship_by":"2023-08-03T10:00:00+08:00","approved":true}}`,
	`{"id":"ship-1","type":"shipment","at":"2023-07-30T12:00:00+08:00","shipment":{"order_id":"o1","carrier":"SF","tracking_no":"SF100"}}`,
	`{"id":"tr-1","type":"tracking","at":"2023-07-31T12:00:00+08:00","tracking":{"order_id":"o1","status":"signed","location":"Beijing","signed_region":"beijing"}}`,
	`{"id":"rf-1","type":"refund","at":"2023-08-01T08:00:00+08:00","refund":{"order_id":"o1","amount_fen":500}}`,
	`{"id":"ir-1","type":"invoice_requested","at":"2023-08-01T08:00:00+08:00","invoice_requested":{"order_id":"o1"}}`,
	`{"id":"ii-1","type":"invoice_issued","at":"2023-08-01T08:30:00+08:00","invoice_issued":{"order_id":"o1"}}`,
	`{"id":"cr-1","type":"chat_reply","at":"2023-08-01T08:30:00+08:00","chat_reply":{"order_id":"o1"}}`,
	`{"id":"rc-1","type":"receipt_confirmed","at":"2023-08-01T08:40:00+08:00","receipt_confirmed":{"order_id":"o1"}}`,
	`{"id":"oc-1","type":"order_closed","at":"2023-08-01T08:50:00+08:00","order_closed":{"order_id":"o1"}}`,
	`{"id":"dep-1","type":"deposit","at":"2023-08-01T08:50:00+08:00","deposit":{"shop_id":"s1","amount_fen":100000}}`,
	`{"id":"prod-1","type":"product","at":"2023-08-01T08:50:00+08:00","product":{"id":"p1","shop_id":"s1","title":"T-shirt"}}`,
	`{"id":"f","type":"refund","at":"2023-08-01T08:00:00+08:00","refund":{"order_id":"o1","amount_fen":-5}}`,
	`{"id":"f","type":"refund","at":"2023-08-01T08:00:00+08:00","shipment":{"order_id":"o1"}}`,
}

// FuzzFactJSON decodes one fact strictly, as POST /v1/facts decodes each
// element of its "facts" list (commerce.DecodeFact), and validates it:
//
//   - decoding and validating never panic; OrderID is safe on any decoded fact;
//   - a refusal, of the decoding or of Validate, is an *apperr.Error of code
//     invalid that names a field and has a message (a member named "" is
//     named `""`);
//   - every decoded fact, valid or not, encodes, and its encoding decodes
//     strictly again to a fact with the same verdict of Validate (the same
//     field refused), the same id, type, time and order; encoding that
//     again gives the same bytes (what the engine records is what it reads
//     back);
//   - a valid fact has an id and a time, and an order fact's order id.
func FuzzFactJSON(f *testing.F) {
	for _, s := range factSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return // the API answers 400 for the whole body before any fact
		}
		fact, err := commerce.DecodeFact(data)
		if err != nil {
			wantRefusal(t, "DecodeFact", err)
			return
		}
		orderID := fact.OrderID()
		verdict := fact.Validate()
		if verdict != nil {
			wantRefusal(t, "Validate", verdict)
		} else if fact.ID == "" || fact.At.IsZero() || orderID == "" && isOrderFact(fact.Type) {
			t.Fatalf("Validate accepted a fact without id, time or order: %+v", fact)
		}
		enc, err := json.Marshal(&fact)
		if err != nil {
			t.Fatalf("a decoded fact does not encode: %v (input %q)", err, data)
		}
		back, err := commerce.DecodeFact(enc)
		if err != nil {
			t.Fatalf("an encoded fact does not decode strictly: %v\n%s", err, enc)
		}
		if got, want := fieldOf(back.Validate()), fieldOf(verdict); got != want {
			t.Fatalf("Validate after a round trip: %s, before: %s\n%s", got, want, enc)
		}
		if back.OrderID() != orderID || back.ID != fact.ID || back.Type != fact.Type || !back.At.Equal(fact.At) {
			t.Fatalf("round trip changed the fact: %+v -> %+v", fact, back)
		}
		enc2, err := json.Marshal(&back)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}

// wantRefusal fails unless err is an invalid *apperr.Error naming a field.
func wantRefusal(t *testing.T, what string, err error) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("%s returned %T %v, want an *apperr.Error", what, err, err)
	}
	if ae.Code != apperr.EINVALID || ae.Field == "" || ae.Message == "" {
		t.Fatalf("%s refused with %+v: want code invalid naming a field, with a message", what, ae)
	}
}

// fieldOf describes a verdict of Validate: "ok" or the field refused.
func fieldOf(err error) string {
	if err == nil {
		return "ok"
	}
	if ae, ok := apperr.As(err); ok {
		return "refused " + ae.Field
	}
	return "error " + err.Error()
}

// isOrderFact reports whether facts of (known) type ft refer to an order.
func isOrderFact(ft commerce.FactType) bool {
	switch ft {
	case commerce.FactShop, commerce.FactAccount, commerce.FactPresence, commerce.FactDeposit, commerce.FactProduct:
		return false
	}
	return true
}
