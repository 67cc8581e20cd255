package engine_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/scorecard"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// pngBytes is a small PNG (its signature is what is sniffed).
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

// openRefund opens a task of typ on a new Taobao order with a refund request.
func openRefund(t *testing.T, env *testkit.Env, orderID string, typ task.Type, reason, remedy string) *task.Task {
	t.Helper()
	addOrder(env, "tb", orderID)
	tk, err := env.Engine.CreateTask(env.Ctx, task.Command{Actor: buyer(buyerOf(orderID)), OrderID: orderID, Type: typ,
		Refund: &task.RefundRequest{Reason: reason, Remedy: remedy}})
	if err != nil {
		t.Fatalf("open %s (%s): %v", typ, reason, err)
	}
	return tk
}

func refuse(env *testkit.Env, taskID string, ev *task.EvidenceInput, cont bool) (*task.Task, error) {
	return env.Engine.Act(env.Ctx, task.Command{Action: task.ActRefuse, Actor: shopMain("tb_main"), TaskID: taskID,
		Text: "we shipped it intact", Evidence: ev, ContinueRefusing: cont})
}

func evidenceOf(env *testkit.Env, taskID string) []task.EvidenceItem {
	env.T.Helper()
	var items []task.EvidenceItem
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { items, err = tx.EvidenceItems(env.Ctx, taskID); return }); err != nil {
		env.T.Fatal(err)
	}
	return items
}

func eventActions(evs []task.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Action+"/"+e.Rule)
	}
	return out
}

