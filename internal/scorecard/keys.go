package scorecard

// Metrics kept as per-shop, per-business-day counters, written in the same
// transaction as the events they count, so a scorecard read costs O(days).
const (
	MetricOrders           = "orders"
	MetricLiableComplaints = "liable_complaints" // R-LIA-1
	MetricLiableDisputes   = "liable_disputes"   // R-LIA-1: an agent judged the seller liable
	MetricJudged           = "judged"            // R-COL-4: judged cases (dispute refund rate / platform dispute rate)
	MetricInvoiceDisputes  = "invoice_disputes"  // R-GLD-1
)

// CounterKey names a shop's counter of a metric on a business day (YYYY-MM-DD).
func CounterKey(shopID, day, metric string) string { return "sc:" + shopID + ":" + day + ":" + metric }
