// Package sim replays scenarios: shops, orders and timed steps (facts,
// buyer/seller/agent actions, clock advances) run on a manual clock against
// a fresh store, with the result printed as stable, diff-able JSON. The
// format is documented in docs/scenarios.md.
package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

// Scenario is a replayable story.
type Scenario struct {
	Name        string          `yaml:"name"`
	Description string          `yaml:"description"`
	Start       time.Time       `yaml:"start"`
	Shops       []commerce.Shop `yaml:"shops"`
	// Online lists sub-accounts that are online from the start (R-NTF-2).
	Online []string         `yaml:"online"`
	Orders []commerce.Order `yaml:"orders"`
	// Policy holds policy patch files (platform + versions, the format of
	// internal/policy/defaults/*.yaml) added on top of the registry the
	// scenario runs with, e.g. an exempt region for R-URG-2 (1).
	Policy []yaml.Node `yaml:"policy"`
	Steps  []Step      `yaml:"steps"`
}

// Step is one timed step. At most one of Fact, Do, Expect may be set; a step
// with only At/After/Advance (and Note) just moves the clock.
type Step struct {
	// At is an absolute time; After is relative to the previous step; Advance
	// is added to either. The clock moves there first, firing every timer
	// that falls due on the way, each at its own due time.
	At      *time.Time       `yaml:"at"`
	After   *policy.Duration `yaml:"after"`
	Advance *policy.Duration `yaml:"advance"`
	Note    string           `yaml:"note"`

	Fact *commerce.Fact `yaml:"fact"`

	// Do is a command: urge, keep_contacting, report_stall, chase_invoice,
	// open_task, act, file_complaint, finish_complaint, file_claim, judge_claim,
	// choose_remedy, ship_resend.
	Do      string            `yaml:"do"`
	Actor   string            `yaml:"actor"` // role:id, e.g. buyer:b1, shop_sub:s1, agent:a1
	Order   string            `yaml:"order"`
	Task    string            `yaml:"task"` // a task id, or $N for the Nth task created
	Type    task.Type         `yaml:"type"`
	Action  task.Action       `yaml:"action"`
	Reply   *Reply            `yaml:"reply"`
	Outcome string            `yaml:"outcome"`
	Text    string            `yaml:"text"`
	Details map[string]string `yaml:"details"`
	Kind    string            `yaml:"kind"`      // complaint kind
	Target  string            `yaml:"complaint"` // complaint id or $N for finish_complaint
	Status  string            `yaml:"status"`    // complaint final status; judge_claim: upheld or rejected
	// Claims under promises (R-PRM-2..6): file_claim takes kind (the
	// promise), text (the description) and amount_fen (asked); judge_claim
	// takes claim (an id or $N), status, amount_fen (awarded) and text (reason).
	Claim  string `yaml:"claim"`
	Amount *int64 `yaml:"amount_fen"`
	// Postage is a return claim's return postage in fen (R-PRM-3);
	// choose_remedy takes claim and remedy (resend or compensation) and
	// ship_resend claim and text (the tracking number) (R-PRM-4).
	Postage *int64 `yaml:"postage_fen"`
	Remedy  string `yaml:"remedy"`
	// Judgment is an agent's judgment in an act step with action judge
	// (R-COL-4..6, R-LIA-1): {liable: true, forged: general}.
	Judgment *task.Judgment `yaml:"judgment"`

	// Refusal evidence (R-EVD-1..5): the refund request of open_task, and
	// on act the evidence given, continue_refusing, an agent's second-round
	// request and mark (item: $N is the task's Nth evidence item).
	Refund           *task.RefundRequest   `yaml:"refund"`
	Evidence         *task.EvidenceInput   `yaml:"evidence"`
	ContinueRefusing bool                  `yaml:"continue_refusing"`
	EvidenceRequest  *task.EvidenceRequest `yaml:"evidence_request"`
	Mark             *task.EvidenceMark    `yaml:"mark"`

	// 问大家 (R-QA-1..4): the product asked about, the question answered
	// (an id or $N, the Nth question asked), and a subscription's on/off
	// (default on).
	Product  string `yaml:"product"`
	Question string `yaml:"question"`
	On       *bool  `yaml:"on"`

	// Expect checks the state after the step; a failed check is reported in
	// the output and makes replay exit non-zero.
	Expect *Expect `yaml:"expect"`
	// ExpectError, on a command or fact step, says the step must be refused
	// with this rule id or reason (e.g. "R-URG-2" or "urge.exempt.presale").
	// A refusal without it is a failed expectation.
	ExpectError string `yaml:"expect_error"`
}

