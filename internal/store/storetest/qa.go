package storetest

import (
	"context"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/qa"
	"aftersale/internal/store"
)

// Conformance of the ask-everyone Q&A contract (问大家, R-QA-1..4).
func init() {
	register("QAProducts", testQAProducts)
	register("QAProductBuyers", testQAProductBuyers)
	register("QAQuestions", testQAQuestions)
	register("QAQuestionPagination", testQAQuestionPagination)
	register("QAAnswersAndInvitations", testQAAnswersAndInvitations)
	register("QASubscriptions", testQASubscriptions)
}

func newQuestion(id, productID string, asked time.Time, valid bool) *qa.Question {
	q := &qa.Question{ID: id, ProductID: productID, ShopID: "shp_1", BuyerID: "b_" + id, Text: "会起球吗？",
		AskedAt: asked, Valid: valid, PolicyVersion: "taobao/2022.1"}
	if !valid {
		q.Invalid = &qa.Invalidity{Code: "phone", Rule: "R-QA-4", ZH: "含手机号", EN: "phone", Match: "13812345678"}
	} else {
		due := asked.Add(24*time.Hour + time.Second)
		q.SuggestAt = &due
	}
	return q
}

func testQAProducts(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		_, err := tx.Product(ctx, "p1")
		wantCode(t, "unknown product", err, apperr.ENOTFOUND)
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutProduct(ctx, &commerce.Product{ID: "p1", ShopID: "shp_1", Title: "T恤"}))
		must(t, tx.PutProduct(ctx, &commerce.Product{ID: "p1", ShopID: "shp_1", Title: "纯棉T恤"})) // upsert
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "product", get[*commerce.Product](t)(tx.Product(ctx, "p1")), &commerce.Product{ID: "p1", ShopID: "shp_1", Title: "纯棉T恤"})
	})
}

// R-QA-2: distinct past buyers in a closed window, not the excluded one,
// ordered by the pick, at most the limit; a repeated (product, order) is kept once.
func testQAProductBuyers(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, p := range []qa.Purchase{
			{ProductID: "p1", OrderID: "o1", BuyerID: "b1", PaidAt: at(1 * time.Hour)},
			{ProductID: "p1", OrderID: "o2", BuyerID: "b2", PaidAt: at(2 * time.Hour)},
			{ProductID: "p1", OrderID: "o3", BuyerID: "b1", PaidAt: at(5 * time.Hour)}, // b1 again, later
			{ProductID: "p1", OrderID: "o4", BuyerID: "b3", PaidAt: at(3 * time.Hour)},
			{ProductID: "p1", OrderID: "o5", BuyerID: "b4", PaidAt: at(10 * time.Hour)}, // after the window
			{ProductID: "p2", OrderID: "o6", BuyerID: "b5", PaidAt: at(2 * time.Hour)},  // another product
			{ProductID: "p1", OrderID: "o4", BuyerID: "b3", PaidAt: at(3 * time.Hour)},  // repeat: ignored
		} {
			must(t, tx.AddPurchase(ctx, p))
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		q := store.BuyerQuery{ProductID: "p1", Since: at(time.Hour), Until: at(5 * time.Hour), Pick: policy.PickMostRecent, Limit: 10}
		equal(t, "most recent", get[[]qa.Candidate](t)(tx.ProductBuyers(ctx, q)), []qa.Candidate{
			{BuyerID: "b1", PaidAt: at(5 * time.Hour)}, {BuyerID: "b3", PaidAt: at(3 * time.Hour)}, {BuyerID: "b2", PaidAt: at(2 * time.Hour)}})
		q.Pick = policy.PickEarliest
		equal(t, "earliest", get[[]qa.Candidate](t)(tx.ProductBuyers(ctx, q)), []qa.Candidate{
			{BuyerID: "b1", PaidAt: at(1 * time.Hour)}, {BuyerID: "b2", PaidAt: at(2 * time.Hour)}, {BuyerID: "b3", PaidAt: at(3 * time.Hour)}})
		q.Exclude, q.Limit = "b1", 1
		equal(t, "exclude and limit", get[[]qa.Candidate](t)(tx.ProductBuyers(ctx, q)), []qa.Candidate{{BuyerID: "b2", PaidAt: at(2 * time.Hour)}})
		q.Since, q.Limit = at(time.Hour+time.Microsecond), 10
		equal(t, "since is inclusive to the microsecond", get[[]qa.Candidate](t)(tx.ProductBuyers(ctx, q)), []qa.Candidate{
			{BuyerID: "b2", PaidAt: at(2 * time.Hour)}, {BuyerID: "b3", PaidAt: at(3 * time.Hour)}})
		q.Limit = 0
		if got := get[[]qa.Candidate](t)(tx.ProductBuyers(ctx, q)); len(got) != 0 {
			t.Errorf("limit 0 invites nobody, got %v", got)
		}
	})
}

