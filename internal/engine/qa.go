package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/evidence"
	"aftersale/internal/notify"
	"aftersale/internal/policy"
	"aftersale/internal/qa"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// Ask-everyone product Q&A (问大家, R-QA-1..4) through the one write path.

// Ask records a buyer's question on a product. The system judges it
// (R-QA-4): a question judged not valid is stored with its reason and
// nothing else happens — no reminder, no invitation, no suggestion. A valid
// one invites past buyers of the product (R-QA-2), reminds the shop's main
// account if it subscribes to 问大家 (R-QA-1), and sets the timer that
// suggests the shop answer when no buyer has answered in time (R-QA-3).
func (e *Engine) Ask(ctx context.Context, buyer task.Actor, productID, text string) (*qa.Question, error) {
	var out *qa.Question
	err := e.update(ctx, func(x *txn) error {
		if buyer.Role != task.RoleBuyer || buyer.ID == "" {
			return apperr.Forbidden("role", "R-QA-1", "buyers ask questions on a product, not a %s", buyer.Role)
		}
		p, err := x.tx.Product(ctx, productID)
		if err != nil {
			return apperr.NotFoundAs(err, "product_id", "no product %q", productID)
		}
		shop, r, err := x.shopRules(ctx, p.ShopID)
		if err != nil {
			return err
		}
		text = strings.TrimSpace(text)
		if err := qa.CheckText("text", "R-QA-4", text, &r.QA); err != nil {
			return err
		}
		q := &qa.Question{ID: x.e.ids.New("qst"), ProductID: p.ID, ShopID: p.ShopID, BuyerID: buyer.ID, Text: text,
			AskedAt: x.now, PolicyVersion: r.Version}
		q.Invalid = qa.Check(text, &r.QA)
		q.Valid = q.Invalid == nil
		out = q
		if !q.Valid {
			if err := x.tx.InsertQuestion(ctx, q); err != nil {
				return err
			}
			return x.questionEvent(ctx, q, buyer, "question_asked", "R-QA-4", r.Version, task.AgentsOnly,
				map[string]any{"product_id": p.ID, "valid": false, "invalid": q.Invalid})
		}

		// R-QA-2: the past buyers the system invites, as the policy says.
		in := r.QA.Invite
		cands, err := x.tx.ProductBuyers(ctx, store.BuyerQuery{ProductID: p.ID, Exclude: buyer.ID,
			Since: x.now.Add(-in.Lookback.D()), Until: x.now, Pick: in.Pick, Limit: in.Count})
		if err != nil {
			return err
		}
		due := qa.SuggestAt(x.now, &r.QA)
		q.SuggestAt, q.Invited = &due, len(cands)
		if err := x.tx.InsertQuestion(ctx, q); err != nil {
			return err
		}
		invs := make([]qa.Invitation, len(cands))
		invited := make([]string, len(cands))
		msgs := make([]notify.Message, 0, len(cands)+1)
		for i, c := range cands {
			invs[i] = qa.Invitation{QuestionID: q.ID, BuyerID: c.BuyerID, InvitedAt: x.now, PaidAt: c.PaidAt}
			invited[i] = c.BuyerID
			msgs = append(msgs, x.qaMessage(q, qa.KindInvitation, c.BuyerID, notify.Pending, "R-QA-2",
				"you bought this product: the system invites you to answer", r.Version))
		}
		if err := x.tx.InsertInvitations(ctx, invs); err != nil {
			return err
		}
		// R-QA-1: the reminder goes to the main account only, and only when
		// it subscribes; otherwise it is kept, suppressed, for the record.
		// Sub-accounts never get it.
		subscribed, err := x.tx.Subscribed(ctx, shop.MainAccount, qa.TopicAskEveryone)
		if err != nil {
			return err
		}
		if subscribed {
			msgs = append(msgs, x.qaMessage(q, qa.KindReminder, shop.MainAccount, notify.Pending, "R-QA-1",
				"a buyer asked a question on a product", r.Version))
		} else {
			msgs = append(msgs, x.qaMessage(q, qa.KindReminder, shop.MainAccount, notify.Suppressed, "R-QA-1",
				"not sent: the main account does not subscribe to 问大家 (消息订阅 → 系统消息 → 售后服务 → 问大家)", r.Version))
		}
		if err := x.tx.AppendOutbox(ctx, msgs); err != nil {
			return err
		}
		if err := x.setTimer(ctx, task.Timer{Subject: q.ID, Kind: qa.TimerSuggest, DueAt: due, SetAt: x.now, PolicyVersion: r.Version}); err != nil {
			return err
		}
		if err := x.questionEvent(ctx, q, buyer, "question_asked", "R-QA-1", r.Version, task.Public,
			map[string]any{"product_id": p.ID, "valid": true, "reminded": subscribed, "suggest_at": due}); err != nil {
			return err
		}
		if len(invited) == 0 {
			return nil
		}
		return x.questionEvent(ctx, q, systemActor("qa"), "buyers_invited", "R-QA-2", r.Version, task.ShopAgent,
			map[string]any{"buyers": invited, "pick": in.Pick, "lookback": in.Lookback.String()})
	})
	return out, err
}

