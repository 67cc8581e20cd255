package storecodec

import (
	"slices"
	"strings"

	"aftersale/internal/notify"
)

// SortDeliveries orders claimed webhook deliveries by (NextAt, ID), as
// store.Tx.ClaimWebhookDeliveries promises (UPDATE … RETURNING has no order).
func SortDeliveries(ds []notify.Delivery) {
	slices.SortFunc(ds, func(a, b notify.Delivery) int {
		if c := a.NextAt.Compare(b.NextAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
