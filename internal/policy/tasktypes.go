package policy

// TaskTypes lists the 14 task type ids of RULES.md §1, in the order of
// task.Types. Policy files may name only these in tasks.enabled,
// tasks.reply_deadline_by_type, notify.card_types and
// messages.agent_message_types. (Package task imports policy, so policy keeps
// its own copy; a test in package task can check that the two agree.)
var TaskTypes = []string{
	"urge_shipment",          // 催发货
	"logistics_stall",        // 物流停滞
	"urge_invoice",           // 催开发票
	"signed_elsewhere",       // 异地签收
	"presale_deposit_refund", // 预售退定金
	"return_refund",          // 退货退款
	"exchange",               // 换货
	"change_address",         // 改地址
	"resend",                 // 补发
	"provide_return_address", // 提供退货地址
	"repair",                 // 维修
	"postage_refund",         // 退邮费
	"delivery_problem",       // 配送问题
	"collaborative",          // 协同工单 (Tmall)
}

// The closed vocabularies of other policy lists.
var (
	// BuyerConfirmTimeouts are the values of tasks.buyer_confirm_timeout.
	BuyerConfirmTimeouts = []string{"accept", "intervene"}
	// ItemFlags are the values of urge.exempt_item_flags (R-URG-2 (3)).
	ItemFlags = []string{"custom", "virtual"}
	// PresaleKinds are the values of urge.exempt_presale (R-URG-2 (5)).
	PresaleKinds = []string{"staged", "full"}
	// CollabChannels are the values of collaborative.channels (R-COL-1).
	CollabChannels = []string{"card", "sms"}
)

// ValidTaskType reports whether s is one of TaskTypes.
func ValidTaskType(s string) bool { return Contains(TaskTypes, s) }
