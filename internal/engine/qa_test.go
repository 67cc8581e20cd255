package engine_test

import (
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/notify"
	"aftersale/internal/qa"
	"aftersale/internal/store"
	"aftersale/internal/testkit"
)

// qaEnv is a Taobao shop "tb" (main account tb_main, sub-accounts tb_s1
// with every permission and reminders on, tb_s2) selling product p1, and
// shop "tm" (main tm_main) selling p9.
func qaEnv(t *testing.T) *testkit.Env {
	t.Helper()
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao, subAcc("tb_s1", true, true), subAcc("tb_s2", false, false))
	addShop(env, "tm", commerce.Tmall)
	env.MustIngest(
		commerce.Fact{ID: "product-p1", Type: commerce.FactProduct, Product: &commerce.Product{ID: "p1", ShopID: "tb", Title: "纯棉T恤"}},
		commerce.Fact{ID: "product-p9", Type: commerce.FactProduct, Product: &commerce.Product{ID: "p9", ShopID: "tm"}},
	)
	return env
}

// buy ingests an order of product pid by buyer, paid at paidAt.
func buy(env *testkit.Env, orderID, shopID, buyerID, pid string, paidAt time.Time) {
	env.T.Helper()
	f := testkit.OrderFact(orderID, shopID, buyerID, paidAt, paidAt.Add(48*time.Hour))
	f.Order.Items = []commerce.Item{{SKU: pid + "-red-M", ProductID: pid}}
	env.MustIngest(f)
}

func ask(t *testing.T, env *testkit.Env, buyerID, pid, text string) *qa.Question {
	t.Helper()
	q, err := env.Engine.Ask(env.Ctx, buyer(buyerID), pid, text)
	if err != nil {
		t.Fatalf("ask %q: %v", text, err)
	}
	return q
}

func question(t *testing.T, env *testkit.Env, id string) *qa.Question {
	t.Helper()
	var q *qa.Question
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { q, err = tx.Question(env.Ctx, id); return }); err != nil {
		t.Fatal(err)
	}
	return q
}

