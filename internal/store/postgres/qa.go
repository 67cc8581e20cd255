package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/qa"
	"aftersale/internal/store"
	"aftersale/internal/store/storecodec"
)

// Ask-everyone Q&A (问大家, R-QA-1..4).
const (
	qaProduct       = `SELECT data FROM products WHERE id = $1`
	qaQuestion      = `SELECT data FROM questions WHERE id = $1`
	qaQuestionLock  = qaQuestion + ` FOR UPDATE`
	qaQuestionOrder = `SELECT asked_at FROM questions WHERE id = $1`
	qaInvitations   = `SELECT data FROM invitations WHERE question_id = $1 ORDER BY buyer_id`
	qaInvited       = `SELECT EXISTS (SELECT 1 FROM invitations WHERE question_id = $1 AND buyer_id = $2)`
	qaSubscribed    = `SELECT data FROM subscriptions WHERE account_id = $1 AND topic = $2`
	qaAnswers       = `SELECT data FROM answers WHERE question_id = ANY($1) ORDER BY question_id, at, id`
	// One row per buyer: the latest (or first) qualifying order.
	qaBuyersRecent = `SELECT buyer_id, max(paid_at) AS p FROM purchases
		WHERE product_id = $1 AND paid_at >= $2 AND paid_at <= $3 AND buyer_id <> $4
		GROUP BY buyer_id ORDER BY p DESC, buyer_id LIMIT $5`
	qaBuyersEarliest = `SELECT buyer_id, min(paid_at) AS p FROM purchases
		WHERE product_id = $1 AND paid_at >= $2 AND paid_at <= $3 AND buyer_id <> $4
		GROUP BY buyer_id ORDER BY p, buyer_id LIMIT $5`

	qaPutProduct = `INSERT INTO products (id, shop_id, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, data = excluded.data`
	qaAddPurchase = `INSERT INTO purchases (product_id, order_id, buyer_id, paid_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (product_id, order_id) DO NOTHING`
	qaInsertQuestion = `INSERT INTO questions (id, product_id, shop_id, asked_at, valid, answers, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`
	qaUpdateQuestion = `UPDATE questions SET valid = $1, answers = $2, data = $3 WHERE id = $4`
	qaInsertAnswer   = `INSERT INTO answers (id, question_id, at, data) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`
	qaInsertInvite   = `INSERT INTO invitations (question_id, buyer_id, data) VALUES ($1, $2, $3)
		ON CONFLICT (question_id, buyer_id) DO NOTHING`
	qaPutSubscribed = `INSERT INTO subscriptions (account_id, topic, data) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, topic) DO UPDATE SET data = excluded.data`
)

// getOne reads the one JSON column of q into dst, or returns ENOTFOUND naming field.
func (t *rtx) getOne(ctx context.Context, q string, dst any, field, what string, args ...any) error {
	var data []byte
	err := t.tx.QueryRow(ctx, q, args...).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.NotFound(field, "%s %q not found", what, args[0])
	}
	if err != nil {
		return fmt.Errorf("postgres: read %s %q: %w", what, args[0], err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("postgres: decode %s %q: %w", what, args[0], err)
	}
	return nil
}

// Product implements store.ReadTx.
func (t *rtx) Product(ctx context.Context, id string) (*commerce.Product, error) {
	var p commerce.Product
	if err := t.getOne(ctx, qaProduct, &p, "product_id", "product", id); err != nil {
		return nil, err
	}
	return &p, nil
}

