package commerce

import (
	"time"

	"aftersale/internal/apperr"
)

// FactType names a kind of fact the marketplace's order system sends.
type FactType string

// Fact types.
const (
	FactShop             FactType = "shop"              // a shop and its accounts (upsert)
	FactAccount          FactType = "account"           // one account added or changed
	FactPresence         FactType = "presence"          // a sub-account came online or went offline
	FactOrder            FactType = "order"             // an order was paid
	FactDelayReport      FactType = "delay_report"      // the shop filed a delay report (报备)
	FactShipment         FactType = "shipment"          // the order shipped
	FactTracking         FactType = "tracking"          // a tracking update
	FactRefund           FactType = "refund"            // a refund was completed
	FactInvoiceRequested FactType = "invoice_requested" // the buyer applied for an invoice
	FactInvoiceIssued    FactType = "invoice_issued"    // the shop issued (uploaded) the invoice
	FactChatReply        FactType = "chat_reply"        // the seller answered a chat card (R-URG-4)
	FactReceiptConfirmed FactType = "receipt_confirmed" // the buyer confirmed receipt (确认收货, R-PRM-2)
	FactOrderClosed      FactType = "order_closed"      // the order closed (交易关闭, R-PRM-5, R-PRM-6)
	FactDeposit          FactType = "deposit"           // a shop's deposit (保证金) was topped up (R-PRM-5, R-PRM-6)
	FactProduct          FactType = "product"           // a shop's product (upsert), asked about in 问大家 (R-QA-1)
)

// FactTypes lists every fact type.
var FactTypes = []FactType{FactShop, FactAccount, FactPresence, FactOrder, FactDelayReport, FactShipment,
	FactTracking, FactRefund, FactInvoiceRequested, FactInvoiceIssued, FactChatReply, FactReceiptConfirmed,
	FactOrderClosed, FactDeposit, FactProduct}

// Fact is one fact from the order system. ID is its idempotency key: a
// repeated id is accepted once and answered as a duplicate. At is when it
// happened. Exactly one payload matching Type is set.
type Fact struct {
	ID   string    `json:"id" yaml:"id"`
	Type FactType  `json:"type" yaml:"type"`
	At   time.Time `json:"at" yaml:"at"`

	Shop             *Shop                 `json:"shop,omitempty" yaml:"shop"`
	Account          *Account              `json:"account,omitempty" yaml:"account"`
	Presence         *PresenceFact         `json:"presence,omitempty" yaml:"presence"`
	Order            *Order                `json:"order,omitempty" yaml:"order"`
	DelayReport      *DelayReportFact      `json:"delay_report,omitempty" yaml:"delay_report"`
	Shipment         *ShipmentFact         `json:"shipment,omitempty" yaml:"shipment"`
	Tracking         *TrackingFact         `json:"tracking,omitempty" yaml:"tracking"`
	Refund           *RefundFact           `json:"refund,omitempty" yaml:"refund"`
	InvoiceRequested *InvoiceRequestedFact `json:"invoice_requested,omitempty" yaml:"invoice_requested"`
	InvoiceIssued    *InvoiceIssuedFact    `json:"invoice_issued,omitempty" yaml:"invoice_issued"`
	ChatReply        *ChatReplyFact        `json:"chat_reply,omitempty" yaml:"chat_reply"`
	ReceiptConfirmed *ReceiptConfirmedFact `json:"receipt_confirmed,omitempty" yaml:"receipt_confirmed"`
	OrderClosed      *OrderClosedFact      `json:"order_closed,omitempty" yaml:"order_closed"`
	Deposit          *DepositFact          `json:"deposit,omitempty" yaml:"deposit"`
	Product          *Product              `json:"product,omitempty" yaml:"product"`
}

// PresenceFact says whether a sub-account is online (R-NTF-2 sends cards to online ones).
type PresenceFact struct {
	AccountID string `json:"account_id" yaml:"account_id"`
	Online    bool   `json:"online" yaml:"online"`
}

// DelayReportFact is a delay report (报备) and its outcome.
type DelayReportFact struct {
	OrderID        string    `json:"order_id" yaml:"order_id"`
	ReportedShipBy time.Time `json:"reported_ship_by" yaml:"reported_ship_by"`
	Approved       bool      `json:"approved" yaml:"approved"`
}