// Reply is the seller's reply in an act step (collaborative replies need
// contacted_at and may name the channel, R-COL-3; unreachable ones attempts
// and evidence).
type Reply struct {
	Text        string     `yaml:"text"`
	ContactedAt *time.Time `yaml:"contacted_at"`
	Channel     string     `yaml:"channel"`
	Attempts    int        `yaml:"attempts"`
	Evidence    []string   `yaml:"evidence"`
}

func (r *Reply) task() *task.Reply {
	if r == nil {
		return nil
	}
	out := &task.Reply{Text: r.Text, Channel: r.Channel, Attempts: r.Attempts, Evidence: r.Evidence}
	if r.ContactedAt != nil {
		t := r.ContactedAt.UTC()
		out.ContactedAt = &t
	}
	return out
}

// Expect is a check on tasks, orders, complaints and the outbox. Every key
// given must hold.
type Expect struct {
	Tasks *int `yaml:"tasks"` // number of tasks created so far

	Task               string     `yaml:"task"` // a task id or $N
	State              task.State `yaml:"state"`
	Outcome            string     `yaml:"outcome"`
	EvidenceWaived     *bool      `yaml:"evidence_waived"`      // R-COL-4
	AfterFinalDeadline *bool      `yaml:"after_final_deadline"` // R-INV-4
	OpenComplaints     *int       `yaml:"open_complaints"`      // R-ST-3
	EvidenceItems      *int       `yaml:"evidence_items"`       // R-EVD-1, R-EVD-4: items stored on the task
	EvidenceDefault    *string    `yaml:"evidence_default"`     // R-EVD-3: why the platform judged by default ("" none)

	// Shop checks its scorecard now: takeover (R-LIA-2/3), liable count
	// (R-LIA-1), standing points (R-INV-3, R-COL-6).
	Shop     string `yaml:"shop"`
	Takeover *bool  `yaml:"takeover"`
	Liable   *int   `yaml:"liable"`
	Points   *int   `yaml:"points"`
	// TakenOver: the order was taken over and refunded at once (R-LIA-2).
	TakenOver *bool `yaml:"taken_over"`

	Order                string `yaml:"order"`
	Urged                *bool  `yaml:"urged"`                  // R-URG-3
	InvoiceLate          *bool  `yaml:"invoice_late"`           // R-INV-2 first deadline missed
	InvoiceSecondTimeout *bool  `yaml:"invoice_second_timeout"` // R-INV-2 二次超时
	InvoiceIssued        *bool  `yaml:"invoice_issued"`         // R-INV-5

	Complaint       string `yaml:"complaint"` // a complaint id or $N
	ComplaintStatus string `yaml:"complaint_status"`
	ComplaintKind   string `yaml:"complaint_kind"`

	Claim       string `yaml:"claim"` // a claim id or $N (R-PRM-2..6)
	ClaimStatus string `yaml:"claim_status"`
	// ClaimRemedy is an upheld damage claim's remedy (R-PRM-4): resend,
	// compensation, or none while the shop has not chosen.
	ClaimRemedy string `yaml:"claim_remedy"`

	// Shop's deposit balance and compensation paid in all, in fen (R-PRM-1..6).
	DepositFen     *int64 `yaml:"deposit_fen"`
	CompensatedFen *int64 `yaml:"compensated_fen"`

	Outbox []OutboxCount `yaml:"outbox"`

	// 问大家 checks on a question ($N: the Nth asked): judged valid
	// (R-QA-4), its answers, whether the shop was told to answer (R-QA-3).
	Question          string `yaml:"question"`
	QuestionValid     *bool  `yaml:"valid"`
	QuestionAnswers   *int   `yaml:"answers"`
	QuestionSuggested *bool  `yaml:"suggested"`
}

// OutboxCount says how many outbox messages match the given fields.
type OutboxCount struct {
	Kind      string `yaml:"kind"`
	Recipient string `yaml:"recipient"`
	Status    string `yaml:"status"`
	Task      string `yaml:"task"` // a task id or $N
	Count     *int   `yaml:"count"`
}

