package httpapi

// Titles of the reasons of complaint and judgment changes after the fact
// (withdrawal, overturn) and of shop scorecards.
func init() {
	for k, v := range map[string]title{
		"complaint.not_upheld": {"投诉未成立，无法撤销判定", "Only an upheld complaint can be overturned"},
		"judgment.overturned":  {"该判定已被撤销", "The judgment was overturned already"},
		"judgment.none":        {"该工单尚无判定", "The task has no judgment"},
	} {
		titles[k] = v
	}
}

// Titles of the operator's policy loading.
func init() {
	titles["policy.invalid"] = title{"策略文件有误", "The policy file has problems"}
	titles["policy.not_future"] = title{"新版本须在将来生效", "A new version must start in the future"}
}
