package httpapi

// Titles of the ask-everyone Q&A reasons (问大家, R-QA-1..4).
func init() {
	for reason, t := range map[string]title{
		"qa.not_main_account":  {"只有店铺主账号可以回答或订阅问大家", "Only the shop's main account answers or subscribes to ask-everyone questions"},
		"qa.not_invited":       {"只有系统邀请的已购买家可以回答", "Only past buyers the system invited may answer"},
		"qa.question_invalid":  {"该提问被系统判定为非有效问题，无法回答", "The system judged the question not valid; it cannot be answered"},
		"qa.question_exists":   {"提问已存在", "The question already exists"},
		"qa.answer_exists":     {"回答已存在", "The answer already exists"},
		"qa.invitation_exists": {"该买家已被邀请回答", "The buyer is already invited to answer"},
	} {
		titles[reason] = t
	}
}