// ShipmentFact says the order shipped.
type ShipmentFact struct {
	OrderID    string `json:"order_id" yaml:"order_id"`
	Carrier    string `json:"carrier" yaml:"carrier"`
	TrackingNo string `json:"tracking_no" yaml:"tracking_no"`
}

// Tracking statuses.
const (
	TrackingInTransit = "in_transit"
	TrackingSigned    = "signed"
)

// TrackingFact is one tracking update; At of the fact is the update's time.
type TrackingFact struct {
	OrderID  string `json:"order_id" yaml:"order_id"`
	Status   string `json:"status" yaml:"status"` // in_transit | signed
	Location string `json:"location,omitempty" yaml:"location"`
	// SignedRegion, for a signed status, is where the parcel was signed for.
	SignedRegion string `json:"signed_region,omitempty" yaml:"signed_region"`
}

// RefundFact says a refund was completed.
type RefundFact struct {
	OrderID   string `json:"order_id" yaml:"order_id"`
	AmountFen int64  `json:"amount_fen" yaml:"amount_fen"`
}

// InvoiceRequestedFact says the buyer applied for an invoice (R-INV-1: time A is the fact's At).
type InvoiceRequestedFact struct {
	OrderID string `json:"order_id" yaml:"order_id"`
}

// InvoiceIssuedFact says the shop issued the invoice (R-INV-5).
type InvoiceIssuedFact struct {
	OrderID string `json:"order_id" yaml:"order_id"`
}

// ChatReplyFact says the seller answered the chat card sent for an order (R-URG-4).
type ChatReplyFact struct {
	OrderID string `json:"order_id" yaml:"order_id"`
}

// OrderID returns the order the fact refers to, or "" for shop-level facts
// and for a fact whose payload is missing (it is safe on unvalidated facts).
func (f *Fact) OrderID() string {
	switch {
	case f.Type == FactOrder && f.Order != nil:
		return f.Order.ID
	case f.Type == FactDelayReport && f.DelayReport != nil:
		return f.DelayReport.OrderID
	case f.Type == FactShipment && f.Shipment != nil:
		return f.Shipment.OrderID
	case f.Type == FactTracking && f.Tracking != nil:
		return f.Tracking.OrderID
	case f.Type == FactRefund && f.Refund != nil:
		return f.Refund.OrderID
	case f.Type == FactInvoiceRequested && f.InvoiceRequested != nil:
		return f.InvoiceRequested.OrderID
	case f.Type == FactInvoiceIssued && f.InvoiceIssued != nil:
		return f.InvoiceIssued.OrderID
	case f.Type == FactChatReply && f.ChatReply != nil:
		return f.ChatReply.OrderID
	case f.Type == FactReceiptConfirmed && f.ReceiptConfirmed != nil:
		return f.ReceiptConfirmed.OrderID
	case f.Type == FactOrderClosed && f.OrderClosed != nil:
		return f.OrderClosed.OrderID
	}
	return ""
}

func required(field, v string) error {
	if v == "" {
		return apperr.Invalid(field, "", "%s is required", field)
	}
	return nil
}

