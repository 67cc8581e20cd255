// Package task declares the after-sales task types, their states and their
// lifecycles as data, and the one pure interpreter (Decide) that runs them.
// Nothing here does I/O or reads a clock: the engine hands Decide the task,
// the facts it needs, the rules in force and the time.
package task

import (
	"encoding/json"
	"slices"
	"time"
)

// Type is a task type (RULES.md §1).
type Type string

// The 14 task types.
const (
	UrgeShipment         Type = "urge_shipment"          // 催发货
	LogisticsStall       Type = "logistics_stall"        // 物流停滞
	UrgeInvoice          Type = "urge_invoice"           // 催开发票
	SignedElsewhere      Type = "signed_elsewhere"       // 异地签收
	PresaleDepositRefund Type = "presale_deposit_refund" // 预售退定金
	ReturnRefund         Type = "return_refund"          // 退货退款
	Exchange             Type = "exchange"               // 换货
	ChangeAddress        Type = "change_address"         // 改地址
	Resend               Type = "resend"                 // 补发
	ProvideReturnAddress Type = "provide_return_address" // 提供退货地址
	Repair               Type = "repair"                 // 维修
	PostageRefund        Type = "postage_refund"         // 退邮费
	DeliveryProblem      Type = "delivery_problem"       // 配送问题
	Collaborative        Type = "collaborative"          // 协同工单 (Tmall)
)

// Types lists all task types in RULES.md order.
var Types = []Type{UrgeShipment, LogisticsStall, UrgeInvoice, SignedElsewhere, PresaleDepositRefund,
	ReturnRefund, Exchange, ChangeAddress, Resend, ProvideReturnAddress, Repair, PostageRefund,
	DeliveryProblem, Collaborative}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return slices.Contains(Types, t) }

// State is a task state (RULES.md §2).
type State string

// The 5 task states.
const (
	AwaitingSellerReply       State = "awaiting_seller_reply"       // 待卖家回复
	AwaitingSellerAction      State = "awaiting_seller_action"      // 待卖家执行
	AwaitingBuyerConfirmation State = "awaiting_buyer_confirmation" // 待买家确认
	PlatformIntervening       State = "platform_intervening"        // 平台介入中
	Completed                 State = "completed"                   // 已完结
)

// States lists all states in lifecycle order.
var States = []State{AwaitingSellerReply, AwaitingSellerAction, AwaitingBuyerConfirmation, PlatformIntervening, Completed}

// Open reports whether a task in state s is still open.
func (s State) Open() bool { return s != Completed && s != "" }

// Role is who takes an action.
type Role string

// Roles.
const (
	RoleBuyer    Role = "buyer"
	RoleShopMain Role = "shop_main"
	RoleShopSub  Role = "shop_sub" // needs the platform-task permission (R-ACC-1)
	RoleAgent    Role = "agent"
	RoleSystem   Role = "system"
)

// Actor is who did something: a role and an id (buyer id, account id, agent id, "timer"…).
type Actor struct {
	Role Role   `json:"role" yaml:"role"`
	ID   string `json:"id" yaml:"id"`
}

// Visibility is who may see an event, message or evidence item.
type Visibility string

// Visibility levels.
const (
	Public     Visibility = "public"     // buyer, shop and agents
	ShopAgent  Visibility = "shop_agent" // shop and agents, never the buyer (R-MSG-2)
	AgentsOnly Visibility = "agent_only" // agents only
)