// Answer records an answer to a question: by the shop's main account or by
// a past buyer the system invited (R-QA-2); anyone else is refused, and so
// is every answer to a question judged not valid (R-QA-4). The first buyer
// answer stops the suggestion timer (R-QA-3); the shop's own answer does
// not ("没有用户回答").
func (e *Engine) Answer(ctx context.Context, actor task.Actor, questionID, text string) (*qa.Answer, error) {
	return e.AnswerWithPictures(ctx, actor, questionID, text, nil)
}

// PictureInput is a picture given with an answer: its file name and bytes.
type PictureInput struct {
	Name string
	Data []byte
}

// AnswerWithPictures is Answer with pictures (e.g. a quality report, seed
// 001 温馨提示 2), stored as evidence files are: each picture's type is
// sniffed from its bytes and must be one of the policy's
// qa.answer_pictures.types, at most max_bytes, at most max_count of them;
// the bytes are kept by SHA-256 in the attachment store (R-QA-2).
func (e *Engine) AnswerWithPictures(ctx context.Context, actor task.Actor, questionID, text string, pics []PictureInput) (*qa.Answer, error) {
	var out *qa.Answer
	err := e.update(ctx, func(x *txn) error {
		q, err := x.tx.Question(ctx, questionID)
		if err != nil {
			return apperr.NotFoundAs(err, "question_id", "no question %q", questionID)
		}
		shop, err := x.shop(ctx, q.ShopID)
		if err != nil {
			return err
		}
		invited := false
		if actor.Role == task.RoleBuyer && q.Valid {
			if invited, err = x.tx.Invited(ctx, q.ID, actor.ID); err != nil {
				return err
			}
		}
		by, err := qa.MayAnswer(q, actor, shop.MainAccount, invited)
		if err != nil {
			return err
		}
		r, err := x.rules(shop.Platform, x.now)
		if err != nil {
			return err
		}
		text = strings.TrimSpace(text)
		if err := qa.CheckText("text", "R-QA-2", text, &r.QA); err != nil {
			return err
		}
		pictures, err := x.answerPictures(ctx, pics, &r.QA.AnswerPictures, r.Version)
		if err != nil {
			return err
		}
		a := &qa.Answer{ID: x.e.ids.New("ans"), QuestionID: q.ID, By: by, AuthorID: actor.ID, Text: text, Pictures: pictures, At: x.now}
		if err := x.tx.InsertAnswer(ctx, a); err != nil {
			return err
		}
		q.Answers++
		cancelled := false
		if by == qa.ByBuyer {
			q.BuyerAnswers++
			if q.SuggestAt != nil {
				if err := x.tx.StopTimer(ctx, q.ID, qa.TimerSuggest); err != nil {
					return err
				}
				q.SuggestAt, cancelled = nil, true
			}
		}
		if err := x.tx.UpdateQuestion(ctx, q); err != nil {
			return err
		}
		out = a
		data := map[string]any{"answer_id": a.ID, "by": by, "suggestion_cancelled": cancelled}
		if len(pictures) > 0 {
			data["pictures"] = len(pictures)
		}
		return x.questionEvent(ctx, q, actor, "question_answered", "R-QA-2", r.Version, task.Public, data)
	})
	return out, err
}

