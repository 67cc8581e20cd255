package task

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
)

// Command asks for an action on a task (or, with ActCreate, for a new one).
type Command struct {
	Action  Action            `json:"action" yaml:"action"`
	Actor   Actor             `json:"actor" yaml:"actor"`
	TaskID  string            `json:"task_id,omitempty" yaml:"task_id"`
	OrderID string            `json:"order_id,omitempty" yaml:"order_id"`
	Type    Type              `json:"type,omitempty" yaml:"type"`
	Reply   *Reply            `json:"reply,omitempty" yaml:"reply"`
	Outcome string            `json:"outcome,omitempty" yaml:"outcome"`
	Text    string            `json:"text,omitempty" yaml:"text"`
	Details map[string]string `json:"details,omitempty" yaml:"details"`
	// Reason is recorded on the event (e.g. the fact id that caused it).
	Reason string `json:"reason,omitempty" yaml:"reason"`
	// Judgment is an agent's judgment of an intervened task (ActJudge).
	Judgment *Judgment `json:"judgment,omitempty" yaml:"judgment"`
	// Refund is the buyer's refund reason and remedy, on creation (R-EVD-5).
	Refund *RefundRequest `json:"refund,omitempty" yaml:"refund"`
	// Evidence given with a refusal or provide_evidence (R-EVD-1, R-EVD-4).
	Evidence *EvidenceInput `json:"evidence,omitempty" yaml:"evidence"`
	// ContinueRefusing confirms a refusal without evidence (R-EVD-2).
	ContinueRefusing bool `json:"continue_refusing,omitempty" yaml:"continue_refusing"`
	// EvidenceRequest asks for a second round of evidence (R-EVD-4).
	EvidenceRequest *EvidenceRequest `json:"evidence_request,omitempty" yaml:"evidence_request"`
	// Mark is an agent's finding on an evidence item (R-EVD-3).
	Mark *EvidenceMark `json:"mark,omitempty" yaml:"mark"`
}

// Judgment is what an agent decided on an intervened task by the dispute
// rules: whether the seller is liable (商家有责, R-LIA-1) and whether
// evidence was forged, in a general or a serious case (R-COL-6).
type Judgment struct {
	Liable bool   `json:"liable" yaml:"liable"`
	Forged string `json:"forged,omitempty" yaml:"forged"` // "", general, serious
}

// Forged-evidence findings.
const (
	ForgedGeneral = "general"
	ForgedSerious = "serious"
)

// Input is everything Decide needs; the engine loads it.
type Input struct {
	Task    *Task // nil for ActCreate
	Cmd     Command
	Order   *commerce.Order
	Shop    *commerce.Shop
	Account *commerce.Account // the acting shop account, for shop roles
	Rules   *policy.RuleSet
	Now     time.Time
	// EvidenceID is the id for the evidence item the command gives, and
	// Attachments the uploads it names, resolved and checked by the engine.
	EvidenceID  string
	Attachments []Attachment
	// Evidence are the task's evidence items (loaded for mark_evidence).
	Evidence []EvidenceItem
}

// Decision is what Decide concluded: the task's new projection, the event to
// append, timers to start and stop, and effects for the engine to carry out.
type Decision struct {
	Task  Task
	Event Event
	Start []Timer  // Subject is the task id ("" on create: the engine fills it)
	Stop  []string // timer kinds to stop
	// Carried are timer kinds that keep running across the state change
	// (TimerDef.Through, R-INV-4): the engine must stop only Stop's kinds,
	// not every timer of the task.
	Carried []string
	Effects []Effect
	// Data is the event's payload; the engine encodes it into Event.Data
	// when it writes, so the pure decision does no JSON work.
	Data any
	// Evidence are new evidence items to store; Marked an item an agent marked.
	Evidence []EvidenceItem
	Marked   *EvidenceItem
}

