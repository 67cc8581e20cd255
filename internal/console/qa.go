package console

import (
	"strings"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/qa"
	"aftersale/internal/store"
)

// questionsShown is how many questions a Q&A page lists.
const questionsShown = 30

func (c *Console) routesQA() {
	c.mux.HandleFunc("GET "+Prefix+"/qa", c.page("qa", c.qaPage))
	c.mux.HandleFunc("POST "+Prefix+"/qa/ask", c.page("qa", c.qaAsk))
	c.mux.HandleFunc("POST "+Prefix+"/qa/{id}/answer", c.page("qa", c.qaAnswer))
}

type questionRow struct {
	Q       qa.Question
	Answers []qa.Answer
	// Suggest: no buyer answer for more than the policy's day (R-QA-3).
	Suggest bool
}

type qaData struct {
	ProductID  string
	Product    *commerce.Product
	ShopID     string
	Unanswered bool
	Questions  []questionRow
	Ask        bool
	Answer     bool
	Flash      string
}

// qaPage is 问大家: a product's valid questions with their answers (R-QA-4:
// a question judged not valid is never shown), the ask form for buyers
// (R-QA-1) and answer forms (R-QA-2: the main account and invited past
// buyers; the engine checks the invitation). A shop account without a
// product sees its shop's questions, the ones to answer marked (R-QA-3).
func (c *Console) qaPage(q *req) (string, any, error) {
	d, err := c.loadQA(q)
	if err != nil {
		return "", nil, err
	}
	return "qa", d, nil
}

func (c *Console) loadQA(q *req) (*qaData, error) {
	if err := q.may(auth.ActReadQuestions); err != nil {
		return nil, err
	}
	d := &qaData{ProductID: strings.TrimSpace(q.r.FormValue("product")), Unanswered: q.r.FormValue("unanswered") == "1",
		Ask: q.may(auth.ActAsk) == nil, Answer: q.may(auth.ActAnswer) == nil}
	if d.ProductID == "" && q.p.Person.Role.Shop() {
		d.ShopID = q.p.Person.ShopID
	}
	if d.ProductID == "" && d.ShopID == "" {
		return d, nil
	}
	valid := true
	f := store.QuestionFilter{ProductID: d.ProductID, ShopID: d.ShopID, Valid: &valid, Unanswered: d.Unanswered, Limit: questionsShown}
	err := c.eng.Store().View(q.ctx, func(tx store.ReadTx) error {
		if d.ProductID != "" {
			p, err := tx.Product(q.ctx, d.ProductID)
			if err != nil {
				return apperr.NotFoundAs(err, "product", "no product %q", d.ProductID)
			}
			d.Product = p
		}
		qs, err := tx.Questions(q.ctx, f)
		if err != nil {
			return err
		}
		ids := make([]string, len(qs))
		for i := range qs {
			ids[i] = qs[i].ID
		}
		as, err := tx.Answers(q.ctx, ids)
		if err != nil {
			return err
		}
		byQ := map[string][]qa.Answer{}
		for _, a := range as {
			byQ[a.QuestionID] = append(byQ[a.QuestionID], a)
		}
		for _, x := range qs {
			if !x.Visible() { // R-QA-4, whatever the filter did
				continue
			}
			row := questionRow{Q: x, Answers: byQ[x.ID]}
			row.Suggest = x.BuyerAnswers == 0 && (x.SuggestedAt != nil || x.SuggestAt != nil && !q.now.Before(*x.SuggestAt))
			d.Questions = append(d.Questions, row)
		}
		return nil
	})
	return d, err
}

func (c *Console) qaAsk(q *req) (string, any, error) {
	if err := form(q.r); err != nil {
		return "", nil, apperr.Invalid("form", "", "unreadable form")
	}
	err := q.may(auth.ActAsk)
	if err == nil {
		_, err = c.eng.Ask(q.ctx, q.actor(), q.r.Form.Get("product"), q.r.Form.Get("text"))
	}
	return c.qaAfter(q, err, "flash.asked")
}

func (c *Console) qaAnswer(q *req) (string, any, error) {
	if err := form(q.r); err != nil {
		return "", nil, apperr.Invalid("form", "", "unreadable form")
	}
	err := q.may(auth.ActAnswer)
	if err == nil {
		_, err = c.eng.Answer(q.ctx, q.actor(), q.r.PathValue("id"), q.r.Form.Get("text"))
	}
	return c.qaAfter(q, err, "flash.answered")
}

func (c *Console) qaAfter(q *req, err error, flash string) (string, any, error) {
	d, lerr := c.loadQA(q)
	if lerr != nil {
		return "", nil, lerr
	}
	if err != nil {
		return "qa", d, err
	}
	d.Flash = q.L.T(flash)
	return "qa", d, nil
}
