package httpapi

// Titles of the refusal evidence problems (R-EVD-1..4).
func init() {
	for reason, t := range map[string]title{
		"evidence.required":          {"该退款原因属于需举证场景：拒绝退款请上传凭证，或确认继续拒绝", "Refusing this refund needs evidence: attach it, or confirm continue refusing"},
		"evidence.round_expired":     {"二次举证已超时", "The second round of evidence is past its deadline"},
		"evidence.round_exists":      {"已就该方发起过二次举证", "A second round was already asked of this side"},
		"evidence.no_default":        {"商家凭证既未缺失也未被判无效", "The seller's evidence is neither missing nor invalid"},
		"evidence.no_policy":         {"当前规则未配置举证要求", "The policy in force has no evidence rules"},
		"evidence.attachment_side":   {"附件由另一方上传，不能作为本方凭证", "The attachment was uploaded by the other side"},
		"evidence.attachment_used":   {"附件已属于另一条凭证", "The attachment already belongs to an evidence item"},
		"evidence.too_large":         {"凭证文件过大", "The evidence file is too large"},
		"evidence.type":              {"凭证文件类型不支持", "The evidence file's type is not accepted"},
		"evidence.quota_task_files":  {"本方在该任务上的凭证文件数已达上限", "Your side holds as many evidence files on this task as the policy allows"},
		"evidence.quota_task_bytes":  {"本方在该任务上的凭证文件总大小超出上限", "Your side's evidence files on this task would exceed the policy's size quota"},
		"evidence.quota_daily_bytes": {"今日上传的凭证文件总大小超出上限", "Your uploads today would exceed the policy's daily size quota"},
	} {
		titles[reason] = t
	}
}
