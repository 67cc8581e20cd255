package httpapi

import (
	"context"
	"fmt"
	"mime"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/engine"
	"aftersale/internal/qa"
	"aftersale/internal/store"
)

// Ask-everyone product Q&A (问大家, R-QA-1..4).

func (s *Server) routesQA() {
	api := s.api
	ask := op("ask-question", http.MethodPost, "/v1/products/{id}/questions", "A buyer asks a question on a product (问大家, R-QA-1, R-QA-4)", platformOnly, "qa")
	ask.DefaultStatus = http.StatusCreated
	huma.Register(api, ask, s.askQuestion)
	huma.Register(api, op("product-questions", http.MethodGet, "/v1/products/{id}/questions", "A product's valid questions with their answers, newest first (R-QA-4)", anyKey, "qa"), s.productQuestions)
	ans := op("answer-question", http.MethodPost, "/v1/questions/{id}/answers", "The shop's main account or an invited past buyer answers (R-QA-2)", platformOnly, "qa")
	ans.DefaultStatus = http.StatusCreated
	ans.MaxBodyBytes = maxUploadBody // pictures, base64 (R-QA-2)
	huma.Register(api, ans, s.answerQuestion)
	huma.Register(api, op("answer-picture", http.MethodGet, "/v1/questions/{id}/answers/{answer}/pictures/{n}", "An answer's picture's bytes (R-QA-2; the question must be valid, R-QA-4)", anyKey, "qa"), s.getAnswerPicture)
	huma.Register(api, op("get-question", http.MethodGet, "/v1/questions/{id}", "A valid question with its answers (R-QA-4: invalid ones are not found)", anyKey, "qa"), s.getQuestion)
	huma.Register(api, op("shop-questions", http.MethodGet, "/v1/shops/{id}/questions", "The shop's valid questions, e.g. the unanswered ones (R-QA-3)", anyKey, "qa"), s.shopQuestions)
	huma.Register(api, op("set-subscription", http.MethodPost, "/v1/accounts/{id}/subscriptions", "The main account subscribes to 问大家 reminders (消息订阅 → 系统消息 → 售后服务 → 问大家, R-QA-1)", platformOnly, "qa"), s.setSubscription)
}

type askInput struct {
	ID             string `path:"id" doc:"The product id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (e.g. buyer:b1), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor *ActorBody `json:"actor,omitempty" doc:"The buyer who asks."`
		Text  string     `json:"text" required:"true" maxLength:"4000" doc:"The question; at most the policy's qa.validity.max_length characters."`
	}
}

type questionOutput struct{ Body *qa.Question }

// askQuestion answers with the stored question, so the asker learns when the
// system judged it not valid (valid: false, and why); such a question is
// never listed or read afterwards (R-QA-4).
func (s *Server) askQuestion(ctx context.Context, in *askInput) (*questionOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	q, err := s.eng.Ask(ctx, a, in.ID, in.Body.Text)
	if err != nil {
		return nil, err
	}
	return &questionOutput{Body: q}, nil
}

type answerInput struct {
	ID             string `path:"id" doc:"The question id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (shop_main:acc or buyer:b1), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor *ActorBody `json:"actor,omitempty" doc:"The shop's main account, or a past buyer the system invited (R-QA-2)."`
		Text  string     `json:"text" required:"true" maxLength:"4000"`
		// Pictures are optional: an answer without them is as before.
		Pictures []PictureBody `json:"pictures,omitempty" maxItems:"32" doc:"Pictures supporting the answer (e.g. a quality report, 质检报告; R-QA-2): at most the policy's qa.answer_pictures.max_count (9), each at most max_bytes (5 MiB) of an image type sniffed from the bytes. Stored as evidence files are, by SHA-256."`
	}
}

// PictureBody is one picture of an answer: a file name and the bytes, base64.
type PictureBody struct {
	Name string `json:"name,omitempty" maxLength:"255" doc:"The file name."`
	Data []byte `json:"data" required:"true" doc:"The picture's bytes, base64."`
}

type answerOutput struct{ Body *qa.Answer }