// R-QA-4 lists: the valid filter, unanswered, product and shop filters,
// newest first; UpdateQuestion moves a question in and out of unanswered.
func testQAQuestions(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.InsertQuestion(ctx, newQuestion("q1", "p1", at(time.Minute), true)))
		must(t, tx.InsertQuestion(ctx, newQuestion("q2", "p1", at(2*time.Minute), false)))
		must(t, tx.InsertQuestion(ctx, newQuestion("q3", "p2", at(3*time.Minute), true)))
		other := newQuestion("q4", "p9", at(4*time.Minute), true)
		other.ShopID = "shp_2"
		must(t, tx.InsertQuestion(ctx, other))
		wantCode(t, "repeated question id", tx.InsertQuestion(ctx, newQuestion("q1", "p1", at(0), true)), apperr.ECONFLICT)
		wantCode(t, "update unknown", tx.UpdateQuestion(ctx, newQuestion("q0", "p1", at(0), true)), apperr.ENOTFOUND)
	})
	ids := func(qs []qa.Question) []string {
		out := []string{}
		for _, q := range qs {
			out = append(out, q.ID)
		}
		return out
	}
	yes, no := true, false
	list := func(f store.QuestionFilter) []string {
		var out []string
		view(t, s, func(ctx context.Context, tx store.ReadTx) { out = ids(get[[]qa.Question](t)(tx.Questions(ctx, f))) })
		return out
	}
	equal(t, "all", list(store.QuestionFilter{}), []string{"q4", "q3", "q2", "q1"})
	equal(t, "valid of p1", list(store.QuestionFilter{ProductID: "p1", Valid: &yes}), []string{"q1"})
	equal(t, "invalid", list(store.QuestionFilter{Valid: &no}), []string{"q2"})
	equal(t, "shop, valid", list(store.QuestionFilter{ShopID: "shp_1", Valid: &yes}), []string{"q3", "q1"})
	equal(t, "unanswered", list(store.QuestionFilter{ShopID: "shp_1", Valid: &yes, Unanswered: true}), []string{"q3", "q1"})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		q := get[*qa.Question](t)(tx.Question(ctx, "q1"))
		q.Answers, q.BuyerAnswers, q.SuggestAt = 1, 1, nil
		must(t, tx.UpdateQuestion(ctx, q))
	})
	equal(t, "answered leaves unanswered", list(store.QuestionFilter{ShopID: "shp_1", Valid: &yes, Unanswered: true}), []string{"q3"})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		q := get[*qa.Question](t)(tx.Question(ctx, "q1"))
		want := newQuestion("q1", "p1", at(time.Minute), true)
		want.Answers, want.BuyerAnswers, want.SuggestAt = 1, 1, nil
		equal(t, "question round trip", q, want)
		equal(t, "invalid round trip", get[*qa.Question](t)(tx.Question(ctx, "q2")), newQuestion("q2", "p1", at(2*time.Minute), false))
		_, err := tx.Question(ctx, "nope")
		wantCode(t, "unknown question", err, apperr.ENOTFOUND)
	})
}

// Cursor pagination, newest first, stable on equal times (by id).
func testQAQuestionPagination(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for i, id := range []string{"qa", "qb", "qc", "qd", "qe"} {
			asked := at(time.Duration(i/2) * time.Minute) // qa,qb same time; qc,qd same time
			must(t, tx.InsertQuestion(ctx, newQuestion(id, "p1", asked, true)))
		}
	})
	var pages [][]string
	after := ""
	for range 4 {
		var page []string
		view(t, s, func(ctx context.Context, tx store.ReadTx) {
			for _, q := range get[[]qa.Question](t)(tx.Questions(ctx, store.QuestionFilter{ProductID: "p1", After: after, Limit: 2})) {
				page = append(page, q.ID)
			}
		})
		if len(page) == 0 {
			break
		}
		pages = append(pages, page)
		after = page[len(page)-1]
	}
	equal(t, "pages", pages, [][]string{{"qe", "qd"}, {"qc", "qb"}, {"qa"}})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		_, err := tx.Questions(ctx, store.QuestionFilter{After: "nope"})
		if ae, ok := apperr.As(err); !ok || ae.Code != apperr.ENOTFOUND || ae.Field != "after" {
			t.Errorf("unknown cursor: %v", err)
		}
	})
}

