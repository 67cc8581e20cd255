package judgment

import "time"

// Claim statuses.
const (
	ClaimOpen     = "open"     // filed, waiting for an agent
	ClaimUpheld   = "upheld"   // 维权成立: compensation is written
	ClaimRejected = "rejected" // 维权不成立
)

// Claim (维权) is a buyer's claim under a service promise on an order
// (R-PRM-2..6), filed inside the promise's window and judged by an agent.
type Claim struct {
	ID      string `json:"id"`
	OrderID string `json:"order_id"`
	ShopID  string `json:"shop_id"`
	BuyerID string `json:"buyer_id"`
	// Kind is the promise claimed under: quality, return, damage_resend,
	// designated_courier or arrival.
	Kind string `json:"kind"`
	// Rule is the rule of the promise (R-PRM-2..6).
	Rule        string `json:"rule"`
	Description string `json:"description"`
	// AskedFen is the compensation the buyer asks for (0: none named).
	AskedFen int64     `json:"asked_fen,omitempty"`
	Status   string    `json:"status"`
	FiledAt  time.Time `json:"filed_at"`
	// WindowFrom and WindowUntil are the claim window the claim was filed in
	// (WindowUntil zero: open-ended when filed).
	WindowFrom  time.Time `json:"window_from"`
	WindowUntil time.Time `json:"window_until,omitzero"`
	// Judged: when, by which agent, with what reason, and the compensation
	// awarded (upheld claims).
	JudgedAt   *time.Time `json:"judged_at,omitempty"`
	JudgedBy   string     `json:"judged_by,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	AwardedFen int64      `json:"awarded_fen,omitempty"`
	// EntryID is the compensation ledger entry an upheld claim wrote.
	EntryID string `json:"entry_id,omitempty"`
	// Return promise (R-PRM-3): who bears the return postage (buyer or
	// shop, from the promise or the policy's default), the postage the buyer
	// states, and the ledger entry charging it to the shop when upheld.
	PostageBearer  string `json:"postage_bearer,omitempty"`
	PostageFen     int64  `json:"postage_fen,omitempty"`
	PostageEntryID string `json:"postage_entry_id,omitempty"`
	// Damage promise (R-PRM-4): an upheld claim's remedy, resend (补寄) or
	// compensation, chosen by the shop by RemedyDueAt (RemedyBy shop) or
	// set by the platform when it did not choose in time or a resend did
	// not ship by ResendDueAt (RemedyBy platform).
	Remedy          string     `json:"remedy,omitempty"`
	RemedyBy        string     `json:"remedy_by,omitempty"`
	RemedyDueAt     *time.Time `json:"remedy_due_at,omitempty"`
	RemedyAt        *time.Time `json:"remedy_at,omitempty"`
	ResendDueAt     *time.Time `json:"resend_due_at,omitempty"`
	ResendShippedAt *time.Time `json:"resend_shipped_at,omitempty"`
	ResendTracking  string     `json:"resend_tracking,omitempty"`
	PolicyVersion   string     `json:"policy_version"`
}

// Judged reports whether an agent has judged the claim.
func (c *Claim) Judged() bool { return c.Status != ClaimOpen }

// Rules that write compensation.
const (
	RuleTimePromise       = "R-PRM-1"            // the time promise broken: automatic compensation
	RuleShippingUpheld    = "R-SLA-3"            // an upheld shipping complaint: compensation and points
	KindShippingComplaint = "shipping_complaint" // the Kind of an R-SLA-3 entry
)

// CompensationEntry is one line of a shop's compensation ledger (赔付). The
// ledger is append-only: an entry is undone by a reversal entry whose
// ReversalOf names it and whose amounts are the entry's, negated.
type CompensationEntry struct {
	ID      string `json:"id"`
	ShopID  string `json:"shop_id"`
	OrderID string `json:"order_id"`
	BuyerID string `json:"buyer_id"`
	// Rule is the rule that compensates (R-PRM-1 … R-PRM-6, R-SLA-3).
	Rule string `json:"rule"`
	// Kind is the promise kind (time, quality, …), or shipping_complaint.
	Kind string `json:"kind"`
	// ClaimID is the upheld claim that wrote it ("" for the time promise,
	// which compensates without a claim).
	ClaimID string `json:"claim_id,omitempty"`
	// ComplaintID is the upheld complaint that wrote it (R-SLA-3).
	ComplaintID string `json:"complaint_id,omitempty"`
	TaskID      string `json:"task_id,omitempty"`
	// AmountFen is what the buyer gets (> 0; negated in a reversal), of which
	// FromDepositFen is paid from the shop's deposit (保证金) and ByShopFen by
	// the shop: AmountFen = FromDepositFen + ByShopFen.
	AmountFen      int64     `json:"amount_fen"`
	FromDepositFen int64     `json:"from_deposit_fen"`
	ByShopFen      int64     `json:"by_shop_fen"`
	At             time.Time `json:"at"`
	Reason         string    `json:"reason,omitempty"`
	// ReversalOf is the id of the entry this one reverses ("" otherwise).
	ReversalOf    string `json:"reversal_of,omitempty"`
	PolicyVersion string `json:"policy_version"`
}

// Reversal returns the entry that reverses e: the same shop, order, rule,
// kind, claim, complaint and task, the amounts negated (what came from the deposit goes
// back to it), at the given time.
func (e CompensationEntry) Reversal(id string, at time.Time, reason, policyVersion string) CompensationEntry {
	return CompensationEntry{ID: id, ShopID: e.ShopID, OrderID: e.OrderID, BuyerID: e.BuyerID, Rule: e.Rule, Kind: e.Kind,
		ClaimID: e.ClaimID, ComplaintID: e.ComplaintID, TaskID: e.TaskID, AmountFen: -e.AmountFen, FromDepositFen: -e.FromDepositFen,
		ByShopFen: -e.ByShopFen, At: at, Reason: reason, ReversalOf: e.ID, PolicyVersion: policyVersion}
}

// SplitPayment splits an amount owed under a promise between the shop's
// deposit and the shop: when the rule has the deposit pay first (R-PRM-5,
// R-PRM-6; see PayFromDeposit) the deposit pays as much as its balance
// covers and the shop the rest; otherwise the shop pays it all. The deposit
// never goes below 0: a negative balance is treated as empty.
func SplitPayment(amountFen, depositFen int64, depositFirst bool) (fromDeposit, byShop int64) {
	if amountFen <= 0 {
		return 0, 0
	}
	if depositFirst && depositFen > 0 {
		fromDeposit = min(amountFen, depositFen)
	}
	return fromDeposit, amountFen - fromDeposit
}
