package engine_test

import (
	"fmt"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/scorecard"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// ordersPaid ingests n unshipped orders of shop, paid at paidAt, in one batch.
func ordersPaid(env *testkit.Env, shopID, prefix string, n int, paidAt time.Time) []string {
	env.T.Helper()
	facts := make([]commerce.Fact, 0, n)
	ids := make([]string, 0, n)
	for i := range n {
		oid := fmt.Sprintf("%s%d", prefix, i+1)
		ids = append(ids, oid)
		facts = append(facts, testkit.OrderFact(oid, shopID, buyerOf(oid), paidAt, paidAt.Add(48*time.Hour)))
	}
	env.MustIngest(facts...)
	return ids
}

// upheldComplaint files a shipping complaint on the order and upholds it:
// a liable complaint (R-LIA-1).
func upheldComplaint(t *testing.T, env *testkit.Env, orderID string) *judgment.Complaint {
	t.Helper()
	c, err := env.Engine.FileComplaint(env.Ctx, buyer(buyerOf(orderID)), orderID, judgment.ComplaintShipping)
	if err != nil {
		t.Fatalf("complaint on %s: %v", orderID, err)
	}
	finish(t, env, c.ID, judgment.ComplaintUpheld)
	return c
}

func takeoverOf(t *testing.T, env *testkit.Env, shopID string) scorecard.Takeover {
	t.Helper()
	var to scorecard.Takeover
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) {
		to, err = tx.Takeover(env.Ctx, shopID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return to
}

func card(t *testing.T, env *testkit.Env, shopID string) *scorecard.Card {
	t.Helper()
	c, err := env.Engine.Scorecard(env.Ctx, shopID, env.Clock.Now())
	if err != nil {
		t.Fatalf("scorecard %s: %v", shopID, err)
	}
	return c
}

// switches returns the takeover switches recorded on the shop's stream.
func switches(env *testkit.Env, shopID string) []task.Event {
	return env.Events(scorecard.TakeoverStream(shopID))
}

// The Taote default: industry average 0.5 % and 2 liable cases, multiplier
// 5, so a shop is abnormal above a 2.5 % rate AND above 10 liable cases.

// R-LIA-2: with the count exactly at 5 × the average (10) the shop is not
// abnormal however high its rate; the 11th liable case makes it abnormal.
func TestLiability_R_LIA_2_CountAtAndAboveMultiple(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-10T10:00:00"))
	addShop(env, "tt", commerce.Taote)
	ids := ordersPaid(env, "tt", "o", 300, env.Clock.Now().Add(-time.Hour))
	for _, oid := range ids[:10] {
		upheldComplaint(t, env, oid)
	}
	c := card(t, env, "tt")
	if c.Liability.Liable != 10 || c.Liability.Orders != 300 || !c.Liability.RateAbove || c.Liability.CountAbove || c.Liability.Abnormal {
		t.Fatalf("10 liable of 300: %+v", c.Liability)
	}
	if to := takeoverOf(t, env, "tt"); to.Active {
		t.Fatalf("taken over at count exactly 5×: %+v", to)
	}
	upheldComplaint(t, env, ids[10])
	c = card(t, env, "tt")
	if c.Liability.Liable != 11 || !c.Liability.CountAbove || !c.Liability.Abnormal {
		t.Fatalf("11 liable of 300: %+v", c.Liability)
	}
	to := takeoverOf(t, env, "tt")
	if !to.Active || !to.Since.Equal(env.Clock.Now()) || to.Starts != 1 || !c.Takeover.Active {
		t.Fatalf("takeover after the 11th: %+v (card %+v)", to, c.Takeover)
	}
	sw := switches(env, "tt")
	if len(sw) != 1 || sw[0].Action != "takeover_started" || sw[0].Rule != "R-LIA-2" || sw[0].Visibility != task.ShopAgent {
		t.Fatalf("switches %+v", sw)
	}
	msgs := outboxOf(env, notify.KindTakeover)
	if len(msgs) != 1 || msgs[0].Recipient != "tt_main" || msgs[0].Rule != "R-LIA-2" {
		t.Fatalf("takeover messages %+v", msgs)
	}
}

// R-LIA-2 / R-LIA-3: with 11 liable cases the rate decides: above 2.5 % the
// shop is taken over and each new unshipped order is refunded at once (orders
// from before are untouched); the order that brings the rate to exactly
// 2.5 % (11/440) stops the takeover and is not taken over itself.
func TestLiability_R_LIA_2_RateAtAndAboveMultiple(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-10T10:00:00"))
	addShop(env, "tt", commerce.Taote)
	ids := ordersPaid(env, "tt", "o", 438, env.Clock.Now().Add(-time.Hour))
	for _, oid := range ids[:11] {
		upheldComplaint(t, env, oid)
	}
	if to := takeoverOf(t, env, "tt"); !to.Active {
		t.Fatalf("11/438 = %.4f%%: not taken over", 11.0/438*100)
	}
	env.Advance(time.Minute)
	addOrderShipBy(env, "tt", "n1", env.Clock.Now().Add(48*time.Hour)) // 11/439 > 2.5 %
	n1 := env.Order("n1")
	if n1.TakenOverAt == nil || !n1.TakenOverAt.Equal(env.Clock.Now()) {
		t.Fatalf("order created during the takeover: taken over at %v", n1.TakenOverAt)
	}
	refunds := outboxOf(env, notify.KindPlatformRefund)
	if len(refunds) != 1 || refunds[0].OrderID != "n1" || refunds[0].Recipient != notify.OrderSystem || refunds[0].Rule != "R-LIA-2" {
		t.Fatalf("platform refunds %+v", refunds)
	}
	if !hasOrderEvent(env, "n1", "taken_over") {
		t.Fatal("no taken_over event on n1")
	}
	if o := env.Order(ids[20]); o.TakenOverAt != nil || hasOrderEvent(env, ids[20], "taken_over") {
		t.Fatalf("an order from before the takeover was taken over: %+v", o)
	}

	env.Advance(time.Minute)
	addOrderShipBy(env, "tt", "n2", env.Clock.Now().Add(48*time.Hour)) // 11/440 = 2.5 % exactly
	if to := takeoverOf(t, env, "tt"); to.Active || !to.Since.Equal(env.Clock.Now()) {
		t.Fatalf("rate exactly 5× the average: takeover %+v", to)
	}
	if o := env.Order("n2"); o.TakenOverAt != nil {
		t.Fatal("the order that stopped the takeover was taken over")
	}
	if n := len(outboxOf(env, notify.KindPlatformRefund)); n != 1 {
		t.Fatalf("%d platform refunds, want 1", n)
	}
	sw := switches(env, "tt")
	if len(sw) != 2 || sw[1].Action != "takeover_stopped" || sw[1].Rule != "R-LIA-3" {
		t.Fatalf("switches %+v", sw)
	}
}

// R-LIA-2: a shipped order is never taken over, even one created during the
// takeover (TakesOver); here: the shop's orders that shipped stay shipped and
// untouched when the takeover starts.
func TestLiability_R_LIA_2_ShippedUntouched(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-10T10:00:00"))
	addShop(env, "tt", commerce.Taote)
	ids := ordersPaid(env, "tt", "o", 100, env.Clock.Now().Add(-time.Hour))
	env.MustIngest(shipFact("s1", ids[50], env.Clock.Now()))
	for _, oid := range ids[:11] {
		upheldComplaint(t, env, oid)
	}
	if !takeoverOf(t, env, "tt").Active {
		t.Fatal("not taken over")
	}
	if o := env.Order(ids[50]); o.TakenOverAt != nil || o.ShippedAt == nil {
		t.Fatalf("shipped order %+v", o)
	}
	if n := len(outboxOf(env, notify.KindPlatformRefund)); n != 0 {
		t.Fatalf("%d refunds at the start of a takeover; only new orders are refunded", n)
	}
}

// R-LIA-3 and R-LIA-1's window: liable cases count for the 30 business days
// ending with the day read. Cases upheld on 03-10 are in the window through
// 04-08 23:59:59 and leave it at 04-09 00:00 Beijing, when the shop's
// midnight timer stops the takeover — not a second earlier.
func TestLiability_R_LIA_3_WindowSlides(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-10T10:00:00"))
	addShop(env, "tt", commerce.Taote)
	ids := ordersPaid(env, "tt", "o", 100, env.Clock.Now().Add(-time.Hour))
	for _, oid := range ids[:11] {
		upheldComplaint(t, env, oid)
	}
	if !takeoverOf(t, env, "tt").Active {
		t.Fatal("not taken over")
	}
	env.AdvanceTo(bj(t, "2023-04-08T23:59:59"))
	if to := takeoverOf(t, env, "tt"); !to.Active {
		t.Fatalf("stopped before the window slid: %+v", to)
	}
	env.AdvanceTo(bj(t, "2023-04-09T00:00:00"))
	to := takeoverOf(t, env, "tt")
	if to.Active || !to.Since.Equal(bj(t, "2023-04-09T00:00:00")) {
		t.Fatalf("at 04-09 00:00: %+v", to)
	}
	sw := switches(env, "tt")
	if len(sw) != 2 || sw[1].Rule != "R-LIA-3" || !sw[1].At.Equal(bj(t, "2023-04-09T00:00:00")) {
		t.Fatalf("switches %+v", sw)
	}
	// Nothing liable left: no more midnight evaluations.
	if tms := env.Timers(scorecard.TakeoverStream("tt")); len(tms) != 0 {
		t.Fatalf("timers after the window emptied: %+v", tms)
	}
}

// R-LIA-3: a complaint withdrawn after it was upheld (撤销投诉) stops being a
// liable case on the day it was upheld, and the takeover stops at once.
func TestLiability_R_LIA_3_WithdrawnComplaintStopsTakeover(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-10T10:00:00"))
	addShop(env, "tt", commerce.Taote)
	ids := ordersPaid(env, "tt", "o", 100, env.Clock.Now().Add(-time.Hour))
	var last *judgment.Complaint
	for _, oid := range ids[:11] {
		last = upheldComplaint(t, env, oid)
	}
	env.Advance(2 * 24 * time.Hour)
	if _, err := env.Engine.WithdrawComplaint(env.Ctx, buyer("someone_else"), last.ID, "agreed"); apperr.CodeOf(err) != apperr.EFORBIDDEN {
		t.Fatalf("withdrawal by another buyer: %v", err)
	}
	c, err := env.Engine.WithdrawComplaint(env.Ctx, buyer(buyerOf(last.OrderID)), last.ID, "agreed with the shop")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != judgment.ComplaintWithdrawn || c.WithdrawnAt == nil || !c.FinishedAt.Equal(bj(t, "2023-03-10T10:00:00")) {
		t.Fatalf("withdrawn complaint %+v", c)
	}
	if n := counter(env, scorecard.CounterKey("tt", "2023-03-10", scorecard.MetricLiableComplaints)); n != 10 {
		t.Fatalf("liable complaints on the upheld day = %d, want 10", n)
	}
	if to := takeoverOf(t, env, "tt"); to.Active {
		t.Fatalf("takeover after withdrawal: %+v", to)
	}
	if _, err := env.Engine.WithdrawComplaint(env.Ctx, buyer(buyerOf(last.OrderID)), last.ID, "again"); apperr.CodeOf(err) != apperr.ECONFLICT {
		t.Fatalf("second withdrawal: %v", err)
	}
}

// R-LIA-1: liable = an agent judged the seller responsible; a case judged
// without liability counts as judged (R-COL-4's dispute rate) but not as
// liable.
func TestLiability_R_LIA_1_OnlyLiableJudgmentsCount(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	a := intervenedCollab(t, env, "o1")
	b := intervenedCollab(t, env, "o2")
	if _, err := judge(env, a.ID, &task.Judgment{Liable: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := judge(env, b.ID, &task.Judgment{Liable: false}); err != nil {
		t.Fatal(err)
	}
	c := card(t, env, "tm")
	if c.Liability.Liable != 1 || c.Liability.Orders != 2 {
		t.Fatalf("liability %+v", c.Liability)
	}
	if c.Disputes.Metric != "platform_dispute_rate" || c.Disputes.Judged != 2 || c.Disputes.Orders != 2 || c.Disputes.Rate != "100.00%" {
		t.Fatalf("disputes %+v", c.Disputes)
	}
	if c.Liability.TakeoverRule || c.Takeover.Active {
		t.Fatalf("Tmall has no takeover: %+v %+v", c.Liability, c.Takeover)
	}
}

// R-COL-6 and R-LIA-1: an overturned judgment is taken back on the day it
// was made — judged and liable counters — and its forged-evidence points are
// reversed by a ledger entry of their own; the charge is never deleted, and
// a judgment is overturned once.
func TestJudgment_Overturned(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	tk := intervenedCollab(t, env, "o1")
	if _, err := judge(env, tk.ID, &task.Judgment{Liable: true, Forged: task.ForgedGeneral}); err != nil {
		t.Fatal(err)
	}
	judgedDay := scorecard.Day(env.Clock.Now(), beijing)
	env.Advance(3 * 24 * time.Hour)
	if _, err := env.Engine.OverturnJudgment(env.Ctx, buyer(buyerOf("o1")), tk.ID, "appeal"); apperr.CodeOf(err) != apperr.EFORBIDDEN {
		t.Fatalf("buyer overturning: %v", err)
	}
	if _, err := env.Engine.OverturnJudgment(env.Ctx, agent("x2"), tk.ID, ""); apperr.CodeOf(err) != apperr.EINVALID {
		t.Fatalf("no reason: %v", err)
	}
	if _, err := env.Engine.OverturnJudgment(env.Ctx, agent("x2"), tk.ID, "the evidence was genuine after all"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{scorecard.MetricJudged, scorecard.MetricLiableDisputes} {
		if n := counter(env, scorecard.CounterKey("tm", judgedDay, m)); n != 0 {
			t.Errorf("%s on %s = %d after overturn", m, judgedDay, n)
		}
	}
	total, entries := points(t, env, "tm")
	if total != 0 || len(entries) != 2 || entries[1].ReversalOf != entries[0].ID || entries[1].Points != -12 || entries[1].Rule != "R-COL-6" {
		t.Fatalf("ledger after overturn: total %d, %+v", total, entries)
	}
	if !hasOrderEvent(env, "o1", "points_reversed") {
		t.Fatal("no points_reversed event")
	}
	if _, err := env.Engine.OverturnJudgment(env.Ctx, agent("x2"), tk.ID, "again"); apperr.CodeOf(err) != apperr.ECONFLICT {
		t.Fatalf("second overturn: %v", err)
	}
	open := intervenedCollab(t, env, "o2")
	if _, err := env.Engine.OverturnJudgment(env.Ctx, agent("x2"), open.ID, "nothing"); apperr.CodeOf(err) != apperr.ECONFLICT {
		t.Fatalf("overturning an unjudged task: %v", err)
	}
}

// R-INV-3: the point an upheld invoice complaint brought is reversed when
// the complaint is overturned; the complaint leaves the gold seller invoice
// disputes (R-GLD-1) of the day it was upheld.
func TestComplaint_R_INV_3_OverturnReversesPoints(t *testing.T) {
	env := newEnv(t, bj(t, "2023-01-01T10:00:00"))
	addShop(env, "tm", commerce.Tmall)
	ids := invoiceComplaints(t, env, "tm", 1)
	finish(t, env, ids[0], judgment.ComplaintUpheld)
	day := scorecard.Day(env.Clock.Now(), beijing)
	if total, _ := points(t, env, "tm"); total != 1 {
		t.Fatalf("points %d, want 1", total)
	}
	if n := counter(env, scorecard.CounterKey("tm", day, scorecard.MetricInvoiceDisputes)); n != 1 {
		t.Fatalf("invoice disputes %d", n)
	}
	if _, err := env.Engine.OverturnComplaint(env.Ctx, agent("x"), ids[0], "the invoice had been issued offline"); err != nil {
		t.Fatal(err)
	}
	total, entries := points(t, env, "tm")
	if total != 0 || len(entries) != 2 || entries[1].ReversalOf != entries[0].ID || entries[1].ComplaintID != ids[0] {
		t.Fatalf("ledger %+v", entries)
	}
	if n := counter(env, scorecard.CounterKey("tm", day, scorecard.MetricInvoiceDisputes)); n != 0 {
		t.Fatalf("invoice disputes after overturn %d", n)
	}
	if _, err := env.Engine.OverturnComplaint(env.Ctx, agent("x"), ids[0], "again"); apperr.CodeOf(err) != apperr.ECONFLICT {
		t.Fatalf("overturning a dismissed complaint: %v", err)
	}
}

// goldComplaint makes an invoice complaint on a new Taobao order and
// finishes it with status at the given time.
func goldComplaint(t *testing.T, env *testkit.Env, orderID string, at time.Time, status string) *judgment.Complaint {
	t.Helper()
	env.AdvanceTo(at)
	addOrder(env, "tb", orderID)
	c, err := env.Engine.FileComplaint(env.Ctx, buyer(buyerOf(orderID)), orderID, judgment.ComplaintInvoice)
	if err != nil {
		t.Fatal(err)
	}
	finish(t, env, c.ID, status)
	return c
}

func goldVerdict(t *testing.T, env *testkit.Env, asOf time.Time) scorecard.Verdict {
	t.Helper()
	c, err := env.Engine.Scorecard(env.Ctx, "tb", asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Gold) != engineGoldPeriods || len(c.Gold[len(c.Gold)-1].Verdicts) != 1 {
		t.Fatalf("gold %+v", c.Gold)
	}
	return c.Gold[len(c.Gold)-1].Verdicts[0]
}

const engineGoldPeriods = 4

// R-GLD-1/2: an upheld invoice complaint in December period 1 withholds the
// December period 2 label; one withdrawn after agreement does not count.
// Period boundaries at Beijing midnight: upheld at 12-15 23:59:59 counts in
// period 1, at 12-16 00:00:00 in period 2 (decided in January period 1);
// 12-31 23:59:59 is December period 2, 01-01 00:00 January period 1.
func TestGold_R_GLD_1_2_Periods(t *testing.T) {
	env := newEnv(t, bj(t, "2022-12-01T09:00:00"))
	addShop(env, "tb", commerce.Taobao)
	w := goldComplaint(t, env, "ow", bj(t, "2022-12-05T10:00:00"), judgment.ComplaintUpheld)
	env.Advance(time.Hour)
	if _, err := env.Engine.WithdrawComplaint(env.Ctx, buyer(buyerOf("ow")), w.ID, "invoice issued, agreed"); err != nil {
		t.Fatal(err)
	}
	v := goldVerdict(t, env, bj(t, "2022-12-16T00:00:00"))
	if !v.Decides || v.Value != 0 || !v.Pass {
		t.Fatalf("withdrawn complaint only: %+v", v)
	}
	goldComplaint(t, env, "o1", bj(t, "2022-12-15T23:59:59"), judgment.ComplaintUpheld)
	if v := goldVerdict(t, env, bj(t, "2022-12-16T00:00:00")); v.Value != 1 || v.Pass || v.Label.String() != "2022-12-P2" || v.Data.String() != "2022-12-P1" {
		t.Fatalf("Dec P2 label: %+v", v)
	}
	// The December period 1 label (the first shown data period) is not decided.
	if v := goldVerdict(t, env, bj(t, "2022-12-15T23:59:59")); v.Decides || !v.Pass {
		t.Fatalf("Dec P1 label: %+v", v)
	}
	goldComplaint(t, env, "o2", bj(t, "2022-12-16T00:00:00"), judgment.ComplaintUpheld)
	if v := goldVerdict(t, env, bj(t, "2022-12-31T23:59:59")); v.Value != 1 || v.Label.String() != "2022-12-P2" {
		t.Fatalf("12-31 23:59:59 is still Dec P2 (on P1's data): %+v", v)
	}
	if v := goldVerdict(t, env, bj(t, "2023-01-01T00:00:00")); v.Value != 1 || v.Pass || v.Label.String() != "2023-01-P1" || v.Data.String() != "2022-12-P2" {
		t.Fatalf("Jan P1 label on Dec P2 data: %+v", v)
	}
	// A dismissed complaint never counts.
	goldComplaint(t, env, "o3", bj(t, "2023-01-02T10:00:00"), judgment.ComplaintDismissed)
	if v := goldVerdict(t, env, bj(t, "2023-01-16T00:00:00")); v.Value != 0 || !v.Pass {
		t.Fatalf("Jan P2 label: %+v", v)
	}
}

// R-URG-4: the scorecard's average manual response time over the window.
func TestScorecard_R_URG_4_AverageResponse(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	for i, wait := range []time.Duration{30 * time.Minute, 10 * time.Minute} {
		oid := fmt.Sprintf("o%d", i+1)
		addOrderShipBy(env, "tb", oid, env.Clock.Now().Add(48*time.Hour))
		mustUrge(env, oid, "marked")
		if err := env.Engine.KeepContacting(env.Ctx, buyer(buyerOf(oid)), oid); err != nil {
			t.Fatal(err)
		}
		env.Advance(wait)
		env.MustIngest(commerce.Fact{ID: "reply-" + oid, Type: commerce.FactChatReply, ChatReply: &commerce.ChatReplyFact{OrderID: oid}})
	}
	c := card(t, env, "tb")
	if c.Response.Responses != 2 || c.Response.AverageMS != (20*time.Minute).Milliseconds() || c.Response.Average != "20m0s" {
		t.Fatalf("response %+v", c.Response)
	}
}

// The scorecard reads O(days): its counters are per day, so the read does
// not depend on the shop's orders (see BenchmarkScorecardRead for figures).
func TestScorecard_CountersPerDay(t *testing.T) {
	env := newEnv(t, bj(t, "2023-03-10T10:00:00"))
	addShop(env, "tt", commerce.Taote)
	ordersPaid(env, "tt", "a", 5, bj(t, "2023-03-09T23:59:59"))
	ordersPaid(env, "tt", "b", 7, bj(t, "2023-03-10T00:00:00"))
	if n := counter(env, scorecard.CounterKey("tt", "2023-03-09", scorecard.MetricOrders)); n != 5 {
		t.Fatalf("orders on 03-09 = %d", n)
	}
	if n := counter(env, scorecard.CounterKey("tt", "2023-03-10", scorecard.MetricOrders)); n != 7 {
		t.Fatalf("orders on 03-10 = %d", n)
	}
	if n := counter(env, scorecard.IndustryKey("taote", "apparel", "2023-03-10", scorecard.MetricOrders)); n != 7 {
		t.Fatalf("industry orders on 03-10 = %d", n)
	}
	if n := counter(env, scorecard.IndustryShopsKey("taote", "apparel")); n != 1 {
		t.Fatalf("industry shops = %d", n)
	}
	if c := card(t, env, "tt"); c.Liability.Orders != 12 {
		t.Fatalf("card orders %d", c.Liability.Orders)
	}
}

// R-LIA-2 with liability.average_source computed: the industry average is
// pooled across the industry's shops from their day counters — rate = Σ
// liable ÷ Σ orders, count = Σ liable ÷ shops — and a shop in another
// industry does not move it.
func TestLiability_R_LIA_2_ComputedIndustryAverage(t *testing.T) {
	reg := modifiedRegistry(t, commerce.Taote, "average_source: configured", "average_source: computed")
	env := newEnvWith(t, reg, bj(t, "2023-03-10T10:00:00"))
	addShop(env, "a", commerce.Taote)
	addShop(env, "b", commerce.Taote)
	env.MustIngest(commerce.Fact{ID: "shop-c", Type: commerce.FactShop, Shop: &commerce.Shop{ID: "c", Platform: commerce.Taote,
		Industry: "food", MainAccount: "c_main", ShipFromRegion: "zhejiang"}})
	paid := env.Clock.Now().Add(-time.Hour)
	a := ordersPaid(env, "a", "a", 30, paid)
	ordersPaid(env, "b", "b", 70, paid)
	c := ordersPaid(env, "c", "c", 50, paid)
	for _, oid := range a[:3] {
		upheldComplaint(t, env, oid)
	}
	for _, oid := range c[:20] {
		upheldComplaint(t, env, oid) // another industry: no effect on apparel's average
	}
	got := card(t, env, "a")
	// apparel: 3 liable over 100 orders and 2 shops → rate 3/100, count 3/2.
	if got.Liability.AverageFrom != "computed" || got.Liability.AverageRate != "3/100" || got.Liability.AverageCount != "3/2" {
		t.Fatalf("computed average %+v", got.Liability)
	}
	// shop a: its rate 3/30 = 10 % is not above 5 × 3 % = 15 %, its count 3 not above 5 × 1.5 = 7.5.
	if got.Liability.RateAbove || got.Liability.CountAbove || got.Liability.Abnormal {
		t.Fatalf("shop a standing %+v", got.Liability)
	}
	if food := card(t, env, "c"); food.Liability.AverageRate != "2/5" || food.Liability.AverageCount != "20" {
		t.Fatalf("food average %+v", food.Liability)
	}
}
