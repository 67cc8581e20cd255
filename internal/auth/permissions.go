package auth

import (
	"fmt"
	"slices"
	"strings"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

// Action is something a person may be permitted to do: an API operation, or
// one action on a task (TaskAction).
type Action string

// Actions of the permission table.
const (
	ActSelf              Action = "session.self" // who am I, sign out
	ActChangePassword    Action = "session.password"
	ActStream            Action = "live.stream" // one's own live stream (R-NTF-2)
	ActUrge              Action = "order.urge"  // R-URG-1..3
	ActKeepContacting    Action = "order.keep_contacting"
	ActFileComplaint     Action = "complaint.file"
	ActWithdrawComplaint Action = "complaint.withdraw" // R-GLD-1
	ActFinishComplaint   Action = "complaint.finish"   // R-ST-3
	ActOverturnComplaint Action = "complaint.overturn" // R-INV-3
	ActFileClaim         Action = "claim.file"         // R-PRM-2..6
	ActJudgeClaim        Action = "claim.judge"        // R-PRM-5, R-PRM-6
	ActClaimRemedy       Action = "claim.remedy"       // R-PRM-4
	ActReadClaims        Action = "claim.read"
	ActReadCompensation  Action = "shop.read_compensation" // the compensation ledger and deposit (R-PRM-1..6)
	ActReadStanding      Action = "shop.read_standing"     // scorecard and points ledger
	ActOpenTask          Action = "task.open"
	ActOverturnJudgment  Action = "task.overturn_judgment" // R-LIA-1, R-COL-6
	ActReadTasks         Action = "task.read"
	ActReadUrged         Action = "order.read_urged"   // R-URG-3's filter
	ActAsk               Action = "question.ask"       // R-QA-1
	ActAnswer            Action = "question.answer"    // R-QA-2
	ActReadQuestions     Action = "question.read"      // R-QA-4
	ActReadShopQuestions Action = "question.read_shop" // R-QA-3
	ActSubscribe         Action = "account.subscribe"  // R-QA-1
	ActReadAccounts      Action = "account.read"
	ActManageAccounts    Action = "account.manage" // sub-accounts and their permissions (R-ACC-1)
	ActManagePeople      Action = "person.manage"
	ActManageWebhooks    Action = "webhook.manage"
	ActSandboxClock      Action = "sandbox.clock"
	ActReadPolicy        Action = "policy.read" // versions, rules in force, timelines
	ActLoadPolicy        Action = "policy.load" // preview and load a version with a future start
	ActIngestFacts       Action = "fact.ingest"
)

// TaskAction is the table's action for taking act on a task.
func TaskAction(act task.Action) Action { return Action("task." + string(act)) }

// Entry is one row of the permission table: the roles that may take the
// action, and the shop permission a sub-account needs on top (R-ACC-1).
type Entry struct {
	Action Action
	Roles  []Role
	// SubNeeds is the permission a shop_sub must hold ("" for none). A main
	// account holds every permission.
	SubNeeds string
	Rule     string
	Doc      string
}

var (
	everyone  = []Role{RoleBuyer, RoleShopMain, RoleShopSub, RoleAgent, RoleOperator}
	buyerOnly = []Role{RoleBuyer}
	shop      = []Role{RoleShopMain, RoleShopSub}
	agentOnly = []Role{RoleAgent}
	operator  = []Role{RoleOperator}
	// staff: a shop's own accounts and the platform's people, never buyers.
	staff = []Role{RoleShopMain, RoleShopSub, RoleAgent, RoleOperator}
	// evidenceSides give evidence: the buyer, the shop, an agent.
	evidenceSides = []Role{RoleBuyer, RoleShopMain, RoleShopSub, RoleAgent}
)

// Table is the permission table: every action a person may take through
// the API, and who may. It is the one place these rights are written;
// docs/api.md shows it (Markdown renders it, and a test keeps the two in
// step). An action not in the table is refused to every person. API keys
// are not people: the platform key acts for anyone it names and the
// operator key does what the operator role does (docs/api.md).
var Table = []Entry{
	{ActSelf, everyone, "", "", "GET /v1/me, DELETE /v1/sessions"},
	{ActChangePassword, everyone, "", "", "PUT /v1/me/password (one's own, proving the current one; one's other sessions end)"},
	{ActStream, everyone, "", "R-NTF-2", "GET /v1/stream (one's own cards, reminders and events, filtered by R-MSG-2; a sub-account's stream makes it online)"},
	{ActUrge, buyerOnly, "", "R-URG-1", "POST /v1/orders/{id}/urge"},
	{ActKeepContacting, buyerOnly, "", "R-URG-4", "POST /v1/orders/{id}/keep-contacting"},
	{ActFileComplaint, buyerOnly, "", "", "POST /v1/orders/{id}/complaints"},
	{ActWithdrawComplaint, buyerOnly, "", "R-GLD-1", "POST /v1/complaints/{id}/withdraw (own orders)"},
	{ActFileClaim, buyerOnly, "", "", "POST /v1/orders/{id}/claims (own orders, R-PRM-2..6)"},
	{ActOpenTask, []Role{RoleBuyer, RoleAgent}, "", "R-COL-1", "POST /v1/tasks (agents: collaborative tasks only)"},
	{TaskAction(task.ActAcceptPlan), buyerOnly, "", "R-ST-2", "POST /v1/tasks/{id}/actions accept_plan"},
	{TaskAction(task.ActRejectPlan), buyerOnly, "", "R-ST-2", "POST /v1/tasks/{id}/actions reject_plan"},
	{TaskAction(task.ActReply), shop, commerce.PermPlatformTask, "R-ACC-1", "POST /v1/tasks/{id}/actions reply"},
	{TaskAction(task.ActProposePlan), shop, commerce.PermPlatformTask, "R-ACC-1", "POST /v1/tasks/{id}/actions propose_plan"},
	{TaskAction(task.ActPerform), shop, commerce.PermPlatformTask, "R-ACC-1", "POST /v1/tasks/{id}/actions perform"},
	{TaskAction(task.ActRefuse), shop, commerce.PermPlatformTask, "R-ACC-1", "POST /v1/tasks/{id}/actions refuse"},
	{TaskAction(task.ActMessage), shop, commerce.PermPlatformTask, "R-ACC-1", "POST /v1/tasks/{id}/actions message_agent (R-MSG-1)"},
	{TaskAction(task.ActCollabAgreed), shop, commerce.PermPlatformTask, "R-ACC-1", "POST /v1/tasks/{id}/actions collab_agreed"},
	{TaskAction(task.ActCollabNotAgreed), shop, commerce.PermPlatformTask, "R-ACC-1", "POST /v1/tasks/{id}/actions collab_not_agreed"},
	{TaskAction(task.ActCollabUnreachable), shop, commerce.PermPlatformTask, "R-ACC-1", "POST /v1/tasks/{id}/actions collab_unreachable"},
	{TaskAction(task.ActProvideEvidence), evidenceSides, commerce.PermPlatformTask, "R-ACC-1",
		"POST /v1/tasks/{id}/actions provide_evidence, POST /v1/tasks/{id}/evidence, POST /v1/tasks/{id}/attachments (own orders or shop; R-EVD-1, R-EVD-4)"},
	{TaskAction(task.ActRequestEvidence), agentOnly, "", "R-EVD-4", "POST /v1/tasks/{id}/actions request_evidence, POST /v1/tasks/{id}/evidence/requests"},
	{TaskAction(task.ActMarkEvidence), agentOnly, "", "R-EVD-3", "POST /v1/tasks/{id}/actions mark_evidence, POST /v1/tasks/{id}/evidence/{item}/mark"},
	{TaskAction(task.ActJudge), agentOnly, "", "R-COL-4", "POST /v1/tasks/{id}/actions judge"},
	{TaskAction(task.ActResolve), agentOnly, "", "", "POST /v1/tasks/{id}/actions resolve"},
	{TaskAction(task.ActAgentNote), agentOnly, "", "R-MSG-2", "POST /v1/tasks/{id}/actions agent_note"},
	{ActOverturnJudgment, agentOnly, "", "R-LIA-1", "POST /v1/tasks/{id}/overturn-judgment"},
	{ActFinishComplaint, agentOnly, "", "R-ST-3", "POST /v1/complaints/{id}/finish"},
	{ActOverturnComplaint, agentOnly, "", "R-INV-3", "POST /v1/complaints/{id}/overturn"},
	{ActJudgeClaim, agentOnly, "", "", "POST /v1/claims/{id}/judge (R-PRM-5, R-PRM-6)"},
	{ActClaimRemedy, shop, commerce.PermPlatformTask, "R-PRM-4", "POST /v1/claims/{id}/remedy, POST /v1/claims/{id}/resend (own shop's upheld damage claims)"},
	{ActReadTasks, everyone, "", "R-ACC-1",
		"GET /v1/tasks, GET /v1/tasks/{id}, GET /v1/tasks/{id}/evidence, GET /v1/attachments/{id} (own orders or shop; events and evidence filtered by R-MSG-2; a sub-account sees its shop's tasks without the platform-task permission, and needs it to work them)"},
	{ActReadClaims, everyone, commerce.PermPlatformTask, "R-ACC-1", "GET /v1/claims/{id} (own orders or shop)"},
	{ActReadCompensation, staff, commerce.PermPlatformTask, "R-ACC-1", "GET /v1/shops/{id}/compensation (own shop)"},
	{ActReadStanding, staff, "", "", "GET /v1/shops/{id}/scorecard, GET /v1/shops/{id}/points (own shop)"},
	{ActReadUrged, staff, "", "R-URG-3", "GET /v1/shops/{id}/urged-orders (own shop)"},
	{ActAsk, buyerOnly, "", "R-QA-1", "POST /v1/products/{id}/questions"},
	{ActAnswer, []Role{RoleBuyer, RoleShopMain}, "", "R-QA-2", "POST /v1/questions/{id}/answers (buyers: when invited; the shop: its main account)"},
	{ActReadQuestions, everyone, "", "R-QA-4", "GET /v1/products/{id}/questions, GET /v1/questions/{id}, GET /v1/questions/{id}/answers/{answer}/pictures/{n} (valid questions only)"},
	{ActReadShopQuestions, []Role{RoleShopMain, RoleAgent, RoleOperator}, "", "R-QA-3", "GET /v1/shops/{id}/questions (own shop)"},
	{ActSubscribe, []Role{RoleShopMain}, "", "R-QA-1", "POST /v1/accounts/{id}/subscriptions (own account)"},
	{ActReadAccounts, []Role{RoleShopMain, RoleAgent, RoleOperator}, "", "", "GET /v1/shops/{id}/accounts (own shop)"},
	{ActManageAccounts, []Role{RoleShopMain}, "", "R-ACC-1", "POST /v1/shops/{id}/accounts, PUT/DELETE /v1/accounts/{id}/permissions/{permission}, PUT /v1/accounts/{id}/reminders (own shop)"},
	{ActManagePeople, operator, "", "", "POST /v1/people, GET /v1/people, PUT /v1/people/{id}/password (a reset: the person's sessions end)"},
	{ActManageWebhooks, operator, "", "",
		"POST /v1/webhooks, GET /v1/webhooks, DELETE /v1/webhooks/{id}, GET /v1/webhooks/deliveries, GET /v1/webhooks/dead-letters, POST /v1/webhooks/deliveries/{id}/redeliver"},
	{ActSandboxClock, operator, "", "", "GET /v1/sandbox/clock, POST /v1/sandbox/clock/advance"},
	{ActReadPolicy, []Role{RoleAgent, RoleOperator}, "", "", "GET /v1/policies, GET /v1/policies/{platform}/rules"},
	{ActLoadPolicy, operator, "", "", "POST /v1/policies/{platform}/preview, POST /v1/policies/{platform}/versions (a future start only)"},
	{ActIngestFacts, nil, "", "", "POST /v1/facts (the platform key only)"},
}

// Lookup returns the table's entry for a.
func Lookup(a Action) (Entry, bool) {
	for _, e := range Table {
		if e.Action == a {
			return e, true
		}
	}
	return Entry{}, false
}

// Check says whether a person of role r may take action a. acc is the
// person's shop account (for shop roles; nil otherwise). A refusal is an
// EFORBIDDEN error: reason permission.denied naming the action, or
// permission.<name> naming the permission a sub-account lacks (R-ACC-1).
func Check(r Role, acc *commerce.Account, a Action) error {
	e, ok := Lookup(a)
	if !ok || !slices.Contains(e.Roles, r) {
		return &apperr.Error{Code: apperr.EFORBIDDEN, Reason: "permission.denied", Field: "", Rule: e.Rule,
			Message: fmt.Sprintf("a %s may not %s", r, a)}
	}
	if r == RoleShopSub && e.SubNeeds != "" && (acc == nil || !acc.Has(e.SubNeeds)) {
		id := ""
		if acc != nil {
			id = acc.ID
		}
		return &apperr.Error{Code: apperr.EFORBIDDEN, Reason: "permission." + e.SubNeeds, Field: "permissions", Rule: "R-ACC-1",
			Message: fmt.Sprintf("sub-account %s lacks the %s permission (子账号管理 → 客户服务平台权限 → 服务待办 → 平台任务) needed to %s", id, e.SubNeeds, a)}
	}
	return nil
}

// Permissions are the shop permissions a main account may grant to its
// sub-accounts.
var Permissions = []string{commerce.PermPlatformTask}

// Markdown renders the table for docs/api.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| action | endpoint | ")
	for _, r := range Roles {
		b.WriteString(string(r) + " | ")
	}
	b.WriteString("rule |\n|---|---|")
	for range Roles {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for _, e := range Table {
		fmt.Fprintf(&b, "| `%s` | %s | ", e.Action, e.Doc)
		for _, r := range Roles {
			cell := "—"
			if slices.Contains(e.Roles, r) {
				cell = "yes"
				if r == RoleShopSub && e.SubNeeds != "" {
					cell = "with " + e.SubNeeds
				}
			}
			b.WriteString(cell + " | ")
		}
		rule := e.Rule
		if rule == "" {
			rule = "—"
		}
		b.WriteString(rule + " |\n")
	}
	return b.String()
}