// qaMessages returns the outbox messages of a kind, in order.
func qaMessages(env *testkit.Env, kind notify.Kind) []notify.Message {
	var out []notify.Message
	for _, m := range env.Outbox() {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func streamActions(env *testkit.Env, stream string) []string {
	var out []string
	for _, e := range env.Events(stream) {
		out = append(out, e.Action)
	}
	return out
}

// R-QA-1: the reminder of a new question goes to the shop's main account
// only, and only while it subscribes to 问大家; sub-accounts never get it,
// even one that subscribes to task reminders and holds every permission.
func TestQA1_ReminderOnlyToTheSubscribedMainAccount(t *testing.T) {
	env := qaEnv(t)
	ask(t, env, "b1", "p1", "这件T恤洗了会缩水吗？")
	rs := qaMessages(env, qa.KindReminder)
	if len(rs) != 1 || rs[0].Recipient != "tb_main" || rs[0].Status != notify.Suppressed || rs[0].Rule != "R-QA-1" {
		t.Fatalf("not subscribed: want one suppressed reminder to tb_main, got %+v", rs)
	}

	s, err := env.Engine.Subscribe(env.Ctx, shopMain("tb_main"), "tb_main", qa.TopicAskEveryone, true)
	if err != nil || !s.On {
		t.Fatalf("subscribe: %+v %v", s, err)
	}
	ask(t, env, "b2", "p1", "M码适合一米七的人穿吗？")
	rs = qaMessages(env, qa.KindReminder)
	if len(rs) != 2 || rs[1].Recipient != "tb_main" || rs[1].Status != notify.Pending {
		t.Fatalf("subscribed: want a pending reminder to tb_main, got %+v", rs)
	}
	for _, m := range env.Outbox() {
		if strings.HasPrefix(m.Recipient, "tb_s") {
			t.Fatalf("a sub-account got %s: %+v", m.Kind, m)
		}
	}

	if _, err := env.Engine.Subscribe(env.Ctx, shopMain("tb_main"), "tb_main", qa.TopicAskEveryone, false); err != nil {
		t.Fatal(err)
	}
	ask(t, env, "b3", "p1", "夏天穿会不会太厚了？")
	if rs = qaMessages(env, qa.KindReminder); rs[2].Status != notify.Suppressed {
		t.Fatalf("unsubscribed again: want suppressed, got %+v", rs[2])
	}
}

// R-QA-1: only a main account subscribes, and only for itself; a refused
// subscription changes nothing.
func TestQA1_SubscriptionIsTheMainAccounts(t *testing.T) {
	env := qaEnv(t)
	_, err := env.Engine.Subscribe(env.Ctx, sub("tb_s1"), "tb_s1", qa.TopicAskEveryone, true)
	if ae := testkit.Refusal(t, err, "R-QA-1", "qa.not_main_account"); ae.Code != apperr.EFORBIDDEN {
		t.Fatalf("code %s", ae.Code)
	}
	_, err = env.Engine.Subscribe(env.Ctx, shopMain("tm_main"), "tb_main", qa.TopicAskEveryone, true)
	wantErr(t, err, apperr.EFORBIDDEN, "not_your_shop", "", "") // another shop's account: not theirs (issue 12)
	_, err = env.Engine.Subscribe(env.Ctx, shopMain("tb_main"), "tb_main", "chat", true)
	if ae := testkit.Refusal(t, err, "R-QA-1", "invalid"); ae.Field != "topic" {
		t.Fatalf("field %q", ae.Field)
	}
	_, err = env.Engine.Subscribe(env.Ctx, shopMain("nobody"), "nobody", qa.TopicAskEveryone, true)
	if apperr.CodeOf(err) != apperr.ENOTFOUND {
		t.Fatalf("unknown account: %v", err)
	}
	var on bool
	env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) {
		on, err = tx.Subscribed(env.Ctx, "tb_main", qa.TopicAskEveryone)
		return
	})
	if on || len(env.Events("tb_main")) != 0 || len(env.Events("tb_s1")) != 0 {
		t.Fatalf("refused subscriptions left a trace: on=%v", on)
	}
}

// R-QA-1: buyers ask; a shop account does not, and an unknown product is not found.
func TestQA1_OnlyBuyersAskOnKnownProducts(t *testing.T) {
	env := qaEnv(t)
	_, err := env.Engine.Ask(env.Ctx, shopMain("tb_main"), "p1", "这件衣服会起球吗？")
	if ae := testkit.Refusal(t, err, "R-QA-1", "role"); ae.Code != apperr.EFORBIDDEN {
		t.Fatalf("code %s", ae.Code)
	}
	_, err = env.Engine.Ask(env.Ctx, buyer("b1"), "nope", "这件衣服会起球吗？")
	if ae, _ := apperr.As(err); ae == nil || ae.Code != apperr.ENOTFOUND || ae.Field != "product_id" {
		t.Fatalf("unknown product: %v", err)
	}
}