// Decide runs the lifecycle of the task's type for one command. It is pure:
// no I/O, no clock. A refusal is an *apperr.Error naming the rule.
func Decide(in *Input) (Decision, error) {
	if in.Cmd.Action == ActCreate {
		return decideCreate(in)
	}
	t := in.Task
	if t == nil {
		return Decision{}, apperr.NotFound("task_id", "no task %q", in.Cmd.TaskID)
	}
	lc := For(t.Type)
	if lc == nil {
		return Decision{}, apperr.Invalid("type", "", "unknown task type %q", t.Type)
	}
	if !t.State.Open() {
		return Decision{}, apperr.Conflict("task.completed", "R-ST-4", "task %s is completed; %s is no longer possible", t.ID, in.Cmd.Action)
	}
	cands := lc.Candidates(in.Cmd.Action)
	if len(cands) == 0 {
		return Decision{}, apperr.Invalid("action", "", "action %q does not exist for %s tasks", in.Cmd.Action, t.Type)
	}
	var inState []*Transition
	for _, tr := range cands {
		if slices.Contains(tr.From, t.State) {
			inState = append(inState, tr)
		}
	}
	if len(inState) == 0 {
		return Decision{}, apperr.Conflict("task.state", cands[0].Rule,
			"task %s is %s; %s is allowed only when %s", t.ID, t.State, in.Cmd.Action, statesOf(cands))
	}
	if err := checkActor(in, inState[0].By); err != nil {
		return Decision{}, err
	}
	var refusal error
	for _, tr := range inState {
		ok, why := guardHolds(tr.Guard, in)
		if ok {
			return apply(in, lc, tr), nil
		}
		if refusal == nil {
			refusal = why
		}
	}
	return Decision{}, refusal
}

func statesOf(trs []*Transition) string {
	seen := map[State]bool{}
	s := ""
	for _, tr := range trs {
		for _, st := range tr.From {
			if !seen[st] {
				if s != "" {
					s += " or "
				}
				s += string(st)
				seen[st] = true
			}
		}
	}
	return s
}

// checkActor enforces who may act: the role is listed on the transition, a
// buyer acts on their own tasks, a shop account on its own shop's, and a
// sub-account only with the platform-task permission (R-ACC-1).
func checkActor(in *Input, allowed []Role) error {
	a := in.Cmd.Actor
	if !slices.Contains(allowed, a.Role) {
		return apperr.Forbidden("role", "R-ACC-1", "%s may not %s (allowed: %v)", a.Role, in.Cmd.Action, allowed)
	}
	shopID, buyerID := "", ""
	if in.Task != nil {
		shopID, buyerID = in.Task.ShopID, in.Task.BuyerID
	} else if in.Order != nil {
		shopID, buyerID = in.Order.ShopID, in.Order.BuyerID
	}
	switch a.Role {
	case RoleBuyer:
		if a.ID != buyerID {
			return apperr.Forbidden("not_your_order", "", "buyer %s is not the buyer of this order", a.ID)
		}
	case RoleShopMain, RoleShopSub:
		acc := in.Account
		if acc == nil || acc.ID != a.ID || acc.ShopID != shopID {
			return apperr.Forbidden("not_your_shop", "", "account %s does not belong to shop %s", a.ID, shopID)
		}
		if (a.Role == RoleShopMain) != (acc.Role == commerce.RoleMain) {
			return apperr.Forbidden("role", "", "account %s is a %s account, not %s", a.ID, acc.Role, a.Role)
		}
		if !acc.Has(commerce.PermPlatformTask) {
			return apperr.Forbidden("permission.platform_task", "R-ACC-1",
				"sub-account %s lacks the platform-task permission (子账号管理 → 客户服务平台权限 → 服务待办 → 平台任务)", a.ID)
		}
	}
	return nil
}

