package task

import (
	"slices"
	"time"

	"aftersale/internal/policy"
)

// Action is something that happens to a task: a person's action, a fact
// from the order system, or a timer firing.
type Action string

// Actions.
const (
	ActCreate Action = "create"

	// Seller.
	ActReply       Action = "reply"         // will perform: → awaiting_seller_action (R-ST-1)
	ActProposePlan Action = "propose_plan"  // a plan the buyer must accept: → awaiting_buyer_confirmation (R-ST-1)
	ActRefuse      Action = "refuse"        // no agreement: → platform_intervening (R-SLA-4)
	ActPerform     Action = "perform"       // done: → completed
	ActMessage     Action = "message_agent" // R-MSG-1: a message to the agent, never shown to the buyer (R-MSG-2)

	// Collaborative replies (R-COL-2, R-COL-3).
	ActCollabAgreed      Action = "collab_agreed"
	ActCollabNotAgreed   Action = "collab_not_agreed"
	ActCollabUnreachable Action = "collab_unreachable"

	// Buyer.
	ActAcceptPlan Action = "accept_plan" // R-ST-2
	ActRejectPlan Action = "reject_plan" // R-ST-2

	// Agent.
	ActResolve   Action = "resolve"    // close an intervened task with an outcome
	ActJudge     Action = "judge"      // judge an intervened task by the dispute rules (R-SLA-4, R-COL-4..6)
	ActAgentNote Action = "agent_note" // visible to agents only

	// Facts (system).
	ActShipped           Action = "shipped"
	ActRefunded          Action = "refunded"
	ActInvoiceIssued     Action = "invoice_issued"
	ActSigned            Action = "signed"
	ActComplaintFinished Action = "complaint_finished"
	// ActBuyerComplaint: the buyer filed a complaint of the task's kind on
	// its order while the task is open; it belongs to the task (R-ST-3).
	// Details["complaint_id"] names it.
	ActBuyerComplaint Action = "buyer_complaint"

	// Timers (system).
	ActReplyTimeout   Action = "reply_timeout"
	ActActionTimeout  Action = "action_timeout"
	ActConfirmTimeout Action = "confirm_timeout"
	ActRemind         Action = "remind"
	// ActIssueTimeout: an urge_invoice task created after the final deadline
	// still has no issued invoice when its issue clock ends (R-INV-4).
	ActIssueTimeout Action = "issue_timeout"
)

// Effect is a named consequence of a transition that the engine carries out
// in the same transaction (it needs I/O: accounts, counters, complaints).
type Effect string

// Effects.
const (
	EffNotifyCreated  Effect = "notify_created" // R-NTF-1 reminders, R-NTF-2 cards, R-COL-1 card and SMS
	EffRemind         Effect = "remind"         // R-NTF-1 reminder before the reply deadline
	EffFileComplaint  Effect = "file_complaint" // R-SLA-3, R-INV-4: the platform files a complaint for the buyer
	EffWaiveEvidence  Effect = "waive_evidence" // R-COL-4: no reply means evidence waived
	EffPendComplete   Effect = "pend_complete"  // R-ST-3: work done, completion waits for the complaint
	EffCompleteIfDone Effect = "complete_if_pending"
	EffJudgment       Effect = "judgment" // R-COL-4 counts, R-LIA-1 liability, R-COL-6 forged-evidence points
)

// Guard names a condition a transition needs. Guards are evaluated by the
// interpreter in guard.go; transitions for the same action are tried in
// order and the first whose guard holds is taken.
type Guard string

// Guards.
const (
	GuardNone             Guard = ""
	GuardNoOpenComplaint  Guard = "no_open_complaint"      // R-ST-3
	GuardOpenComplaint    Guard = "open_complaint"         // R-ST-3
	GuardCompletionPend   Guard = "completion_pending"     // R-ST-3
	GuardContactAfter     Guard = "contact_after_creation" // R-COL-3
	GuardConfirmAccepts   Guard = "confirm_timeout_accepts"
	GuardConfirmIntervene Guard = "confirm_timeout_intervenes"
	GuardAgentMessageType Guard = "agent_message_type"    // R-MSG-1
	GuardJudgeable        Guard = "judgeable"             // R-COL-5: no judgment for worry-free orders
	GuardAfterFinal       Guard = "after_final_deadline"  // R-INV-4
	GuardBeforeFinal      Guard = "before_final_deadline" // R-INV-4
)

