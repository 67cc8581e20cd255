package commerce_test

import (
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/ident"
)

// Validate holds every fact to the id rule, the amount bound, the time
// range and the length limits, naming the field at fault.
func TestValidate_Limits(t *testing.T) {
	at := t0.Add(time.Hour)
	ord := func(mod func(*commerce.Order)) commerce.Fact {
		o := order()
		mod(o)
		return commerce.Fact{ID: "f", Type: commerce.FactOrder, At: at, Order: o}
	}
	mb := strings.Repeat("x", 1<<20)
	cases := []struct {
		name, field string
		f           commerce.Fact
	}{
		{"1 MB id", "id", commerce.Fact{ID: mb, Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 1}}},
		{"NUL in id", "id", commerce.Fact{ID: "f\x00", Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 1}}},
		{"RLO in order id", "refund.order_id", commerce.Fact{ID: "f", Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{OrderID: "o\u202e1", AmountFen: 1}}},
		{"refund above the max", "refund.amount_fen", commerce.Fact{ID: "f", Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: commerce.MaxFen + 1}}},
		{"deposit of MaxInt64", "deposit.amount_fen", commerce.Fact{ID: "f", Type: commerce.FactDeposit, At: at, Deposit: &commerce.DepositFact{ShopID: "s1", AmountFen: 1<<63 - 1}}},
		{"paid above the max", "order.paid_fen", ord(func(o *commerce.Order) { o.PaidFen = commerce.MaxFen + 1 })},
		{"paid in year 0000", "order.paid_at", ord(func(o *commerce.Order) { o.PaidAt = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"ship_by in 2100", "order.ship_by", ord(func(o *commerce.Order) { o.ShipBy = commerce.MaxTime })},
		{"at in year 1", "at", commerce.Fact{ID: "f", Type: commerce.FactRefund, At: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 1}}},
		{"10 MB title", "product.title", commerce.Fact{ID: "f", Type: commerce.FactProduct, At: at, Product: &commerce.Product{ID: "p", ShopID: "s1", Title: strings.Repeat("题", 10<<20/3)}}},
		{"long carrier", "shipment.carrier", commerce.Fact{ID: "f", Type: commerce.FactShipment, At: at, Shipment: &commerce.ShipmentFact{OrderID: "o1", Carrier: strings.Repeat("c", commerce.MaxShortText+1)}}},
		{"ship_within of 2562047h", "order.promises[0].ship_within", ord(func(o *commerce.Order) {
			o.Promises = []commerce.Promise{{Kind: commerce.PromiseTime, ShipWithin: commerce.Duration(2562047 * time.Hour)}}
		})},
		{"period of 367d", "order.promises[0].period", ord(func(o *commerce.Order) {
			o.Promises = []commerce.Promise{{Kind: "return", Period: commerce.Duration(367 * 24 * time.Hour)}}
		})},
		{"too many items", "order.items", ord(func(o *commerce.Order) { o.Items = make([]commerce.Item, commerce.MaxItems+1) })},
		{"sku with bad product id", "order.items[0].product_id", ord(func(o *commerce.Order) { o.Items[0].ProductID = "p\u200b" })},
		{"sub-account id of 129", "shop.sub_accounts[0].id", commerce.Fact{ID: "f", Type: commerce.FactShop, At: at, Shop: &commerce.Shop{ID: "s", Platform: commerce.Tmall, MainAccount: "m",
			SubAccounts: []commerce.Account{{ID: strings.Repeat("a", ident.MaxLen+1)}}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantField(t, c.f.Validate(), apperr.EINVALID, c.field) })
	}
	ok := ord(func(o *commerce.Order) {
		o.PaidFen = commerce.MaxFen
		o.Promises = []commerce.Promise{{Kind: commerce.PromiseTime, ShipWithin: commerce.Duration(commerce.MaxPromiseDuration)}}
	})
	if err := ok.Validate(); err != nil {
		t.Fatalf("an order at the limits is refused: %v", err)
	}
}

