package httpapi

import (
	"context"
	"net/http"
	"sort"

	"golang.org/x/text/language"
)

// Languages the API answers in. zh-CN is the default.
const (
	langZH = "zh-CN"
	langEN = "en"
)

var langMatcher = language.NewMatcher([]language.Tag{language.MustParse("zh-CN"), language.English})

// negotiate picks zh-CN or en from an Accept-Language header (zh-CN when
// the header is absent, unparsable, or names neither).
func negotiate(header string) string {
	if header == "" {
		return langZH
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return langZH
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No || i == 0 {
		return langZH
	}
	return langEN
}

type langKey struct{}

// withLang records the request's language in its context.
func withLang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Language")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey{}, negotiate(r.Header.Get("Accept-Language")))))
	})
}

// langOf returns the language withLang recorded (zh-CN when none).
func langOf(ctx context.Context) string {
	if l, ok := ctx.Value(langKey{}).(string); ok {
		return l
	}
	return langZH
}

// title is a problem type's title in both languages.
type title struct{ ZH, EN string }

// titles holds the title of every problem reason: each reason the engine,
// the task interpreter and the fact validation produce (a test checks the
// source for new ones), and those of the HTTP layer.
var titles = map[string]title{
	// Generic classes (apperr.Invalid / NotFound / Internal use these reasons).
	"invalid":   {"请求内容不符合规则", "The request breaks a rule"},
	"not_found": {"对象不存在", "Not found"},
	"internal":  {"服务内部错误", "Internal error"},

	// Urge shipment (R-URG-*).
	"urge.exempt.region":       {"地区豁免期间，催发货不生成工单", "Urge refused: the region is exempt at this time"},
	"urge.exempt.delay_report": {"商家已报备延迟发货，催发货不生成工单", "Urge refused: the shop's approved delay report is in force"},
	"urge.exempt.category":     {"定制或虚拟类目商品，催发货不生成工单", "Urge refused: custom-made or virtual item"},
	"urge.exempt.no_complaint": {"订单尚无投诉，催发货不生成工单", "Urge refused: the order has no complaint yet"},
	"urge.exempt.presale":      {"预售订单，催发货不生成工单", "Urge refused: presale order"},
	"urge.within_deadline":     {"订单仍在发货时效内，仅标记为已催发货", "The order is within its shipping deadline"},
	"order.not_urged":          {"订单没有待处理的催发货，无法继续联系卖家", "The order has no pending urge to follow up"},
	"order.shipped":            {"订单已发货", "The order has shipped"},
	"order.refunded":           {"订单已退款", "The order was refunded"},
	"order.unshipped":          {"订单尚未发货", "The order has not shipped"},
	"order.signed":             {"订单已签收", "The order was signed for"},
	"order.exists":             {"订单已存在", "The order already exists"},
	"chat_reply.no_card":       {"没有等待回复的消息卡片", "No chat card is waiting for a reply"},

	// Logistics stall (R-LOG-*).
	"logistics.not_stalled": {"物流尚未停滞，不能上报", "The parcel is not stalled"},
	"logistics.unshipped":   {"订单未发货，没有可上报的包裹", "The order has no parcel to report"},
	"logistics.signed":      {"包裹已签收", "The parcel was signed for"},

	// Invoices (R-INV-*).
	"invoice.not_requested": {"买家未申请发票", "No invoice was requested"},
	"invoice.requested":     {"发票已申请", "An invoice was already requested"},
	"invoice.issued":        {"发票已开具", "The invoice was already issued"},

	// Tasks and their lifecycle.
	"task.state":             {"任务当前状态不允许该操作", "The task's state does not allow this action"},
	"task.completed":         {"任务已完结", "The task is completed"},
	"task.open_exists":       {"该订单已有同类型的进行中任务", "An open task of this type already exists on the order"},
	"task.exists":            {"任务已存在", "The task already exists"},
	"points.exists":          {"违规扣分记录已存在", "The points ledger entry already exists"},
	"worry_free.no_judgment": {"无忧购订单不进入纠纷判定", "Worry-free purchases are not judged as disputes"},
	"task.stale":             {"任务已被更新，请重试", "The task changed meanwhile; retry"},

	// Who may act (R-ACC-1, R-MSG-1).
	"permission.platform_task": {"子账号没有“平台任务”权限", "The sub-account lacks the platform-task permission"},
	"role":                     {"该角色不能执行此操作", "This role may not take this action"},
	"not_your_order":           {"不是该订单的买家", "Not the buyer of this order"},
	"not_your_shop":            {"账号不属于该店铺", "The account does not belong to this shop"},
	"message_agent.type":       {"该任务类型不能给客服留言", "Messages to the agent are not open for this task type"},

	// Complaints, facts, policy, promises.
	"complaint.finished":          {"投诉已处理完结", "The complaint is already finished"},
	"fact.duplicate":              {"该事实已接收过", "The fact was already accepted"},
	"fact.unknown_field":          {"事实包含未定义的字段", "The fact has a member the format does not define"},
	"id.invalid":                  {"标识不符合规则（至多 128 个字符的有效 UTF-8，不含控制或格式字符）", "The id breaks the id rule (at most 128 characters of valid UTF-8, no control or format characters)"},
	"policy.not_in_force":         {"该时间没有生效的规则版本", "No policy version is in force at that time"},
	"policy":                      {"没有生效的规则版本", "No policy is in force"},
	"policy.until_set":            {"规则版本已设置结束时间", "The policy version already has an end"},
	"guard":                       {"未知的流转条件", "Unknown transition guard"},
	"promise.claim.not_open":      {"保障服务尚未可申请", "The promise claim is not open yet"},
	"promise.claim.window_closed": {"保障服务申请期已过", "The promise claim window has closed"},

	// The HTTP layer.
	"request.invalid":         {"请求格式错误", "Malformed request"},
	"request.validation":      {"请求参数校验失败", "Request validation failed"},
	"request.too_large":       {"请求体过大", "Request body too large"},
	"request.unknown_field":   {"请求体包含未定义的字段", "The body has a member the request does not define"},
	"request.media_type":      {"不支持的媒体类型", "Unsupported media type"},
	"facts.too_many":          {"单次提交的事实数量超过上限", "Too many facts in one request"},
	"auth.missing":            {"缺少 API 密钥", "API key required"},
	"auth.invalid":            {"API 密钥无效", "Invalid API key"},
	"auth.role":               {"该 API 密钥的角色无权调用此接口", "This API key's role may not call this endpoint"},
	"viewer.scope":            {"查询条件超出查看者的范围", "The filter is outside the viewer's scope"},
	"idempotency.mismatch":    {"幂等键已用于不同的请求", "The idempotency key was used for a different request"},
	"idempotency.in_progress": {"使用该幂等键的请求正在处理中", "A request with this idempotency key is in progress"},
	"sandbox.disabled":        {"未开启沙箱模式", "The sandbox is not enabled"},
	"sandbox.clock_backwards": {"沙箱时钟不能回拨", "The sandbox clock never runs back"},
	"route.not_found":         {"接口不存在", "No such endpoint"},
	"not_ready":               {"服务尚未就绪", "Not ready"},
}

// Title returns a problem reason's title in lang (zh-CN or en).
func Title(reason, lang string) string { return titleOf(reason, lang) }

// titleOf returns a reason's title in lang; an unknown reason falls back to
// the generic title of its class.
func titleOf(reason, lang string) string {
	t, ok := titles[reason]
	if !ok {
		t = titles["invalid"]
	}
	if lang == langEN {
		return t.EN
	}
	return t.ZH
}

// Reasons lists every problem reason with a title, sorted (docs and tests).
func Reasons() []string {
	out := make([]string, 0, len(titles))
	for r := range titles {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}