// R-QA-2: the system invites past buyers of the product as the policy says:
// 3 of them, not the asker, whose order was paid within 90 days before the
// question (exactly 90 days: in; 90 days + 1 s: out), the most recent first.
// Buyers of another product and orders without a product id do not count.
func TestQA2_InvitesPastBuyersByPolicy(t *testing.T) {
	env := qaEnv(t)
	now := env.Clock.Now()
	day := 24 * time.Hour
	buy(env, "o_edge", "tb", "b_edge", "p1", now.Add(-90*day))           // exactly the lookback: in
	buy(env, "o_old", "tb", "b_old", "p1", now.Add(-90*day-time.Second)) // 1 s more: out
	buy(env, "o_a", "tb", "b_a", "p1", now.Add(-3*day))
	buy(env, "o_b", "tb", "b_b", "p1", now.Add(-2*day))
	buy(env, "o_asker", "tb", "b_asker", "p1", now.Add(-1*day))
	buy(env, "o_b2", "tb", "b_b", "p1", now.Add(-30*day)) // b_b twice: one invitation
	env.MustIngest(testkit.OrderFact("o_plain", "tb", "b_plain", now.Add(-time.Hour), now.Add(time.Hour)))
	buy(env, "o_other", "tm", "b_other", "p9", now.Add(-time.Hour))

	q := ask(t, env, "b_asker", "p1", "领口洗几次会变形吗？")
	if q.Invited != 3 {
		t.Fatalf("invited %d, want 3", q.Invited)
	}
	var invs []qa.Invitation
	env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { invs, err = tx.Invitations(env.Ctx, q.ID); return })
	got := map[string]bool{}
	for _, in := range invs {
		got[in.BuyerID] = true
	}
	if len(invs) != 3 || !got["b_a"] || !got["b_b"] || !got["b_edge"] {
		t.Fatalf("invitations %+v, want b_b, b_a, b_edge", invs)
	}
	msgs := qaMessages(env, qa.KindInvitation)
	if len(msgs) != 3 || msgs[0].Recipient != "b_b" || msgs[1].Recipient != "b_a" || msgs[2].Recipient != "b_edge" {
		t.Fatalf("invitation messages, most recent first: %+v", msgs)
	}

	// pick: earliest, count 1 (policy): the first buyer of the product.
	reg := modifiedRegistry(t, commerce.Taobao, "count: 3\n          lookback: 90d\n          pick: most_recent",
		"count: 1\n          lookback: 90d\n          pick: earliest")
	env2 := newEnvWith(t, reg, env.Clock.Now())
	addShop(env2, "tb", commerce.Taobao)
	buy(env2, "o_a", "tb", "b_a", "p1", now.Add(-3*day))
	buy(env2, "o_b", "tb", "b_b", "p1", now.Add(-2*day))
	q2 := ask(t, env2, "b_c", "p1", "领口洗几次会变形吗？")
	env2.Store.View(env2.Ctx, func(tx store.ReadTx) (err error) { invs, err = tx.Invitations(env2.Ctx, q2.ID); return })
	if len(invs) != 1 || invs[0].BuyerID != "b_a" {
		t.Fatalf("earliest, 1: %+v", invs)
	}
}

// R-QA-2: answers come only from the shop's main account and invited past
// buyers. A sub-account, the main account of another shop, a past buyer not
// invited, the asker and an agent are refused with EFORBIDDEN naming the
// rule, and a refusal changes nothing.
func TestQA2_OnlyTheMainAccountAndInvitedBuyersAnswer(t *testing.T) {
	env := qaEnv(t)
	now := env.Clock.Now()
	for i, b := range []string{"b1", "b2", "b3", "b4"} {
		buy(env, "o_"+b, "tb", b, "p1", now.Add(-time.Duration(10-i)*time.Hour))
	}
	q := ask(t, env, "b9", "p1", "这件衣服会起球吗？") // invites b4, b3, b2 (most recent)
	refusals := []struct {
		who    string
		actor  func() error
		reason string
	}{
		{"sub-account with every permission", func() error { _, err := env.Engine.Answer(env.Ctx, sub("tb_s1"), q.ID, "不会起球"); return err }, "qa.not_main_account"},
		{"main account of another shop", func() error {
			_, err := env.Engine.Answer(env.Ctx, shopMain("tm_main"), q.ID, "不会起球")
			return err
		}, "qa.not_main_account"},
		{"past buyer not invited", func() error { _, err := env.Engine.Answer(env.Ctx, buyer("b1"), q.ID, "不会起球"); return err }, "qa.not_invited"},
		{"the asker", func() error { _, err := env.Engine.Answer(env.Ctx, buyer("b9"), q.ID, "不会起球"); return err }, "qa.not_invited"},
		{"an agent", func() error { _, err := env.Engine.Answer(env.Ctx, agent("a1"), q.ID, "不会起球"); return err }, "qa.not_invited"},
	}
	for _, r := range refusals {
		ae := testkit.Refusal(t, r.actor(), "R-QA-2", r.reason)
		if ae.Code != apperr.EFORBIDDEN {
			t.Errorf("%s: code %s, want forbidden", r.who, ae.Code)
		}
	}
	if got := question(t, env, q.ID); got.Answers != 0 {
		t.Fatalf("refusals changed the question: %+v", got)
	}
	a, err := env.Engine.Answer(env.Ctx, shopMain("tb_main"), q.ID, "亲，面料是精梳棉，正常洗涤不起球")
	if err != nil || a.By != qa.ByShop {
		t.Fatalf("main account: %+v %v", a, err)
	}
	a, err = env.Engine.Answer(env.Ctx, buyer("b3"), q.ID, "穿了两个月没起球")
	if err != nil || a.By != qa.ByBuyer {
		t.Fatalf("invited buyer: %+v %v", a, err)
	}
	if got := question(t, env, q.ID); got.Answers != 2 || got.BuyerAnswers != 1 {
		t.Fatalf("counts %+v", got)
	}
	if _, err := env.Engine.Answer(env.Ctx, buyer("b3"), "qst_nope", "好"); apperr.CodeOf(err) != apperr.ENOTFOUND {
		t.Fatalf("unknown question: %v", err)
	}
}

