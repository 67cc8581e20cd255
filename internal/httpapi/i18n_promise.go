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
		// R-PRM-4: an upheld damage claim's remedy (补寄 or compensation).
		"claim.no_remedy":      {"该维权没有可选择的补救方式", "The claim has no remedy to choose"},
		"claim.not_upheld":     {"维权尚未成立", "The claim is not upheld"},
		"claim.remedy_chosen":  {"补救方式已确定", "The claim's remedy is already set"},
		"claim.remedy_late":    {"选择补救方式的期限已过", "The deadline to choose the remedy has passed"},
		"claim.no_resend":      {"该维权没有待补寄的商品", "The claim has no resend to ship"},
		"claim.resend_shipped": {"补寄已发出", "The resend has already shipped"},
		"claim.resend_late":    {"补寄期限已过", "The resend's deadline has passed"},
	} {
		titles[r] = t
	}
}
