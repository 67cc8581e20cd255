// Package commerce holds the marketplace facts the after-sales rules depend
// on — shops, accounts, orders, delay reports, shipments, tracking, refunds
// and invoices — and the pure logic that validates a fact against what is
// already known and folds it into the order's projection.
package commerce

import (
	"slices"
	"time"
)

// Platform is the marketplace a shop belongs to.
type Platform string

// Platforms.
const (
	Taobao Platform = "taobao"
	Tmall  Platform = "tmall"
	Taote  Platform = "taote"
)

// Valid reports whether p is a known platform.
func (p Platform) Valid() bool { return p == Taobao || p == Tmall || p == Taote }

// InvoiceMode is how a shop issues invoices (R-INV-6).
type InvoiceMode string

// Invoice modes.
const (
	InvoiceTaxOfficeProxy InvoiceMode = "tax_office_proxy" // individual shops: the platform's tax-office proxy
	InvoiceUpload         InvoiceMode = "upload"           // enterprise, low volume: issue then upload
	InvoiceAutomatic      InvoiceMode = "automatic"        // enterprise, high volume: automatic issuing
)

// Valid reports whether m is a known invoice mode.
func (m InvoiceMode) Valid() bool {
	return m == InvoiceTaxOfficeProxy || m == InvoiceUpload || m == InvoiceAutomatic
}

// PermPlatformTask is the sub-account permission 子账号管理 → 客户服务平台权限 →
// 服务待办 → 平台任务 that R-ACC-1 requires to reply to and work tasks.
const PermPlatformTask = "platform_task"

// AccountRole distinguishes a shop's main account from its sub-accounts.
type AccountRole string

// Account roles.
const (
	RoleMain AccountRole = "main"
	RoleSub  AccountRole = "sub"
)

// Shop is a seller on one platform.
type Shop struct {
	ID             string      `json:"id" yaml:"id"`
	Platform       Platform    `json:"platform" yaml:"platform"`
	Industry       string      `json:"industry" yaml:"industry"`
	MainAccount    string      `json:"main_account" yaml:"main_account"`
	ShipFromRegion string      `json:"ship_from_region" yaml:"ship_from_region"`
	InvoiceMode    InvoiceMode `json:"invoice_mode" yaml:"invoice_mode"`
	// Kind is individual (个人店铺) or company (企业店铺); it decides the
	// invoice modes the shop may use (R-INV-6). "" = not stated: any mode.
	Kind string `json:"kind,omitempty" yaml:"kind"`
	// SubAccounts is only used when the shop fact is ingested; stored
	// accounts are read through the store.
	SubAccounts []Account `json:"sub_accounts,omitempty" yaml:"sub_accounts"`
}

// Account is a login of a shop: its main account or a sub-account.
type Account struct {
	ID                  string      `json:"id" yaml:"id"`
	ShopID              string      `json:"shop_id" yaml:"shop_id"`
	Role                AccountRole `json:"role" yaml:"role"`
	Permissions         []string    `json:"permissions,omitempty" yaml:"permissions"`
	SubscribesReminders bool        `json:"subscribes_reminders" yaml:"subscribes_reminders"`
	Online              bool        `json:"online" yaml:"online"`
}

// Has reports whether the account holds permission p. A main account holds every permission.
func (a *Account) Has(p string) bool {
	return a.Role == RoleMain || slices.Contains(a.Permissions, p)
}

// PresaleKind is the presale mode of an order (R-URG-2 (5)).
type PresaleKind string

// Presale kinds.
const (
	PresaleNone   PresaleKind = ""
	PresaleStaged PresaleKind = "staged" // 分阶段预售
	PresaleFull   PresaleKind = "full"   // 全款预售
)

// Item is one line of an order.
type Item struct {
	SKU      string `json:"sku" yaml:"sku"`
	Category string `json:"category,omitempty" yaml:"category"`
	Custom   bool   `json:"custom,omitempty" yaml:"custom"`   // 定制
	Virtual  bool   `json:"virtual,omitempty" yaml:"virtual"` // 虚拟

	// ProductID is the product the SKU belongs to (a product has one or more
	// SKUs). Optional: an item without it counts for no product, so older
	// facts stay valid; with it, the order makes its buyer a past buyer of
	// the product, whom 问大家 may invite to answer (R-QA-2).
	ProductID string `json:"product_id,omitempty" yaml:"product_id"`
}