// Subscribe sets an account's subscription to a message topic: the main
// account's 消息订阅 → 系统消息 → 售后服务 → 问大家, without which it gets no
// reminder of new questions (R-QA-1). Only a main account sets it, for
// itself: sub-accounts never get 问大家 reminders.
func (e *Engine) Subscribe(ctx context.Context, actor task.Actor, accountID, topic string, on bool) (*qa.Subscription, error) {
	var out *qa.Subscription
	err := e.update(ctx, func(x *txn) error {
		acc, err := x.tx.Account(ctx, accountID)
		if err != nil {
			return apperr.NotFoundAs(err, "account_id", "no account %q", accountID)
		}
		if actor.Role == task.RoleShopMain || actor.Role == task.RoleShopSub {
			if err := x.tenantFirst(ctx, actor, acc.ShopID, ""); err != nil {
				return err
			}
		}
		if !slices.Contains(qa.Topics, topic) {
			return apperr.Invalid("topic", "R-QA-1", "unknown topic %q (want one of: %s)", topic, strings.Join(qa.Topics, ", "))
		}
		if acc.Role != commerce.RoleMain {
			return apperr.Forbidden("qa.not_main_account", "R-QA-1",
				"account %s is a sub-account: only the shop's main account gets 问大家 reminders", acc.ID)
		}
		if actor.Role != task.RoleShopMain || actor.ID != acc.ID {
			return apperr.Forbidden("role", "R-QA-1", "the main account %s sets its own subscriptions; %s %s may not", acc.ID, actor.Role, actor.ID)
		}
		_, r, err := x.shopRules(ctx, acc.ShopID)
		if err != nil {
			return err
		}
		s := &qa.Subscription{AccountID: acc.ID, ShopID: acc.ShopID, Topic: topic, On: on, At: x.now}
		if err := x.tx.PutSubscription(ctx, s); err != nil {
			return err
		}
		out = s
		data, _ := json.Marshal(map[string]any{"topic": topic, "on": on})
		return x.tx.AppendEvents(ctx, []task.Event{{Stream: acc.ID, ShopID: acc.ShopID, At: x.now, Actor: actor,
			Action: "subscription_set", Rule: "R-QA-1", PolicyVersion: r.Version, Visibility: task.ShopAgent, Data: data}})
	})
	return out, err
}

// isQuestionTimer tells a question's timers (R-QA-3) from task and order timers.
func isQuestionTimer(tm task.Timer) bool { return strings.HasPrefix(tm.Kind, "qa_") }

// questionDeadline fires a question's R-QA-3 timer: no buyer has answered
// for more than the policy's suggest_after, so the shop's main account is
// told to answer (an outbox message and an event on the question). A timer
// that a buyer's answer should have stopped changes nothing.
func (x *txn) questionDeadline(ctx context.Context, tm task.Timer) error {
	q, err := x.tx.Question(ctx, tm.Subject)
	if err != nil {
		return apperr.Internal(err)
	}
	if tm.Kind != qa.TimerSuggest {
		return apperr.Invalid("timer.kind", "", "no %s timer on questions", tm.Kind)
	}
	if !q.Valid || q.BuyerAnswers > 0 || q.SuggestedAt != nil {
		return nil
	}
	shop, err := x.shop(ctx, q.ShopID)
	if err != nil {
		return err
	}
	now := x.now
	q.SuggestAt, q.SuggestedAt = nil, &now
	if err := x.tx.UpdateQuestion(ctx, q); err != nil {
		return err
	}
	reason := fmt.Sprintf("no buyer answer since %s (due %s): answer it yourself, buyers prefer a reply",
		q.AskedAt.UTC().Format(time.RFC3339), tm.DueAt.UTC().Format(time.RFC3339))
	if err := x.tx.AppendOutbox(ctx, []notify.Message{x.qaMessage(q, qa.KindSuggestion, shop.MainAccount, notify.Pending, "R-QA-3", reason, tm.PolicyVersion)}); err != nil {
		return err
	}
	return x.questionEvent(ctx, q, systemActor("timer"), "answer_suggested", "R-QA-3", tm.PolicyVersion, task.ShopAgent,
		map[string]any{"due_at": tm.DueAt, "answers": q.Answers, "recipient": shop.MainAccount})
}

// qaMessage is an outbox message about a question.
func (x *txn) qaMessage(q *qa.Question, kind notify.Kind, to string, status notify.Status, rule, reason, version string) notify.Message {
	payload, _ := json.Marshal(map[string]any{"question_id": q.ID, "product_id": q.ProductID, "text": q.Text, "asked_at": q.AskedAt})
	return notify.Message{Kind: kind, Recipient: to, ShopID: q.ShopID, At: x.now, Status: status, Rule: rule,
		Reason: reason, PolicyVersion: version, Payload: payload}
}

