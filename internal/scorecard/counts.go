package scorecard

import (
	"time"

	"aftersale/internal/judgment"
)

// DayCounts are one shop's counters for one business day, kept by the engine
// in the same transaction as the events they count. Reads sum a range of
// them: O(days), never O(orders).
type DayCounts struct {
	// Day is the business day, YYYY-MM-DD in the business time zone (see Day).
	Day string `json:"day"`
	// Orders created that day (R-LIA-1's denominator).
	Orders int `json:"orders"`
	// LiableComplaints and LiableDisputes judged that day with the seller
	// liable (商家有责, R-LIA-1); refunds judged without liability are not
	// counted.
	LiableComplaints int `json:"liable_complaints"`
	LiableDisputes   int `json:"liable_disputes"`
	// Judged counts the cases an agent judged that day (R-COL-4: the
	// dispute refund rate's / platform dispute rate's numerator).
	Judged int `json:"judged"`
	// InvoiceDisputes are invoice complaints upheld that day and not since
	// withdrawn (开票纠纷, R-GLD-1); see InvoiceDisputeDelta.
	InvoiceDisputes int `json:"invoice_disputes"`
}

// Liable returns the day's liable cases (complaints + disputes).
func (d DayCounts) Liable() int { return d.LiableComplaints + d.LiableDisputes }

// Sum adds up the counters of the days from first to last (YYYY-MM-DD,
// inclusive), in one pass over days; days outside the range are ignored, so
// callers may pass a wider slice. The Day of the result is empty.
func Sum(days []DayCounts, first, last string) DayCounts {
	var s DayCounts
	for _, d := range days {
		if d.Day < first || d.Day > last { // YYYY-MM-DD sorts as it reads
			continue
		}
		s.Orders += d.Orders
		s.LiableComplaints += d.LiableComplaints
		s.LiableDisputes += d.LiableDisputes
		s.Judged += d.Judged
		s.InvoiceDisputes += d.InvoiceDisputes
	}
	return s
}

// InvoiceDisputeDelta returns the change a complaint's status change makes
// to the InvoiceDisputes counter (R-GLD-1): +1 on the business day it was
// upheld when an invoice complaint becomes upheld, −1 on that same day when
// an upheld one stops being upheld — withdrawn after the shop and the buyer
// agreed (撤销投诉, which does not count) or overturned — and delta 0
// otherwise. before is nil for a new complaint. A case counts in
// the period in which it was upheld (its FinishedAt while upheld); a missing
// FinishedAt falls back to FiledAt.
func InvoiceDisputeDelta(before *judgment.Complaint, after judgment.Complaint, loc *time.Location) (day string, delta int) {
	if after.Kind != judgment.ComplaintInvoice {
		return "", 0
	}
	return UpheldDelta(before, after, loc)
}

// UpheldDelta returns the change a complaint's status change makes to the
// count of upheld complaints of any kind — the liable complaints of R-LIA-1
// (an upheld complaint is a judgment that the seller is responsible): +1 on
// the business day it was upheld, −1 on that day when an upheld one is
// withdrawn or overturned, 0 otherwise. before is nil for a new complaint.
func UpheldDelta(before *judgment.Complaint, after judgment.Complaint, loc *time.Location) (day string, delta int) {
	wasUpheld := before != nil && before.Status == judgment.ComplaintUpheld
	isUpheld := after.Status == judgment.ComplaintUpheld
	switch {
	case isUpheld && !wasUpheld:
		return upheldDay(after, loc), 1
	case wasUpheld && !isUpheld:
		return upheldDay(*before, loc), -1
	}
	return "", 0
}

func upheldDay(c judgment.Complaint, loc *time.Location) string {
	t := c.FiledAt
	if c.FinishedAt != nil {
		t = *c.FinishedAt
	}
	return Day(t, loc)
}