// R-QA-3: no buyer answer for MORE than 1 day suggests that the shop
// answer, by a timer on the second: at exactly 1 day nothing, at 1 day + 1 s
// a message to the main account and an event. The shop's own answer does
// not stop it ("没有用户回答").
func TestQA3_SuggestionAfterMoreThanOneDayWithoutBuyerAnswer(t *testing.T) {
	env := qaEnv(t)
	asked := env.Clock.Now()
	q := ask(t, env, "b1", "p1", "这件衣服会起球吗？")
	if q.SuggestAt == nil || !q.SuggestAt.Equal(asked.Add(24*time.Hour+time.Second)) {
		t.Fatalf("suggest_at %v", q.SuggestAt)
	}
	env.Advance(time.Hour)
	if _, err := env.Engine.Answer(env.Ctx, shopMain("tb_main"), q.ID, "亲，不会起球的"); err != nil {
		t.Fatal(err)
	}
	env.AdvanceTo(asked.Add(24 * time.Hour))
	if n := len(qaMessages(env, qa.KindSuggestion)); n != 0 {
		t.Fatalf("exactly 1 day: %d suggestions, want none", n)
	}
	env.AdvanceTo(asked.Add(24*time.Hour + time.Second))
	ms := qaMessages(env, qa.KindSuggestion)
	if len(ms) != 1 || ms[0].Recipient != "tb_main" || ms[0].Rule != "R-QA-3" || !ms[0].At.Equal(asked.Add(24*time.Hour+time.Second)) {
		t.Fatalf("1 day + 1 s: want one suggestion to tb_main at the second, got %+v", ms)
	}
	got := question(t, env, q.ID)
	if got.SuggestedAt == nil || got.SuggestAt != nil {
		t.Fatalf("question after suggestion: %+v", got)
	}
	acts := streamActions(env, q.ID)
	if acts[len(acts)-1] != "answer_suggested" {
		t.Fatalf("events %v", acts)
	}
	env.Advance(10 * 24 * time.Hour)
	if n := len(qaMessages(env, qa.KindSuggestion)); n != 1 {
		t.Fatalf("%d suggestions, want exactly one", n)
	}
}

