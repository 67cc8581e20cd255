package sim

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/id"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/policy"
	"aftersale/internal/qa"
	"aftersale/internal/scorecard"
	"aftersale/internal/store"
	"aftersale/internal/store/sqlite"
	"aftersale/internal/task"
)

// Output is the replay's result. Its JSON is stable: ids come from a
// sequence, times are UTC, lists are in a fixed order.
type Output struct {
	Scenario   string               `json:"scenario"`
	Start      time.Time            `json:"start"`
	End        time.Time            `json:"end"`
	Steps      []StepResult         `json:"steps"`
	Tasks      []TaskOut            `json:"tasks"`
	Orders     []OrderOut           `json:"orders"`
	Timers     []task.Timer         `json:"timers"`
	Outbox     []notify.Message     `json:"outbox"`
	Complaints []judgment.Complaint `json:"complaints"`
	// Points is each scenario shop's points ledger (违规扣分), by shop then time.
	Points []judgment.PointsEntry `json:"points"`
	// Scorecards are each scenario shop's scorecard at the end (R-LIA-*,
	// R-GLD-*, R-COL-4, R-URG-4), with its takeover switches.
	Scorecards []ShopOut `json:"scorecards"`
	// Claims under promises (R-PRM-2..6), Compensation each scenario shop's
	// compensation ledger (R-PRM-1..6) by shop then time, and Deposits the
	// deposit balance of each shop with a deposit or compensation; all left
	// out when the scenario has none.
	Claims       []judgment.Claim             `json:"claims,omitempty"`
	Compensation []judgment.CompensationEntry `json:"compensation,omitempty"`
	Deposits     []DepositOut                 `json:"deposits,omitempty"`
	Refusals     []Refusal                    `json:"refusals"`
	Firings      []task.Firing                `json:"firings"`
	// Questions are the 问大家 questions asked, valid or not (R-QA-4: the
	// API never shows an invalid one; replay shows everything), in order.
	Questions []QuestionOut `json:"questions,omitempty"`
	Failed    []string      `json:"failed_expectations"`
}

// ShopOut is a shop's scorecard and the history of its takeover switches.
type ShopOut struct {
	scorecard.Card
	Switches []task.Event `json:"takeover_switches"`
}

// QuestionOut is a question with its answers, invitations and history.
type QuestionOut struct {
	qa.Question
	AnswerList  []qa.Answer     `json:"answer_list"`
	Invitations []qa.Invitation `json:"invitations"`
	History     []task.Event    `json:"history"`
	Timers      []task.Timer    `json:"timers"`
}

// StepResult is what one step did.
type StepResult struct {
	N      int                `json:"n"`
	At     time.Time          `json:"at"`
	What   string             `json:"what"`
	Note   string             `json:"note,omitempty"`
	Result any                `json:"result,omitempty"`
	Error  *apperr.Error      `json:"error,omitempty"`
	Fired  *engine.FireResult `json:"fired,omitempty"`
}

// TaskOut is a task with its history and running timers.
type TaskOut struct {
	task.Task
	History []task.Event `json:"history"`
	Timers  []task.Timer `json:"timers"`
	// Evidence are the task's evidence items (R-EVD-1..4), when it has any.
	Evidence []task.EvidenceItem `json:"evidence_items,omitempty"`
}

// OrderOut is an order's projection and its order-level events.
type OrderOut struct {
	commerce.Order
	History []task.Event `json:"history"`
}

// DepositOut is a shop's deposit (保证金) balance at the end.
type DepositOut struct {
	ShopID     string `json:"shop_id"`
	BalanceFen int64  `json:"balance_fen"`
}

// Refusal is a step that was refused.
type Refusal struct {
	Step  int           `json:"step"`
	What  string        `json:"what"`
	Error *apperr.Error `json:"error"`
}