// Transition is one row of a lifecycle table. To == "" keeps the state.
type Transition struct {
	On         Action
	From       []State
	To         State
	By         []Role
	Guard      Guard
	Effects    []Effect
	Outcome    string // set on the task when the transition completes it
	Rule       string // the RULES.md id this row implements
	Visibility Visibility
}

// TimerDef is a timer started on entering State and stopped on leaving it.
// Due is computed from the rules in force when it is set (t is the task as
// it enters the state); firing runs Fire.
type TimerDef struct {
	Kind  string
	State State
	// Through are further states the timer keeps running in: moving between
	// State and these neither stops nor restarts it, leaving them all stops it
	// (R-INV-4: replying does not stop the issue clock). Such a timer's Due
	// must not depend on entered, so that the task's DueAt can be recomputed
	// in any of its states.
	Through []State
	Due     func(r *policy.RuleSet, t *Task, entered time.Time) (time.Time, bool)
	Fire    Action
	Rule    string
	// ByAction: started by an action's decision (R-EVD-4's second round),
	// not on entering State; Due is unused.
	ByAction bool
}

// runsIn reports whether the timer runs while the task is in state s.
func (d TimerDef) runsIn(s State) bool { return d.State == s || slices.Contains(d.Through, s) }

// Lifecycle is the declared life of a family of task types.
type Lifecycle struct {
	Family      string
	Types       []Type
	Initial     State
	CreatedBy   []Role
	Transitions []Transition
	Timers      []TimerDef

	byAction map[Action][]*Transition
}

var (
	seller      = []Role{RoleShopMain, RoleShopSub}
	buyer       = []Role{RoleBuyer}
	agent       = []Role{RoleAgent}
	system      = []Role{RoleSystem}
	platform    = []Role{RoleAgent, RoleSystem}
	openStates  = []State{AwaitingSellerReply, AwaitingSellerAction, AwaitingBuyerConfirmation, PlatformIntervening}
	sellerTurn  = []State{AwaitingSellerReply, AwaitingSellerAction}
	replyState  = []State{AwaitingSellerReply}
	actionState = []State{AwaitingSellerAction}
	confirmSt   = []State{AwaitingBuyerConfirmation}
	interveneSt = []State{PlatformIntervening}
)

func replyDue(r *policy.RuleSet, t *Task, entered time.Time) (time.Time, bool) {
	return entered.Add(r.Tasks.ReplyDeadlineFor(string(t.Type))), true
}

func remindDue(r *policy.RuleSet, t *Task, entered time.Time) (time.Time, bool) {
	d, before := r.Tasks.ReplyDeadlineFor(string(t.Type)), r.Tasks.ReminderBefore.D()
	if before <= 0 || before >= d {
		return time.Time{}, false
	}
	return entered.Add(d - before), true
}

func actionDue(r *policy.RuleSet, _ *Task, entered time.Time) (time.Time, bool) {
	return entered.Add(r.Tasks.SellerActionDeadline.D()), r.Tasks.SellerActionDeadline > 0
}

func confirmDue(r *policy.RuleSet, _ *Task, entered time.Time) (time.Time, bool) {
	return entered.Add(r.Tasks.BuyerConfirmDeadline.D()), r.Tasks.BuyerConfirmDeadline > 0
}

// Timer kinds.
const (
	TimerReply   = "reply"
	TimerRemind  = "remind"
	TimerAction  = "action"
	TimerConfirm = "confirm"
	TimerIssue   = "issue" // R-INV-4: 24 h to issue the invoice, from creation
)

// invoiceReplyDue is the reply deadline of an urge_invoice task, except one
// created after the final deadline: its 24 h run on the issue clock, which
// the reply does not stop (R-INV-4).
func invoiceReplyDue(r *policy.RuleSet, t *Task, entered time.Time) (time.Time, bool) {
	if t.IssueBy != nil {
		return time.Time{}, false
	}
	return replyDue(r, t, entered)
}

