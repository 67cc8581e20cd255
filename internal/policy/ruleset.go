// Package policy holds the after-sales rules as effective-dated data: every
// number of RULES.md (hours, days, points, caps, type lists, exempt regions)
// lives in a per-platform policy file, not in code. A platform's policy is a
// stack of versions; the rules in force at time t are the layers whose window
// contains t, applied in order of start. Each decision records the version it
// used.
package policy

import (
	"time"

	"aftersale/internal/commerce"
)

// RuleSet is the resolved set of rules in force for one platform at one time.
// It is immutable once resolved; the task engine reads it and never writes it.
type RuleSet struct {
	Platform commerce.Platform `json:"platform" yaml:"platform"`
	// Version names the layers applied, in order, joined by "+"
	// (e.g. "tmall/2022.1+tmall/2022.12.15"). Decisions record it.
	Version string `json:"version" yaml:"-"`
	// Timezone is the business time zone for calendar rules (per-day caps,
	// half-month periods). Default Asia/Shanghai.
	Timezone string `json:"timezone" yaml:"timezone"`

	Tasks         TaskRules      `json:"tasks" yaml:"tasks"`
	Urge          UrgeRules      `json:"urge" yaml:"urge"`
	Logistics     LogisticsRules `json:"logistics" yaml:"logistics"`
	Invoice       InvoiceRules   `json:"invoice" yaml:"invoice"`
	Notify        NotifyRules    `json:"notify" yaml:"notify"`
	Messages      MessageRules   `json:"messages" yaml:"messages"`
	Collaborative CollabRules    `json:"collaborative" yaml:"collaborative"`
	Complaints    ComplaintRules `json:"complaints" yaml:"complaints"`
	Points        PointsRules    `json:"points" yaml:"points"`
	Promises      PromiseRules   `json:"promises" yaml:"promises"`
	Liability     LiabilityRules `json:"liability" yaml:"liability"`
	Gold          GoldRules      `json:"gold" yaml:"gold"`
	Scorecard     ScorecardRules `json:"scorecard" yaml:"scorecard"`
	// Evidence is the refusal evidence table (R-EVD-1..5); nil: none.
	Evidence *EvidenceRules `json:"evidence,omitempty" yaml:"evidence"`
	QA       QARules        `json:"qa" yaml:"qa"`

	loc *time.Location
}

// Location returns the business time zone.
func (r *RuleSet) Location() *time.Location {
	if r.loc != nil {
		return r.loc
	}
	if l, err := time.LoadLocation(r.Timezone); err == nil {
		return l
	}
	return time.UTC
}

// BusinessDay returns the calendar day (YYYY-MM-DD) of t in the business time zone.
func (r *RuleSet) BusinessDay(t time.Time) string { return t.In(r.Location()).Format("2006-01-02") }

// TaskRules are the deadlines every task type shares (R-SLA-1, R-SLA-4).
type TaskRules struct {
	// Enabled lists the task types this platform runs (collaborative is Tmall's).
	Enabled []string `json:"enabled" yaml:"enabled"`
	// ReplyDeadline is the seller's time to reply after creation (R-SLA-1: 24h).
	ReplyDeadline Duration `json:"reply_deadline" yaml:"reply_deadline"`
	// ReplyDeadlineByType overrides ReplyDeadline for some types.
	ReplyDeadlineByType map[string]Duration `json:"reply_deadline_by_type,omitempty" yaml:"reply_deadline_by_type"`
	// SellerActionDeadline is the time to perform after replying; on timeout
	// the platform intervenes (R-SLA-4). Inferred default: the seeds give none.
	SellerActionDeadline Duration `json:"seller_action_deadline" yaml:"seller_action_deadline"`
	// BuyerConfirmDeadline is the buyer's time to accept or reject a plan.
	// Inferred default.
	BuyerConfirmDeadline Duration `json:"buyer_confirm_deadline" yaml:"buyer_confirm_deadline"`
	// BuyerConfirmTimeout is what a buyer's silence means: "accept" or "intervene".
	BuyerConfirmTimeout string `json:"buyer_confirm_timeout" yaml:"buyer_confirm_timeout"`
	// ReminderBefore is how long before a reply deadline a reminder goes to
	// subscribed sub-accounts (R-NTF-1); zero turns the reminder off.
	ReminderBefore Duration `json:"reminder_before" yaml:"reminder_before"`
}

