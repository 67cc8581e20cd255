package task

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/policy"
)

// This file is the refusal evidence part of the lifecycles (拒绝退款举证,
// seed 002, R-EVD-1..5): refund requests with a reason and a remedy, refusals
// that must carry evidence, evidence items, the second round of evidence and
// the platform's default judgment when the seller's evidence is missing or
// invalid.

// Evidence actions.
const (
	ActProvideEvidence      Action = "provide_evidence"       // a side gives evidence (round 1, or the second round it was asked for: R-EVD-4)
	ActRequestEvidence      Action = "request_evidence"       // an agent asks for a second round (二次举证, R-EVD-4)
	ActMarkEvidence         Action = "mark_evidence"          // an agent marks an item valid or invalid (R-EVD-3)
	ActOpenRemedy           Action = "open_remedy"            // the platform opens the remedy asked and judges the seller liable (R-EVD-3)
	ActShopEvidenceTimeout  Action = "evidence_timeout_shop"  // the shop's second round was not provided in time (R-EVD-4 → R-EVD-3)
	ActBuyerEvidenceTimeout Action = "evidence_timeout_buyer" // the buyer's second round was not provided in time (R-EVD-4)
)

// EffOpenRemedy tells the order system to open the remedy the buyer asked
// for: an outbox instruction and an order-stream event (R-EVD-3).
const EffOpenRemedy Effect = "open_remedy"

// Evidence guards.
const (
	GuardRefuseFree         Guard = "refuse_without_requirement" // no evidence requirement applies (R-EVD-1 not hit)
	GuardRefuseWithEvidence Guard = "refuse_with_evidence"       // the requirement applies and evidence is attached (R-EVD-1)
	GuardRefuseContinue     Guard = "refuse_continue"            // the requirement applies, no evidence, continue_refusing (R-EVD-2)
	GuardEvidenceTask       Guard = "evidence_task"              // a refund-family or exchange task with valid evidence input
	GuardEvidenceRequest    Guard = "evidence_request"           // R-EVD-4: a valid second-round request
	GuardEvidenceMark       Guard = "evidence_mark"              // a valid mark of an item of the task
	GuardEvidenceDefault    Guard = "evidence_default"           // R-EVD-3 applies: judgeable and a default basis is recorded
)

// Second-round timer kinds: one per side, started by request_evidence.
const (
	TimerEvidenceShop  = "evidence_shop"
	TimerEvidenceBuyer = "evidence_buyer"
)

// Side is who an evidence item comes from.
type Side string

// Sides.
const (
	SideBuyer Side = "buyer"
	SideShop  Side = "shop"
	SideAgent Side = "agent"
)

// SideOf returns the side a role acts for ("" for the system).
func SideOf(r Role) Side {
	switch r {
	case RoleBuyer:
		return SideBuyer
	case RoleShopMain, RoleShopSub:
		return SideShop
	case RoleAgent:
		return SideAgent
	}
	return ""
}

// Bases of the platform's default judgment (R-EVD-3).
const (
	DefaultNoEvidence        = "refused_without_evidence" // continued refusing without evidence (R-EVD-2)
	DefaultInvalidEvidence   = "invalid_evidence"         // an agent marked the shop's evidence invalid
	DefaultSecondRoundMissed = "second_round_missed"      // the shop did not provide the second round in time (R-EVD-4)
)

// RefundRequest is what the buyer asked for: the refund reason (a code of
// the policy's evidence table, R-EVD-5) and the remedy (return_refund,
// refund_only or exchange).
type RefundRequest struct {
	Reason string `json:"reason" yaml:"reason"`
	Remedy string `json:"remedy,omitempty" yaml:"remedy"`
}

// EvidenceInput is evidence given with a refusal or a provide_evidence action.
type EvidenceInput struct {
	Description string `json:"description" yaml:"description"`
	// Attachments are ids of attachments uploaded to the task by the same side.
	Attachments []string `json:"attachments,omitempty" yaml:"attachments"`
	// Visibility: buyers give public evidence; shops public or shop_agent
	// (default public); agents any (default agent_only).
	Visibility Visibility `json:"visibility,omitempty" yaml:"visibility"`
}

// EvidenceRequest is an agent's request for a second round (R-EVD-4).
type EvidenceRequest struct {
	Sides []Side `json:"sides" yaml:"sides"`
	Text  string `json:"text,omitempty" yaml:"text"`
}