// ProductBuyers implements store.ReadTx.
func (t *rtx) ProductBuyers(ctx context.Context, q store.BuyerQuery) ([]qa.Candidate, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	sqlText := qaBuyersRecent
	if q.Pick == policy.PickEarliest {
		sqlText = qaBuyersEarliest
	}
	rows, err := t.tx.Query(ctx, sqlText, q.ProductID, q.Since, q.Until, q.Exclude, int64(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("postgres: product buyers: %w", err)
	}
	defer rows.Close()
	var out []qa.Candidate
	for rows.Next() {
		var c qa.Candidate
		if err := rows.Scan(&c.BuyerID, &c.PaidAt); err != nil {
			return nil, fmt.Errorf("postgres: product buyers: %w", err)
		}
		c.PaidAt = c.PaidAt.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: product buyers: %w", err)
	}
	return out, nil
}

// Question implements store.ReadTx. Inside Update the question's row is
// locked until the transaction ends (answers update its counts).
func (t *rtx) Question(ctx context.Context, id string) (*qa.Question, error) {
	var q qa.Question
	if err := t.getOne(ctx, t.pick(qaQuestion, qaQuestionLock), &q, "question_id", "question", id); err != nil {
		return nil, err
	}
	return &q, nil
}

// Questions implements store.ReadTx.
func (t *rtx) Questions(ctx context.Context, f store.QuestionFilter) ([]qa.Question, error) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.ProductID != "" {
		add("product_id = ?", f.ProductID)
	}
	if f.ShopID != "" {
		add("shop_id = ?", f.ShopID)
	}
	if f.Valid != nil {
		add("valid = ?", *f.Valid)
	}
	if f.Unanswered {
		conds = append(conds, "answers = 0")
	}
	if f.After != "" {
		var asked time.Time
		err := t.tx.QueryRow(ctx, qaQuestionOrder, f.After).Scan(&asked)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, apperr.NotFound("after", "cursor question %q not found", f.After)
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: read cursor: %w", err)
		}
		args = append(args, asked, f.After)
		conds = append(conds, fmt.Sprintf("(asked_at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	var b strings.Builder
	b.WriteString("SELECT data FROM questions")
	if len(conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(conds, " AND "))
	}
	b.WriteString(" ORDER BY asked_at DESC, id DESC")
	if f.Limit > 0 {
		args = append(args, int64(f.Limit))
		fmt.Fprintf(&b, " LIMIT $%d", len(args))
	}
	return listJSON[qa.Question](ctx, t, "questions", b.String(), args...)
}

// Answers implements store.ReadTx.
func (t *rtx) Answers(ctx context.Context, questionIDs []string) ([]qa.Answer, error) {
	if len(questionIDs) == 0 {
		return nil, nil
	}
	return listJSON[qa.Answer](ctx, t, "answers", qaAnswers, questionIDs)
}

// Invitations implements store.ReadTx.
func (t *rtx) Invitations(ctx context.Context, questionID string) ([]qa.Invitation, error) {
	return listJSON[qa.Invitation](ctx, t, "invitations", qaInvitations, questionID)
}

// Invited implements store.ReadTx.
func (t *rtx) Invited(ctx context.Context, questionID, buyerID string) (bool, error) {
	var ok bool
	if err := t.tx.QueryRow(ctx, qaInvited, questionID, buyerID).Scan(&ok); err != nil {
		return false, fmt.Errorf("postgres: read invitation: %w", err)
	}
	return ok, nil
}

// Subscribed implements store.ReadTx.
func (t *rtx) Subscribed(ctx context.Context, accountID, topic string) (bool, error) {
	var s qa.Subscription
	err := t.getOne(ctx, qaSubscribed, &s, "account_id", "subscription", accountID, topic)
	if apperr.CodeOf(err) == apperr.ENOTFOUND {
		return false, nil
	}
	return s.On, err
}

// PutProduct implements store.Tx.
func (t *wtx) PutProduct(ctx context.Context, p *commerce.Product) error {
	data, err := storecodec.EncodeUTC(p)
	if err != nil {
		return fmt.Errorf("postgres: encode product %q: %w", p.ID, err)
	}
	if _, err := t.tx.Exec(ctx, qaPutProduct, p.ID, p.ShopID, string(data)); err != nil {
		return fmt.Errorf("postgres: put product %q: %w", p.ID, err)
	}
	return nil
}

// AddPurchase implements store.Tx.
func (t *wtx) AddPurchase(ctx context.Context, p qa.Purchase) error {
	if _, err := t.tx.Exec(ctx, qaAddPurchase, p.ProductID, p.OrderID, p.BuyerID, p.PaidAt); err != nil {
		return fmt.Errorf("postgres: add purchase %s/%s: %w", p.ProductID, p.OrderID, err)
	}
	return nil
}

// InsertQuestion implements store.Tx. ON CONFLICT DO NOTHING keeps the
// transaction usable after a repeated id.
func (t *wtx) InsertQuestion(ctx context.Context, q *qa.Question) error {
	data, err := storecodec.EncodeUTC(q)
	if err != nil {
		return fmt.Errorf("postgres: encode question %q: %w", q.ID, err)
	}
	tag, err := t.tx.Exec(ctx, qaInsertQuestion, q.ID, q.ProductID, q.ShopID, q.AskedAt, q.Valid, int64(q.Answers), string(data))
	if err != nil {
		return fmt.Errorf("postgres: insert question %q: %w", q.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.Conflict("qa.question_exists", "", "question %s already exists", q.ID)
	}
	return nil
}

// UpdateQuestion implements store.Tx.
func (t *wtx) UpdateQuestion(ctx context.Context, q *qa.Question) error {
	data, err := storecodec.EncodeUTC(q)
	if err != nil {
		return fmt.Errorf("postgres: encode question %q: %w", q.ID, err)
	}
	tag, err := t.tx.Exec(ctx, qaUpdateQuestion, q.Valid, int64(q.Answers), string(data), q.ID)
	if err != nil {
		return fmt.Errorf("postgres: update question %q: %w", q.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound("question_id", "question %q not found", q.ID)
	}
	return nil
}

// InsertAnswer implements store.Tx.
func (t *wtx) InsertAnswer(ctx context.Context, a *qa.Answer) error {
	data, err := storecodec.EncodeUTC(a)
	if err != nil {
		return fmt.Errorf("postgres: encode answer %q: %w", a.ID, err)
	}
	tag, err := t.tx.Exec(ctx, qaInsertAnswer, a.ID, a.QuestionID, a.At, string(data))
	if err != nil {
		return fmt.Errorf("postgres: insert answer %q: %w", a.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.Conflict("qa.answer_exists", "", "answer %s already exists", a.ID)
	}
	return nil
}

// InsertInvitations implements store.Tx.
func (t *wtx) InsertInvitations(ctx context.Context, is []qa.Invitation) error {
	for i := range is {
		in := &is[i]
		data, err := storecodec.EncodeUTC(in)
		if err != nil {
			return fmt.Errorf("postgres: encode invitation: %w", err)
		}
		tag, err := t.tx.Exec(ctx, qaInsertInvite, in.QuestionID, in.BuyerID, string(data))
		if err != nil {
			return fmt.Errorf("postgres: insert invitation: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.Conflict("qa.invitation_exists", "", "buyer %s is already invited to question %s", in.BuyerID, in.QuestionID)
		}
	}
	return nil
}

// PutSubscription implements store.Tx.
func (t *wtx) PutSubscription(ctx context.Context, s *qa.Subscription) error {
	data, err := storecodec.EncodeUTC(s)
	if err != nil {
		return fmt.Errorf("postgres: encode subscription: %w", err)
	}
	if _, err := t.tx.Exec(ctx, qaPutSubscribed, s.AccountID, s.Topic, string(data)); err != nil {
		return fmt.Errorf("postgres: put subscription %s/%s: %w", s.AccountID, s.Topic, err)
	}
	return nil
}