// Run replays a scenario against a fresh SQLite store in a temporary
// directory, with a manual clock and deterministic ids.
func Run(ctx context.Context, sc *Scenario, reg *policy.Registry) (*Output, error) {
	dir, err := os.MkdirTemp("", "aftersale-replay-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "replay.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return RunOn(ctx, sc, reg, st)
}

// RunOn replays a scenario on the given (empty) store.
func RunOn(ctx context.Context, sc *Scenario, reg *policy.Registry, st store.Store) (*Output, error) {
	reg, err := withPatches(reg, sc)
	if err != nil {
		return nil, err
	}
	clk := clock.NewManual(sc.Start)
	eng := engine.New(engine.Config{Store: st, Policy: reg, Clock: clk, IDs: &id.Sequence{}})
	r := &runner{ctx: ctx, sc: sc, eng: eng, clk: clk, out: &Output{Scenario: sc.Name, Start: sc.Start.UTC()}}
	if err := r.setup(); err != nil {
		return nil, err
	}
	for i := range sc.Steps {
		if err := r.step(i+1, &sc.Steps[i]); err != nil {
			return nil, fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	r.out.End = clk.Now()
	if err := r.collect(st); err != nil {
		return nil, err
	}
	return r.out, nil
}

// withPatches returns reg itself when the scenario has no policy patches,
// else a new registry with reg's files and the patches added (reg is not
// changed).
func withPatches(reg *policy.Registry, sc *Scenario) (*policy.Registry, error) {
	files, err := sc.policyFiles()
	if err != nil || len(files) == 0 {
		return reg, err
	}
	out, err := policy.NewRegistry(reg.Files()...)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := out.Add(f); err != nil {
			return nil, fmt.Errorf("scenario: %w", err)
		}
	}
	return out, nil
}

type runner struct {
	ctx    context.Context
	sc     *Scenario
	eng    *engine.Engine
	clk    *clock.Manual
	out    *Output
	tasks  []string // task ids in creation order, for $N
	orders []string // order ids: the scenario's orders and those of accepted order facts
	claims []string // claim ids in filing order, for $N
	// questions are question ids in the order asked, for $N.
	questions []string
	factN     int
}

func (r *runner) setup() error {
	var facts []commerce.Fact
	at := r.clk.Now()
	for i := range r.sc.Shops {
		s := r.sc.Shops[i]
		facts = append(facts, commerce.Fact{ID: "setup-shop-" + s.ID, Type: commerce.FactShop, At: at, Shop: &s})
	}
	for _, a := range r.sc.Online {
		facts = append(facts, commerce.Fact{ID: "setup-online-" + a, Type: commerce.FactPresence, At: at,
			Presence: &commerce.PresenceFact{AccountID: a, Online: true}})
	}
	for i := range r.sc.Orders {
		o := r.sc.Orders[i]
		r.orders = append(r.orders, o.ID)
		facts = append(facts, commerce.Fact{ID: "setup-order-" + o.ID, Type: commerce.FactOrder, At: at, Order: &o})
	}
	res, err := r.eng.Ingest(r.ctx, facts)
	if err != nil {
		return err
	}
	for _, fr := range res {
		if fr.Status != engine.FactAccepted {
			return fmt.Errorf("setup fact %s %s: %v", fr.ID, fr.Status, fr.Error)
		}
	}
	return nil
}

// moveTo advances the clock to t, firing due timers in due order.
func (r *runner) moveTo(t time.Time) (*engine.FireResult, error) {
	res, err := r.eng.AdvanceTo(r.ctx, r.clk, t)
	if err != nil || res.Fired+res.Skipped == 0 {
		return nil, err
	}
	res.MaxLate = 0
	return &res, nil
}

func (r *runner) step(n int, s *Step) error {
	target := r.clk.Now()
	switch {
	case s.At != nil:
		target = s.At.UTC()
	case s.After != nil:
		target = target.Add(s.After.D())
	}
	if s.Advance != nil {
		target = target.Add(s.Advance.D())
	}
	if target.Before(r.clk.Now()) {
		return fmt.Errorf("time %s is before the clock (%s): steps move forward", target.Format(time.RFC3339), r.clk.Now().Format(time.RFC3339))
	}
	fired, err := r.moveTo(target)
	if err != nil {
		return err
	}
	res := StepResult{N: n, At: r.clk.Now(), Note: s.Note, Fired: fired}
	var result any
	var stepErr error
	switch {
	case s.Fact != nil:
		res.What = "fact " + string(s.Fact.Type)
		result, stepErr = r.fact(s.Fact)
	case s.Do != "":
		res.What = s.Do
		if s.Action != "" {
			res.What += " " + string(s.Action)
		}
		result, stepErr = r.do(s)
	case s.Expect != nil:
		res.What = "expect"
		stepErr = r.expect(n, s.Expect)
		if stepErr != nil {
			r.out.Failed = append(r.out.Failed, fmt.Sprintf("step %d: %v", n, stepErr))
			res.Result = "failed: " + stepErr.Error()
			stepErr = nil
		} else {
			res.Result = "ok"
		}
	default:
		res.What = "advance"
	}
	if stepErr != nil {
		ae, ok := apperr.As(stepErr)
		if !ok {
			return stepErr
		}
		res.Error = ae
		r.out.Refusals = append(r.out.Refusals, Refusal{Step: n, What: res.What, Error: ae})
		switch {
		case s.ExpectError == "":
			r.out.Failed = append(r.out.Failed, fmt.Sprintf("step %d: refused unexpectedly (%s)", n, ae.Error()))
		case s.ExpectError != ae.Rule && s.ExpectError != ae.Reason:
			r.out.Failed = append(r.out.Failed, fmt.Sprintf("step %d: refused by %s/%s, expected %s (%s)", n, ae.Rule, ae.Reason, s.ExpectError, ae.Message))
		}
	} else if s.ExpectError != "" {
		r.out.Failed = append(r.out.Failed, fmt.Sprintf("step %d: expected a refusal (%s), but it was accepted", n, s.ExpectError))
	}
	if result != nil && stepErr == nil {
		res.Result = result
	}
	r.out.Steps = append(r.out.Steps, res)
	return nil
}

func (r *runner) fact(f *commerce.Fact) (any, error) {
	r.factN++
	ff := *f
	if ff.ID == "" {
		ff.ID = fmt.Sprintf("fact-%d", r.factN)
	}
	if ff.At.IsZero() {
		ff.At = r.clk.Now()
	}
	res, err := r.eng.Ingest(r.ctx, []commerce.Fact{ff})
	if err != nil {
		return nil, err
	}
	if res[0].Error != nil {
		return nil, res[0].Error
	}
	if ff.Type == commerce.FactOrder && ff.Order != nil && res[0].Status == engine.FactAccepted {
		r.orders = append(r.orders, ff.Order.ID)
	}
	return res[0], nil
}

func (r *runner) ref(s string, list []string, what string) (string, error) {
	if !strings.HasPrefix(s, "$") {
		return s, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "$%d", &n); err != nil || n < 1 || n > len(list) {
		return "", fmt.Errorf("%s reference %q: %d %ss exist so far", what, s, len(list), what)
	}
	return list[n-1], nil
}

func (r *runner) created(t *task.Task) {
	if t != nil && t.Rev == 1 {
		r.tasks = append(r.tasks, t.ID)
	}
}

func (r *runner) do(s *Step) (any, error) {
	var actor task.Actor
	if s.Actor != "" {
		a, err := ParseActor(s.Actor)
		if err != nil {
			return nil, err
		}
		actor = a
	}
	cmd := task.Command{Actor: actor, OrderID: s.Order, Type: s.Type, Action: s.Action, Reply: s.Reply.task(),
		Outcome: s.Outcome, Text: s.Text, Details: s.Details, Judgment: s.Judgment, Refund: s.Refund, Evidence: s.Evidence,
		ContinueRefusing: s.ContinueRefusing, EvidenceRequest: s.EvidenceRequest}
	agentOr := func(a task.Actor) task.Actor {
		if a.Role == "" {
			return task.Actor{Role: task.RoleAgent, ID: "agent"}
		}
		return a
	}
	switch s.Do {
	case "urge":
		res, err := r.eng.Urge(r.ctx, actor, s.Order)
		if err == nil {
			r.created(res.Task)
		}
		return res, err
	case "keep_contacting":
		return nil, r.eng.KeepContacting(r.ctx, actor, s.Order)
	case "report_stall":
		cmd.Type = task.LogisticsStall
	case "chase_invoice":
		cmd.Type = task.UrgeInvoice
	case "open_task":
	case "act":
		tid, err := r.ref(s.Task, r.tasks, "task")
		if err != nil {
			return nil, err
		}
		cmd.TaskID = tid
		if s.Mark != nil {
			m, err := r.markOf(tid, s.Mark)
			if err != nil {
				return nil, err
			}
			cmd.Mark = m
		}
		return r.eng.Act(r.ctx, cmd)
	case "file_complaint":
		return r.eng.FileComplaint(r.ctx, actor, s.Order, s.Kind)
	case "finish_complaint":
		all, err := r.allComplaints()
		if err != nil {
			return nil, err
		}
		cid, err := r.ref(s.Target, all, "complaint")
		if err != nil {
			return nil, err
		}
		return r.eng.FinishComplaint(r.ctx, agentOr(actor), cid, s.Status)
	case "withdraw_complaint", "overturn_complaint":
		all, err := r.allComplaints()
		if err != nil {
			return nil, err
		}
		cid, err := r.ref(s.Target, all, "complaint")
		if err != nil {
			return nil, err
		}
		if s.Do == "withdraw_complaint" {
			return r.eng.WithdrawComplaint(r.ctx, actor, cid, s.Text)
		}
		return r.eng.OverturnComplaint(r.ctx, agentOr(actor), cid, s.Text)
	case "overturn_judgment":
		tid, err := r.ref(s.Task, r.tasks, "task")
		if err != nil {
			return nil, err
		}
		return r.eng.OverturnJudgment(r.ctx, agentOr(actor), tid, s.Text)
	case "file_claim":
		in := engine.ClaimInput{Kind: s.Kind, Description: s.Text}
		if s.Amount != nil {
			in.AskedFen = *s.Amount
		}
		if s.Postage != nil {
			in.PostageFen = *s.Postage
		}
		c, err := r.eng.FileClaim(r.ctx, actor, s.Order, in)
		if err == nil {
			r.claims = append(r.claims, c.ID)
		}
		return c, err
	case "judge_claim":
		cid, err := r.ref(s.Claim, r.claims, "claim")
		if err != nil {
			return nil, err
		}
		return r.eng.JudgeClaim(r.ctx, agentOr(actor), cid, engine.ClaimJudgment{Upheld: s.Status == judgment.ClaimUpheld, AmountFen: s.Amount, Reason: s.Text})
	case "choose_remedy", "ship_resend":
		cid, err := r.ref(s.Claim, r.claims, "claim")
		if err != nil {
			return nil, err
		}
		if s.Do == "choose_remedy" {
			return r.eng.ChooseRemedy(r.ctx, actor, cid, s.Remedy)
		}
		return r.eng.ShipResend(r.ctx, actor, cid, s.Text)
	case "subscribe":
		on := s.On == nil || *s.On
		return r.eng.Subscribe(r.ctx, actor, actor.ID, qa.TopicAskEveryone, on)
	case "ask":
		q, err := r.eng.Ask(r.ctx, actor, s.Product, s.Text)
		if err == nil {
			r.questions = append(r.questions, q.ID)
		}
		return q, err
	case "answer":
		qid, err := r.ref(s.Question, r.questions, "question")
		if err != nil {
			return nil, err
		}
		return r.eng.Answer(r.ctx, actor, qid, s.Text)
	default:
		return nil, fmt.Errorf("unknown command %q (%s)", s.Do, strings.Join(Commands, ", "))
	}
	t, err := r.eng.CreateTask(r.ctx, cmd)
	r.created(t)
	return t, err
}

// allComplaints lists the ids of every complaint on the scenario's orders, in
// filing order (sequence ids sort that way), for $N references.
func (r *runner) allComplaints() ([]string, error) {
	var ids []string
	err := r.eng.Store().View(r.ctx, func(tx store.ReadTx) error {
		var err error
		ids, err = complaintIDs(r.ctx, tx, r.orders)
		return err
	})
	return ids, err
}

func complaintIDs(ctx context.Context, tx store.ReadTx, orders []string) ([]string, error) {
	var ids []string
	for _, oid := range orders {
		cs, err := tx.Complaints(ctx, oid)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// expect checks every key of e and reports all that do not hold.
func (r *runner) expect(n int, e *Expect) error {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	err := r.eng.Store().View(r.ctx, func(tx store.ReadTx) error {
		if e.Tasks != nil && len(r.tasks) != *e.Tasks {
			fail("want %d tasks, have %d", *e.Tasks, len(r.tasks))
		}
		if e.Task != "" {
			tid, err := r.ref(e.Task, r.tasks, "task")
			if err != nil {
				return err
			}
			t, err := tx.Task(r.ctx, tid)
			if err != nil {
				return err
			}
			if e.State != "" && t.State != e.State {
				fail("task %s is %s, want %s", tid, t.State, e.State)
			}
			if e.Outcome != "" && t.Outcome != e.Outcome {
				fail("task %s outcome %q, want %q", tid, t.Outcome, e.Outcome)
			}
			if e.EvidenceWaived != nil && t.EvidenceWaived != *e.EvidenceWaived {
				fail("task %s evidence_waived=%v, want %v", tid, t.EvidenceWaived, *e.EvidenceWaived)
			}
			if e.AfterFinalDeadline != nil && t.AfterFinalDeadline != *e.AfterFinalDeadline {
				fail("task %s after_final_deadline=%v, want %v", tid, t.AfterFinalDeadline, *e.AfterFinalDeadline)
			}
			if err := r.expectEvidence(tx, t, e, fail); err != nil {
				return err
			}
			if e.OpenComplaints != nil && t.OpenComplaints != *e.OpenComplaints {
				fail("task %s has %d open complaints, want %d", tid, t.OpenComplaints, *e.OpenComplaints)
			}
		}
		if e.Order != "" {
			o, err := tx.Order(r.ctx, e.Order)
			if err != nil {
				return err
			}
			if e.Urged != nil && (o.UrgedAt != nil) != *e.Urged {
				fail("order %s urged=%v, want %v", e.Order, o.UrgedAt != nil, *e.Urged)
			}
			inv := o.Invoice
			if inv == nil {
				inv = &commerce.Invoice{}
			}
			if e.InvoiceLate != nil && inv.Late != *e.InvoiceLate {
				fail("order %s invoice_late=%v, want %v", e.Order, inv.Late, *e.InvoiceLate)
			}
			if e.InvoiceSecondTimeout != nil && inv.SecondTimeout != *e.InvoiceSecondTimeout {
				fail("order %s invoice_second_timeout=%v, want %v", e.Order, inv.SecondTimeout, *e.InvoiceSecondTimeout)
			}
			if e.InvoiceIssued != nil && (inv.IssuedAt != nil) != *e.InvoiceIssued {
				fail("order %s invoice_issued=%v, want %v", e.Order, inv.IssuedAt != nil, *e.InvoiceIssued)
			}
		}
		if e.Complaint != "" {
			all, err := complaintIDs(r.ctx, tx, r.orders)
			if err != nil {
				return err
			}
			cid, err := r.ref(e.Complaint, all, "complaint")
			if err != nil {
				return err
			}
			c, err := tx.Complaint(r.ctx, cid)
			if err != nil {
				return err
			}
			if e.ComplaintStatus != "" && c.Status != e.ComplaintStatus {
				fail("complaint %s is %s, want %s", cid, c.Status, e.ComplaintStatus)
			}
			if e.ComplaintKind != "" && c.Kind != e.ComplaintKind {
				fail("complaint %s kind %s, want %s", cid, c.Kind, e.ComplaintKind)
			}
		}
		if e.Order != "" && e.TakenOver != nil {
			o, err := tx.Order(r.ctx, e.Order)
			if err != nil {
				return err
			}
			if (o.TakenOverAt != nil) != *e.TakenOver {
				fail("order %s taken_over=%v, want %v", e.Order, o.TakenOverAt != nil, *e.TakenOver)
			}
		}
		if e.Claim != "" {
			cid, err := r.ref(e.Claim, r.claims, "claim")
			if err != nil {
				return err
			}
			c, err := tx.Claim(r.ctx, cid)
			if err != nil {
				return err
			}
			if e.ClaimStatus != "" && c.Status != e.ClaimStatus {
				fail("claim %s is %s, want %s", cid, c.Status, e.ClaimStatus)
			}
			if remedy := cmp.Or(c.Remedy, "none"); e.ClaimRemedy != "" && remedy != e.ClaimRemedy {
				fail("claim %s's remedy is %s, want %s", cid, remedy, e.ClaimRemedy)
			}
		}
		if e.Shop != "" {
			if err := r.expectShop(tx, e, fail); err != nil {
				return err
			}
			if e.DepositFen != nil {
				bal, err := tx.Deposit(r.ctx, e.Shop)
				if err != nil {
					return err
				}
				if bal != *e.DepositFen {
					fail("shop %s deposit %d fen, want %d", e.Shop, bal, *e.DepositFen)
				}
			}
			if e.CompensatedFen != nil {
				es, err := tx.Compensation(r.ctx, e.Shop)
				if err != nil {
					return err
				}
				var sum int64
				for _, en := range es {
					sum += en.AmountFen
				}
				if sum != *e.CompensatedFen {
					fail("shop %s compensated %d fen in all, want %d", e.Shop, sum, *e.CompensatedFen)
				}
			}
		}
		if e.Question != "" {
			qid, err := r.ref(e.Question, r.questions, "question")
			if err != nil {
				return err
			}
			q, err := tx.Question(r.ctx, qid)
			if err != nil {
				return err
			}
			if e.QuestionValid != nil && q.Valid != *e.QuestionValid {
				fail("question %s valid=%v, want %v", qid, q.Valid, *e.QuestionValid)
			}
			if e.QuestionAnswers != nil && q.Answers != *e.QuestionAnswers {
				fail("question %s has %d answers, want %d", qid, q.Answers, *e.QuestionAnswers)
			}
			if e.QuestionSuggested != nil && (q.SuggestedAt != nil) != *e.QuestionSuggested {
				fail("question %s suggested=%v, want %v", qid, q.SuggestedAt != nil, *e.QuestionSuggested)
			}
		}
		if len(e.Outbox) > 0 {
			msgs, err := tx.Outbox(r.ctx, 0, 1<<30)
			if err != nil {
				return err
			}
			for _, oc := range e.Outbox {
				tid := ""
				if oc.Task != "" {
					if tid, err = r.ref(oc.Task, r.tasks, "task"); err != nil {
						return err
					}
				}
				got := 0
				for _, m := range msgs {
					if (oc.Kind == "" || string(m.Kind) == oc.Kind) && (oc.Recipient == "" || m.Recipient == oc.Recipient) &&
						(oc.Status == "" || string(m.Status) == oc.Status) && (tid == "" || m.TaskID == tid) {
						got++
					}
				}
				if got != *oc.Count {
					fail("outbox %s: %d messages, want %d", describeCount(oc), got, *oc.Count)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

// expectShop checks a shop's scorecard figures (R-LIA-1..3, R-INV-3, R-COL-6).
func (r *runner) expectShop(tx store.ReadTx, e *Expect, fail func(string, ...any)) error {
	if e.Takeover != nil {
		to, err := tx.Takeover(r.ctx, e.Shop)
		if err != nil {
			return err
		}
		if to.Active != *e.Takeover {
			fail("shop %s takeover=%v, want %v", e.Shop, to.Active, *e.Takeover)
		}
	}
	if e.Liable != nil {
		c, err := r.eng.Scorecard(r.ctx, e.Shop, r.clk.Now())
		if err != nil {
			return err
		}
		if c.Liability.Liable != *e.Liable {
			fail("shop %s has %d liable cases in the window, want %d", e.Shop, c.Liability.Liable, *e.Liable)
		}
	}
	if e.Points != nil {
		ps, err := tx.Points(r.ctx, e.Shop, time.Time{})
		if err != nil {
			return err
		}
		total := 0
		for _, p := range ps {
			total += p.Points
		}
		if total != *e.Points {
			fail("shop %s has %d standing points, want %d", e.Shop, total, *e.Points)
		}
	}
	return nil
}

func describeCount(oc OutboxCount) string {
	var parts []string
	for _, kv := range [][2]string{{"kind", oc.Kind}, {"recipient", oc.Recipient}, {"status", oc.Status}, {"task", oc.Task}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(parts) == 0 {
		return "(all)"
	}
	return strings.Join(parts, " ")
}

func (r *runner) collect(st store.Store) error {
	return st.View(r.ctx, func(tx store.ReadTx) error {
		ts, err := tx.Tasks(r.ctx, store.TaskFilter{})
		if err != nil {
			return err
		}
		for _, t := range ts {
			h, err := tx.Events(r.ctx, t.ID)
			if err != nil {
				return err
			}
			tm, err := tx.Timers(r.ctx, t.ID)
			if err != nil {
				return err
			}
			ev, err := tx.EvidenceItems(r.ctx, t.ID)
			if err != nil {
				return err
			}
			r.out.Tasks = append(r.out.Tasks, TaskOut{Task: t, History: nonNil(h), Timers: nonNil(tm), Evidence: ev})
		}
		ids := append([]string(nil), r.orders...)
		sort.Strings(ids)
		for _, oid := range ids {
			o, err := tx.Order(r.ctx, oid)
			if err != nil {
				return err
			}
			h, err := tx.Events(r.ctx, oid)
			if err != nil {
				return err
			}
			cs, err := tx.Complaints(r.ctx, oid)
			if err != nil {
				return err
			}
			r.out.Complaints = append(r.out.Complaints, cs...)
			cls, err := tx.Claims(r.ctx, oid)
			if err != nil {
				return err
			}
			r.out.Claims = append(r.out.Claims, cls...)
			r.out.Orders = append(r.out.Orders, OrderOut{Order: *o, History: nonNil(h)})
		}
		sort.Slice(r.out.Complaints, func(i, j int) bool { return r.out.Complaints[i].ID < r.out.Complaints[j].ID })
		shops := make([]string, 0, len(r.sc.Shops))
		for _, sh := range r.sc.Shops {
			shops = append(shops, sh.ID)
		}
		sort.Strings(shops)
		for _, id := range shops {
			ps, err := tx.Points(r.ctx, id, time.Time{})
			if err != nil {
				return err
			}
			r.out.Points = append(r.out.Points, ps...)
		}
		r.out.Points = nonNil(r.out.Points)
		for _, id := range shops {
			c, err := r.eng.Scorecard(r.ctx, id, r.clk.Now())
			if err != nil {
				return err
			}
			sw, err := tx.Events(r.ctx, scorecard.TakeoverStream(id))
			if err != nil {
				return err
			}
			r.out.Scorecards = append(r.out.Scorecards, ShopOut{Card: *c, Switches: nonNil(sw)})
		}
		r.out.Scorecards = nonNil(r.out.Scorecards)
		sort.Slice(r.out.Claims, func(i, j int) bool { return r.out.Claims[i].ID < r.out.Claims[j].ID })
		for _, id := range shops {
			es, err := tx.Compensation(r.ctx, id)
			if err != nil {
				return err
			}
			bal, err := tx.Deposit(r.ctx, id)
			if err != nil {
				return err
			}
			r.out.Compensation = append(r.out.Compensation, es...)
			if bal != 0 || len(es) > 0 {
				r.out.Deposits = append(r.out.Deposits, DepositOut{ShopID: id, BalanceFen: bal})
			}
		}
		if r.out.Timers, err = tx.Timers(r.ctx, ""); err != nil {
			return err
		}
		if r.out.Outbox, err = tx.Outbox(r.ctx, 0, 1<<30); err != nil {
			return err
		}
		if r.out.Firings, err = tx.Firings(r.ctx, 1<<30); err != nil {
			return err
		}
		if err := r.collectQuestions(tx); err != nil {
			return err
		}
		r.out.Timers, r.out.Outbox, r.out.Firings = nonNil(r.out.Timers), nonNil(r.out.Outbox), nonNil(r.out.Firings)
		r.out.Complaints, r.out.Refusals, r.out.Failed = nonNil(r.out.Complaints), nonNil(r.out.Refusals), nonNil(r.out.Failed)
		return nil
	})
}

// collectQuestions adds every question asked, with its answers, invitations, history and timers.
func (r *runner) collectQuestions(tx store.ReadTx) error {
	for _, id := range r.questions {
		q, err := tx.Question(r.ctx, id)
		if err != nil {
			return err
		}
		as, err := tx.Answers(r.ctx, []string{id})
		if err != nil {
			return err
		}
		invs, err := tx.Invitations(r.ctx, id)
		if err != nil {
			return err
		}
		h, err := tx.Events(r.ctx, id)
		if err != nil {
			return err
		}
		tm, err := tx.Timers(r.ctx, id)
		if err != nil {
			return err
		}
		r.out.Questions = append(r.out.Questions, QuestionOut{Question: *q, AnswerList: nonNil(as), Invitations: nonNil(invs),
			History: nonNil(h), Timers: nonNil(tm)})
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// JSON renders the output as indented JSON.
func (o *Output) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