// Commands are the values of a step's do key.
var Commands = []string{"urge", "keep_contacting", "report_stall", "chase_invoice", "open_task", "act", "file_complaint", "finish_complaint",
	"withdraw_complaint", "overturn_complaint", "overturn_judgment", "file_claim", "judge_claim", "choose_remedy", "ship_resend", "subscribe", "ask", "answer"}

// commandKeys lists, per command, the step keys it requires and those it may take.
var commandKeys = map[string]struct{ required, optional []string }{
	"urge":            {required: []string{"actor", "order"}},
	"keep_contacting": {required: []string{"actor", "order"}},
	"report_stall":    {required: []string{"actor", "order"}, optional: []string{"details"}},
	"chase_invoice":   {required: []string{"actor", "order"}, optional: []string{"details"}},
	"open_task":       {required: []string{"actor", "order", "type"}, optional: []string{"details", "refund"}},
	"act": {required: []string{"actor", "task", "action"}, optional: []string{"reply", "outcome", "text", "judgment",
		"evidence", "continue_refusing", "evidence_request", "mark"}},
	"file_complaint":   {required: []string{"actor", "order", "kind"}},
	"finish_complaint": {required: []string{"complaint", "status"}, optional: []string{"actor"}},
	// The buyer withdraws after agreeing with the shop (撤销投诉); an agent overturns.
	"withdraw_complaint": {required: []string{"actor", "complaint"}, optional: []string{"text"}},
	"overturn_complaint": {required: []string{"complaint", "text"}, optional: []string{"actor"}},
	"overturn_judgment":  {required: []string{"task", "text"}, optional: []string{"actor"}},
	"file_claim":         {required: []string{"actor", "order", "kind", "text"}, optional: []string{"amount_fen", "postage_fen"}},
	"choose_remedy":      {required: []string{"actor", "claim", "remedy"}},
	"ship_resend":        {required: []string{"actor", "claim", "text"}},
	"judge_claim":        {required: []string{"claim", "status"}, optional: []string{"actor", "amount_fen", "text"}},
	"subscribe":          {required: []string{"actor"}, optional: []string{"on"}},
	"ask":                {required: []string{"actor", "product", "text"}},
	"answer":             {required: []string{"actor", "question", "text"}},
}

var timeKeys = []string{"at", "after", "advance", "note"}

// Parse reads a scenario, refusing unknown keys, keys a step does not use,
// and steps that cannot run. Errors name the step (1-based, as in the
// output's "n") and its line.
func Parse(data []byte) (*Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("scenario: empty file")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("scenario: %s", friendly(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("scenario: one YAML document per file (found a second one at line %d)", extra.Line)
	}
	if s.Start.IsZero() {
		return nil, fmt.Errorf("scenario: start is required")
	}
	if _, err := s.policyFiles(); err != nil {
		return nil, err
	}
	stepNodes := stepNodes(doc.Content[0])
	for i := range s.Steps {
		var node *yaml.Node
		if i < len(stepNodes) {
			node = stepNodes[i]
		}
		if err := checkStep(&s.Steps[i], node); err != nil {
			where := fmt.Sprintf("step %d", i+1)
			if node != nil {
				where += fmt.Sprintf(" (line %d)", node.Line)
			}
			return nil, fmt.Errorf("scenario: %s: %w", where, err)
		}
	}
	return &s, nil
}

var typeNames = map[string]string{
	"sim.Scenario": "the scenario", "sim.Step": "a step", "sim.Expect": "expect", "sim.Reply": "reply",
	"sim.OutboxCount": "an outbox count", "commerce.Fact": "a fact", "commerce.Shop": "a shop",
	"commerce.Account": "a sub-account", "commerce.Order": "an order", "commerce.Item": "an item",
	"commerce.Promise": "a promise",
}

var notFoundRE = regexp.MustCompile(`field (.+?) not found in type (\S+)`)

// friendly rewrites yaml.v3's "field x not found in type sim.Step" as
// "unknown key "x" in a step".
func friendly(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "unmarshal errors:\n"); ok {
		lines := strings.Split(rest, "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		msg = strings.Join(lines, "; ")
	}
	return notFoundRE.ReplaceAllStringFunc(msg, func(m string) string {
		sub := notFoundRE.FindStringSubmatch(m)
		what, ok := typeNames[sub[2]]
		if !ok {
			what = sub[2]
		}
		if p, ok := payloadNames[sub[2]]; ok {
			what = "the " + p + " payload"
		}
		return fmt.Sprintf("unknown key %q in %s", sub[1], what)
	})
}

var payloadNames = map[string]string{
	"commerce.PresenceFact": "presence", "commerce.DelayReportFact": "delay_report", "commerce.ShipmentFact": "shipment",
	"commerce.TrackingFact": "tracking", "commerce.RefundFact": "refund", "commerce.InvoiceRequestedFact": "invoice_requested",
	"commerce.InvoiceIssuedFact": "invoice_issued", "commerce.ChatReplyFact": "chat_reply",
	"commerce.ReceiptConfirmedFact": "receipt_confirmed", "commerce.OrderClosedFact": "order_closed", "commerce.DepositFact": "deposit",
	"commerce.Product": "product",
}

// stepNodes returns the mapping nodes of the steps list, for lines and keys.
func stepNodes(root *yaml.Node) []*yaml.Node {
	if root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "steps" && root.Content[i+1].Kind == yaml.SequenceNode {
			return root.Content[i+1].Content
		}
	}
	return nil
}