// issueDue is the end of an urge_invoice task's issue clock (R-INV-4), set
// on the task at creation when it came after the final deadline.
func issueDue(_ *policy.RuleSet, t *Task, _ time.Time) (time.Time, bool) {
	if t.IssueBy == nil {
		return time.Time{}, false
	}
	return *t.IssueBy, true
}

// invoiceTimers are the standard timers of an urge_invoice task, with the
// issue clock of a task created after the final deadline (R-INV-4): set at
// creation, it runs through the seller's reply, a plan and the buyer's
// answer, and only issuing the invoice (completion) or the platform's
// intervention stops it.
func invoiceTimers() []TimerDef {
	out := append([]TimerDef(nil), standardTimers...)
	out[0].Due = invoiceReplyDue
	return append(out, TimerDef{Kind: TimerIssue, State: AwaitingSellerReply, Through: []State{AwaitingSellerAction, AwaitingBuyerConfirmation},
		Due: issueDue, Fire: ActIssueTimeout, Rule: "R-INV-4"})
}

// standardTimers run in every lifecycle: the 24 h reply deadline (R-SLA-1),
// its reminder (R-NTF-1), and the action and confirmation deadlines (R-SLA-4).
var standardTimers = []TimerDef{
	{Kind: TimerReply, State: AwaitingSellerReply, Due: replyDue, Fire: ActReplyTimeout, Rule: "R-SLA-1"},
	{Kind: TimerRemind, State: AwaitingSellerReply, Due: remindDue, Fire: ActRemind, Rule: "R-NTF-1"},
	{Kind: TimerAction, State: AwaitingSellerAction, Due: actionDue, Fire: ActActionTimeout, Rule: "R-SLA-4"},
	{Kind: TimerConfirm, State: AwaitingBuyerConfirmation, Due: confirmDue, Fire: ActConfirmTimeout, Rule: "R-SLA-4"},
}

// common rows shared by every family: seller replies and plans, buyer's
// answer to a plan, timeouts, the agent's resolution, notes and reminders.
func common() []Transition {
	return []Transition{
		{On: ActReply, From: replyState, To: AwaitingSellerAction, By: seller, Rule: "R-ST-1"},
		{On: ActProposePlan, From: replyState, To: AwaitingBuyerConfirmation, By: seller, Rule: "R-ST-1"},
		{On: ActAcceptPlan, From: confirmSt, To: AwaitingSellerAction, By: buyer, Rule: "R-ST-2"},
		{On: ActRejectPlan, From: confirmSt, To: PlatformIntervening, By: buyer, Rule: "R-ST-2"},
		{On: ActConfirmTimeout, From: confirmSt, To: AwaitingSellerAction, By: system, Guard: GuardConfirmAccepts, Rule: "R-SLA-4"},
		{On: ActConfirmTimeout, From: confirmSt, To: PlatformIntervening, By: system, Guard: GuardConfirmIntervene, Rule: "R-SLA-4"},
		{On: ActActionTimeout, From: actionState, To: PlatformIntervening, By: system, Rule: "R-SLA-4"},
		{On: ActRemind, From: replyState, By: system, Effects: []Effect{EffRemind}, Rule: "R-NTF-1"},
		{On: ActResolve, From: interveneSt, To: Completed, By: agent, Rule: "R-SLA-4"},
		{On: ActJudge, From: interveneSt, To: Completed, By: agent, Guard: GuardJudgeable, Effects: []Effect{EffJudgment}, Rule: "R-SLA-4"},
		{On: ActAgentNote, From: openStates, By: agent, Rule: "R-MSG-2", Visibility: AgentsOnly},
		{On: ActMessage, From: interveneSt, By: seller, Guard: GuardAgentMessageType, Rule: "R-MSG-1", Visibility: ShopAgent},
	}
}

func rows(extra ...[]Transition) []Transition {
	out := common()
	for _, e := range extra {
		out = append(out, e...)
	}
	return out
}