// Validate checks what can be checked without the store: the envelope, that
// the payload matches the type, required fields, every id against the id
// rule (ident.Check), signs and bounds of amounts (MaxFen), times within
// [MinTime, MaxTime), and the lengths of texts and lists (limits.go).
func (f *Fact) Validate() error {
	if err := id("id", f.ID); err != nil {
		return err
	}
	if f.At.IsZero() {
		return apperr.Invalid("at", "", "at is required")
	}
	if err := CheckTime("at", f.At); err != nil {
		return err
	}
	set := 0
	for _, p := range []bool{f.Shop != nil, f.Account != nil, f.Presence != nil, f.Order != nil,
		f.DelayReport != nil, f.Shipment != nil, f.Tracking != nil, f.Refund != nil,
		f.InvoiceRequested != nil, f.InvoiceIssued != nil, f.ChatReply != nil, f.ReceiptConfirmed != nil,
		f.OrderClosed != nil, f.Deposit != nil, f.Product != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return apperr.Invalid("type", "", "a fact carries exactly one payload, matching its type; got %d", set)
	}
	miss := func(field string) error {
		return apperr.Invalid(string(f.Type), "", "fact type %q needs the %q payload", f.Type, field)
	}
	switch f.Type {
	case FactShop:
		if f.Shop == nil {
			return miss("shop")
		}
		return f.Shop.validate("shop")
	case FactAccount:
		if f.Account == nil {
			return miss("account")
		}
		if err := firstErr(id("account.id", f.Account.ID), id("account.shop_id", f.Account.ShopID)); err != nil {
			return err
		}
		if f.Account.Role != RoleMain && f.Account.Role != RoleSub {
			return apperr.Invalid("account.role", "", "role must be main or sub, not %q", f.Account.Role)
		}
		return validPermissions("account.permissions", f.Account.Permissions)
	case FactPresence:
		if f.Presence == nil {
			return miss("presence")
		}
		return id("presence.account_id", f.Presence.AccountID)
	case FactOrder:
		if f.Order == nil {
			return miss("order")
		}
		return f.Order.validate()
	case FactDelayReport:
		if f.DelayReport == nil {
			return miss("delay_report")
		}
		if f.DelayReport.ReportedShipBy.IsZero() {
			return apperr.Invalid("delay_report.reported_ship_by", "R-URG-2", "reported_ship_by is required")
		}
		return firstErr(CheckTime("delay_report.reported_ship_by", f.DelayReport.ReportedShipBy),
			id("delay_report.order_id", f.DelayReport.OrderID))
	case FactShipment:
		if f.Shipment == nil {
			return miss("shipment")
		}
		return firstErr(id("shipment.order_id", f.Shipment.OrderID),
			CheckText("shipment.carrier", f.Shipment.Carrier, MaxShortText),
			CheckText("shipment.tracking_no", f.Shipment.TrackingNo, MaxShortText))
	case FactTracking:
		if f.Tracking == nil {
			return miss("tracking")
		}
		if f.Tracking.Status != TrackingInTransit && f.Tracking.Status != TrackingSigned {
			return apperr.Invalid("tracking.status", "R-LOG-1", "status must be in_transit or signed, not %q", f.Tracking.Status)
		}
		return firstErr(id("tracking.order_id", f.Tracking.OrderID),
			CheckText("tracking.location", f.Tracking.Location, MaxShortText),
			CheckText("tracking.signed_region", f.Tracking.SignedRegion, MaxShortText))
	case FactRefund:
		if f.Refund == nil {
			return miss("refund")
		}
		if f.Refund.AmountFen <= 0 {
			return apperr.Invalid("refund.amount_fen", "", "amount_fen must be positive, got %d", f.Refund.AmountFen)
		}
		return firstErr(CheckFen("refund.amount_fen", f.Refund.AmountFen), id("refund.order_id", f.Refund.OrderID))
	case FactInvoiceRequested:
		if f.InvoiceRequested == nil {
			return miss("invoice_requested")
		}
		return id("invoice_requested.order_id", f.InvoiceRequested.OrderID)
	case FactInvoiceIssued:
		if f.InvoiceIssued == nil {
			return miss("invoice_issued")
		}
		return id("invoice_issued.order_id", f.InvoiceIssued.OrderID)
	case FactChatReply:
		if f.ChatReply == nil {
			return miss("chat_reply")
		}
		return id("chat_reply.order_id", f.ChatReply.OrderID)
	case FactReceiptConfirmed:
		if f.ReceiptConfirmed == nil {
			return miss("receipt_confirmed")
		}
		return id("receipt_confirmed.order_id", f.ReceiptConfirmed.OrderID)
	case FactOrderClosed:
		if f.OrderClosed == nil {
			return miss("order_closed")
		}
		return id("order_closed.order_id", f.OrderClosed.OrderID)
	case FactDeposit:
		if f.Deposit == nil {
			return miss("deposit")
		}
		if f.Deposit.AmountFen <= 0 {
			return apperr.Invalid("deposit.amount_fen", "R-PRM-5", "a top-up adds a positive amount in fen, got %d", f.Deposit.AmountFen)
		}
		return firstErr(CheckFen("deposit.amount_fen", f.Deposit.AmountFen), id("deposit.shop_id", f.Deposit.ShopID))
	case FactProduct:
		if f.Product == nil {
			return miss("product")
		}
		return f.Product.validate()
	default:
		return apperr.Invalid("type", "", "unknown fact type %q", f.Type)
	}
}

func validPermissions(field string, ps []string) error {
	if err := checkCount(field, len(ps), MaxPermissions); err != nil {
		return err
	}
	for i, p := range ps {
		if err := CheckText(indexed(field, i), p, MaxShortText); err != nil {
			return err
		}
	}
	return nil
}