// ReplyDeadlineFor returns the reply deadline for a task type.
func (t *TaskRules) ReplyDeadlineFor(typ string) time.Duration {
	if d, ok := t.ReplyDeadlineByType[typ]; ok {
		return d.D()
	}
	return t.ReplyDeadline.D()
}

// TypeEnabled reports whether a task type runs on this platform.
func (t *TaskRules) TypeEnabled(typ string) bool {
	for _, s := range t.Enabled {
		if s == typ {
			return true
		}
	}
	return false
}

// UrgeRules are the urge-shipment rules (R-URG-1..3).
type UrgeRules struct {
	// ExemptRegions are regions where urging creates no task while their
	// window is open (R-URG-2 (1), the seed's epidemic-exempt regions).
	ExemptRegions []RegionWindow `json:"exempt_regions" yaml:"exempt_regions"`
	// HonorDelayReports: an approved delay report whose reported ship time
	// has not passed exempts the order (R-URG-2 (2)).
	HonorDelayReports bool `json:"honor_delay_reports" yaml:"honor_delay_reports"`
	// ExemptItemFlags lists item flags that exempt an order: custom, virtual (R-URG-2 (3)).
	ExemptItemFlags []string `json:"exempt_item_flags" yaml:"exempt_item_flags"`
	// RequireComplaint: no task unless the order already has a complaint
	// (R-URG-2 (4); lifted "mid-July" by a later version).
	RequireComplaint bool `json:"require_complaint" yaml:"require_complaint"`
	// ExemptPresale lists presale kinds that create no task: staged, full
	// (R-URG-2 (5); lifted "mid-July" by a later version).
	ExemptPresale []string `json:"exempt_presale" yaml:"exempt_presale"`
}

// RegionWindow is a region exempt from From until Until (open-ended when nil).
type RegionWindow struct {
	Region string     `json:"region" yaml:"region"`
	From   time.Time  `json:"from" yaml:"from"`
	Until  *time.Time `json:"until,omitempty" yaml:"until"`
}

// Contains reports whether t falls in the window.
func (w RegionWindow) Contains(t time.Time) bool {
	return !t.Before(w.From) && (w.Until == nil || t.Before(*w.Until))
}

// LogisticsRules define a stalled parcel (R-LOG-1).
type LogisticsRules struct {
	StallAfter       Duration `json:"stall_after" yaml:"stall_after"`               // no update for more than this: stalled
	StallAfterRemote Duration `json:"stall_after_remote" yaml:"stall_after_remote"` // the same for remote areas
}

// InvoiceRules are the invoice deadlines and points (R-INV-2..4).
type InvoiceRules struct {
	// FirstDeadline after the request A: issued later is late (延迟开票). Inferred default 10d.
	FirstDeadline Duration `json:"first_deadline" yaml:"first_deadline"`
	// SecondTimeoutAfter the first deadline, still not issued: second timeout (二次超时). 10d.
	SecondTimeoutAfter Duration `json:"second_timeout_after" yaml:"second_timeout_after"`
	// PointsPerCase for an upheld complaint after a second timeout (R-INV-3; 0 before 2022-12-16).
	PointsPerCase int `json:"points_per_case" yaml:"points_per_case"`
	// PointsCap is the most points in any PointsWindow (R-INV-3: 6 in 30 days).
	PointsCap    int      `json:"points_cap" yaml:"points_cap"`
	PointsWindow Duration `json:"points_window" yaml:"points_window"`
	// AfterFinalIssueWithin is the time an urge_invoice task created after
	// the final deadline gives the shop to issue the invoice, from the task's
	// creation; the reply does not stop it (R-INV-4: 24h, seed 001).
	AfterFinalIssueWithin Duration `json:"after_final_issue_within" yaml:"after_final_issue_within"`
	// ModesByShopKind are the invoice modes each kind of shop may use
	// (R-INV-6): individual shops the tax-office proxy, companies upload or
	// automatic issuing. The first mode is the default of a shop of that kind.
	ModesByShopKind map[string][]string `json:"modes_by_shop_kind" yaml:"modes_by_shop_kind"`
}