func (s *Server) answerQuestion(ctx context.Context, in *answerInput) (*answerOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	pics := make([]engine.PictureInput, len(in.Body.Pictures))
	for i, p := range in.Body.Pictures {
		pics[i] = engine.PictureInput{Name: p.Name, Data: p.Data}
	}
	ans, err := s.eng.AnswerWithPictures(ctx, a, in.ID, in.Body.Text, pics)
	if err != nil {
		return nil, err
	}
	return &answerOutput{Body: ans}, nil
}

type subscriptionInput struct {
	ID             string `path:"id" doc:"The main account id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (shop_main:acc), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor *ActorBody `json:"actor,omitempty" doc:"The main account itself."`
		Topic string     `json:"topic" required:"true" enum:"ask_everyone" doc:"ask_everyone: 问大家 reminders."`
		On    bool       `json:"on" doc:"Subscribe (true) or stop (false)."`
	}
}

// TopicSubscription is a main account's subscription to a system message
// topic (问大家, R-QA-1). Named apart from webhook subscriptions in the
// OpenAPI document.
type TopicSubscription qa.Subscription

type qaSubscriptionOutput struct{ Body *TopicSubscription }

func (s *Server) setSubscription(ctx context.Context, in *subscriptionInput) (*qaSubscriptionOutput, error) {
	if err := s.ownAccount(ctx, in.ID); err != nil {
		return nil, err
	}
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	sub, err := s.eng.Subscribe(ctx, a, in.ID, in.Body.Topic, in.Body.On)
	if err != nil {
		return nil, err
	}
	return &qaSubscriptionOutput{Body: (*TopicSubscription)(sub)}, nil
}

// QuestionView is a valid question with its answers, oldest answer first.
type QuestionView struct {
	*qa.Question
	AnswerList []qa.Answer `json:"answer_list"`
}

// QuestionList is a page of valid questions, newest first.
type QuestionList struct {
	Questions  []QuestionView `json:"questions"`
	NextCursor string         `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page."`
}

type questionListOutput struct{ Body QuestionList }