func (s *Shop) validate(prefix string) error {
	if err := id(prefix+".id", s.ID); err != nil {
		return err
	}
	if !s.Platform.Valid() {
		return apperr.Invalid(prefix+".platform", "", "platform must be taobao, tmall or taote, not %q", s.Platform)
	}
	if err := firstErr(id(prefix+".main_account", s.MainAccount),
		CheckText(prefix+".industry", s.Industry, MaxShortText),
		CheckText(prefix+".ship_from_region", s.ShipFromRegion, MaxShortText),
		checkCount(prefix+".sub_accounts", len(s.SubAccounts), MaxSubAccounts)); err != nil {
		return err
	}
	if s.Kind != "" && s.Kind != "individual" && s.Kind != "company" {
		return apperr.Invalid(prefix+".kind", "R-INV-6", "kind must be individual or company, not %q", s.Kind)
	}
	if s.InvoiceMode != "" && !s.InvoiceMode.Valid() {
		return apperr.Invalid(prefix+".invoice_mode", "R-INV-6", "invoice_mode must be tax_office_proxy, upload or automatic, not %q", s.InvoiceMode)
	}
	seen := map[string]bool{s.MainAccount: true}
	for i, a := range s.SubAccounts {
		f := indexed(prefix+".sub_accounts", i)
		if err := id(f+".id", a.ID); err != nil {
			return err
		}
		if seen[a.ID] {
			return apperr.Invalid(f+".id", "", "account id %q appears twice", a.ID)
		}
		seen[a.ID] = true
		if err := validPermissions(f+".permissions", a.Permissions); err != nil {
			return err
		}
	}
	return nil
}

func (o *Order) validate() error {
	if err := firstErr(id("order.id", o.ID), id("order.shop_id", o.ShopID), id("order.buyer_id", o.BuyerID),
		CheckText("order.buyer_region", o.BuyerRegion, MaxShortText)); err != nil {
		return err
	}
	if o.PaidFen < 0 {
		return apperr.Invalid("order.paid_fen", "", "paid_fen must not be negative, got %d", o.PaidFen)
	}
	if err := CheckFen("order.paid_fen", o.PaidFen); err != nil {
		return err
	}
	if o.PaidAt.IsZero() {
		return apperr.Invalid("order.paid_at", "", "paid_at is required")
	}
	if o.ShipBy.IsZero() {
		return apperr.Invalid("order.ship_by", "R-URG-1", "ship_by (the shipping deadline) is required")
	}
	if err := firstErr(CheckTime("order.paid_at", o.PaidAt), CheckTime("order.ship_by", o.ShipBy)); err != nil {
		return err
	}
	if o.ShipBy.Before(o.PaidAt) {
		return apperr.Invalid("order.ship_by", "R-URG-1", "ship_by %s is before paid_at %s", o.ShipBy.Format(time.RFC3339), o.PaidAt.Format(time.RFC3339))
	}
	if len(o.Items) == 0 {
		return apperr.Invalid("order.items", "", "an order has at least one item")
	}
	if err := checkCount("order.items", len(o.Items), MaxItems); err != nil {
		return err
	}
	for i, it := range o.Items {
		f := indexed("order.items", i)
		if err := firstErr(CheckText(f+".sku", it.SKU, MaxShortText), CheckText(f+".category", it.Category, MaxShortText),
			optID(f+".product_id", it.ProductID)); err != nil {
			return err
		}
	}
	switch o.Presale {
	case PresaleNone, PresaleStaged, PresaleFull:
	default:
		return apperr.Invalid("order.presale", "R-URG-2", "presale must be empty, staged or full, not %q", o.Presale)
	}
	return o.validatePromises()
}

func notBefore(field string, at time.Time, prev time.Time, what string) error {
	if at.Before(prev) {
		return apperr.Invalid(field, "", "out of order: %s is before %s (%s)", at.Format(time.RFC3339), what, prev.Format(time.RFC3339))
	}
	return nil
}