// guardHolds evaluates a named guard; when it does not hold it says why.
func guardHolds(g Guard, in *Input) (bool, error) {
	t := in.Task
	switch g {
	case GuardNone:
		return true, nil
	case GuardRefuseFree, GuardRefuseWithEvidence, GuardRefuseContinue, GuardEvidenceTask, GuardEvidenceRequest,
		GuardEvidenceMark, GuardEvidenceDefault:
		return evidenceGuard(g, in)
	case GuardNoOpenComplaint:
		return t.OpenComplaints == 0, nil
	case GuardOpenComplaint:
		return t.OpenComplaints > 0, nil
	case GuardCompletionPend:
		// Evaluated on complaint_finished before apply decrements the count,
		// so "the last open complaint" is OpenComplaints <= 1 here.
		return t.CompletionPending != "" && t.OpenComplaints <= 1, nil
	case GuardJudgeable:
		j := in.Cmd.Judgment
		if j == nil {
			return false, apperr.Invalid("judgment", "R-SLA-4", "a judgment says whether the seller is liable")
		}
		if j.Forged != "" && j.Forged != ForgedGeneral && j.Forged != ForgedSerious {
			return false, apperr.Invalid("judgment.forged", "R-COL-6", "forged must be general or serious, not %q", j.Forged)
		}
		if in.Order != nil && in.Order.WorryFree {
			return false, apperr.Conflict("worry_free.no_judgment", "R-COL-5",
				"order %s is a worry-free purchase (无忧购): it follows its own process, with no dispute judgment", in.Order.ID)
		}
		return true, nil
	case GuardAfterFinal:
		return t.AfterFinalDeadline, nil
	case GuardBeforeFinal:
		return !t.AfterFinalDeadline, nil
	case GuardConfirmAccepts:
		return in.Rules.Tasks.BuyerConfirmTimeout != "intervene", nil
	case GuardConfirmIntervene:
		return in.Rules.Tasks.BuyerConfirmTimeout == "intervene", nil
	case GuardAgentMessageType:
		if slices.Contains(in.Rules.Messages.AgentMessageTypes, string(t.Type)) {
			return true, nil
		}
		return false, apperr.Forbidden("message_agent.type", "R-MSG-1",
			"messages to the agent are open for %v tasks while the platform intervenes, not for %s (policy %s)",
			in.Rules.Messages.AgentMessageTypes, t.Type, in.Rules.Version)
	case GuardContactAfter:
		r := in.Cmd.Reply
		if r == nil || r.ContactedAt == nil {
			return false, apperr.Invalid("reply.contacted_at", "R-COL-3", "the reply must say when the buyer was contacted")
		}
		if r.ContactedAt.Before(t.CreatedAt) {
			return false, apperr.Invalid("reply.contacted_at", "R-COL-3",
				"contact at %s is before the task was created (%s): contact must happen after creation",
				r.ContactedAt.UTC().Format(time.RFC3339), t.CreatedAt.UTC().Format(time.RFC3339))
		}
		if r.ContactedAt.After(in.Now) {
			return false, apperr.Invalid("reply.contacted_at", "R-COL-3", "contact time %s is in the future", r.ContactedAt.UTC().Format(time.RFC3339))
		}
		if cs := in.Rules.Collaborative.ContactChannels; r.Channel != "" && !slices.Contains(cs, r.Channel) {
			return false, apperr.Invalid("reply.channel", "R-COL-3", "contact channel must be one of %s, got %q (policy %s)",
				strings.Join(cs, ", "), r.Channel, in.Rules.Version)
		}
		if in.Cmd.Action == ActCollabUnreachable {
			// "多次联系不上": several attempts, at least the policy's minimum.
			if least := in.Rules.Collaborative.UnreachableMinAttempts; r.Attempts < least {
				return false, apperr.Invalid("reply.attempts", "R-COL-3",
					"an unreachable reply states the contact attempts made, at least %d (多次联系不上); got %d (policy %s)", least, r.Attempts, in.Rules.Version)
			}
			if len(r.Evidence) == 0 {
				return false, apperr.Invalid("reply.evidence", "R-COL-3", "an unreachable reply needs contact evidence")
			}
		}
		return true, nil
	}
	return false, apperr.New(apperr.EINTERNAL, "guard", "", "", "unknown guard %q", g)
}