// Order is an order and everything the after-sales rules know about it: the
// fields set when it was paid, then a projection of later facts.
type Order struct {
	ID          string      `json:"id" yaml:"id"`
	ShopID      string      `json:"shop_id" yaml:"shop_id"`
	BuyerID     string      `json:"buyer_id" yaml:"buyer_id"`
	BuyerRegion string      `json:"buyer_region" yaml:"buyer_region"`
	RemoteArea  bool        `json:"remote_area,omitempty" yaml:"remote_area"`
	Items       []Item      `json:"items" yaml:"items"`
	PaidFen     int64       `json:"paid_fen" yaml:"paid_fen"`
	PaidAt      time.Time   `json:"paid_at" yaml:"paid_at"`
	ShipBy      time.Time   `json:"ship_by" yaml:"ship_by"`
	Presale     PresaleKind `json:"presale,omitempty" yaml:"presale"`
	WorryFree   bool        `json:"worry_free,omitempty" yaml:"worry_free"`
	// Promises are the service promises the shop offers on the order (保障服务, R-PRM-1..6).
	Promises []Promise `json:"promises,omitempty" yaml:"promises"`

	// Projection of later facts.
	DelayReport    *DelayReport `json:"delay_report,omitempty" yaml:"-"`
	ShippedAt      *time.Time   `json:"shipped_at,omitempty" yaml:"-"`
	Carrier        string       `json:"carrier,omitempty" yaml:"-"`
	TrackingNo     string       `json:"tracking_no,omitempty" yaml:"-"`
	LastTrackingAt *time.Time   `json:"last_tracking_at,omitempty" yaml:"-"`
	TrackingStatus string       `json:"tracking_status,omitempty" yaml:"-"`
	SignedAt       *time.Time   `json:"signed_at,omitempty" yaml:"-"`
	RefundedFen    int64        `json:"refunded_fen,omitempty" yaml:"-"`
	RefundedAt     *time.Time   `json:"refunded_at,omitempty" yaml:"-"`
	UrgedAt        *time.Time   `json:"urged_at,omitempty" yaml:"-"` // R-URG-3
	UrgeCount      int          `json:"urge_count,omitempty" yaml:"-"`
	ChatCardAt     *time.Time   `json:"chat_card_at,omitempty" yaml:"-"` // R-URG-4: last chat card not yet answered
	Complaints     int          `json:"complaints,omitempty" yaml:"-"`   // complaints filed on the order
	Invoice        *Invoice     `json:"invoice,omitempty" yaml:"-"`
	// TakenOverAt is when the platform took the order over and refunded it
	// at once because its shop was taken over (R-LIA-2).
	TakenOverAt *time.Time `json:"taken_over_at,omitempty" yaml:"-"`
	// ReceiptConfirmedAt is when receipt was confirmed (确认收货, R-PRM-2).
	ReceiptConfirmedAt *time.Time `json:"receipt_confirmed_at,omitempty" yaml:"-"`
	// ClosedAt is when the order closed (交易关闭 / 完结, R-PRM-5, R-PRM-6).
	ClosedAt *time.Time `json:"closed_at,omitempty" yaml:"-"`
	// TimeCompensated names the ledger entry that compensated a broken time
	// promise (R-PRM-1); it is paid once only.
	TimeCompensated string `json:"time_compensated,omitempty" yaml:"-"`
}

// Shipped reports whether the order has shipped.
func (o *Order) Shipped() bool { return o.ShippedAt != nil }

// FullyRefunded reports whether refunds cover the paid amount.
func (o *Order) FullyRefunded() bool { return o.RefundedAt != nil && o.RefundedFen >= o.PaidFen }

// DelayReport is a shop's delay report (报备) for an order.
type DelayReport struct {
	ReportedShipBy time.Time `json:"reported_ship_by"`
	FiledAt        time.Time `json:"filed_at"`
	Approved       bool      `json:"approved"`
}

// Invoice is the invoice state of an order (R-INV-1, R-INV-2).
type Invoice struct {
	RequestedAt     time.Time  `json:"requested_at"`
	FirstDeadline   time.Time  `json:"first_deadline"`    // issue by this or it is late (延迟开票)
	SecondTimeoutAt time.Time  `json:"second_timeout_at"` // still not issued: second timeout (二次超时)
	Late            bool       `json:"late,omitempty"`
	SecondTimeout   bool       `json:"second_timeout,omitempty"`
	IssuedAt        *time.Time `json:"issued_at,omitempty"`
	PolicyVersion   string     `json:"policy_version"`
}