// questionEvent appends an event to the question's stream.
func (x *txn) questionEvent(ctx context.Context, q *qa.Question, actor task.Actor, action, rule, version string, vis task.Visibility, data any) error {
	ev := task.Event{Stream: q.ID, ShopID: q.ShopID, At: x.now, Actor: actor, Action: action, Rule: rule,
		PolicyVersion: version, Visibility: vis}
	if data != nil {
		ev.Data, _ = json.Marshal(data)
	}
	return x.tx.AppendEvents(ctx, []task.Event{ev})
}

// productFact records a shop's product. A product's shop never changes.
func (x *txn) productFact(ctx context.Context, f *commerce.Fact) (func() error, error) {
	p := *f.Product
	if _, err := x.shop(ctx, p.ShopID); err != nil {
		return nil, apperr.NotFoundAs(err, "product.shop_id", "no shop %q", p.ShopID)
	}
	old, err := x.tx.Product(ctx, p.ID)
	if err != nil && apperr.CodeOf(err) != apperr.ENOTFOUND {
		return nil, err
	}
	if old != nil && old.ShopID != p.ShopID {
		return nil, apperr.Invalid("product.shop_id", "", "product %s belongs to shop %s; a product's shop never changes", p.ID, old.ShopID)
	}
	return func() error { return x.tx.PutProduct(ctx, &p) }, nil
}

// orderProducts checks the products an order's items name and returns the
// writes that make the order's buyer a past buyer of each (R-QA-2). A
// product not yet known is registered for the order's shop; one of another
// shop is refused. Items without a product id count for no product.
func (x *txn) orderProducts(ctx context.Context, o *commerce.Order) (func() error, error) {
	var fresh []commerce.Product
	var pids []string
	for i, it := range o.Items {
		if it.ProductID == "" || slices.Contains(pids, it.ProductID) {
			continue
		}
		p, err := x.tx.Product(ctx, it.ProductID)
		switch {
		case err == nil:
			if p.ShopID != o.ShopID {
				return nil, apperr.Invalid(fmt.Sprintf("order.items[%d].product_id", i), "",
					"product %s belongs to shop %s, not to the order's shop %s", p.ID, p.ShopID, o.ShopID)
			}
		case apperr.CodeOf(err) == apperr.ENOTFOUND:
			fresh = append(fresh, commerce.Product{ID: it.ProductID, ShopID: o.ShopID})
		default:
			return nil, err
		}
		pids = append(pids, it.ProductID)
	}
	return func() error {
		for i := range fresh {
			if err := x.tx.PutProduct(ctx, &fresh[i]); err != nil {
				return err
			}
		}
		for _, pid := range pids {
			if err := x.tx.AddPurchase(ctx, qa.Purchase{ProductID: pid, OrderID: o.ID, BuyerID: o.BuyerID, PaidAt: o.PaidAt}); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// answerPictures checks an answer's pictures against the policy and stores
// their bytes as evidence files are (by SHA-256); nothing is stored when one
// is refused, since the whole answer is refused in the same transaction.
func (x *txn) answerPictures(ctx context.Context, pics []PictureInput, p *policy.QAPictureRules, version string) ([]qa.Picture, error) {
	if len(pics) == 0 {
		return nil, nil
	}
	if len(pics) > p.MaxCount {
		return nil, apperr.Invalid("pictures", "R-QA-2", "an answer carries at most %d pictures, got %d (policy %s)", p.MaxCount, len(pics), version)
	}
	out := make([]qa.Picture, 0, len(pics))
	for i, pic := range pics {
		f := fmt.Sprintf("pictures[%d]", i)
		switch {
		case len(pic.Data) == 0:
			return nil, apperr.Invalid(f, "R-QA-2", "the picture is empty")
		case int64(len(pic.Data)) > p.MaxBytes:
			return nil, apperr.Invalid(f, "R-QA-2", "the picture has %d bytes; the limit is %d (policy %s)", len(pic.Data), p.MaxBytes, version)
		case len(pic.Name) > 255:
			return nil, apperr.Invalid(f+".name", "R-QA-2", "the file name has %d bytes; at most 255", len(pic.Name))
		}
		ct := evidence.Sniff(pic.Data)
		if !slices.Contains(p.Types, ct) {
			return nil, apperr.Invalid(f, "R-QA-2", "the picture's content is %s; accepted: %s (policy %s)", ct, strings.Join(p.Types, ", "), version)
		}
		sum := evidence.SHA256(pic.Data)
		if err := x.tx.PutAttachmentBytes(ctx, sum, pic.Data); err != nil {
			return nil, err
		}
		out = append(out, qa.Picture{Name: pic.Name, ContentType: ct, Size: int64(len(pic.Data)), SHA256: sum})
	}
	return out, nil
}