func decideCreate(in *Input) (Decision, error) {
	c := in.Cmd
	lc := For(c.Type)
	if lc == nil {
		return Decision{}, apperr.Invalid("type", "", "unknown task type %q", c.Type)
	}
	o := in.Order
	if o == nil {
		return Decision{}, apperr.NotFound("order_id", "no order %q", c.OrderID)
	}
	if !in.Rules.Tasks.TypeEnabled(string(c.Type)) {
		return Decision{}, apperr.Invalid("type", "", "%s tasks do not run on %s (policy %s)", c.Type, in.Rules.Platform, in.Rules.Version)
	}
	if err := checkActor(in, lc.CreatedBy); err != nil {
		return Decision{}, err
	}
	refund, err := checkRefundRequest(&c, in.Rules)
	if err != nil {
		return Decision{}, err
	}
	t := Task{
		Type: c.Type, State: lc.Initial, OrderID: o.ID, ShopID: o.ShopID, BuyerID: o.BuyerID,
		Platform: string(in.Rules.Platform), CreatedAt: in.Now, UpdatedAt: in.Now,
		PolicyVersion: in.Rules.Version, Details: c.Details, Refund: refund, Rev: 1,
	}
	rule := "R-SLA-1"
	switch c.Type {
	case UrgeShipment:
		out, err := EvaluateUrge(o, in.Shop, in.Rules, in.Now)
		if err != nil {
			return Decision{}, err
		}
		if out != UrgeCreate {
			return Decision{}, apperr.Conflict("urge.within_deadline", "R-URG-3", "order %s is within its shipping deadline: urging marks it, no task", o.ID)
		}
		rule = "R-URG-1"
	case LogisticsStall:
		if err := CheckStall(o, in.Rules, in.Now); err != nil {
			return Decision{}, err
		}
		rule = "R-LOG-2"
	case UrgeInvoice:
		after, err := CheckInvoiceChase(o, in.Now)
		if err != nil {
			return Decision{}, err
		}
		t.AfterFinalDeadline = after
		if after {
			by := in.Now.Add(in.Rules.Invoice.AfterFinalIssueWithin.D())
			t.IssueBy = &by
		}
		rule = "R-INV-4"
	case Collaborative:
		rule = "R-COL-1"
	}
	d := Decision{Task: t, Effects: []Effect{EffNotifyCreated}}
	d.Start = startTimers(lc, in.Rules, &d.Task, "", lc.Initial, in.Now)
	d.Event = Event{
		OrderID: o.ID, ShopID: o.ShopID, At: in.Now, Actor: c.Actor, Action: string(ActCreate),
		To: lc.Initial, Reason: c.Reason, Rule: rule, PolicyVersion: in.Rules.Version, Visibility: Public,
	}
	if refund != nil {
		d.Data = map[string]any{"details": c.Details, "refund": refund}
	} else if len(c.Details) > 0 {
		d.Data = c.Details
	}
	return d, nil
}

// startTimers computes the timers that entering s from prev starts (prev ""
// on creation) and sets the task's DueAt to the earliest deadline running in
// s, counting a timer that runs through prev and s (TimerDef.Through), which
// keeps running and is not started again.
func startTimers(lc *Lifecycle, r *policy.RuleSet, t *Task, prev, s State, now time.Time) []Timer {
	var out []Timer
	t.DueAt = nil
	for _, def := range lc.Timers {
		if !def.runsIn(s) || def.ByAction {
			continue
		}
		due, ok := def.Due(r, t, now)
		if !ok {
			continue
		}
		if prev == "" || !def.runsIn(prev) {
			out = append(out, Timer{Subject: t.ID, Kind: def.Kind, DueAt: due, SetAt: now, PolicyVersion: r.Version})
		}
		if def.Kind != TimerRemind && (t.DueAt == nil || due.Before(*t.DueAt)) {
			d := due
			t.DueAt = &d
		}
	}
	return out
}

// carriedTimers lists the kinds of the timers that run in both from and to,
// so keep running across the move.
func carriedTimers(lc *Lifecycle, from, to State) []string {
	var out []string
	for _, def := range lc.Timers {
		if def.runsIn(from) && def.runsIn(to) {
			out = append(out, def.Kind)
		}
	}
	return out
}

// timerKinds lists the kinds of the timers running in from that moving to
// `to` stops (to "": every timer of the lifecycle).
func timerKinds(lc *Lifecycle, from, to State) []string {
	var out []string
	for _, def := range lc.Timers {
		if to == "" || (def.runsIn(from) && !def.runsIn(to)) {
			out = append(out, def.Kind)
		}
	}
	return out
}

