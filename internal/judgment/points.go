package judgment

import (
	"slices"
	"time"

	"aftersale/internal/policy"
)

// Kinds of violation points.
const (
	PointsGeneral = "general" // 一般违规
	PointsSerious = "serious" // 严重违规
)

// Rules that charge points.
const (
	RuleInvoicePoints = "R-INV-3" // invoice second timeout, upheld complaint
	RuleForgedPoints  = "R-COL-6" // forged evidence
	// RuleShippingPoints: an upheld shipping complaint (R-SLA-3).
	RuleShippingPoints = "R-SLA-3"
)

// PointsEntry is one line of a shop's violation points ledger (违规扣分).
// The ledger is append-only: a charge is undone by a reversal entry whose
// ReversalOf names it and whose Points are the charge's, negated.
type PointsEntry struct {
	ID     string `json:"id"`
	ShopID string `json:"shop_id"`
	// Points charged (> 0), or the negated points of the entry reversed.
	Points int `json:"points"`
	// Kind is general or serious.
	Kind string `json:"kind"`
	// Rule is the rule that charged them (R-INV-3, R-COL-6).
	Rule        string    `json:"rule"`
	TaskID      string    `json:"task_id,omitempty"`
	ComplaintID string    `json:"complaint_id,omitempty"`
	At          time.Time `json:"at"`
	// ReversalOf is the id of the entry this one reverses ("" for a charge).
	ReversalOf    string `json:"reversal_of,omitempty"`
	PolicyVersion string `json:"policy_version"`
}

// Reversal returns the entry that reverses e: the same shop, kind, rule,
// task and complaint, the negated points, at the given time.
func (e PointsEntry) Reversal(id string, at time.Time, policyVersion string) PointsEntry {
	return PointsEntry{ID: id, ShopID: e.ShopID, Points: -e.Points, Kind: e.Kind, Rule: e.Rule,
		TaskID: e.TaskID, ComplaintID: e.ComplaintID, At: at, ReversalOf: e.ID, PolicyVersion: policyVersion}
}

// standing returns the charges of entries that have not been reversed.
// Reversal entries themselves never count, and neither does what they reverse.
func standing(entries []PointsEntry) []PointsEntry {
	reversed := map[string]bool{}
	for _, e := range entries {
		if e.ReversalOf != "" {
			reversed[e.ReversalOf] = true
		}
	}
	var out []PointsEntry
	for _, e := range entries {
		if e.ReversalOf == "" && !reversed[e.ID] && e.Points > 0 {
			out = append(out, e)
		}
	}
	return out
}

// Totals returns a ledger's standing points by kind charged in [from, until)
// (reversed charges excluded).
func Totals(entries []PointsEntry, from, until time.Time) (general, serious int) {
	for _, e := range standing(entries) {
		if e.At.Before(from) || !e.At.Before(until) {
			continue
		}
		switch e.Kind {
		case PointsGeneral:
			general += e.Points
		case PointsSerious:
			serious += e.Points
		}
	}
	return general, serious
}

// InvoiceCase is what decides whether an upheld invoice complaint brings
// points (R-INV-3).
type InvoiceCase struct {
	// SecondTimeoutAt is when the invoice reached its second timeout
	// (二次超时, commerce.Invoice.SecondTimeoutAt).
	SecondTimeoutAt time.Time
	// TaskRaised: the buyer raised an urge_invoice task for it.
	TaskRaised bool
	// IssuedAt is when the invoice was issued; nil if it was not.
	IssuedAt *time.Time
	// AgreedAt is when the shop and the buyer reached agreement; nil if they did not.
	AgreedAt *time.Time
	// UpheldAt is when the platform upheld the complaint (投诉成立).
	UpheldAt time.Time
}

// InvoicePointsDue reports whether an upheld invoice complaint is a case for
// points under R-INV-3: the complaint was upheld at or after the second
// timeout, the buyer had raised an urge_invoice task, and the shop had
// neither issued the invoice nor reached agreement with the buyer before
// the upholding. Decision: an issue or agreement at the very instant of the
// upholding counts as before it (no points) — a tie goes to the shop.
// Whether the case is charged, and how much, is InvoicePointsToCharge's
// (points per case are 0 before 2022-12-16 by policy).
func InvoicePointsDue(c InvoiceCase) bool {
	if !c.TaskRaised || c.UpheldAt.Before(c.SecondTimeoutAt) {
		return false
	}
	for _, t := range []*time.Time{c.IssuedAt, c.AgreedAt} {
		if t != nil && !t.After(c.UpheldAt) {
			return false
		}
	}
	return true
}

// InvoicePointsToCharge returns the general violation points to charge for
// one invoice case upheld at `at` (R-INV-3): r.PointsPerCase (1; 0 before
// 2022-12-16, when the rules in force at `at` say so), reduced so that no
// r.PointsWindow (30 days) holds more than r.PointsCap (6) invoice points.
// existing is the shop's ledger; only its standing R-INV-3 charges count
// (reversals, and the charges they reverse, do not). Call it only for a case
// InvoicePointsDue accepts.
//
// "At most 6 points in any 30 days" is checked for every window of length
// r.PointsWindow that would contain the new point, not only the one ending
// at `at`, so a charge recorded late cannot overfill a window with later
// charges. Windows are half-open, [s, s+30d): two points exactly 30 days
// apart are never in the same window, so a point charged exactly 30 days
// before `at` no longer counts against the cap; one charged 1 s later does.
func InvoicePointsToCharge(existing []PointsEntry, at time.Time, r policy.InvoiceRules) int {
	if r.PointsPerCase <= 0 {
		return 0
	}
	w := r.PointsWindow.D()
	type pt struct {
		at time.Time
		n  int
	}
	var near []pt // standing invoice charges less than a window away from at
	for _, e := range standing(existing) {
		if e.Rule != RuleInvoicePoints {
			continue
		}
		if d := e.At.Sub(at); d > -w && d < w {
			near = append(near, pt{e.At, e.Points})
		}
	}
	slices.SortFunc(near, func(a, b pt) int { return a.at.Compare(b.at) })
	// The fullest window containing at starts at at or at a charge before it
	// (moving the start earlier only gains points at such charges).
	starts := []time.Time{at}
	for _, p := range near {
		if !p.at.After(at) {
			starts = append(starts, p.at)
		}
	}
	fullest := 0
	for _, s := range starts {
		n := 0
		for _, p := range near {
			if !p.at.Before(s) && p.at.Before(s.Add(w)) {
				n += p.n
			}
		}
		fullest = max(fullest, n)
	}
	return max(0, min(r.PointsPerCase, r.PointsCap-fullest))
}

// ForgedEvidencePoints returns the points and their kind for one finding of
// forged evidence (R-COL-6): general case 12 general points, serious case
// 48 serious points (by default).
func ForgedEvidencePoints(serious bool, r policy.PointsRules) (points int, kind string) {
	if serious {
		return r.ForgedEvidenceSerious, PointsSerious
	}
	return r.ForgedEvidenceGeneral, PointsGeneral
}