// R-QA-3: an invited buyer's answer before the day is over stops the
// suggestion — even one given at exactly 1 day.
func TestQA3_BuyerAnswerCancelsTheSuggestion(t *testing.T) {
	env := qaEnv(t)
	asked := env.Clock.Now()
	buy(env, "o1", "tb", "b1", "p1", asked.Add(-48*time.Hour))
	q := ask(t, env, "b2", "p1", "这件衣服会起球吗？")
	env.AdvanceTo(asked.Add(24 * time.Hour))
	if _, err := env.Engine.Answer(env.Ctx, buyer("b1"), q.ID, "不会，穿了很久了"); err != nil {
		t.Fatal(err)
	}
	if tms := env.Timers(q.ID); len(tms) != 0 {
		t.Fatalf("timers left: %+v", tms)
	}
	env.Advance(3 * 24 * time.Hour)
	if n := len(qaMessages(env, qa.KindSuggestion)); n != 0 {
		t.Fatalf("%d suggestions after a buyer answered", n)
	}
	if got := question(t, env, q.ID); got.SuggestedAt != nil || got.SuggestAt != nil || got.BuyerAnswers != 1 {
		t.Fatalf("question %+v", got)
	}
}

// R-QA-4: questions the system judges not valid (policy: shorter than 5
// characters, phone numbers, contact details, links, advertising words) are
// stored with their reason, trigger nothing, are never listed and cannot
// be answered — not even by the main account.
func TestQA4_InvalidQuestionsAreStoredHiddenAndUnanswerable(t *testing.T) {
	env := qaEnv(t)
	if _, err := env.Engine.Subscribe(env.Ctx, shopMain("tb_main"), "tb_main", qa.TopicAskEveryone, true); err != nil {
		t.Fatal(err)
	}
	buy(env, "o1", "tb", "b1", "p1", env.Clock.Now().Add(-time.Hour))
	cases := []struct {
		text string
		code string // "" for valid
	}{
		{"会起球吗", "too_short"},                   // 4 characters
		{"会 起 球 吗", "too_short"},                // spaces do not count
		{"会起球吗？", ""},                           // 5: valid
		{"有问题打我电话13812345678", "phone"},         //
		{"加我 138-1234-5678 详聊一下", "phone"},      //
		{"１３９１２３４５６７８联系我", "phone"},             // full-width digits
		{"订单号123456789012345还没发货吗", ""},         // a long number that is no phone
		{"尺码偏大吗？加微信聊", "contact"},               //
		{"详情看 https://example.com/p/1", "link"}, //
		{"WWW.SHOP123.CN 更便宜哦", "link"},         // upper case folded
		{"有没有人要代购，私信我", "advertising"},          //
	}
	var valid, invalid []string
	for _, c := range cases {
		q := ask(t, env, "b2", "p1", c.text)
		switch {
		case c.code == "" && !q.Valid:
			t.Errorf("%q judged invalid: %+v", c.text, q.Invalid)
		case c.code != "" && (q.Valid || q.Invalid.Code != c.code || q.Invalid.Rule != "R-QA-4" || q.Invalid.ZH == "" || q.Invalid.EN == ""):
			t.Errorf("%q: valid=%v invalid=%+v, want %s", c.text, q.Valid, q.Invalid, c.code)
		}
		stored := question(t, env, q.ID)
		if stored.Valid != q.Valid || (c.code != "" && stored.Invalid.Code != c.code) {
			t.Errorf("%q stored as %+v", c.text, stored)
		}
		if q.Valid {
			valid = append(valid, q.ID)
			continue
		}
		invalid = append(invalid, q.ID)
		if tms := env.Timers(q.ID); len(tms) != 0 {
			t.Errorf("%q has timers %+v", c.text, tms)
		}
		_, err := env.Engine.Answer(env.Ctx, shopMain("tb_main"), q.ID, "回复")
		testkit.Refusal(t, err, "R-QA-4", "qa.question_invalid")
		_, err = env.Engine.Answer(env.Ctx, buyer("b1"), q.ID, "回复")
		testkit.Refusal(t, err, "R-QA-4", "qa.question_invalid")
	}
	// Only valid questions remind, invite and are listed.
	if n := len(qaMessages(env, qa.KindReminder)); n != len(valid) {
		t.Errorf("%d reminders for %d valid questions", n, len(valid))
	}
	if n := len(qaMessages(env, qa.KindInvitation)); n != len(valid) {
		t.Errorf("%d invitations for %d valid questions", n, len(valid))
	}
	yes := true
	var listed []qa.Question
	env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) {
		listed, err = tx.Questions(env.Ctx, store.QuestionFilter{ProductID: "p1", Valid: &yes})
		return
	})
	if len(listed) != len(valid) {
		t.Fatalf("listed %d, want the %d valid ones", len(listed), len(valid))
	}
	for _, q := range listed {
		for _, id := range invalid {
			if q.ID == id {
				t.Fatalf("invalid question %s listed", id)
			}
		}
	}
	for _, id := range invalid {
		for _, e := range env.Events(id) {
			if e.Visibility != "agent_only" {
				t.Fatalf("event of invalid question %s is %s", id, e.Visibility)
			}
		}
	}
}