// Lifecycles declares every family. Each task type belongs to exactly one.
var Lifecycles = []*Lifecycle{
	{
		Family: "urge_shipment", Types: []Type{UrgeShipment},
		Initial: AwaitingSellerReply, CreatedBy: buyer, Timers: standardTimers,
		Transitions: rows([]Transition{
			// R-SLA-3: silence for 24 h → the platform files a shipping complaint and intervenes.
			{On: ActReplyTimeout, From: replyState, To: PlatformIntervening, By: system, Effects: []Effect{EffFileComplaint}, Rule: "R-SLA-3"},
			{On: ActRefuse, From: sellerTurn, To: PlatformIntervening, By: seller, Rule: "R-SLA-4"},
			// R-SLA-2 / R-ST-3: shipping or refunding completes the task by itself,
			// but only once any complaint raised for it is finished.
			{On: ActShipped, From: openStates, To: Completed, By: system, Guard: GuardNoOpenComplaint, Outcome: "shipped", Rule: "R-ST-3"},
			{On: ActShipped, From: openStates, By: system, Guard: GuardOpenComplaint, Effects: []Effect{EffPendComplete}, Outcome: "shipped", Rule: "R-ST-3"},
			{On: ActRefunded, From: openStates, To: Completed, By: system, Guard: GuardNoOpenComplaint, Outcome: "refunded", Rule: "R-ST-3"},
			{On: ActRefunded, From: openStates, By: system, Guard: GuardOpenComplaint, Effects: []Effect{EffPendComplete}, Outcome: "refunded", Rule: "R-ST-3"},
			{On: ActComplaintFinished, From: openStates, To: Completed, By: system, Guard: GuardCompletionPend, Rule: "R-ST-3"},
			{On: ActComplaintFinished, From: openStates, By: system, Rule: "R-ST-3"},
			// R-ST-3: the buyer's own shipping complaint, filed while the task is open, is the task's.
			{On: ActBuyerComplaint, From: openStates, By: buyer, Rule: "R-ST-3"},
		}),
	},
	{
		Family: "logistics_stall", Types: []Type{LogisticsStall},
		Initial: AwaitingSellerReply, CreatedBy: buyer, Timers: standardTimers,
		Transitions: rows([]Transition{
			{On: ActReplyTimeout, From: replyState, To: PlatformIntervening, By: system, Rule: "R-SLA-4"},
			{On: ActRefuse, From: sellerTurn, To: PlatformIntervening, By: seller, Rule: "R-SLA-4"},
			{On: ActPerform, From: sellerTurn, To: Completed, By: seller, Outcome: "performed", Rule: "R-LOG-2"},
			{On: ActSigned, From: openStates, To: Completed, By: system, Outcome: "delivered", Rule: "R-LOG-2"},
			{On: ActRefunded, From: openStates, To: Completed, By: system, Outcome: "refunded", Rule: "R-LOG-2"},
		}),
	},
	{
		Family: "urge_invoice", Types: []Type{UrgeInvoice},
		Initial: AwaitingSellerReply, CreatedBy: buyer, Timers: invoiceTimers(),
		Transitions: rows([]Transition{
			// R-INV-4: a task created after the final deadline, still not issued 24 h
			// after its creation — replied to or not — → the platform intervenes on a
			// filed complaint; points possible (R-INV-3).
			{On: ActIssueTimeout, From: []State{AwaitingSellerReply, AwaitingSellerAction, AwaitingBuyerConfirmation}, To: PlatformIntervening,
				By: system, Effects: []Effect{EffFileComplaint}, Rule: "R-INV-4"},
			// Before the final deadline a timeout is an ordinary escalation (R-SLA-4).
			// (The after-final row serves tasks created before the issue clock
			// existed, whose reply timer is still set.)
			{On: ActReplyTimeout, From: replyState, To: PlatformIntervening, By: system, Guard: GuardAfterFinal, Effects: []Effect{EffFileComplaint}, Rule: "R-INV-4"},
			{On: ActReplyTimeout, From: replyState, To: PlatformIntervening, By: system, Guard: GuardBeforeFinal, Rule: "R-SLA-4"},
			{On: ActRefuse, From: sellerTurn, To: PlatformIntervening, By: seller, Rule: "R-SLA-4"},
			// R-INV-5: issuing the invoice completes the task.
			{On: ActInvoiceIssued, From: openStates, To: Completed, By: system, Outcome: "invoice_issued", Rule: "R-INV-5"},
			// The invoice complaint filed at the timeout can be finished; the task keeps its state.
			{On: ActComplaintFinished, From: openStates, By: system, Rule: "R-INV-4"},
			// R-ST-3: the buyer's own invoice complaint, filed while the task is open,
			// is the task's (issuing still completes it, R-INV-5).
			{On: ActBuyerComplaint, From: openStates, By: buyer, Rule: "R-ST-3"},
		}),
	},
	{
		Family: "collaborative", Types: []Type{Collaborative},
		Initial: AwaitingSellerReply, CreatedBy: platform, Timers: standardTimers,
		// The reply to a collaborative task is one of the three receipt options
		// (R-COL-2), never a plain reply or plan.
		Transitions: without(rows([]Transition{
			// R-COL-2/3: the reply says whether agreement was reached; contact must follow creation.
			{On: ActCollabAgreed, From: replyState, To: Completed, By: seller, Guard: GuardContactAfter, Outcome: "agreed", Rule: "R-COL-2"},
			{On: ActCollabNotAgreed, From: replyState, To: PlatformIntervening, By: seller, Guard: GuardContactAfter, Rule: "R-COL-4"},
			{On: ActCollabUnreachable, From: replyState, To: PlatformIntervening, By: seller, Guard: GuardContactAfter, Rule: "R-COL-3"},
			// R-COL-4: no reply → the agent intervenes and the shop has waived its evidence.
			{On: ActReplyTimeout, From: replyState, To: PlatformIntervening, By: system, Effects: []Effect{EffWaiveEvidence}, Rule: "R-COL-4"},
		}), ActReply, ActProposePlan),
	},
	{
		Family: "refund", Types: []Type{PresaleDepositRefund, ReturnRefund, PostageRefund},
		Initial: AwaitingSellerReply, CreatedBy: buyer, Timers: withEvidenceTimers(),
		Transitions: rows([]Transition{
			{On: ActReplyTimeout, From: replyState, To: PlatformIntervening, By: system, Rule: "R-SLA-4"},
			{On: ActPerform, From: sellerTurn, To: Completed, By: seller, Outcome: "performed", Rule: "R-ST-1"},
			{On: ActRefunded, From: openStates, To: Completed, By: system, Outcome: "refunded", Rule: "R-ST-1"},
		}, evidenceRows()),
	},
	{
		Family: "service", Types: []Type{SignedElsewhere, Exchange, ChangeAddress, Resend, ProvideReturnAddress, Repair, DeliveryProblem},
		Initial: AwaitingSellerReply, CreatedBy: buyer, Timers: withEvidenceTimers(),
		Transitions: rows([]Transition{
			{On: ActReplyTimeout, From: replyState, To: PlatformIntervening, By: system, Rule: "R-SLA-4"},
			{On: ActPerform, From: sellerTurn, To: Completed, By: seller, Outcome: "performed", Rule: "R-ST-1"},
		}, evidenceRows()),
	},
}