func testQAAnswersAndInvitations(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.InsertQuestion(ctx, newQuestion("q1", "p1", at(0), true)))
		must(t, tx.InsertQuestion(ctx, newQuestion("q2", "p1", at(0), true)))
		must(t, tx.InsertInvitations(ctx, []qa.Invitation{
			{QuestionID: "q1", BuyerID: "b2", InvitedAt: at(0), PaidAt: at(-time.Hour)},
			{QuestionID: "q1", BuyerID: "b1", InvitedAt: at(0), PaidAt: at(-2 * time.Hour)},
		}))
		wantCode(t, "repeated invitation", tx.InsertInvitations(ctx, []qa.Invitation{{QuestionID: "q1", BuyerID: "b1", InvitedAt: at(0)}}), apperr.ECONFLICT)
		for _, a := range []qa.Answer{
			{ID: "a3", QuestionID: "q2", By: qa.ByShop, AuthorID: "shp_1_main", Text: "有货", At: at(time.Minute)},
			{ID: "a2", QuestionID: "q1", By: qa.ByBuyer, AuthorID: "b1", Text: "不起球", At: at(2 * time.Minute)},
			{ID: "a1", QuestionID: "q1", By: qa.ByShop, AuthorID: "shp_1_main", Text: "亲，不会", At: at(time.Minute)},
		} {
			must(t, tx.InsertAnswer(ctx, &a))
		}
		wantCode(t, "repeated answer", tx.InsertAnswer(ctx, &qa.Answer{ID: "a1", QuestionID: "q1", At: at(0)}), apperr.ECONFLICT)
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		as := get[[]qa.Answer](t)(tx.Answers(ctx, []string{"q1", "q2", "q9"}))
		var order []string
		for _, a := range as {
			order = append(order, a.ID)
		}
		equal(t, "answers by question then time", order, []string{"a1", "a2", "a3"})
		equal(t, "answer round trip", as[1], qa.Answer{ID: "a2", QuestionID: "q1", By: qa.ByBuyer, AuthorID: "b1", Text: "不起球", At: at(2 * time.Minute)})
		if as := get[[]qa.Answer](t)(tx.Answers(ctx, nil)); len(as) != 0 {
			t.Errorf("no ids: %v", as)
		}
		equal(t, "invitations by buyer", get[[]qa.Invitation](t)(tx.Invitations(ctx, "q1")), []qa.Invitation{
			{QuestionID: "q1", BuyerID: "b1", InvitedAt: at(0), PaidAt: at(-2 * time.Hour)},
			{QuestionID: "q1", BuyerID: "b2", InvitedAt: at(0), PaidAt: at(-time.Hour)}})
		for _, c := range []struct {
			q, b string
			want bool
		}{{"q1", "b1", true}, {"q1", "b3", false}, {"q2", "b1", false}} {
			if got := get[bool](t)(tx.Invited(ctx, c.q, c.b)); got != c.want {
				t.Errorf("Invited(%s, %s) = %v", c.q, c.b, got)
			}
		}
	})
}

// R-QA-1: a subscription is off until set, and set again replaces it.
func testQASubscriptions(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if get[bool](t)(tx.Subscribed(ctx, "m1", qa.TopicAskEveryone)) {
			t.Error("subscribed before any setting")
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutSubscription(ctx, &qa.Subscription{AccountID: "m1", ShopID: "shp_1", Topic: qa.TopicAskEveryone, On: true, At: at(0)}))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if !get[bool](t)(tx.Subscribed(ctx, "m1", qa.TopicAskEveryone)) || get[bool](t)(tx.Subscribed(ctx, "m1", "other")) {
			t.Error("subscription by topic")
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutSubscription(ctx, &qa.Subscription{AccountID: "m1", ShopID: "shp_1", Topic: qa.TopicAskEveryone, On: false, At: at(time.Hour)}))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if get[bool](t)(tx.Subscribed(ctx, "m1", qa.TopicAskEveryone)) {
			t.Error("still subscribed after turning it off")
		}
	})
}