// EvidenceMark is an agent's finding on one evidence item.
type EvidenceMark struct {
	ItemID string `json:"item_id" yaml:"item_id"`
	Valid  bool   `json:"valid" yaml:"valid"`
	Note   string `json:"note,omitempty" yaml:"note"`
}

// Attachment is an uploaded evidence file: its bytes are stored apart,
// content-addressed by SHA256; this is what is known about it.
type Attachment struct {
	ID          string    `json:"id"`
	TaskID      string    `json:"task_id"`
	ItemID      string    `json:"item_id,omitempty"` // the evidence item it belongs to, once attached
	Name        string    `json:"name,omitempty"`
	ContentType string    `json:"content_type"` // sniffed from the bytes
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"` // hex
	Side        Side      `json:"side"`
	UploadedBy  Actor     `json:"uploaded_by"`
	At          time.Time `json:"at"`
}

// EvidenceItem is one piece of evidence on a task.
type EvidenceItem struct {
	ID          string       `json:"id"`
	TaskID      string       `json:"task_id"`
	Side        Side         `json:"side"`
	By          Actor        `json:"by"`
	Description string       `json:"description"`
	Attachments []Attachment `json:"attachments"`
	Visibility  Visibility   `json:"visibility"`
	At          time.Time    `json:"at"`
	// Round is 1 for evidence given at refusal or on the party's own
	// initiative, 2 for a second round an agent asked for (R-EVD-4).
	Round int `json:"round"`
	// AtRefusal marks evidence given with the refusal (R-EVD-1, used in the intervention: R-EVD-4).
	AtRefusal bool `json:"at_refusal,omitempty"`
	// Valid is an agent's finding: nil until marked.
	Valid    *bool      `json:"valid,omitempty"`
	MarkedBy *Actor     `json:"marked_by,omitempty"`
	MarkedAt *time.Time `json:"marked_at,omitempty"`
	MarkNote string     `json:"mark_note,omitempty"`
	// PolicyVersion in force when it was given.
	PolicyVersion string `json:"policy_version"`
}

// VisibleTo reports whether a viewer side sees an item of visibility v
// (R-MSG-2: a buyer sees only public; a shop public and shop_agent).
func VisibleTo(v Visibility, viewer Side) bool {
	switch viewer {
	case SideAgent:
		return true
	case SideShop:
		return v == Public || v == ShopAgent
	case SideBuyer:
		return v == Public
	}
	return false
}

// EvidenceState is the task's evidence projection.
type EvidenceState struct {
	// Required: the seller's refusal hit an evidence-required scenario (R-EVD-1).
	Required bool `json:"required,omitempty"`
	// RefusalItems is how many items came with the refusal.
	RefusalItems int `json:"refusal_items,omitempty"`
	// ContinuedWithout: the seller confirmed "continue refusing" without evidence (R-EVD-2).
	ContinuedWithout bool `json:"continued_without_evidence,omitempty"`
	// ShopValid counts the shop's items not marked invalid.
	ShopValid int `json:"shop_valid,omitempty"`
	// Default is why the platform applies R-EVD-3 (opens the remedy and
	// judges the seller liable): refused_without_evidence, invalid_evidence
	// or second_round_missed; "" while it does not apply.
	Default string `json:"default,omitempty"`
	// Rounds are the second rounds asked for (R-EVD-4).
	Rounds []EvidenceRound `json:"rounds,omitempty"`
}

// EvidenceRound is a second round asked of one side.
type EvidenceRound struct {
	Side        Side       `json:"side"`
	RequestedAt time.Time  `json:"requested_at"`
	RequestedBy Actor      `json:"requested_by"`
	DueAt       time.Time  `json:"due_at"`
	Text        string     `json:"text,omitempty"`
	ProvidedAt  *time.Time `json:"provided_at,omitempty"`
	Missed      bool       `json:"missed,omitempty"`
}

// Open reports whether the round still waits for evidence.
func (r *EvidenceRound) Open() bool { return r.ProvidedAt == nil && !r.Missed }

// openRound returns the side's open second round, if any.
func (s *EvidenceState) openRound(side Side) *EvidenceRound {
	if s == nil {
		return nil
	}
	for i := range s.Rounds {
		if s.Rounds[i].Side == side && s.Rounds[i].Open() {
			return &s.Rounds[i]
		}
	}
	return nil
}

// EvidenceFamily reports whether a task type takes refund requests and
// refusal evidence: the refund family and exchange.
func EvidenceFamily(t Type) bool {
	return t == Exchange || (For(t) != nil && For(t).Family == "refund")
}