// Shop kinds (R-INV-6: 个人店铺 / 企业店铺), the keys of invoice.modes_by_shop_kind.
const (
	ShopIndividual = "individual"
	ShopCompany    = "company"
)

// ShopKinds are the kinds of shop.
var ShopKinds = []string{ShopIndividual, ShopCompany}

// InvoiceModes are the invoice modes (R-INV-6), the values of invoice.modes_by_shop_kind.
var InvoiceModes = []string{"tax_office_proxy", "upload", "automatic"}

// NotifyRules are the reminder and card rules (R-NTF-1, R-NTF-2).
type NotifyRules struct {
	// ReminderDailyCap is the most reminders per sub-account per business day (10).
	ReminderDailyCap int `json:"reminder_daily_cap" yaml:"reminder_daily_cap"`
	// ReminderOnCreate sends a reminder to subscribed sub-accounts when a task is created.
	ReminderOnCreate bool `json:"reminder_on_create" yaml:"reminder_on_create"`
	// CardTypes are the task types whose creation sends a card to the shop's
	// online sub-accounts with the task permission (R-NTF-2, from 2023-07-04).
	CardTypes []string `json:"card_types" yaml:"card_types"`
}

// MessageRules govern messages to the agent (R-MSG-1).
type MessageRules struct {
	// AgentMessageTypes are the types whose shop may message the agent while
	// the task is platform_intervening.
	AgentMessageTypes []string `json:"agent_message_types" yaml:"agent_message_types"`
}

// CollabRules are the collaborative-task rules (R-COL-1..3).
type CollabRules struct {
	// Channels by which the shop is told of a new task: card, sms.
	Channels []string `json:"channels" yaml:"channels"`
	// ContactChannels are the ways a shop may say it contacted the buyer
	// in its reply (R-COL-3: "联系方式不限(旺旺、电话、短信等)").
	ContactChannels []string `json:"contact_channels" yaml:"contact_channels"`
	// UnreachableMinAttempts is the fewest contact attempts an "unreachable"
	// reply states (R-COL-3: "多次联系不上").
	UnreachableMinAttempts int `json:"unreachable_min_attempts" yaml:"unreachable_min_attempts"`
}

// ComplaintRules name the standards complaints are judged by (R-SLA-3 hooks)
// and what an upheld shipping complaint brings.
type ComplaintRules struct {
	ShippingStandard string `json:"shipping_standard" yaml:"shipping_standard"`
	InvoiceStandard  string `json:"invoice_standard" yaml:"invoice_standard"`
	// ShippingUpheld is the compensation to the buyer and the points to the
	// shop of an upheld shipping complaint (R-SLA-3: "若投诉成立，会产生赔付和
	// 违规行为扣分"; the seeds name the standards, not the figures).
	ShippingUpheld UpheldRules `json:"shipping_upheld" yaml:"shipping_upheld"`
}

// UpheldRules are the consequences of an upheld complaint (R-SLA-3).
type UpheldRules struct {
	// Compensation to the buyer: RateBP of the order's amount actually paid,
	// rounded to the fen, then bounded by MinFen and MaxFen (the shape of the
	// time promise's, R-PRM-1). RateBP 0 with MinFen 0 pays nothing.
	Compensation TimePromiseRules `json:"compensation" yaml:"compensation"`
	// DepositFirst: the shop's deposit (保证金) pays the compensation first, up
	// to its balance, the shop the rest (as R-PRM-5/6 claims).
	DepositFirst bool `json:"deposit_first" yaml:"deposit_first"`
	// Points charged to the shop per upheld complaint (0: none), of PointsKind
	// (general 一般违规 or serious 严重违规).
	Points     int    `json:"points" yaml:"points"`
	PointsKind string `json:"points_kind" yaml:"points_kind"`
}

// Contains reports whether list holds s.
func Contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
