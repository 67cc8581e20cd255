package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/testkit"
)

type questionJSON struct {
	ID        string `json:"id"`
	ProductID string `json:"product_id"`
	ShopID    string `json:"shop_id"`
	Text      string `json:"text"`
	Valid     bool   `json:"valid"`
	Invalid   *struct {
		Code string `json:"code"`
		Rule string `json:"rule"`
		ZH   string `json:"reason_zh"`
		EN   string `json:"reason_en"`
	} `json:"invalid"`
	Answers    int `json:"answers"`
	Invited    int `json:"invited"`
	AnswerList []struct {
		ID       string `json:"id"`
		By       string `json:"by"`
		AuthorID string `json:"author_id"`
		Text     string `json:"text"`
	} `json:"answer_list"`
}

type questionListJSON struct {
	Questions  []questionJSON `json:"questions"`
	NextCursor string         `json:"next_cursor"`
}

// qaAPI is shop tb (main tb_main, sub-account tb_s1 with the task
// permission) selling p1, bought by b1 and b2; shop tm sells p9.
func qaAPI(t *testing.T) *apiEnv {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao, subAcc("tb_s1", true))
	e.shop("tm", commerce.Tmall)
	e.facts(commerce.Fact{ID: "p1", Type: commerce.FactProduct, Product: &commerce.Product{ID: "p1", ShopID: "tb", Title: "纯棉T恤"}})
	for _, b := range []string{"b1", "b2"} {
		f := testkit.OrderFact("o_"+b, "tb", b, e.clock.Now().Add(-time.Hour), e.clock.Now().Add(time.Hour))
		f.Order.Items = []commerce.Item{{SKU: "p1-M", ProductID: "p1"}}
		e.facts(f)
	}
	return e
}

func (e *apiEnv) ask(buyerID, text string) questionJSON {
	e.t.Helper()
	var q questionJSON
	e.ok(e.post("/v1/products/p1/questions", map[string]any{"actor": actor("buyer", buyerID), "text": text}), http.StatusCreated, &q)
	return q
}

// R-QA-1..4 over HTTP: asking, the subscription, who answers, and reads
// that never show an invalid question.
func TestQA_API(t *testing.T) {
	e := qaAPI(t)

	// R-QA-1: the main account subscribes; a sub-account may not.
	e.wantProblem(e.post("/v1/accounts/tb_s1/subscriptions", map[string]any{"actor": actor("shop_sub", "tb_s1"), "topic": "ask_everyone", "on": true}),
		http.StatusForbidden, "qa.not_main_account", "R-QA-1", "")
	e.ok(e.post("/v1/accounts/tb_main/subscriptions", map[string]any{"actor": actor("shop_main", "tb_main"), "topic": "ask_everyone", "on": true}), http.StatusOK, nil)

	valid := e.ask("b9", "这件T恤洗了会缩水吗？")
	if !valid.Valid || valid.Invited != 2 || valid.ShopID != "tb" {
		t.Fatalf("valid question: %+v", valid)
	}
	// R-QA-4: stored, told to the asker, never read back.
	bad := e.ask("b9", "加我微信聊，有优惠")
	if bad.Valid || bad.Invalid == nil || bad.Invalid.Code != "contact" || bad.Invalid.Rule != "R-QA-4" || bad.Invalid.ZH == "" || bad.Invalid.EN == "" {
		t.Fatalf("invalid question: %+v", bad)
	}
	e.wantProblem(e.get("/v1/questions/"+bad.ID), http.StatusNotFound, "not_found", "", "id")
	e.wantProblem(e.post("/v1/questions/"+bad.ID+"/answers", map[string]any{"actor": actor("shop_main", "tb_main"), "text": "您好"}),
		http.StatusConflict, "qa.question_invalid", "R-QA-4", "")
	e.wantProblem(e.post("/v1/products/p1/questions", map[string]any{"actor": actor("buyer", "b9"), "text": "   "}),
		http.StatusUnprocessableEntity, "invalid", "R-QA-4", "text")
	e.wantProblem(e.post("/v1/products/nope/questions", map[string]any{"actor": actor("buyer", "b9"), "text": "这件T恤洗了会缩水吗？"}),
		http.StatusNotFound, "not_found", "", "product_id")

	// R-QA-2: a sub-account and an uninvited buyer are refused; the main
	// account and an invited past buyer answer.
	path := "/v1/questions/" + valid.ID + "/answers"
	e.wantProblem(e.post(path, map[string]any{"actor": actor("shop_sub", "tb_s1"), "text": "不会缩水"}), http.StatusForbidden, "qa.not_main_account", "R-QA-2", "")
	e.wantProblem(e.post(path, map[string]any{"actor": actor("buyer", "b7"), "text": "不会缩水"}), http.StatusForbidden, "qa.not_invited", "R-QA-2", "")
	e.ok(e.post(path, map[string]any{"actor": actor("buyer", "b1"), "text": "洗了三次没缩"}), http.StatusCreated, nil)
	e.wantProblem(e.post(path, nil, "X-Actor", "shop_main:tb_main"), http.StatusBadRequest, "request.invalid", "", "")
	e.ok(e.post(path, map[string]any{"text": "亲，预缩水处理过的"}, "X-Actor", "shop_main:tb_main"), http.StatusCreated, nil)

	var got questionJSON
	e.ok(e.get("/v1/questions/"+valid.ID), http.StatusOK, &got)
	if got.Answers != 2 || len(got.AnswerList) != 2 || got.AnswerList[0].By != "buyer" || got.AnswerList[1].AuthorID != "tb_main" {
		t.Fatalf("question with answers: %+v", got)
	}

	// The product's list: valid questions only, newest first, by cursor.
	e.clock.Set(e.clock.Now().Add(time.Minute))
	second := e.ask("b8", "M码适合一米七的人穿吗？")
	var page questionListJSON
	e.ok(e.get("/v1/products/p1/questions?limit=1"), http.StatusOK, &page)
	if len(page.Questions) != 1 || page.Questions[0].ID != second.ID || page.NextCursor != second.ID {
		t.Fatalf("page 1: %+v", page)
	}
	cursor := page.NextCursor
	page = questionListJSON{}
	e.ok(e.get("/v1/products/p1/questions?limit=1&cursor="+cursor), http.StatusOK, &page)
	if len(page.Questions) != 1 || page.Questions[0].ID != valid.ID || len(page.Questions[0].AnswerList) != 2 || page.NextCursor != "" {
		t.Fatalf("page 2 (the invalid question is never listed): %+v", page)
	}
	e.wantProblem(e.get("/v1/products/p1/questions?cursor=nope"), http.StatusUnprocessableEntity, "invalid", "", "cursor")

	// The shop's unanswered questions; the scope of viewers.
	e.ok(e.get("/v1/shops/tb/questions?unanswered=true&viewer=shop_sub:tb_s1"), http.StatusOK, &page)
	if len(page.Questions) != 1 || page.Questions[0].ID != second.ID {
		t.Fatalf("unanswered: %+v", page)
	}
	e.ok(e.get("/v1/shops/tb/questions"), http.StatusOK, &page)
	if len(page.Questions) != 2 {
		t.Fatalf("all valid questions of the shop: %+v", page)
	}
	e.wantProblem(e.get("/v1/shops/tb/questions?viewer=buyer:b1"), http.StatusForbidden, "viewer.scope", "", "viewer")
	e.wantProblem(e.get("/v1/shops/tb/questions?viewer=shop_main:tm_main"), http.StatusForbidden, "not_your_shop", "", "viewer")
}