// R-QA-4: no text, or more than max_length (200) characters, is no question:
// refused naming the field, nothing stored. Exactly 200 is accepted.
func TestQA4_TextBounds(t *testing.T) {
	env := qaEnv(t)
	for _, text := range []string{"", "   ", strings.Repeat("好", 201)} {
		_, err := env.Engine.Ask(env.Ctx, buyer("b1"), "p1", text)
		if ae := testkit.Refusal(t, err, "R-QA-4", "invalid"); ae.Field != "text" {
			t.Fatalf("field %q", ae.Field)
		}
	}
	var n int
	env.Store.View(env.Ctx, func(tx store.ReadTx) error {
		qs, err := tx.Questions(env.Ctx, store.QuestionFilter{})
		n = len(qs)
		return err
	})
	if n != 0 || len(env.Outbox()) != 0 {
		t.Fatalf("refused questions left %d questions, %d messages", n, len(env.Outbox()))
	}
	if q := ask(t, env, "b1", "p1", strings.Repeat("好", 200)); !q.Valid {
		t.Fatalf("200 characters: %+v", q.Invalid)
	}
	q := ask(t, env, "b1", "p1", "这件衣服会起球吗？")
	_, err := env.Engine.Answer(env.Ctx, shopMain("tb_main"), q.ID, strings.Repeat("好", 201))
	if ae := testkit.Refusal(t, err, "R-QA-2", "invalid"); ae.Field != "text" {
		t.Fatalf("answer field %q", ae.Field)
	}
}

// Products: an order's item names its product (R-QA-2); a product of another
// shop is refused, an unknown one is registered for the order's shop, and
// items without a product id stay valid. A product never changes shop.
func TestQA_ProductsFromFactsAndOrders(t *testing.T) {
	env := qaEnv(t)
	now := env.Clock.Now()
	f := testkit.OrderFact("o_bad", "tb", "b1", now, now.Add(time.Hour))
	f.Order.Items = []commerce.Item{{SKU: "x"}, {SKU: "p9-1", ProductID: "p9"}}
	res := env.Ingest(f)
	if res[0].Error == nil || res[0].Error.Field != "order.items[1].product_id" {
		t.Fatalf("order with another shop's product: %+v", res[0])
	}
	if _, err := env.Engine.Ask(env.Ctx, buyer("b1"), "p_new", "这件衣服会起球吗？"); apperr.CodeOf(err) != apperr.ENOTFOUND {
		t.Fatalf("p_new known too early: %v", err)
	}
	buy(env, "o_new", "tb", "b1", "p_new", now)
	q := ask(t, env, "b2", "p_new", "这件衣服会起球吗？")
	if q.ShopID != "tb" || q.Invited != 1 {
		t.Fatalf("question on a product known from an order: %+v", q)
	}
	res = env.Ingest(commerce.Fact{ID: "move-p1", Type: commerce.FactProduct, Product: &commerce.Product{ID: "p1", ShopID: "tm"}})
	if res[0].Error == nil || res[0].Error.Field != "product.shop_id" {
		t.Fatalf("product moving shop: %+v", res[0])
	}
}
