package store

import (
	"context"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/qa"
)

// QAReader reads ask-everyone Q&A (问大家, R-QA-1..4): products, the buyers
// who bought them, questions, answers, invitations and subscriptions.
type QAReader interface {
	// Product returns a product (ENOTFOUND when unknown).
	Product(ctx context.Context, id string) (*commerce.Product, error)
	// ProductBuyers returns the product's past buyers for an invitation (R-QA-2).
	ProductBuyers(ctx context.Context, q BuyerQuery) ([]qa.Candidate, error)
	// Question returns a question, valid or not (ENOTFOUND when unknown).
	Question(ctx context.Context, id string) (*qa.Question, error)
	// Questions lists questions matching the filter, newest first: by
	// (asked_at, id) descending.
	Questions(ctx context.Context, f QuestionFilter) ([]qa.Question, error)
	// Answers returns the answers to these questions, by (question, at, id).
	Answers(ctx context.Context, questionIDs []string) ([]qa.Answer, error)
	// Invitations returns a question's invitations by buyer id.
	Invitations(ctx context.Context, questionID string) ([]qa.Invitation, error)
	// Invited reports whether the buyer was invited to answer the question.
	Invited(ctx context.Context, questionID, buyerID string) (bool, error)
	// Subscribed reports whether the account subscribes to the topic (off when never set).
	Subscribed(ctx context.Context, accountID, topic string) (bool, error)
}

// QAWriter writes ask-everyone Q&A.
type QAWriter interface {
	PutProduct(ctx context.Context, p *commerce.Product) error // upsert
	// AddPurchase records that an order holds a product; a repeat of
	// (product, order) changes nothing.
	AddPurchase(ctx context.Context, p qa.Purchase) error
	// InsertQuestion stores a new question (ECONFLICT "qa.question_exists" for a known id).
	InsertQuestion(ctx context.Context, q *qa.Question) error
	// UpdateQuestion stores a question's new projection (ENOTFOUND when unknown).
	UpdateQuestion(ctx context.Context, q *qa.Question) error
	InsertAnswer(ctx context.Context, a *qa.Answer) error
	// InsertInvitations stores invitations; a repeat of (question, buyer) is ECONFLICT.
	InsertInvitations(ctx context.Context, is []qa.Invitation) error
	PutSubscription(ctx context.Context, s *qa.Subscription) error // upsert by (account, topic)
}

// BuyerQuery selects the past buyers of a product (R-QA-2): distinct
// buyers other than Exclude with an order of the product paid in
// [Since, Until], at most Limit. Pick orders them: policy.PickMostRecent by
// each buyer's latest such order, newest first; policy.PickEarliest by each
// buyer's first, oldest first; ties by buyer id.
type BuyerQuery struct {
	ProductID    string
	Exclude      string
	Since, Until time.Time
	Pick         string
	Limit        int
}

// QuestionFilter selects questions. Zero fields do not filter.
type QuestionFilter struct {
	ProductID string
	ShopID    string
	// Valid keeps only questions judged valid (true) or not (false).
	Valid *bool
	// Unanswered keeps questions without any answer.
	Unanswered bool
	// After is a cursor: keep questions after this question id in the order
	// (older ones). An unknown id is ENOTFOUND (field "after").
	After string
	Limit int // 0 means no limit
}