// DecodeFact refuses an unknown member naming its path, and a value of the
// wrong form naming its field.
func TestDecodeFact_Strict(t *testing.T) {
	cases := []struct{ name, body, reason, field string }{
		{"unknown top-level", `{"id":"f","type":"refund","at":"2023-08-01T10:00:00Z","refund":{"order_id":"o1","amount_fen":1},"amount":5}`, commerce.ReasonUnknownField, "amount"},
		{"unknown in payload", `{"id":"f","type":"refund","at":"2023-08-01T10:00:00Z","refund":{"order_id":"o1","amount_fen":1,"currency":"CNY"}}`, commerce.ReasonUnknownField, "refund.currency"},
		{"unknown in an item", `{"id":"f","type":"order","at":"2023-08-01T10:00:00Z","order":{"id":"o1","items":[{"sku":"A"},{"sku":"B","colour":"red"}]}}`, commerce.ReasonUnknownField, "order.items[1].colour"},
		{"amount as text", `{"id":"f","type":"refund","at":"2023-08-01T10:00:00Z","refund":{"order_id":"o1","amount_fen":"1"}}`, "invalid", "refund.amount_fen"},
		{"amount beyond int64", `{"id":"f","type":"deposit","at":"2023-08-01T10:00:00Z","deposit":{"shop_id":"s1","amount_fen":9223372036854775808}}`, "invalid", "deposit.amount_fen"},
		{"bad time", `{"id":"f","type":"refund","at":"yesterday","refund":{"order_id":"o1","amount_fen":1}}`, "invalid", "at"},
		{"ship_within overflows", `{"id":"f","type":"order","at":"2023-08-01T10:00:00Z","order":{"id":"o1","promises":[{"kind":"time","ship_within":"2562048h"}]}}`, "invalid", "order.promises[0].ship_within"},
		{"days overflow", `{"id":"f","type":"order","at":"2023-08-01T10:00:00Z","order":{"id":"o1","promises":[{"kind":"time","ship_within":"999999999999d"}]}}`, "invalid", "order.promises[0].ship_within"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := commerce.DecodeFact([]byte(c.body))
			ae, ok := apperr.As(err)
			if !ok || ae.Code != apperr.EINVALID || ae.Reason != c.reason || ae.Field != c.field {
				t.Fatalf("got %v (%+v), want %s naming %s", err, ae, c.reason, c.field)
			}
			if !strings.Contains(ae.Message, c.field) {
				t.Errorf("message %q does not name %s", ae.Message, c.field)
			}
		})
	}
	f, err := commerce.DecodeFact([]byte(`{"id":"f","type":"refund","at":"2023-08-01T10:00:00Z","refund":{"order_id":"o1","amount_fen":1}}`))
	if err != nil || f.Refund == nil || f.Refund.AmountFen != 1 {
		t.Fatalf("a well-formed fact: %+v, %v", f, err)
	}
}

// A member given twice is named by the refusal when its earlier value is
// the bad one (found by FuzzFactJSON: the decoder read "at":"y" and the walk
// saw only the later, good value, so the refusal named no field).
func TestDecodeFact_DuplicateMemberNamed(t *testing.T) {
	for _, c := range []struct{ body, field string }{
		{`{"id":"f1","type":"chat_reply","at":"y","at":"2023-08-01T08:30:00+08:00","chat_reply":{"order_id":"o1"}}`, "at"},
		{`{"id":"f1","type":"order","at":"2023-08-01T08:30:00+08:00","order":{"id":"o1","items":[{"sku":"a","SKU":7}]}}`, "order.items[0].SKU"},
	} {
		_, err := commerce.DecodeFact([]byte(c.body))
		ae, ok := apperr.As(err)
		if !ok || ae.Code != apperr.EINVALID || ae.Field != c.field {
			t.Errorf("DecodeFact(%s) = %v, want invalid naming %s", c.body, err, c.field)
		}
	}
}
