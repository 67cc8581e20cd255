package commerce_test

import (
	"reflect"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
)

var t0 = time.Date(2023, 8, 1, 2, 0, 0, 0, time.UTC)

func order() *commerce.Order {
	return &commerce.Order{ID: "o1", ShopID: "s1", BuyerID: "b1", PaidFen: 10000, PaidAt: t0, ShipBy: t0.Add(48 * time.Hour),
		Items: []commerce.Item{{SKU: "A"}}}
}

func wantField(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Code != code || ae.Field != field {
		t.Fatalf("got %v, want %s on field %q", err, code, field)
	}
}

// Validate refuses a malformed fact naming the field at fault.
func TestValidate_NamesField(t *testing.T) {
	at := t0.Add(time.Hour)
	ord := func(mod func(*commerce.Order)) commerce.Fact {
		o := order()
		mod(o)
		return commerce.Fact{ID: "f", Type: commerce.FactOrder, At: at, Order: o}
	}
	cases := []struct {
		name  string
		f     commerce.Fact
		field string
	}{
		{"no id", commerce.Fact{Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 1}}, "id"},
		{"no time", commerce.Fact{ID: "f", Type: commerce.FactRefund, Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 1}}, "at"},
		{"no payload", commerce.Fact{ID: "f", Type: commerce.FactRefund, At: at}, "type"},
		{"two payloads", commerce.Fact{ID: "f", Type: commerce.FactRefund, At: at,
			Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 1}, Shipment: &commerce.ShipmentFact{OrderID: "o1"}}, "type"},
		{"payload of another type", commerce.Fact{ID: "f", Type: commerce.FactRefund, At: at, Shipment: &commerce.ShipmentFact{OrderID: "o1"}}, "refund"},
		{"unknown type", commerce.Fact{ID: "f", Type: "teleport", At: at, Shipment: &commerce.ShipmentFact{OrderID: "o1"}}, "type"},
		{"zero refund", commerce.Fact{ID: "f", Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{OrderID: "o1"}}, "refund.amount_fen"},
		{"negative refund", commerce.Fact{ID: "f", Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: -5}}, "refund.amount_fen"},
		{"refund without order", commerce.Fact{ID: "f", Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{AmountFen: 5}}, "refund.order_id"},
		{"shipment without order", commerce.Fact{ID: "f", Type: commerce.FactShipment, At: at, Shipment: &commerce.ShipmentFact{}}, "shipment.order_id"},
		{"tracking status", commerce.Fact{ID: "f", Type: commerce.FactTracking, At: at, Tracking: &commerce.TrackingFact{OrderID: "o1", Status: "lost"}}, "tracking.status"},
		{"delay report without time", commerce.Fact{ID: "f", Type: commerce.FactDelayReport, At: at, DelayReport: &commerce.DelayReportFact{OrderID: "o1"}}, "delay_report.reported_ship_by"},
		{"negative paid", ord(func(o *commerce.Order) { o.PaidFen = -1 }), "order.paid_fen"},
		{"no buyer", ord(func(o *commerce.Order) { o.BuyerID = "" }), "order.buyer_id"},
		{"no ship_by", ord(func(o *commerce.Order) { o.ShipBy = time.Time{} }), "order.ship_by"},
		{"ship_by before paid", ord(func(o *commerce.Order) { o.ShipBy = o.PaidAt.Add(-time.Second) }), "order.ship_by"},
		{"no items", ord(func(o *commerce.Order) { o.Items = nil }), "order.items"},
		{"bad presale", ord(func(o *commerce.Order) { o.Presale = "lottery" }), "order.presale"},
		{"shop platform", commerce.Fact{ID: "f", Type: commerce.FactShop, At: at, Shop: &commerce.Shop{ID: "s", Platform: "ebay", MainAccount: "m"}}, "shop.platform"},
		{"shop duplicate account", commerce.Fact{ID: "f", Type: commerce.FactShop, At: at, Shop: &commerce.Shop{ID: "s", Platform: commerce.Tmall, MainAccount: "m",
			SubAccounts: []commerce.Account{{ID: "m"}}}}, "shop.sub_accounts[0].id"},
		{"shop invoice mode", commerce.Fact{ID: "f", Type: commerce.FactShop, At: at, Shop: &commerce.Shop{ID: "s", Platform: commerce.Tmall, MainAccount: "m", InvoiceMode: "fax"}}, "shop.invoice_mode"},
		{"account role", commerce.Fact{ID: "f", Type: commerce.FactAccount, At: at, Account: &commerce.Account{ID: "a", ShopID: "s", Role: "boss"}}, "account.role"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantField(t, c.f.Validate(), apperr.EINVALID, c.field) })
	}
	ok := commerce.Fact{ID: "f", Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 1}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid fact refused: %v", err)
	}
	valid := ord(func(*commerce.Order) {})
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid order refused: %v", err)
	}
}