type productQuestionsInput struct {
	ID     string `path:"id" doc:"The product id."`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"20" doc:"Page size."`
	Cursor string `query:"cursor" doc:"The next_cursor of the previous page."`
}

func (s *Server) productQuestions(ctx context.Context, in *productQuestionsInput) (*questionListOutput, error) {
	var out QuestionList
	err := s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		if _, err := tx.Product(ctx, in.ID); err != nil {
			return apperr.NotFoundAs(err, "id", "no product %q", in.ID)
		}
		var err error
		out, err = questionPage(ctx, tx, store.QuestionFilter{ProductID: in.ID}, in.Limit, in.Cursor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &questionListOutput{Body: out}, nil
}

type shopQuestionsInput struct {
	ID         string `path:"id" doc:"The shop id."`
	Unanswered bool   `query:"unanswered" doc:"Only questions nobody has answered yet."`
	Limit      int    `query:"limit" minimum:"1" maximum:"200" default:"20" doc:"Page size."`
	Cursor     string `query:"cursor" doc:"The next_cursor of the previous page."`
	Viewer     string `query:"viewer" doc:"Read as role:id (shop_main:acc, shop_sub:acc, agent:a1). A shop account reads only its own shop. Default: agent view."`
}

func (s *Server) shopQuestions(ctx context.Context, in *shopQuestionsInput) (*questionListOutput, error) {
	v, err := parseViewer(in.Viewer)
	if err != nil {
		return nil, err
	}
	var out QuestionList
	err = s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		if v.buyer() {
			return apperr.New(apperr.EFORBIDDEN, "viewer.scope", "viewer", "R-QA-3", "the shop's question list is the shop's")
		}
		if v.shop() {
			shopID, err := v.shopOf(ctx, tx)
			if err != nil {
				return err
			}
			if shopID != in.ID {
				return apperr.New(apperr.EFORBIDDEN, "not_your_shop", "viewer", "", "account %s does not belong to shop %s", v.ID, in.ID)
			}
		}
		if _, err := tx.Shop(ctx, in.ID); err != nil {
			return apperr.NotFoundAs(err, "id", "no shop %q", in.ID)
		}
		out, err = questionPage(ctx, tx, store.QuestionFilter{ShopID: in.ID, Unanswered: in.Unanswered}, in.Limit, in.Cursor)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &questionListOutput{Body: out}, nil
}

// questionPage reads a page of valid questions (R-QA-4: never the others)
// and their answers, in two queries.
func questionPage(ctx context.Context, tx store.ReadTx, f store.QuestionFilter, limit int, cursor string) (QuestionList, error) {
	if limit <= 0 {
		limit = 20
	}
	valid := true
	f.Valid, f.After, f.Limit = &valid, cursor, limit+1
	qs, err := tx.Questions(ctx, f)
	if apperr.CodeOf(err) == apperr.ENOTFOUND {
		return QuestionList{}, apperr.Invalid("cursor", "", "unknown cursor %q: pass the next_cursor of a previous page", cursor)
	}
	if err != nil {
		return QuestionList{}, err
	}
	out := QuestionList{Questions: []QuestionView{}}
	if len(qs) > limit {
		qs = qs[:limit]
		out.NextCursor = qs[limit-1].ID
	}
	ids := make([]string, len(qs))
	for i := range qs {
		ids[i] = qs[i].ID
	}
	as, err := tx.Answers(ctx, ids)
	if err != nil {
		return QuestionList{}, err
	}
	byQ := map[string][]qa.Answer{}
	for _, a := range as {
		byQ[a.QuestionID] = append(byQ[a.QuestionID], a)
	}
	for i := range qs {
		list := byQ[qs[i].ID]
		if list == nil {
			list = []qa.Answer{}
		}
		out.Questions = append(out.Questions, QuestionView{Question: &qs[i], AnswerList: list})
	}
	return out, nil
}

type getQuestionInput struct {
	ID string `path:"id" doc:"The question id."`
}

type questionViewOutput struct{ Body QuestionView }

func (s *Server) getQuestion(ctx context.Context, in *getQuestionInput) (*questionViewOutput, error) {
	var out QuestionView
	err := s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		q, as, err := visibleQuestion(ctx, tx, in.ID)
		if err != nil {
			return err
		}
		if as == nil {
			as = []qa.Answer{}
		}
		out = QuestionView{Question: q, AnswerList: as}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &questionViewOutput{Body: out}, nil
}

type getAnswerPictureInput struct {
	ID     string `path:"id" doc:"The question id."`
	Answer string `path:"answer" doc:"The answer id."`
	N      int    `path:"n" minimum:"0" doc:"The picture's index in the answer's pictures, from 0."`
}

// getAnswerPicture serves one picture of an answer from the attachment
// store, as an evidence file is served (R-QA-2); an invalid question's
// answers do not exist for readers (R-QA-4).
func (s *Server) getAnswerPicture(ctx context.Context, in *getAnswerPictureInput) (*attachmentBytesOutput, error) {
	var out *attachmentBytesOutput
	err := s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		q, as, err := visibleQuestion(ctx, tx, in.ID)
		if err != nil {
			return err
		}
		for _, a := range as {
			if a.ID != in.Answer {
				continue
			}
			if in.N < 0 || in.N >= len(a.Pictures) {
				return apperr.NotFound("n", "answer %s has %d pictures; no picture %d", a.ID, len(a.Pictures), in.N)
			}
			p := a.Pictures[in.N]
			b, err := tx.AttachmentBytes(ctx, p.SHA256)
			if err != nil {
				return err
			}
			name := p.Name
			if name == "" {
				name = fmt.Sprintf("%s-%d", a.ID, in.N)
			}
			out = &attachmentBytesOutput{ContentType: p.ContentType, Digest: p.SHA256, NoSniff: "nosniff",
				ContentDisposition: mime.FormatMediaType("attachment", map[string]string{"filename": name}), Body: b}
			return nil
		}
		return apperr.NotFound("answer", "question %s has no answer %q", q.ID, in.Answer)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// visibleQuestion reads a question and its answers for a reader: a question
// judged not valid is never shown (R-QA-4), and answers as an unknown one.
func visibleQuestion(ctx context.Context, tx store.ReadTx, id string) (*qa.Question, []qa.Answer, error) {
	q, err := tx.Question(ctx, id)
	if err != nil && apperr.CodeOf(err) != apperr.ENOTFOUND {
		return nil, nil, err
	}
	if q == nil || !q.Visible() {
		return nil, nil, apperr.NotFound("id", "no question %q", id)
	}
	as, err := tx.Answers(ctx, []string{q.ID})
	if err != nil {
		return nil, nil, err
	}
	return q, as, nil
}