// RemediesFor lists the remedies a buyer may ask on a task type, the default first.
func RemediesFor(t Type) []string {
	switch t {
	case ReturnRefund:
		return []string{policy.RemedyReturnRefund, policy.RemedyRefundOnly}
	case Exchange:
		return []string{policy.RemedyExchange}
	case PresaleDepositRefund, PostageRefund:
		return []string{policy.RemedyRefundOnly}
	}
	return nil
}

// checkRefundRequest validates a creation's refund request against the
// type and the rules' reason table (R-EVD-5), and fills the default remedy.
func checkRefundRequest(c *Command, r *policy.RuleSet) (*RefundRequest, error) {
	if c.Refund == nil {
		return nil, nil
	}
	if !EvidenceFamily(c.Type) {
		return nil, apperr.Invalid("refund", "R-EVD-5", "%s tasks take no refund request (only %s, %s, %s and %s)",
			c.Type, PresaleDepositRefund, ReturnRefund, PostageRefund, Exchange)
	}
	rr := *c.Refund
	if _, ok := r.Evidence.Reason(rr.Reason); !ok {
		return nil, apperr.Invalid("reason", "R-EVD-5", "unknown refund reason %q (policy %s knows: %s)",
			rr.Reason, r.Version, strings.Join(r.Evidence.ReasonCodes(), ", "))
	}
	allowed := RemediesFor(c.Type)
	if rr.Remedy == "" {
		rr.Remedy = allowed[0]
	} else if !slices.Contains(allowed, rr.Remedy) {
		return nil, apperr.Invalid("remedy", "R-EVD-3", "a %s task may ask for %s, not %q", c.Type, strings.Join(allowed, " or "), rr.Remedy)
	}
	return &rr, nil
}

// remedyOf is the remedy the platform opens for a task (R-EVD-3).
func remedyOf(t *Task) string {
	if t.Refund != nil && t.Refund.Remedy != "" {
		return t.Refund.Remedy
	}
	if rs := RemediesFor(t.Type); len(rs) > 0 {
		return rs[0]
	}
	return policy.RemedyRefundOnly
}

// EvidenceRequiredData is the data of an evidence.required refusal: the
// scenario and its example evidence in both languages (R-EVD-1), and the
// two ways on (R-EVD-2).
type EvidenceRequiredData struct {
	Reason     string        `json:"reason"`
	ReasonName policy.Text   `json:"reason_name"`
	Examples   []policy.Text `json:"examples"`
	Options    []string      `json:"options"`
}

// ForLang returns the data with the names and examples in lang as well.
func (d *EvidenceRequiredData) ForLang(lang string) any {
	ex := make([]string, len(d.Examples))
	for i, e := range d.Examples {
		ex[i] = e.In(lang)
	}
	return map[string]any{
		"reason": d.Reason, "reason_title": d.ReasonName.In(lang), "example_evidence": ex,
		"reason_name": d.ReasonName, "examples": d.Examples, "options": d.Options,
	}
}

// requiresEvidence reports whether a refusal now hits an evidence-required scenario (R-EVD-1).
func requiresEvidence(in *Input) bool {
	t := in.Task
	return t.Refund != nil && in.Rules.Evidence.RequiresEvidence(t.Refund.Reason, in.Now)
}

// checkEvidenceInput validates the evidence of a command, if any.
func checkEvidenceInput(in *Input) error {
	ev := in.Cmd.Evidence
	if ev == nil {
		return nil
	}
	if strings.TrimSpace(ev.Description) == "" && len(ev.Attachments) == 0 {
		return apperr.Invalid("evidence.description", "R-EVD-1", "evidence needs a description or attachments")
	}
	side := SideOf(in.Cmd.Actor.Role)
	switch v := ev.Visibility; {
	case v == "":
	case side == SideBuyer && v != Public:
		return apperr.Invalid("evidence.visibility", "R-MSG-2", "a buyer's evidence is public (the buyer sees what they give), not %s", v)
	case side == SideShop && v != Public && v != ShopAgent:
		return apperr.Invalid("evidence.visibility", "R-MSG-2", "a shop's evidence is public or shop_agent, not %q", v)
	case side == SideAgent && v != Public && v != ShopAgent && v != AgentsOnly:
		return apperr.Invalid("evidence.visibility", "R-MSG-2", "visibility is public, shop_agent or agent_only, not %q", v)
	}
	if len(in.Attachments) != len(ev.Attachments) {
		return apperr.Invalid("evidence.attachments", "", "%d attachments named, %d resolved", len(ev.Attachments), len(in.Attachments))
	}
	return nil
}