func nodeKeys(n *yaml.Node) map[string]bool {
	keys := map[string]bool{}
	if n == nil || n.Kind != yaml.MappingNode {
		return keys
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys[n.Content[i].Value] = true
	}
	return keys
}

// checkStep validates one decoded step; node (may be nil for a Scenario
// built in Go) gives the keys that were written.
func checkStep(st *Step, node *yaml.Node) error {
	keys := nodeKeys(node)
	if node == nil {
		keys = keysOf(st)
	}
	if st.At != nil && st.After != nil {
		return fmt.Errorf("give at or after, not both")
	}
	if st.After != nil && st.After.D() < 0 {
		return fmt.Errorf("after %s is negative: steps move forward", st.After)
	}
	if st.Advance != nil && st.Advance.D() < 0 {
		return fmt.Errorf("advance %s is negative: steps move forward", st.Advance)
	}
	kinds := 0
	for _, k := range []string{"fact", "do", "expect"} {
		if keys[k] {
			kinds++
		}
	}
	if kinds > 1 {
		return fmt.Errorf("a step has one of fact, do, expect")
	}
	allowed := map[string]bool{}
	for _, k := range timeKeys {
		allowed[k] = true
	}
	var kind string
	switch {
	case keys["fact"]:
		kind = "a fact step"
		allowed["fact"], allowed["expect_error"] = true, true
		if err := checkFact(st); err != nil {
			return err
		}
	case keys["do"]:
		ck, ok := commandKeys[st.Do]
		if !ok {
			return fmt.Errorf("unknown command do: %q (want one of %s)", st.Do, strings.Join(Commands, ", "))
		}
		kind = "do: " + st.Do
		allowed["do"], allowed["expect_error"] = true, true
		for _, k := range ck.required {
			if !keys[k] {
				return fmt.Errorf("%s needs %s", kind, k)
			}
			allowed[k] = true
		}
		for _, k := range ck.optional {
			allowed[k] = true
		}
		if err := checkCommand(st); err != nil {
			return err
		}
	case keys["expect"]:
		kind = "an expect step"
		allowed["expect"] = true
		if err := checkExpect(st.Expect); err != nil {
			return fmt.Errorf("expect: %w", err)
		}
	default:
		kind = "a clock step (no fact, do or expect)"
	}
	var bad []string
	for k := range keys {
		if !allowed[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("%s does not take %s", kind, strings.Join(bad, ", "))
	}
	return nil
}

// keysOf lists the keys a Go-built step has set.
func keysOf(st *Step) map[string]bool {
	k := map[string]bool{}
	set := func(name string, ok bool) {
		if ok {
			k[name] = true
		}
	}
	set("at", st.At != nil)
	set("after", st.After != nil)
	set("advance", st.Advance != nil)
	set("note", st.Note != "")
	set("fact", st.Fact != nil)
	set("do", st.Do != "")
	set("actor", st.Actor != "")
	set("order", st.Order != "")
	set("task", st.Task != "")
	set("type", st.Type != "")
	set("action", st.Action != "")
	set("reply", st.Reply != nil)
	set("outcome", st.Outcome != "")
	set("text", st.Text != "")
	set("details", st.Details != nil)
	set("kind", st.Kind != "")
	set("complaint", st.Target != "")
	set("status", st.Status != "")
	set("claim", st.Claim != "")
	set("amount_fen", st.Amount != nil)
	set("postage_fen", st.Postage != nil)
	set("remedy", st.Remedy != "")
	set("refund", st.Refund != nil)
	set("evidence", st.Evidence != nil)
	set("continue_refusing", st.ContinueRefusing)
	set("evidence_request", st.EvidenceRequest != nil)
	set("mark", st.Mark != nil)
	set("judgment", st.Judgment != nil)
	set("product", st.Product != "")
	set("question", st.Question != "")
	set("on", st.On != nil)
	set("expect", st.Expect != nil)
	set("expect_error", st.ExpectError != "")
	return k
}

func checkFact(st *Step) error {
	f := st.Fact
	if f == nil {
		return fmt.Errorf("fact is empty")
	}
	known := false
	for _, t := range commerce.FactTypes {
		known = known || t == f.Type
	}
	if !known {
		names := make([]string, len(commerce.FactTypes))
		for i, t := range commerce.FactTypes {
			names[i] = string(t)
		}
		return fmt.Errorf("fact: unknown type %q (want one of %s)", f.Type, strings.Join(names, ", "))
	}
	if st.ExpectError != "" {
		// sent as written, so that a scenario can show a malformed fact refused
		return nil
	}
	g := *f
	if g.ID == "" {
		g.ID = "check"
	}
	if g.At.IsZero() {
		g.At = commerce.MinTime // a placeholder within the accepted range: the run sets the step's time
	}
	if err := g.Validate(); err != nil {
		return fmt.Errorf("fact: %v", err)
	}
	return nil
}

func checkRef(what, s string) error {
	if !strings.HasPrefix(s, "$") {
		return nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "$%d", &n); err != nil || n < 1 || fmt.Sprintf("$%d", n) != s {
		return fmt.Errorf("%s %q: a reference is $1, $2 … (the Nth created)", what, s)
	}
	return nil
}

func checkCommand(st *Step) error {
	if st.Actor != "" {
		if _, err := ParseActor(st.Actor); err != nil {
			return err
		}
	}
	switch st.Do {
	case "open_task":
		if !st.Type.Valid() {
			return fmt.Errorf("open_task: unknown task type %q", st.Type)
		}
	case "act":
		if err := checkRef("task", st.Task); err != nil {
			return err
		}
		if st.Action == task.ActCreate {
			return fmt.Errorf("act: create a task with urge, report_stall, chase_invoice or open_task")
		}
		if !knownAction(st.Action) {
			return fmt.Errorf("act: %q is not an action of any task family", st.Action)
		}
	case "finish_complaint":
		return checkRef("complaint", st.Target)
	case "judge_claim":
		if st.Status != "upheld" && st.Status != "rejected" {
			return fmt.Errorf("judge_claim: status is upheld or rejected, not %q", st.Status)
		}
		return checkRef("claim", st.Claim)
	case "answer":
		return checkRef("question", st.Question)
	}
	return nil
}

func knownAction(a task.Action) bool {
	for _, lc := range task.Lifecycles {
		if len(lc.Candidates(a)) > 0 {
			return true
		}
	}
	return false
}

func checkExpect(e *Expect) error {
	if e == nil {
		return fmt.Errorf("checks nothing")
	}
	checks := 0
	count := func(ok bool) {
		if ok {
			checks++
		}
	}
	taskChecks := e.State != "" || e.Outcome != "" || e.EvidenceWaived != nil || e.AfterFinalDeadline != nil || e.OpenComplaints != nil ||
		e.EvidenceItems != nil || e.EvidenceDefault != nil
	orderChecks := e.Urged != nil || e.InvoiceLate != nil || e.InvoiceSecondTimeout != nil || e.InvoiceIssued != nil || e.TakenOver != nil
	complaintChecks := e.ComplaintStatus != "" || e.ComplaintKind != ""
	claimChecks := e.ClaimStatus != "" || e.ClaimRemedy != ""
	shopChecks := e.DepositFen != nil || e.CompensatedFen != nil || e.Takeover != nil || e.Liable != nil || e.Points != nil
	questionChecks := e.QuestionValid != nil || e.QuestionAnswers != nil || e.QuestionSuggested != nil
	count(e.Tasks != nil)
	count(taskChecks)
	count(orderChecks)
	count(complaintChecks)
	count(claimChecks)
	count(shopChecks)
	count(len(e.Outbox) > 0)
	count(questionChecks)
	if checks == 0 {
		return fmt.Errorf("checks nothing (give tasks, a task with state/outcome/…, an order with urged/invoice_…, a complaint with complaint_status/complaint_kind, a claim with claim_status, a shop with deposit_fen/compensated_fen/takeover/liable/points, a question with valid/answers/suggested, or outbox counts)")
	}
	if claimChecks != (e.Claim != "") {
		return fmt.Errorf("claim goes with claim_status or claim_remedy")
	}
	if shopChecks != (e.Shop != "") {
		return fmt.Errorf("shop goes with deposit_fen, compensated_fen, takeover, liable or points")
	}
	if err := checkRef("claim", e.Claim); err != nil {
		return err
	}
	if questionChecks && e.Question == "" {
		return fmt.Errorf("valid, answers and suggested need question")
	}
	if e.Question != "" && !questionChecks {
		return fmt.Errorf("question %s is given but nothing to check on it", e.Question)
	}
	if err := checkRef("question", e.Question); err != nil {
		return err
	}
	if taskChecks && e.Task == "" {
		return fmt.Errorf("state, outcome, evidence_waived, after_final_deadline, open_complaints, evidence_items and evidence_default need task")
	}
	if e.Task != "" && !taskChecks {
		return fmt.Errorf("task %s is given but nothing to check on it", e.Task)
	}
	if orderChecks && e.Order == "" {
		return fmt.Errorf("urged, invoice_… and taken_over need order")
	}
	if e.Order != "" && !orderChecks {
		return fmt.Errorf("order %s is given but nothing to check on it", e.Order)
	}
	if complaintChecks && e.Complaint == "" {
		return fmt.Errorf("complaint_status and complaint_kind need complaint")
	}
	if e.Complaint != "" && !complaintChecks {
		return fmt.Errorf("complaint %s is given but nothing to check on it", e.Complaint)
	}
	if e.State != "" {
		ok := false
		for _, s := range task.States {
			ok = ok || s == e.State
		}
		if !ok {
			return fmt.Errorf("unknown state %q", e.State)
		}
	}
	if err := checkRef("task", e.Task); err != nil {
		return err
	}
	if err := checkRef("complaint", e.Complaint); err != nil {
		return err
	}
	for i, oc := range e.Outbox {
		if oc.Count == nil {
			return fmt.Errorf("outbox[%d]: count is required", i)
		}
		if err := checkRef("task", oc.Task); err != nil {
			return fmt.Errorf("outbox[%d]: %w", i, err)
		}
	}
	return nil
}

// policyFiles parses the scenario's policy patches.
func (s *Scenario) policyFiles() ([]*policy.File, error) {
	var out []*policy.File
	for i := range s.Policy {
		b, err := yaml.Marshal(&s.Policy[i])
		if err != nil {
			return nil, fmt.Errorf("scenario: policy[%d]: %w", i, err)
		}
		name := fmt.Sprintf("scenario policy[%d]", i)
		f, issues := policy.ParsePatch(name, b)
		if len(issues) > 0 {
			msgs := make([]string, len(issues))
			for j, is := range issues {
				msgs[j] = is.String()
			}
			return nil, fmt.Errorf("scenario: %s (line %d): %s", name, s.Policy[i].Line, strings.Join(msgs, "; "))
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseActor reads "role:id".
func ParseActor(s string) (task.Actor, error) {
	role, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return task.Actor{}, fmt.Errorf("actor %q: want role:id (buyer, shop_main, shop_sub, agent, system)", s)
	}
	r := task.Role(role)
	switch r {
	case task.RoleBuyer, task.RoleShopMain, task.RoleShopSub, task.RoleAgent, task.RoleSystem:
	default:
		return task.Actor{}, fmt.Errorf("actor %q: unknown role %q (want buyer, shop_main, shop_sub, agent, system)", s, role)
	}
	return task.Actor{Role: r, ID: id}, nil
}