func apply(in *Input, lc *Lifecycle, tr *Transition) Decision {
	t := *in.Task
	from := t.State
	c := in.Cmd
	d := Decision{Effects: tr.Effects}
	t.UpdatedAt = in.Now
	t.Rev++
	if tr.To != "" && tr.To != from {
		d.Stop = timerKinds(lc, from, tr.To)
		t.State = tr.To
		if tr.To == Completed {
			d.Stop = timerKinds(lc, from, "")
			t.DueAt = nil
			t.CompletionPending = ""
		} else {
			d.Start = startTimers(lc, in.Rules, &t, from, tr.To, in.Now)
			d.Carried = carriedTimers(lc, from, tr.To)
		}
	}
	if tr.To == Completed {
		switch {
		case c.Outcome != "":
			t.Outcome = c.Outcome
		case tr.Outcome != "":
			t.Outcome = tr.Outcome
		case from == PlatformIntervening && in.Task.CompletionPending != "":
			t.Outcome = in.Task.CompletionPending
		case in.Task.CompletionPending != "":
			t.Outcome = in.Task.CompletionPending
		default:
			t.Outcome = string(c.Action)
		}
	}
	for _, e := range tr.Effects {
		switch e {
		case EffPendComplete:
			t.CompletionPending = tr.Outcome
		case EffWaiveEvidence:
			t.EvidenceWaived = true
		}
	}
	if c.Action == ActComplaintFinished && t.OpenComplaints > 0 {
		t.OpenComplaints--
	}
	var data any
	switch c.Action {
	case ActBuyerComplaint:
		t.OpenComplaints++
		t.ComplaintIDs = append(slices.Clone(t.ComplaintIDs), c.Details["complaint_id"])
		data = c.Details
	case ActReply, ActProposePlan, ActRefuse, ActPerform, ActCollabAgreed, ActCollabNotAgreed, ActCollabUnreachable:
		r := Reply{Kind: string(c.Action), At: in.Now, By: c.Actor}
		if c.Reply != nil {
			r = *c.Reply
			r.Kind, r.At, r.By = string(c.Action), in.Now, c.Actor
		}
		if c.Text != "" && r.Text == "" {
			r.Text = c.Text
		}
		switch c.Action {
		case ActCollabAgreed:
			r.Outcome = "agreed"
		case ActCollabNotAgreed:
			r.Outcome = "not_agreed"
		case ActCollabUnreachable:
			r.Outcome = "unreachable"
		}
		if c.Action == ActRefuse {
			r.EvidenceRequired = requiresEvidence(in)
			r.ContinueRefusing = r.EvidenceRequired && c.Evidence == nil
			// The reply is public: it names only public evidence (R-MSG-2).
			if c.Evidence != nil && (c.Evidence.Visibility == "" || c.Evidence.Visibility == Public) {
				r.Evidence = append(slices.Clone(r.Evidence), in.EvidenceID)
			}
		}
		if c.Action != ActPerform {
			t.Reply = &r
		}
		data = &r
	case ActMessage, ActAgentNote:
		data = map[string]string{"text": c.Text}
	case ActResolve:
		data = map[string]string{"outcome": t.Outcome, "text": c.Text}
	case ActJudge:
		t.Outcome = "seller_not_liable"
		if c.Judgment.Liable {
			t.Outcome = "seller_liable"
		}
		data = map[string]any{"outcome": t.Outcome, "judgment": c.Judgment, "text": c.Text}
	}
	edata, vis := applyEvidence(in, &t, &d)
	if edata != nil {
		data = edata
	}
	if vis == "" {
		vis = tr.Visibility
	}
	d.Task = t
	d.Event = Event{
		Stream: t.ID, TaskID: t.ID, OrderID: t.OrderID, ShopID: t.ShopID, At: in.Now, Actor: c.Actor,
		Action: string(c.Action), From: from, To: t.State, Reason: c.Reason, Rule: tr.Rule,
		PolicyVersion: in.Rules.Version, Visibility: vis,
	}
	d.Data = data
	return d
}

// UrgeOutcome is what pressing "urge shipment" does to an order.
type UrgeOutcome int

// Urge outcomes.
const (
	UrgeMark   UrgeOutcome = iota + 1 // R-URG-3: within the deadline: mark the order "urged", no task
	UrgeCreate                        // R-URG-1: after the deadline: create an urge_shipment task
)