// newItem builds the evidence item of a command (the engine gave its id).
func newItem(in *Input, t *Task, round int, atRefusal bool) *EvidenceItem {
	ev := in.Cmd.Evidence
	side := SideOf(in.Cmd.Actor.Role)
	vis := ev.Visibility
	if vis == "" {
		vis = Public
		if side == SideAgent {
			vis = AgentsOnly
		}
	}
	atts := make([]Attachment, len(in.Attachments))
	copy(atts, in.Attachments)
	for i := range atts {
		atts[i].ItemID = in.EvidenceID
	}
	return &EvidenceItem{ID: in.EvidenceID, TaskID: t.ID, Side: side, By: in.Cmd.Actor, Description: ev.Description,
		Attachments: atts, Visibility: vis, At: in.Now, Round: round, AtRefusal: atRefusal, PolicyVersion: in.Rules.Version}
}

// evidenceGuard evaluates the evidence guards.
func evidenceGuard(g Guard, in *Input) (bool, error) {
	t, c := in.Task, in.Cmd
	switch g {
	case GuardRefuseFree:
		if requiresEvidence(in) {
			return false, nil
		}
		err := checkEvidenceInput(in)
		return err == nil, err
	case GuardRefuseWithEvidence:
		if c.Evidence == nil {
			return false, nil
		}
		err := checkEvidenceInput(in)
		return err == nil, err
	case GuardRefuseContinue:
		if c.ContinueRefusing {
			return true, nil
		}
		reason, _ := in.Rules.Evidence.Reason(t.Refund.Reason)
		ex := make([]string, len(reason.Examples))
		for i, e := range reason.Examples {
			ex[i] = e.EN
		}
		e := apperr.New(apperr.ECONFLICT, "evidence.required", "evidence", "R-EVD-1",
			"refusing a %q (%s) refund needs evidence (policy %s); example evidence: %s. Attach evidence, or resend with continue_refusing: true (R-EVD-2): without evidence the platform opens the buyer's %s on intervention and judges the seller liable (R-EVD-3)",
			t.Refund.Reason, reason.Name.EN, in.Rules.Version, strings.Join(ex, "; "), remedyOf(t))
		e.Data = &EvidenceRequiredData{Reason: t.Refund.Reason, ReasonName: reason.Name, Examples: reason.Examples,
			Options: []string{"provide_evidence", "continue_refusing"}}
		return false, e
	case GuardEvidenceTask:
		if !EvidenceFamily(t.Type) {
			return false, apperr.Invalid("action", "R-EVD-4", "%s is for refund-family and exchange tasks, not %s", c.Action, t.Type)
		}
		if c.Evidence == nil {
			return false, apperr.Invalid("evidence", "R-EVD-4", "provide_evidence needs evidence: a description and/or attachments")
		}
		if SideOf(c.Actor.Role) == SideAgent && t.State != PlatformIntervening {
			return false, apperr.Conflict("task.state", "R-EVD-4", "agents add evidence while the platform intervenes")
		}
		if r := t.Evidence.openRound(SideOf(c.Actor.Role)); r != nil && !in.Now.Before(r.DueAt) {
			return false, apperr.Conflict("evidence.round_expired", "R-EVD-4",
				"the second round for the %s was due at %s; it is missed", r.Side, r.DueAt.UTC().Format(time.RFC3339))
		}
		err := checkEvidenceInput(in)
		return err == nil, err
	case GuardEvidenceRequest:
		if !EvidenceFamily(t.Type) {
			return false, apperr.Invalid("action", "R-EVD-4", "%s is for refund-family and exchange tasks, not %s", c.Action, t.Type)
		}
		if in.Rules.Evidence == nil {
			return false, apperr.Conflict("evidence.no_policy", "R-EVD-4", "policy %s has no evidence rules", in.Rules.Version)
		}
		rq := c.EvidenceRequest
		if rq == nil || len(rq.Sides) == 0 {
			return false, apperr.Invalid("evidence_request.sides", "R-EVD-4", "name the side(s) asked for evidence: buyer, shop")
		}
		for i, s := range rq.Sides {
			field := fmt.Sprintf("evidence_request.sides[%d]", i)
			if s != SideBuyer && s != SideShop {
				return false, apperr.Invalid(field, "R-EVD-4", "a second round is asked of the buyer or the shop, not %q", s)
			}
			if slices.Contains(rq.Sides[:i], s) {
				return false, apperr.Invalid(field, "R-EVD-4", "%s is listed twice", s)
			}
			if t.Evidence != nil {
				for _, r := range t.Evidence.Rounds {
					if r.Side == s {
						return false, apperr.New(apperr.ECONFLICT, "evidence.round_exists", field, "R-EVD-4",
							"the %s was already asked for a second round at %s", s, r.RequestedAt.UTC().Format(time.RFC3339))
					}
				}
			}
		}
		return true, nil
	case GuardEvidenceMark:
		m := c.Mark
		if m == nil || m.ItemID == "" {
			return false, apperr.Invalid("mark.item_id", "R-EVD-3", "name the evidence item to mark")
		}
		for i := range in.Evidence {
			if in.Evidence[i].ID == m.ItemID {
				return true, nil
			}
		}
		return false, apperr.NotFound("mark.item_id", "task %s has no evidence item %q", t.ID, m.ItemID)
	case GuardEvidenceDefault:
		if t.Evidence == nil || t.Evidence.Default == "" {
			return false, apperr.Conflict("evidence.no_default", "R-EVD-3", "the seller's evidence is neither missing nor invalid")
		}
		return guardHolds(GuardJudgeable, in)
	}
	return false, apperr.New(apperr.EINTERNAL, "guard", "", "", "unknown guard %q", g)
}

