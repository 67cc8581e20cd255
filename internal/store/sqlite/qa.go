package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/qa"
	"aftersale/internal/store"
	"aftersale/internal/store/storecodec"
)

// Ask-everyone Q&A (问大家, R-QA-1..4). These statements are not in the
// prepared set of stmts.go: the driver parses them per transaction, which
// is cheap next to the rest of a Q&A write.
const (
	qaProduct       = `SELECT data FROM products WHERE id = ?`
	qaQuestion      = `SELECT data FROM questions WHERE id = ?`
	qaQuestionOrder = `SELECT asked_at FROM questions WHERE id = ?`
	qaInvitations   = `SELECT data FROM invitations WHERE question_id = ? ORDER BY buyer_id`
	qaInvited       = `SELECT EXISTS (SELECT 1 FROM invitations WHERE question_id = ? AND buyer_id = ?)`
	qaSubscribed    = `SELECT data FROM subscriptions WHERE account_id = ? AND topic = ?`
	qaAnswers       = `SELECT data FROM answers WHERE question_id IN (SELECT value FROM json_each(?)) ORDER BY question_id, at, id`
	// One row per buyer: the latest (or first) qualifying order.
	qaBuyersRecent = `SELECT buyer_id, MAX(paid_at) AS p FROM purchases
		WHERE product_id = ? AND paid_at >= ? AND paid_at <= ? AND buyer_id <> ?
		GROUP BY buyer_id ORDER BY p DESC, buyer_id LIMIT ?`
	qaBuyersEarliest = `SELECT buyer_id, MIN(paid_at) AS p FROM purchases
		WHERE product_id = ? AND paid_at >= ? AND paid_at <= ? AND buyer_id <> ?
		GROUP BY buyer_id ORDER BY p, buyer_id LIMIT ?`

	qaPutProduct = `INSERT INTO products (id, shop_id, data) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, data = excluded.data`
	qaAddPurchase = `INSERT INTO purchases (product_id, order_id, buyer_id, paid_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (product_id, order_id) DO NOTHING`
	qaInsertQuestion = `INSERT INTO questions (id, product_id, shop_id, asked_at, valid, answers, data) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qaUpdateQuestion = `UPDATE questions SET valid = ?, answers = ?, data = ? WHERE id = ?`
	qaInsertAnswer   = `INSERT INTO answers (id, question_id, at, data) VALUES (?, ?, ?, ?)`
	qaInsertInvite   = `INSERT INTO invitations (question_id, buyer_id, data) VALUES (?, ?, ?)`
	qaPutSubscribed  = `INSERT INTO subscriptions (account_id, topic, data) VALUES (?, ?, ?)
		ON CONFLICT (account_id, topic) DO UPDATE SET data = excluded.data`
)

// getOne reads the one JSON column of q into dst, or returns ENOTFOUND naming field.
func (t *rtx) getOne(ctx context.Context, q string, dst any, field, what string, args ...any) error {
	var data []byte
	err := t.tx.QueryRowContext(ctx, q, args...).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound(field, "%s %q not found", what, args[0])
	}
	if err != nil {
		return fmt.Errorf("sqlite: read %s %q: %w", what, args[0], err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("sqlite: decode %s %q: %w", what, args[0], err)
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
	rows, err := t.tx.QueryContext(ctx, sqlText, q.ProductID, fmtTime(q.Since), fmtTime(q.Until), q.Exclude, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: product buyers: %w", err)
	}
	defer rows.Close()
	var out []qa.Candidate
	for rows.Next() {
		var c qa.Candidate
		var paid string
		if err := rows.Scan(&c.BuyerID, &paid); err != nil {
			return nil, fmt.Errorf("sqlite: product buyers: %w", err)
		}
		if c.PaidAt, err = parseTime(paid); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: product buyers: %w", err)
	}
	return out, nil
}

// Question implements store.ReadTx.
func (t *rtx) Question(ctx context.Context, id string) (*qa.Question, error) {
	var q qa.Question
	if err := t.getOne(ctx, qaQuestion, &q, "question_id", "question", id); err != nil {
		return nil, err
	}
	return &q, nil
}

// Questions implements store.ReadTx.
func (t *rtx) Questions(ctx context.Context, f store.QuestionFilter) ([]qa.Question, error) {
	var conds []string
	var args []any
	add := func(cond string, vs ...any) {
		conds = append(conds, cond)
		args = append(args, vs...)
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
		add("answers = 0")
	}
	if f.After != "" {
		var asked string
		err := t.tx.QueryRowContext(ctx, qaQuestionOrder, f.After).Scan(&asked)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.NotFound("after", "cursor question %q not found", f.After)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: read cursor: %w", err)
		}
		add("(asked_at, id) < (?, ?)", asked, f.After)
	}
	var b strings.Builder
	b.WriteString("SELECT data FROM questions")
	if len(conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(conds, " AND "))
	}
	b.WriteString(" ORDER BY asked_at DESC, id DESC")
	if f.Limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, f.Limit)
	}
	rows, err := t.tx.QueryContext(ctx, b.String(), args...)
	return listJSON[qa.Question](rows, err, "questions")
}

// Answers implements store.ReadTx.
func (t *rtx) Answers(ctx context.Context, questionIDs []string) ([]qa.Answer, error) {
	return listByIDs[qa.Answer](ctx, t, qaAnswers, questionIDs, "answers")
}

// Invitations implements store.ReadTx.
func (t *rtx) Invitations(ctx context.Context, questionID string) ([]qa.Invitation, error) {
	rows, err := t.tx.QueryContext(ctx, qaInvitations, questionID)
	return listJSON[qa.Invitation](rows, err, "invitations")
}

// Invited implements store.ReadTx.
func (t *rtx) Invited(ctx context.Context, questionID, buyerID string) (bool, error) {
	var ok bool
	if err := t.tx.QueryRowContext(ctx, qaInvited, questionID, buyerID).Scan(&ok); err != nil {
		return false, fmt.Errorf("sqlite: read invitation: %w", err)
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
		return fmt.Errorf("sqlite: encode product %q: %w", p.ID, err)
	}
	if _, err := t.tx.ExecContext(ctx, qaPutProduct, p.ID, p.ShopID, string(data)); err != nil {
		return fmt.Errorf("sqlite: put product %q: %w", p.ID, err)
	}
	return nil
}

// AddPurchase implements store.Tx.
func (t *wtx) AddPurchase(ctx context.Context, p qa.Purchase) error {
	if _, err := t.tx.ExecContext(ctx, qaAddPurchase, p.ProductID, p.OrderID, p.BuyerID, fmtTime(p.PaidAt)); err != nil {
		return fmt.Errorf("sqlite: add purchase %s/%s: %w", p.ProductID, p.OrderID, err)
	}
	return nil
}

// InsertQuestion implements store.Tx.
func (t *wtx) InsertQuestion(ctx context.Context, q *qa.Question) error {
	data, err := storecodec.EncodeUTC(q)
	if err != nil {
		return fmt.Errorf("sqlite: encode question %q: %w", q.ID, err)
	}
	_, err = t.tx.ExecContext(ctx, qaInsertQuestion, q.ID, q.ProductID, q.ShopID, fmtTime(q.AskedAt), q.Valid, q.Answers, string(data))
	if constraintCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return apperr.Conflict("qa.question_exists", "", "question %s already exists", q.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: insert question %q: %w", q.ID, err)
	}
	return nil
}

// UpdateQuestion implements store.Tx.
func (t *wtx) UpdateQuestion(ctx context.Context, q *qa.Question) error {
	data, err := storecodec.EncodeUTC(q)
	if err != nil {
		return fmt.Errorf("sqlite: encode question %q: %w", q.ID, err)
	}
	res, err := t.tx.ExecContext(ctx, qaUpdateQuestion, q.Valid, q.Answers, string(data), q.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update question %q: %w", q.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update question %q: %w", q.ID, err)
	} else if n == 0 {
		return apperr.NotFound("question_id", "question %q not found", q.ID)
	}
	return nil
}

// InsertAnswer implements store.Tx.
func (t *wtx) InsertAnswer(ctx context.Context, a *qa.Answer) error {
	data, err := storecodec.EncodeUTC(a)
	if err != nil {
		return fmt.Errorf("sqlite: encode answer %q: %w", a.ID, err)
	}
	_, err = t.tx.ExecContext(ctx, qaInsertAnswer, a.ID, a.QuestionID, fmtTime(a.At), string(data))
	if constraintCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return apperr.Conflict("qa.answer_exists", "", "answer %s already exists", a.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: insert answer %q: %w", a.ID, err)
	}
	return nil
}

// InsertInvitations implements store.Tx.
func (t *wtx) InsertInvitations(ctx context.Context, is []qa.Invitation) error {
	for i := range is {
		in := &is[i]
		data, err := storecodec.EncodeUTC(in)
		if err != nil {
			return fmt.Errorf("sqlite: encode invitation: %w", err)
		}
		_, err = t.tx.ExecContext(ctx, qaInsertInvite, in.QuestionID, in.BuyerID, string(data))
		if constraintCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return apperr.Conflict("qa.invitation_exists", "", "buyer %s is already invited to question %s", in.BuyerID, in.QuestionID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert invitation: %w", err)
		}
	}
	return nil
}

// PutSubscription implements store.Tx.
func (t *wtx) PutSubscription(ctx context.Context, s *qa.Subscription) error {
	data, err := storecodec.EncodeUTC(s)
	if err != nil {
		return fmt.Errorf("sqlite: encode subscription: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, qaPutSubscribed, s.AccountID, s.Topic, string(data)); err != nil {
		return fmt.Errorf("sqlite: put subscription %s/%s: %w", s.AccountID, s.Topic, err)
	}
	return nil
}