// withEvidenceTimers is the standard timers and the second-round evidence
// timers (R-EVD-4).
func withEvidenceTimers() []TimerDef {
	return append(append([]TimerDef(nil), standardTimers...), evidenceTimers...)
}

// without drops the rows for the given actions.
func without(trs []Transition, acts ...Action) []Transition {
	out := trs[:0:0]
	for _, tr := range trs {
		keep := true
		for _, a := range acts {
			if tr.On == a {
				keep = false
			}
		}
		if keep {
			out = append(out, tr)
		}
	}
	return out
}

var byType = map[Type]*Lifecycle{}

func init() {
	for _, lc := range Lifecycles {
		lc.byAction = map[Action][]*Transition{}
		for i := range lc.Transitions {
			tr := &lc.Transitions[i]
			if tr.Visibility == "" {
				tr.Visibility = Public
			}
			lc.byAction[tr.On] = append(lc.byAction[tr.On], tr)
		}
		for _, t := range lc.Types {
			byType[t] = lc
		}
	}
}

// For returns the lifecycle of a task type, or nil for an unknown type.
func For(t Type) *Lifecycle { return byType[t] }

// Candidates returns the transitions declared for an action, in order.
func (lc *Lifecycle) Candidates(a Action) []*Transition { return lc.byAction[a] }

// TimerFor returns the timer definition of a kind.
func (lc *Lifecycle) TimerFor(kind string) (TimerDef, bool) {
	for _, d := range lc.Timers {
		if d.Kind == kind {
			return d, true
		}
	}
	return TimerDef{}, false
}