// applyEvidence carries out the evidence part of a transition on the new
// projection t, returning the event data (nil to keep apply's) and the
// event's visibility override ("" to keep the row's).
func applyEvidence(in *Input, t *Task, d *Decision) (data any, vis Visibility) {
	c := in.Cmd
	ensure := func() *EvidenceState {
		if t.Evidence == nil {
			t.Evidence = &EvidenceState{}
		} else {
			cp := *t.Evidence
			cp.Rounds = slices.Clone(cp.Rounds)
			t.Evidence = &cp
		}
		return t.Evidence
	}
	switch c.Action {
	case ActRefuse:
		required := requiresEvidence(in)
		if !required && c.Evidence == nil {
			return nil, ""
		}
		es := ensure()
		es.Required = es.Required || required
		if c.Evidence != nil {
			it := newItem(in, t, 1, true)
			d.Evidence = append(d.Evidence, *it)
			es.RefusalItems++
			es.ShopValid++
		} else if required {
			es.ContinuedWithout = true
			es.Default = DefaultNoEvidence
		}
		return nil, ""
	case ActProvideEvidence:
		es := ensure()
		side := SideOf(c.Actor.Role)
		round := 1
		if r := es.openRound(side); r != nil {
			now := in.Now
			r.ProvidedAt, round = &now, 2
			d.Stop = append(d.Stop, timerKindFor(side))
			setEvidenceDue(t, es)
		}
		it := newItem(in, t, round, false)
		d.Evidence = append(d.Evidence, *it)
		if side == SideShop {
			es.ShopValid++
		}
		return map[string]any{"item_id": it.ID, "side": side, "round": round, "attachments": len(it.Attachments)}, it.Visibility
	case ActRequestEvidence:
		es := ensure()
		due := in.Now.Add(in.Rules.Evidence.SecondRoundDeadline.D())
		for _, s := range c.EvidenceRequest.Sides {
			es.Rounds = append(es.Rounds, EvidenceRound{Side: s, RequestedAt: in.Now, RequestedBy: c.Actor, DueAt: due, Text: c.EvidenceRequest.Text})
			d.Start = append(d.Start, Timer{Subject: t.ID, Kind: timerKindFor(s), DueAt: due, SetAt: in.Now, PolicyVersion: in.Rules.Version})
		}
		setEvidenceDue(t, es)
		return map[string]any{"sides": c.EvidenceRequest.Sides, "due_at": due, "text": c.EvidenceRequest.Text,
			"deadline": in.Rules.Evidence.SecondRoundDeadline.String()}, ""
	case ActMarkEvidence:
		es := ensure()
		m := c.Mark
		var it EvidenceItem
		shopValid := 0
		for _, x := range in.Evidence {
			if x.ID == m.ItemID {
				v, now, by := m.Valid, in.Now, c.Actor
				x.Valid, x.MarkedAt, x.MarkedBy, x.MarkNote = &v, &now, &by, m.Note
				it = x
			}
			if x.Side == SideShop && (x.Valid == nil || *x.Valid) {
				shopValid++
			}
		}
		d.Marked = &it
		es.ShopValid = shopValid
		if es.Required && it.Side == SideShop && !m.Valid && shopValid == 0 && es.Default == "" {
			es.Default = DefaultInvalidEvidence
		}
		return map[string]any{"item_id": it.ID, "side": it.Side, "valid": m.Valid, "note": m.Note}, ""
	case ActShopEvidenceTimeout, ActBuyerEvidenceTimeout:
		es := ensure()
		side := SideShop
		if c.Action == ActBuyerEvidenceTimeout {
			side = SideBuyer
		}
		r := es.openRound(side)
		if r == nil {
			return map[string]any{"side": side, "missed": false}, ""
		}
		r.Missed = true
		if side == SideShop && es.Default == "" {
			es.Default = DefaultSecondRoundMissed
		}
		setEvidenceDue(t, es)
		return map[string]any{"side": side, "missed": true, "due_at": r.DueAt}, ""
	case ActOpenRemedy:
		remedy := remedyOf(t)
		t.Outcome = remedy
		return map[string]any{"remedy": remedy, "basis": t.Evidence.Default, "judgment": c.Judgment, "text": c.Text}, ""
	}
	return nil, ""
}

