package auth

import "aftersale/internal/commerce"

// Actions the console (internal/console) takes that have no API operation
// of their own: the order system sends these facts through POST /v1/facts,
// and the console lets the people concerned send them. They are rows of the
// one permission table, so the console and any later API operation ask the
// same question.
const (
	ActRequestInvoice Action = "invoice.request" // R-INV-1: the buyer applies for an invoice
	ActIssueInvoice   Action = "invoice.issue"   // R-INV-5, R-INV-6: the shop uploads the issued invoice
)

func init() {
	Table = append(Table,
		Entry{ActRequestInvoice, buyerOnly, "", "R-INV-1", "console: apply for an invoice (an invoice_requested fact)"},
		Entry{ActIssueInvoice, shop, commerce.PermPlatformTask, "R-INV-5", "console: upload the issued invoice (an invoice_issued fact)"},
	)
}
