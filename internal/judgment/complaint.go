// Package judgment holds complaints, disputes and their consequences.
package judgment

import "time"

// Complaint kinds.
const (
	ComplaintShipping = "shipping" // R-SLA-3: filed when an urge_shipment task times out
	ComplaintInvoice  = "invoice"  // R-INV-4: did not issue invoice
)

// Complaint statuses.
const (
	ComplaintOpen      = "open"
	ComplaintUpheld    = "upheld"    // 成立
	ComplaintWithdrawn = "withdrawn" // 撤销, after agreement
	ComplaintDismissed = "dismissed"
)

// Complaint (投诉) is a complaint against a shop about an order, filed by the
// buyer or by the platform on the buyer's behalf.
type Complaint struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	OrderID    string     `json:"order_id"`
	ShopID     string     `json:"shop_id"`
	TaskID     string     `json:"task_id,omitempty"`
	Status     string     `json:"status"`
	FiledBy    string     `json:"filed_by"` // "platform" or the buyer id
	FiledAt    time.Time  `json:"filed_at"`
	Standard   string     `json:"standard,omitempty"` // the standard it is judged by
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// WithdrawnAt is when the buyer withdrew it after agreeing with the shop
	// (撤销投诉); an upheld complaint withdrawn keeps its FinishedAt.
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	// OverturnedAt is when an agent overturned it after it was upheld.
	OverturnedAt  *time.Time `json:"overturned_at,omitempty"`
	PolicyVersion string     `json:"policy_version"`
}

// Finished reports whether the complaint has reached a final status.
func (c *Complaint) Finished() bool { return c.Status != ComplaintOpen }