func shipped(t *testing.T) *commerce.Order {
	t.Helper()
	o := order()
	if err := commerce.ApplyToOrder(o, &commerce.Fact{ID: "s", Type: commerce.FactShipment, At: t0.Add(time.Hour),
		Shipment: &commerce.ShipmentFact{OrderID: "o1", Carrier: "SF", TrackingNo: "1"}}); err != nil {
		t.Fatal(err)
	}
	return o
}

// ApplyToOrder refuses out-of-order and inconsistent facts and never changes
// the order when it refuses.
func TestApplyToOrder_RefusalsChangeNothing(t *testing.T) {
	base := func(t *testing.T) *commerce.Order {
		o := shipped(t)
		if err := commerce.ApplyToOrder(o, &commerce.Fact{ID: "r", Type: commerce.FactRefund, At: t0.Add(2 * time.Hour),
			Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 4000}}); err != nil {
			t.Fatal(err)
		}
		return o
	}
	cases := []struct {
		name  string
		f     commerce.Fact
		code  apperr.Code
		field string
	}{
		{"before paid", commerce.Fact{Type: commerce.FactRefund, At: t0.Add(-time.Second), Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 1}}, apperr.EINVALID, "at"},
		{"tracking before the last", commerce.Fact{Type: commerce.FactTracking, At: t0.Add(time.Hour - time.Second),
			Tracking: &commerce.TrackingFact{OrderID: "o1", Status: commerce.TrackingInTransit}}, apperr.EINVALID, "at"},
		{"over-refund", commerce.Fact{Type: commerce.FactRefund, At: t0.Add(3 * time.Hour), Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 6001}}, apperr.EINVALID, "refund.amount_fen"},
		{"second shipment", commerce.Fact{Type: commerce.FactShipment, At: t0.Add(3 * time.Hour), Shipment: &commerce.ShipmentFact{OrderID: "o1"}}, apperr.ECONFLICT, ""},
		{"delay report after shipping", commerce.Fact{Type: commerce.FactDelayReport, At: t0.Add(3 * time.Hour),
			DelayReport: &commerce.DelayReportFact{OrderID: "o1", ReportedShipBy: t0.Add(72 * time.Hour)}}, apperr.ECONFLICT, ""},
		{"issued without request", commerce.Fact{Type: commerce.FactInvoiceIssued, At: t0.Add(3 * time.Hour), InvoiceIssued: &commerce.InvoiceIssuedFact{OrderID: "o1"}}, apperr.ECONFLICT, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := base(t)
			want := base(t)
			wantField(t, commerce.ApplyToOrder(o, &c.f), c.code, c.field)
			if !reflect.DeepEqual(o, want) {
				t.Fatalf("refusal changed the order:\n%+v\n%+v", o, want)
			}
		})
	}

	// a delay report before shipping whose reported time precedes it
	o := order()
	want := order()
	err := commerce.ApplyToOrder(o, &commerce.Fact{Type: commerce.FactDelayReport, At: t0.Add(time.Hour),
		DelayReport: &commerce.DelayReportFact{OrderID: "o1", ReportedShipBy: t0.Add(time.Minute)}})
	wantField(t, err, apperr.EINVALID, "delay_report.reported_ship_by")
	if !reflect.DeepEqual(o, want) {
		t.Fatal("refusal changed the order")
	}

	// an invoice issued before it was requested
	o = order()
	if err := commerce.ApplyToOrder(o, &commerce.Fact{Type: commerce.FactInvoiceRequested, At: t0.Add(2 * time.Hour),
		InvoiceRequested: &commerce.InvoiceRequestedFact{OrderID: "o1"}}); err != nil {
		t.Fatal(err)
	}
	err = commerce.ApplyToOrder(o, &commerce.Fact{Type: commerce.FactInvoiceIssued, At: t0.Add(time.Hour), InvoiceIssued: &commerce.InvoiceIssuedFact{OrderID: "o1"}})
	wantField(t, err, apperr.EINVALID, "at")
	if o.Invoice.IssuedAt != nil {
		t.Fatal("refusal set the issue time")
	}
}