// ApplyToOrder validates an order-level fact against the order's current
// projection and, when valid, folds it in. It never changes o on error. The
// invoice deadlines are computed by the caller (they are policy); this sets
// only the fact-derived fields.
func ApplyToOrder(o *Order, f *Fact) error {
	if err := notBefore("at", f.At, o.PaidAt, "the order's paid_at"); err != nil && f.Type != FactOrder {
		return err
	}
	at := f.At.UTC()
	switch f.Type {
	case FactDelayReport:
		if o.Shipped() {
			return apperr.Conflict("order.shipped", "R-URG-2", "order %s already shipped; a delay report no longer applies", o.ID)
		}
		if f.DelayReport.ReportedShipBy.Before(at) {
			return apperr.Invalid("delay_report.reported_ship_by", "R-URG-2", "reported_ship_by is before the report itself")
		}
		o.DelayReport = &DelayReport{ReportedShipBy: f.DelayReport.ReportedShipBy.UTC(), FiledAt: at, Approved: f.DelayReport.Approved}
	case FactShipment:
		if o.Shipped() {
			return apperr.Conflict("order.shipped", "", "order %s already shipped at %s", o.ID, o.ShippedAt.Format(time.RFC3339))
		}
		o.ShippedAt, o.Carrier, o.TrackingNo = &at, f.Shipment.Carrier, f.Shipment.TrackingNo
		o.LastTrackingAt, o.TrackingStatus = &at, TrackingInTransit
	case FactTracking:
		if !o.Shipped() {
			return apperr.Conflict("order.unshipped", "R-LOG-1", "order %s has not shipped; no tracking yet", o.ID)
		}
		if err := notBefore("at", at, *o.LastTrackingAt, "the last tracking update"); err != nil {
			return err
		}
		if o.SignedAt != nil {
			return apperr.Conflict("order.signed", "", "order %s was already signed for", o.ID)
		}
		o.LastTrackingAt, o.TrackingStatus = &at, f.Tracking.Status
		if f.Tracking.Status == TrackingSigned {
			o.SignedAt = &at
		}
	case FactRefund:
		if o.RefundedFen+f.Refund.AmountFen > o.PaidFen {
			return apperr.Invalid("refund.amount_fen", "", "refunds would total %d fen, more than the %d fen paid", o.RefundedFen+f.Refund.AmountFen, o.PaidFen)
		}
		o.RefundedFen += f.Refund.AmountFen
		o.RefundedAt = &at
	case FactInvoiceRequested:
		if o.Invoice != nil {
			return apperr.Conflict("invoice.requested", "R-INV-1", "an invoice was already requested for order %s", o.ID)
		}
		o.Invoice = &Invoice{RequestedAt: at}
	case FactInvoiceIssued:
		if o.Invoice == nil {
			return apperr.Conflict("invoice.not_requested", "R-INV-1", "no invoice was requested for order %s", o.ID)
		}
		if o.Invoice.IssuedAt != nil {
			return apperr.Conflict("invoice.issued", "R-INV-5", "the invoice for order %s was already issued", o.ID)
		}
		if err := notBefore("at", at, o.Invoice.RequestedAt, "the invoice request"); err != nil {
			return err
		}
		o.Invoice.IssuedAt = &at
	case FactChatReply:
		// nothing on the order; the engine records the response time.
	case FactReceiptConfirmed:
		if o.ReceiptConfirmedAt != nil {
			return apperr.Conflict("order.receipt_confirmed", "R-PRM-2", "receipt of order %s was already confirmed at %s", o.ID, o.ReceiptConfirmedAt.Format(time.RFC3339))
		}
		if !o.Shipped() {
			return apperr.Conflict("order.unshipped", "R-PRM-2", "order %s has not shipped; there is nothing to confirm receipt of", o.ID)
		}
		if err := notBefore("at", at, *o.ShippedAt, "the shipment"); err != nil {
			return err
		}
		if o.SignedAt != nil {
			if err := notBefore("at", at, *o.SignedAt, "the signing for the parcel"); err != nil {
				return err
			}
		}
		o.ReceiptConfirmedAt = &at
	case FactOrderClosed:
		if o.ClosedAt != nil {
			return apperr.Conflict("order.closed", "R-PRM-5", "order %s already closed at %s", o.ID, o.ClosedAt.Format(time.RFC3339))
		}
		// An order closes after what happened on it: receipt confirmed,
		// signed for, shipped (a refunded order may close unshipped).
		for _, prev := range []struct {
			t    *time.Time
			what string
		}{{o.ReceiptConfirmedAt, "the confirmation of receipt"}, {o.SignedAt, "the signing for the parcel"}, {o.ShippedAt, "the shipment"}} {
			if prev.t != nil {
				if err := notBefore("at", at, *prev.t, prev.what); err != nil {
					return err
				}
			}
		}
		o.ClosedAt = &at
	default:
		return apperr.Invalid("type", "", "fact type %q is not an order fact", f.Type)
	}
	return nil
}