// R-EVD-1: the requirement starts at 2022-12-27 00:00 Asia/Shanghai. A
// not_received refusal without evidence at 2022-12-26 23:59:59 goes through
// as before (R-SLA-4); at 00:00:00 it is refused with evidence.required,
// listing the scenario's example evidence in zh-CN and en, and changes nothing.
func TestRefusal_R_EVD_1_StartsAt20221227(t *testing.T) {
	env := newEnv(t, bj(t, "2022-12-26T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	before := openRefund(t, env, "o1", task.ReturnRefund, "not_received", "")
	after := openRefund(t, env, "o2", task.ReturnRefund, "not_received", "refund_only")

	env.AdvanceTo(bj(t, "2022-12-26T23:59:59"))
	got, err := refuse(env, before.ID, nil, false)
	if err != nil {
		t.Fatalf("refusal before 2022-12-27: %v", err)
	}
	if got.State != task.PlatformIntervening || got.Evidence != nil || got.Reply.EvidenceRequired {
		t.Fatalf("before the rule: %s, evidence %+v, reply %+v", got.State, got.Evidence, got.Reply)
	}
	if evs := env.Events(got.ID); evs[len(evs)-1].Rule != "R-SLA-4" {
		t.Fatalf("refusal event rule %s, want R-SLA-4", evs[len(evs)-1].Rule)
	}

	env.AdvanceTo(bj(t, "2022-12-27T00:00:00"))
	w := snapshot(env, "o2")
	_, err = refuse(env, after.ID, nil, false)
	ae := wantErr(t, err, apperr.ECONFLICT, "evidence.required", "evidence", "R-EVD-1")
	data, ok := ae.Data.(*task.EvidenceRequiredData)
	if !ok || data.Reason != "not_received" || len(data.Examples) == 0 || data.Examples[0].ZH == "" || data.Examples[0].EN == "" {
		t.Fatalf("refusal data %+v, want not_received with bilingual examples", ae.Data)
	}
	if !strings.Contains(ae.Message, data.Examples[0].EN) || !slices.Contains(data.Options, "continue_refusing") {
		t.Fatalf("message %q does not list the example evidence / options %v", ae.Message, data.Options)
	}
	sameWorld(t, w, snapshot(env, "o2"))
	wantState(env, after.ID, task.AwaitingSellerReply)
}

// R-EVD-1, R-EVD-5: a reason whose row does not require evidence
// (changed_mind) is refused without evidence after 2022-12-27 too.
func TestRefusal_R_EVD_1_ReasonWithoutRequirement(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openRefund(t, env, "o1", task.ReturnRefund, "changed_mind", "")
	got, err := refuse(env, tk.ID, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != task.PlatformIntervening || got.Evidence != nil {
		t.Fatalf("changed_mind refusal: %s %+v", got.State, got.Evidence)
	}
	if n := len(outboxOf(env, engine.KindOrderInstruction)); n != 0 {
		t.Fatalf("%d order instructions, want 0", n)
	}
}

// R-EVD-2, R-EVD-3: continuing to refuse without evidence goes through and
// is recorded; on the intervention it leads to, the platform at once opens
// the remedy the buyer asked for (an order instruction and an order event),
// completes the task with it and judges the seller liable, counted as a
// judged and a liable dispute (R-LIA-1).
func TestRefusal_R_EVD_2_R_EVD_3_ContinueRefusing(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openRefund(t, env, "o1", task.ReturnRefund, "quality_issue", "refund_only")
	if tk.Refund == nil || tk.Refund.Remedy != "refund_only" {
		t.Fatalf("refund request %+v", tk.Refund)
	}
	got, err := refuse(env, tk.ID, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != task.Completed || got.Outcome != "refund_only" {
		t.Fatalf("after continue_refusing: %s / %s, want completed / refund_only", got.State, got.Outcome)
	}
	if e := got.Evidence; e == nil || !e.Required || !e.ContinuedWithout || e.Default != task.DefaultNoEvidence {
		t.Fatalf("evidence state %+v", got.Evidence)
	}
	evs := env.Events(tk.ID)
	acts := eventActions(evs)
	if !slices.Equal(acts[1:], []string{"refuse/R-EVD-2", "open_remedy/R-EVD-3"}) {
		t.Fatalf("history %v", acts)
	}
	var reply task.Reply
	if err := json.Unmarshal(evs[1].Data, &reply); err != nil || !reply.EvidenceRequired || !reply.ContinueRefusing {
		t.Fatalf("refusal data %s: want evidence_required and continue_refusing", evs[1].Data)
	}
	if evs[2].To != task.Completed || evs[2].From != task.PlatformIntervening || evs[2].Actor.Role != task.RoleSystem {
		t.Fatalf("open_remedy event %+v", evs[2])
	}
	ins := outboxOf(env, engine.KindOrderInstruction)
	if len(ins) != 1 || ins[0].Recipient != engine.OrderSystem || ins[0].Rule != "R-EVD-3" || !strings.Contains(string(ins[0].Payload), `"remedy":"refund_only"`) {
		t.Fatalf("order instructions %+v", ins)
	}
	var opened bool
	for _, e := range env.Events("o1") {
		opened = opened || (e.Action == "remedy_opened" && strings.Contains(string(e.Data), "refund_only"))
	}
	if !opened {
		t.Fatal("no remedy_opened event on the order's history")
	}
	day := "2023-03-01"
	if counter(env, scorecard.CounterKey("tb", day, scorecard.MetricLiableDisputes)) != 1 || counter(env, scorecard.CounterKey("tb", day, scorecard.MetricJudged)) != 1 {
		t.Fatal("the liable judgment is not in the shop's day counters")
	}
}

// R-EVD-3: exchange asks for an exchange; the platform opens it.
func TestRefusal_R_EVD_3_ExchangeRemedy(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openRefund(t, env, "o1", task.Exchange, "wrong_item", "")
	got, err := refuse(env, tk.ID, nil, true)
	if err != nil || got.State != task.Completed || got.Outcome != "exchange" {
		t.Fatalf("exchange: %+v %v", got, err)
	}
}

// R-EVD-5: a refund request's reason must be in the table; the remedy must
// fit the type. Refused with EINVALID naming the field; nothing changes.
func TestRefundRequest_R_EVD_5_Validation(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	addOrder(env, "tb", "o1")
	w := snapshot(env, "o1")
	cases := []struct {
		typ    task.Type
		rr     task.RefundRequest
		field  string
		reason string
	}{
		{task.ReturnRefund, task.RefundRequest{Reason: "too_small"}, "reason", "invalid"},
		{task.ReturnRefund, task.RefundRequest{Reason: "quality_issue", Remedy: "exchange"}, "remedy", "invalid"},
		{task.Exchange, task.RefundRequest{Reason: "wrong_item", Remedy: "refund_only"}, "remedy", "invalid"},
		{task.Repair, task.RefundRequest{Reason: "quality_issue"}, "refund", "invalid"},
	}
	for _, c := range cases {
		rr := c.rr
		_, err := env.Engine.CreateTask(env.Ctx, task.Command{Actor: buyer(buyerOf("o1")), OrderID: "o1", Type: c.typ, Refund: &rr})
		wantErr(t, err, apperr.EINVALID, c.reason, c.field, "")
	}
	sameWorld(t, w, snapshot(env, "o1"))
}

// R-EVD-1, R-EVD-4, R-MSG-2: a refusal with evidence stores the item with its
// uploaded attachment (sniffed type, SHA-256), stays with the agent, and the
// evidence is there for the intervention; an agent marking it invalid leads
// to R-EVD-3's outcome.
func TestRefusal_R_EVD_1_WithEvidenceThenMarkedInvalid(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openRefund(t, env, "o1", task.ReturnRefund, "damaged_in_transit", "")
	att, err := env.Engine.UploadAttachment(env.Ctx, shopMain("tb_main"), tk.ID, "packing.png", pngBytes)
	if err != nil {
		t.Fatal(err)
	}
	if att.ContentType != "image/png" || att.Size != int64(len(pngBytes)) || len(att.SHA256) != 64 || att.Side != task.SideShop {
		t.Fatalf("attachment %+v", att)
	}
	// the buyer cannot give the shop's upload as theirs
	_, err = env.Engine.Act(env.Ctx, task.Command{Action: task.ActProvideEvidence, Actor: buyer(buyerOf("o1")), TaskID: tk.ID,
		Evidence: &task.EvidenceInput{Description: "mine", Attachments: []string{att.ID}}})
	wantErr(t, err, apperr.EFORBIDDEN, "evidence.attachment_side", "", "")

	got, err := refuse(env, tk.ID, &task.EvidenceInput{Description: "packing video stills", Attachments: []string{att.ID}, Visibility: task.ShopAgent}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != task.PlatformIntervening || got.Evidence == nil || got.Evidence.RefusalItems != 1 || got.Evidence.Default != "" {
		t.Fatalf("refusal with evidence: %s %+v", got.State, got.Evidence)
	}
	if evs := env.Events(tk.ID); evs[len(evs)-1].Rule != "R-EVD-1" {
		t.Fatalf("refusal rule %s, want R-EVD-1", evs[len(evs)-1].Rule)
	}
	items := evidenceOf(env, tk.ID)
	if len(items) != 1 || !items[0].AtRefusal || items[0].Round != 1 || items[0].Visibility != task.ShopAgent ||
		len(items[0].Attachments) != 1 || items[0].Attachments[0].ItemID != items[0].ID || len(got.Reply.Evidence) != 0 {
		t.Fatalf("items %+v, reply %+v", items, got.Reply)
	}
	// the public reply does not name the shop_agent item (R-MSG-2)
	if vis := task.FilterEvidence(items, task.SideBuyer); len(vis) != 0 {
		t.Fatalf("the buyer sees shop_agent evidence: %+v", vis)
	}
	// the attachment cannot be used twice
	_, err = env.Engine.Act(env.Ctx, task.Command{Action: task.ActProvideEvidence, Actor: shopMain("tb_main"), TaskID: tk.ID,
		Evidence: &task.EvidenceInput{Description: "again", Attachments: []string{att.ID}}})
	wantErr(t, err, apperr.ECONFLICT, "evidence.attachment_used", "evidence.attachments[0]", "")

	got = act(env, task.Command{Action: task.ActMarkEvidence, Actor: agent("xiaoer"), TaskID: tk.ID,
		Mark: &task.EvidenceMark{ItemID: items[0].ID, Valid: false, Note: "stills are of another parcel"}})
	if got.State != task.Completed || got.Outcome != "return_refund" || got.Evidence.Default != task.DefaultInvalidEvidence {
		t.Fatalf("after invalid mark: %s / %s / %+v", got.State, got.Outcome, got.Evidence)
	}
	items = evidenceOf(env, tk.ID)
	if items[0].Valid == nil || *items[0].Valid || items[0].MarkedBy.ID != "xiaoer" {
		t.Fatalf("mark not stored: %+v", items[0])
	}
	if counter(env, scorecard.CounterKey("tb", "2023-03-01", scorecard.MetricLiableDisputes)) != 1 {
		t.Fatal("no liable dispute counted")
	}
}

// A valid mark keeps the task with the agent.
func TestMarkEvidence_R_EVD_3_ValidKeepsIntervening(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openRefund(t, env, "o1", task.ReturnRefund, "not_received", "")
	if _, err := refuse(env, tk.ID, &task.EvidenceInput{Description: "signed for by the buyer, tracking SF123"}, false); err != nil {
		t.Fatal(err)
	}
	items := evidenceOf(env, tk.ID)
	got := act(env, task.Command{Action: task.ActMarkEvidence, Actor: agent("xiaoer"), TaskID: tk.ID, Mark: &task.EvidenceMark{ItemID: items[0].ID, Valid: true}})
	if got.State != task.PlatformIntervening || got.Evidence.Default != "" {
		t.Fatalf("valid mark: %s %+v", got.State, got.Evidence)
	}
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActMarkEvidence, Actor: agent("xiaoer"), TaskID: tk.ID, Mark: &task.EvidenceMark{ItemID: "evd_none"}})
	wantErr(t, err, apperr.ENOTFOUND, "", "mark.item_id", "")
}

// intervenedWithEvidence opens a not_received refund, refuses it with
// evidence and has the agent ask both sides for a second round.
func intervenedWithEvidence(t *testing.T, env *testkit.Env, orderID string) (*task.Task, time.Time) {
	t.Helper()
	tk := openRefund(t, env, orderID, task.ReturnRefund, "not_received", "")
	if _, err := refuse(env, tk.ID, &task.EvidenceInput{Description: "tracking shows delivered"}, false); err != nil {
		t.Fatal(err)
	}
	got := act(env, task.Command{Action: task.ActRequestEvidence, Actor: agent("xiaoer"), TaskID: tk.ID,
		EvidenceRequest: &task.EvidenceRequest{Sides: []task.Side{task.SideShop, task.SideBuyer}, Text: "the buyer now says the box was empty"}})
	due := env.Clock.Now().Add(72 * time.Hour)
	if got.DueAt == nil || !got.DueAt.Equal(due) || len(got.Evidence.Rounds) != 2 {
		t.Fatalf("second round: due %v, rounds %+v", got.DueAt, got.Evidence.Rounds)
	}
	kinds := timerKinds(env.Timers(tk.ID))
	if !slices.Contains(kinds, task.TimerEvidenceShop) || !slices.Contains(kinds, task.TimerEvidenceBuyer) {
		t.Fatalf("timers %v", kinds)
	}
	return got, due
}

// R-EVD-4: a second round (72 h, policy) provided 1 s before the deadline
// is in time: round 2, the side's timer stops, the other side's keeps
// running; the buyer's round lapsing is recorded and changes nothing else.
func TestSecondRound_R_EVD_4_InTime(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk, due := intervenedWithEvidence(t, env, "o1")
	env.AdvanceTo(due.Add(-time.Second))
	got := act(env, task.Command{Action: task.ActProvideEvidence, Actor: shopMain("tb_main"), TaskID: tk.ID,
		Evidence: &task.EvidenceInput{Description: "weighing record: 1.2 kg at dispatch", Visibility: task.ShopAgent}})
	if got.State != task.PlatformIntervening || got.Evidence.Rounds[0].ProvidedAt == nil || got.Evidence.Default != "" {
		t.Fatalf("provided in time: %s %+v", got.State, got.Evidence)
	}
	if kinds := timerKinds(env.Timers(tk.ID)); !slices.Equal(kinds, []string{task.TimerEvidenceBuyer}) {
		t.Fatalf("timers after the shop's round: %v, want only the buyer's", kinds)
	}
	items := evidenceOf(env, tk.ID)
	if len(items) != 2 || items[1].Round != 2 || items[1].AtRefusal || items[0].Round != 1 || !items[0].AtRefusal {
		t.Fatalf("items %+v", items)
	}
	evs := env.Events(tk.ID)
	if last := evs[len(evs)-1]; last.Action != "provide_evidence" || last.Visibility != task.ShopAgent {
		t.Fatalf("provide event %+v: its visibility follows the item's", last)
	}
	env.AdvanceTo(due.Add(time.Second))
	got = wantState(env, tk.ID, task.PlatformIntervening)
	if !got.Evidence.Rounds[1].Missed || got.Evidence.Default != "" || got.DueAt != nil {
		t.Fatalf("buyer's round lapsed: %+v due %v", got.Evidence, got.DueAt)
	}
}

// R-EVD-4 → R-EVD-3: the shop's second round not provided by the deadline
// counts as a refusal without valid evidence. The deadline instant is
// missed (as every timer here: it fires at its due time), so at exactly the
// deadline the platform opens the remedy and judges the seller liable.
func TestSecondRound_R_EVD_4_MissedAtDeadline(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk, due := intervenedWithEvidence(t, env, "o1")
	env.AdvanceTo(due.Add(-time.Second))
	wantState(env, tk.ID, task.PlatformIntervening)
	env.AdvanceTo(due)
	got := wantState(env, tk.ID, task.Completed)
	if got.Outcome != "return_refund" || got.Evidence.Default != task.DefaultSecondRoundMissed || !got.Evidence.Rounds[0].Missed {
		t.Fatalf("missed round: %s %+v", got.Outcome, got.Evidence)
	}
	acts := eventActions(env.Events(tk.ID))
	if !slices.Contains(acts, "evidence_timeout_shop/R-EVD-4") || acts[len(acts)-1] != "open_remedy/R-EVD-3" {
		t.Fatalf("history %v", acts)
	}
	if n := len(env.Timers(tk.ID)); n != 0 {
		t.Fatalf("%d timers left on a completed task", n)
	}
	if counter(env, scorecard.CounterKey("tb", policyDay(env, due), scorecard.MetricLiableDisputes)) != 1 {
		t.Fatal("no liable dispute counted")
	}
	// 1 s after: the task is completed; late evidence is refused.
	env.AdvanceTo(due.Add(time.Second))
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActProvideEvidence, Actor: shopMain("tb_main"), TaskID: tk.ID,
		Evidence: &task.EvidenceInput{Description: "late"}})
	wantErr(t, err, apperr.ECONFLICT, "task.completed", "", "R-ST-4")
}

// R-EVD-4: evidence arriving at the deadline before the sweeper has fired
// the timer is refused as late all the same, and changes nothing.
func TestSecondRound_R_EVD_4_LateBeforeSweep(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk, due := intervenedWithEvidence(t, env, "o1")
	env.Clock.Set(due) // no sweep yet
	w := snapshot(env, "o1")
	_, err := env.Engine.Act(env.Ctx, task.Command{Action: task.ActProvideEvidence, Actor: shopMain("tb_main"), TaskID: tk.ID,
		Evidence: &task.EvidenceInput{Description: "at the deadline"}})
	wantErr(t, err, apperr.ECONFLICT, "evidence.round_expired", "", "R-EVD-4")
	sameWorld(t, w, snapshot(env, "o1"))
	// a second request for the same side is refused
	_, err = env.Engine.Act(env.Ctx, task.Command{Action: task.ActRequestEvidence, Actor: agent("xiaoer"), TaskID: tk.ID,
		EvidenceRequest: &task.EvidenceRequest{Sides: []task.Side{task.SideShop}}})
	wantErr(t, err, apperr.ECONFLICT, "evidence.round_exists", "evidence_request.sides[0]", "R-EVD-4")
}

func policyDay(env *testkit.Env, at time.Time) string {
	r, err := env.Policy.At(commerce.Taobao, at)
	if err != nil {
		env.T.Fatal(err)
	}
	return r.BusinessDay(at)
}

// R-COL-5 with R-EVD-3: a worry-free order gets no dispute judgment, so a
// refusal without evidence leaves the task with the agent.
func TestRefusal_R_EVD_3_WorryFreeStaysWithAgent(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	f := testkit.OrderFact("o1", "tb", buyerOf("o1"), env.Clock.Now().Add(-24*time.Hour), env.Clock.Now().Add(-time.Hour))
	f.Order.WorryFree = true
	env.MustIngest(f)
	tk, err := env.Engine.CreateTask(env.Ctx, task.Command{Actor: buyer(buyerOf("o1")), OrderID: "o1", Type: task.ReturnRefund,
		Refund: &task.RefundRequest{Reason: "quality_issue"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := refuse(env, tk.ID, nil, true)
	if err != nil || got.State != task.PlatformIntervening {
		t.Fatalf("worry-free: %+v %v", got, err)
	}
	if n := len(outboxOf(env, engine.KindOrderInstruction)); n != 0 {
		t.Fatalf("%d order instructions", n)
	}
}

// Uploads: the type is sniffed from the bytes (a text file named .png is
// refused), the size is limited by policy (5 MiB), the uploader must be a
// party of the task; a refusal stores nothing.
func TestUploadAttachment_R_EVD_1_Checks(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	tk := openRefund(t, env, "o1", task.ReturnRefund, "not_received", "")
	w := snapshot(env, "o1")
	_, err := env.Engine.UploadAttachment(env.Ctx, buyer(buyerOf("o1")), tk.ID, "photo.png", []byte("just text, named like a picture"))
	wantErr(t, err, apperr.EINVALID, "evidence.type", "file", "")
	big := append(append([]byte(nil), pngBytes...), make([]byte, 5<<20)...)
	_, err = env.Engine.UploadAttachment(env.Ctx, buyer(buyerOf("o1")), tk.ID, "big.png", big)
	wantErr(t, err, apperr.EINVALID, "evidence.too_large", "file", "")
	exact := append(append([]byte(nil), pngBytes...), make([]byte, 5<<20-len(pngBytes))...)
	_, err = env.Engine.UploadAttachment(env.Ctx, buyer("someone_else"), tk.ID, "x.png", exact)
	wantErr(t, err, apperr.EFORBIDDEN, "not_your_order", "", "")
	sameWorld(t, w, snapshot(env, "o1"))
	a, err := env.Engine.UploadAttachment(env.Ctx, buyer(buyerOf("o1")), tk.ID, "x.png", exact)
	if err != nil || a.Size != 5<<20 {
		t.Fatalf("exactly 5 MiB: %+v %v", a, err)
	}
}