// ApplyToOrder folds valid facts into the projection.
func TestApplyToOrder_Projection(t *testing.T) {
	o := shipped(t)
	if !o.Shipped() || o.LastTrackingAt == nil || !o.LastTrackingAt.Equal(t0.Add(time.Hour)) || o.TrackingStatus != commerce.TrackingInTransit || o.Carrier != "SF" {
		t.Fatalf("after shipment %+v", o)
	}
	// a tracking update at the same instant as the last is in order
	if err := commerce.ApplyToOrder(o, &commerce.Fact{Type: commerce.FactTracking, At: t0.Add(time.Hour),
		Tracking: &commerce.TrackingFact{OrderID: "o1", Status: commerce.TrackingInTransit}}); err != nil {
		t.Fatal(err)
	}
	if err := commerce.ApplyToOrder(o, &commerce.Fact{Type: commerce.FactTracking, At: t0.Add(5 * time.Hour),
		Tracking: &commerce.TrackingFact{OrderID: "o1", Status: commerce.TrackingSigned}}); err != nil {
		t.Fatal(err)
	}
	if o.SignedAt == nil || !o.SignedAt.Equal(t0.Add(5*time.Hour)) {
		t.Fatalf("signed %v", o.SignedAt)
	}
	err := commerce.ApplyToOrder(o, &commerce.Fact{Type: commerce.FactTracking, At: t0.Add(6 * time.Hour),
		Tracking: &commerce.TrackingFact{OrderID: "o1", Status: commerce.TrackingInTransit}})
	wantField(t, err, apperr.ECONFLICT, "")

	for i, fen := range []int64{3000, 7000} {
		if err := commerce.ApplyToOrder(o, &commerce.Fact{Type: commerce.FactRefund, At: t0.Add(time.Duration(6+i) * time.Hour),
			Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: fen}}); err != nil {
			t.Fatal(err)
		}
		if o.FullyRefunded() != (i == 1) {
			t.Fatalf("after %d fen: fully refunded %v", o.RefundedFen, o.FullyRefunded())
		}
	}
	wantField(t, commerce.ApplyToOrder(o, &commerce.Fact{Type: commerce.FactRefund, At: t0.Add(8 * time.Hour),
		Refund: &commerce.RefundFact{OrderID: "o1", AmountFen: 1}}), apperr.EINVALID, "refund.amount_fen")
}

// R-ACC-1: a main account holds every permission; a sub-account only those granted.
func TestAccount_R_ACC_1_Has(t *testing.T) {
	m := commerce.Account{ID: "m", Role: commerce.RoleMain}
	s := commerce.Account{ID: "s", Role: commerce.RoleSub}
	g := commerce.Account{ID: "g", Role: commerce.RoleSub, Permissions: []string{"other", commerce.PermPlatformTask}}
	if !m.Has(commerce.PermPlatformTask) || s.Has(commerce.PermPlatformTask) || !g.Has(commerce.PermPlatformTask) {
		t.Fatalf("Has: main %v sub %v granted %v", m.Has(commerce.PermPlatformTask), s.Has(commerce.PermPlatformTask), g.Has(commerce.PermPlatformTask))
	}
}

// OrderID is safe on facts that have not been validated: a missing or
// mismatched payload gives "" instead of a nil dereference.
func TestFactOrderIDUnvalidated(t *testing.T) {
	cases := []struct {
		f    commerce.Fact
		want string
	}{
		{commerce.Fact{Type: commerce.FactShipment}, ""},
		{commerce.Fact{Type: commerce.FactShipment, Refund: &commerce.RefundFact{OrderID: "o1"}}, ""},
		{commerce.Fact{Type: commerce.FactRefund, Refund: &commerce.RefundFact{OrderID: "o1"}}, "o1"},
		{commerce.Fact{Type: commerce.FactOrder, Order: &commerce.Order{ID: "o2"}}, "o2"},
		{commerce.Fact{Type: commerce.FactShop, Shop: &commerce.Shop{ID: "s1"}}, ""},
		{commerce.Fact{Type: "nonsense"}, ""},
	}
	for i, c := range cases {
		if got := c.f.OrderID(); got != c.want {
			t.Errorf("case %d: OrderID() = %q, want %q", i, got, c.want)
		}
	}
}