// EvaluateUrge decides what an urge does (R-URG-1..3). A refusal names the
// exemption of R-URG-2 that applied, in the field Reason ("urge.exempt.region" …).
func EvaluateUrge(o *commerce.Order, shop *commerce.Shop, r *policy.RuleSet, now time.Time) (UrgeOutcome, error) {
	if o.Shipped() {
		return 0, apperr.Conflict("order.shipped", "R-URG-1", "order %s has shipped; there is nothing to urge", o.ID)
	}
	if o.FullyRefunded() {
		return 0, apperr.Conflict("order.refunded", "R-URG-1", "order %s was refunded; there is nothing to urge", o.ID)
	}
	if !now.After(o.ShipBy) {
		return UrgeMark, nil
	}
	u := &r.Urge
	for _, w := range u.ExemptRegions {
		if !w.Contains(now) {
			continue
		}
		if w.Region == o.BuyerRegion || (shop != nil && w.Region == shop.ShipFromRegion) {
			return 0, apperr.New(apperr.ECONFLICT, "urge.exempt.region", "", "R-URG-2",
				"exemption (1): region %s is exempt at this time (policy %s); no task is created", w.Region, r.Version)
		}
	}
	if u.HonorDelayReports && o.DelayReport != nil && o.DelayReport.Approved && !now.After(o.DelayReport.ReportedShipBy) {
		return 0, apperr.New(apperr.ECONFLICT, "urge.exempt.delay_report", "", "R-URG-2",
			"exemption (2): the shop's approved delay report allows shipping until %s; no task is created",
			o.DelayReport.ReportedShipBy.UTC().Format(time.RFC3339))
	}
	for _, it := range o.Items {
		for _, flag := range u.ExemptItemFlags {
			if (flag == "custom" && it.Custom) || (flag == "virtual" && it.Virtual) {
				return 0, apperr.New(apperr.ECONFLICT, "urge.exempt.category", "", "R-URG-2",
					"exemption (3): item %s is in a %s category; no task is created", it.SKU, flag)
			}
		}
	}
	if u.RequireComplaint && o.Complaints == 0 {
		return 0, apperr.New(apperr.ECONFLICT, "urge.exempt.no_complaint", "", "R-URG-2",
			"exemption (4): the order has no complaint yet, and policy %s creates urge tasks only for orders with one", r.Version)
	}
	if o.Presale != commerce.PresaleNone && slices.Contains(u.ExemptPresale, string(o.Presale)) {
		return 0, apperr.New(apperr.ECONFLICT, "urge.exempt.presale", "", "R-URG-2",
			"exemption (5): %s presale orders create no urge task under policy %s", o.Presale, r.Version)
	}
	return UrgeCreate, nil
}

// StallThreshold is how long without a tracking update makes the order's parcel stalled (R-LOG-1).
func StallThreshold(o *commerce.Order, r *policy.RuleSet) time.Duration {
	if o.RemoteArea {
		return r.Logistics.StallAfterRemote.D()
	}
	return r.Logistics.StallAfter.D()
}

// Stalled reports whether the parcel is stalled at now: shipped, not signed,
// and no tracking update for more than the threshold (R-LOG-1).
func Stalled(o *commerce.Order, r *policy.RuleSet, now time.Time) bool {
	return CheckStall(o, r, now) == nil
}

// CheckStall says why a stall report is refused, or nil when the parcel is
// stalled and may be reported (R-LOG-2).
func CheckStall(o *commerce.Order, r *policy.RuleSet, now time.Time) error {
	if !o.Shipped() || o.LastTrackingAt == nil {
		return apperr.Conflict("logistics.unshipped", "R-LOG-2", "order %s has not shipped; there is no parcel to report", o.ID)
	}
	if o.SignedAt != nil {
		return apperr.Conflict("logistics.signed", "R-LOG-2", "the parcel of order %s was signed for", o.ID)
	}
	th := StallThreshold(o, r)
	if now.Sub(*o.LastTrackingAt) <= th {
		area := "normal"
		if o.RemoteArea {
			area = "remote"
		}
		return apperr.New(apperr.ECONFLICT, "logistics.not_stalled", "", "R-LOG-2",
			"the parcel is not stalled: last tracking update %s, stalled only after more than %s (%s area, policy %s)",
			o.LastTrackingAt.UTC().Format(time.RFC3339), fmtHours(th), area, r.Version)
	}
	return nil
}

func fmtHours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// CheckInvoiceChase says whether the buyer may chase the order's invoice
// (requested, not issued: R-INV-1) and whether it is past the final deadline (R-INV-4).
func CheckInvoiceChase(o *commerce.Order, now time.Time) (afterFinal bool, err error) {
	inv := o.Invoice
	if inv == nil {
		return false, apperr.Conflict("invoice.not_requested", "R-INV-1", "no invoice was requested for order %s", o.ID)
	}
	if inv.IssuedAt != nil {
		return false, apperr.Conflict("invoice.issued", "R-INV-5", "the invoice for order %s was already issued", o.ID)
	}
	return inv.SecondTimeout || (!inv.SecondTimeoutAt.IsZero() && !now.Before(inv.SecondTimeoutAt)), nil
}
