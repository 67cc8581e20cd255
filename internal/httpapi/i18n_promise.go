package httpapi

// Titles of the service-promise reasons (保障服务, R-PRM-1..6).
func init() {
	for r, t := range map[string]title{
		"promise.not_on_order":    {"订单没有该项保障服务", "The order does not carry this promise"},
		"claim.open_exists":       {"该保障服务已有处理中的维权", "A claim under this promise is already open"},
		"claim.upheld":            {"该保障服务的维权已成立", "A claim under this promise was already upheld"},
		"claim.judged":            {"维权已判定", "The claim was already judged"},
		"compensation.exists":     {"赔付记录已存在", "The compensation entry already exists"},
		"deposit.insufficient":    {"保证金余额不足", "The deposit does not cover the amount"},
		"order.receipt_confirmed": {"订单已确认收货", "Receipt of the order was already confirmed"},
		"order.closed":            {"订单已关闭", "The order has already closed"},
	} {
		titles[r] = t
	}
}