// Task is the current state (projection) of one task.
type Task struct {
	ID       string `json:"id"`
	Type     Type   `json:"type"`
	State    State  `json:"state"`
	OrderID  string `json:"order_id"`
	ShopID   string `json:"shop_id"`
	BuyerID  string `json:"buyer_id"`
	Platform string `json:"platform"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// DueAt is the deadline of the state's running timer, if any (for listing and sorting).
	DueAt *time.Time `json:"due_at,omitempty"`
	// PolicyVersion is the version in force when the task was created.
	PolicyVersion string `json:"policy_version"`

	// Reply is the seller's reply: its kind ("accept", "plan", "refuse" …) and text.
	Reply *Reply `json:"reply,omitempty"`
	// Outcome is how the task ended ("shipped", "refunded", "invoice_issued", "agreed", "judged" …).
	Outcome string `json:"outcome,omitempty"`
	// CompletionPending: the task's own work is done but a complaint raised
	// for it is still open; it completes when the complaint is finished (R-ST-3).
	CompletionPending string `json:"completion_pending,omitempty"`
	// ComplaintIDs are the task's complaints: those the platform filed for it
	// (R-SLA-3, R-INV-4) and the buyer's filed while it was open (R-ST-3).
	ComplaintIDs []string `json:"complaint_ids,omitempty"`
	// OpenComplaints counts those not yet finished.
	OpenComplaints int `json:"open_complaints,omitempty"`
	// AfterFinalDeadline marks an urge_invoice task created after the invoice's second timeout (R-INV-4).
	AfterFinalDeadline bool `json:"after_final_deadline,omitempty"`
	// IssueBy is when the 24 h to issue the invoice end for an urge_invoice
	// task created after the final deadline (R-INV-4): the platform intervenes
	// then unless the invoice was issued; the seller's reply does not stop it.
	IssueBy *time.Time `json:"issue_by,omitempty"`
	// EvidenceWaived marks a collaborative task the shop let time out (R-COL-4).
	EvidenceWaived bool `json:"evidence_waived,omitempty"`
	// Details are the buyer's request details (reason, text).
	Details map[string]string `json:"details,omitempty"`
	// Refund is the buyer's refund reason and remedy asked (R-EVD-5, R-EVD-3).
	Refund *RefundRequest `json:"refund,omitempty"`
	// Evidence is the refusal evidence state (R-EVD-1..4).
	Evidence *EvidenceState `json:"evidence,omitempty"`
	// Rev increases with every change; stores use it for optimistic checks.
	Rev int `json:"rev"`
}

// Reply is the seller's reply to a task.
type Reply struct {
	Kind string `json:"kind"`
	Text string `json:"text,omitempty"`
	// Collaborative replies (R-COL-2, R-COL-3).
	Outcome     string     `json:"outcome,omitempty"` // agreed | not_agreed | unreachable
	ContactedAt *time.Time `json:"contacted_at,omitempty"`
	// Channel is how the buyer was contacted (wangwang, phone, sms, other:
	// collaborative.contact_channels); "" when the reply did not say.
	Channel  string   `json:"channel,omitempty"`
	Attempts int      `json:"attempts,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
	// EvidenceRequired: the refusal hit an evidence-required scenario (R-EVD-1).
	EvidenceRequired bool `json:"evidence_required,omitempty"`
	// ContinueRefusing: refused without evidence after the reminder (R-EVD-2).
	ContinueRefusing bool      `json:"continue_refusing,omitempty"`
	At               time.Time `json:"at"`
	By               Actor     `json:"by"`
}

// Event is one appended record of a change: to a task (Stream = task id) or to
// an order (Stream = order id, e.g. invoice deadlines). Events are never
// changed or deleted.
type Event struct {
	Seq           int64           `json:"seq"`
	Stream        string          `json:"stream"`
	TaskID        string          `json:"task_id,omitempty"`
	OrderID       string          `json:"order_id,omitempty"`
	ShopID        string          `json:"shop_id,omitempty"`
	At            time.Time       `json:"at"`
	Actor         Actor           `json:"actor"`
	Action        string          `json:"action"`
	From          State           `json:"from,omitempty"`
	To            State           `json:"to,omitempty"`
	Reason        string          `json:"reason,omitempty"`
	Rule          string          `json:"rule,omitempty"`
	PolicyVersion string          `json:"policy_version"`
	Visibility    Visibility      `json:"visibility"`
	Data          json.RawMessage `json:"data,omitempty"`
}

// Timer is a durable deadline. There is at most one timer per (Subject, Kind);
// setting it again moves it.
type Timer struct {
	Subject       string    `json:"subject"` // a task id or an order id
	Kind          string    `json:"kind"`    // reply, action, confirm, remind, invoice_first, invoice_second
	DueAt         time.Time `json:"due_at"`
	SetAt         time.Time `json:"set_at"`
	PolicyVersion string    `json:"policy_version"`
}

// Firing records that a timer fired, and how late.
type Firing struct {
	Subject string        `json:"subject"`
	Kind    string        `json:"kind"`
	DueAt   time.Time     `json:"due_at"`
	FiredAt time.Time     `json:"fired_at"`
	Late    time.Duration `json:"late_ns"`
}