func timerKindFor(s Side) string {
	if s == SideBuyer {
		return TimerEvidenceBuyer
	}
	return TimerEvidenceShop
}

// setEvidenceDue sets the task's DueAt to its earliest open second round.
func setEvidenceDue(t *Task, es *EvidenceState) {
	t.DueAt = nil
	for i := range es.Rounds {
		r := &es.Rounds[i]
		if r.Open() && (t.DueAt == nil || r.DueAt.Before(*t.DueAt)) {
			d := r.DueAt
			t.DueAt = &d
		}
	}
}

// evidenceTimers are the second-round deadlines (R-EVD-4): started by
// request_evidence, not on entering a state; stopped by the side's evidence
// or by leaving platform_intervening.
var evidenceTimers = []TimerDef{
	{Kind: TimerEvidenceShop, State: PlatformIntervening, ByAction: true, Fire: ActShopEvidenceTimeout, Rule: "R-EVD-4"},
	{Kind: TimerEvidenceBuyer, State: PlatformIntervening, ByAction: true, Fire: ActBuyerEvidenceTimeout, Rule: "R-EVD-4"},
}

// evidenceRows are the refusal and evidence rows of the refund family and
// of the service family (for exchange; the guards refuse other types).
func evidenceRows() []Transition {
	everyone := []Role{RoleBuyer, RoleShopMain, RoleShopSub, RoleAgent}
	return []Transition{
		{On: ActRefuse, From: sellerTurn, To: PlatformIntervening, By: seller, Guard: GuardRefuseFree, Rule: "R-SLA-4"},
		{On: ActRefuse, From: sellerTurn, To: PlatformIntervening, By: seller, Guard: GuardRefuseWithEvidence, Rule: "R-EVD-1"},
		{On: ActRefuse, From: sellerTurn, To: PlatformIntervening, By: seller, Guard: GuardRefuseContinue, Rule: "R-EVD-2"},
		{On: ActProvideEvidence, From: openStates, By: everyone, Guard: GuardEvidenceTask, Rule: "R-EVD-4"},
		{On: ActRequestEvidence, From: interveneSt, By: agent, Guard: GuardEvidenceRequest, Rule: "R-EVD-4"},
		{On: ActMarkEvidence, From: interveneSt, By: agent, Guard: GuardEvidenceMark, Rule: "R-EVD-3", Visibility: ShopAgent},
		{On: ActShopEvidenceTimeout, From: interveneSt, By: system, Rule: "R-EVD-4"},
		{On: ActBuyerEvidenceTimeout, From: interveneSt, By: system, Rule: "R-EVD-4"},
		{On: ActOpenRemedy, From: interveneSt, To: Completed, By: system, Guard: GuardEvidenceDefault,
			Effects: []Effect{EffOpenRemedy, EffJudgment}, Rule: "R-EVD-3"},
	}
}

// Authorize checks that the input's actor may act on its task or order in
// one of the allowed roles: a buyer on their own, a shop account on its
// shop's with the platform-task permission (R-ACC-1). For actions outside
// the lifecycle tables (uploading evidence files).
func Authorize(in *Input, allowed []Role) error { return checkActor(in, allowed) }

// FilterEvidence keeps the items a viewer side may see (R-MSG-2).
func FilterEvidence(items []EvidenceItem, viewer Side) []EvidenceItem {
	out := make([]EvidenceItem, 0, len(items))
	for _, it := range items {
		if VisibleTo(it.Visibility, viewer) {
			out = append(out, it)
		}
	}
	return out
}
