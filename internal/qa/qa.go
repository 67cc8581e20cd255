// Package qa is ask-everyone product Q&A (问大家, seed 001): buyers ask
// questions on a product, the shop's main account and past buyers the
// system invites answer them. It holds the domain types and the pure rules:
// what makes a question valid (R-QA-4), who may answer (R-QA-2), and when
// the shop is told to answer an unanswered question (R-QA-3). The engine
// applies them in its one write path; the numbers and word lists are policy.
package qa

import (
	"strconv"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/notify"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

// TopicAskEveryone is the subscription 消息订阅 → 系统消息 → 售后服务 → 问大家
// that the main account needs to get reminders of new questions (R-QA-1).
const TopicAskEveryone = "ask_everyone"

// Topics lists the subscription topics an account may set.
var Topics = []string{TopicAskEveryone}

// Outbox message kinds of 问大家.
const (
	KindReminder   notify.Kind = "qa_reminder"   // R-QA-1: a new question, to the subscribed main account
	KindInvitation notify.Kind = "qa_invitation" // R-QA-2: a past buyer is invited to answer
	KindSuggestion notify.Kind = "qa_suggestion" // R-QA-3: suggest that the shop answer
)

// TimerSuggest is the kind of a question's R-QA-3 timer (subject: the question id).
const TimerSuggest = "qa_suggest"

// Who answered (Answer.By).
const (
	ByShop  = "shop"  // the shop's main account
	ByBuyer = "buyer" // an invited past buyer
)

// Question is a buyer's question on a product. An invalid question (R-QA-4)
// is stored with its reason but never shown and never answered.
type Question struct {
	ID        string    `json:"id"`
	ProductID string    `json:"product_id"`
	ShopID    string    `json:"shop_id"`
	BuyerID   string    `json:"buyer_id"`
	Text      string    `json:"text"`
	AskedAt   time.Time `json:"asked_at"`
	// Valid is the system's judgment (R-QA-4); Invalid says why not.
	Valid   bool        `json:"valid"`
	Invalid *Invalidity `json:"invalid,omitempty"`
	// Answers counts all answers; BuyerAnswers those of invited buyers.
	Answers      int `json:"answers"`
	BuyerAnswers int `json:"buyer_answers"`
	// SuggestAt is when the shop will be told to answer, while no buyer has
	// answered (R-QA-3); SuggestedAt when it was.
	SuggestAt   *time.Time `json:"suggest_at,omitempty"`
	SuggestedAt *time.Time `json:"suggested_at,omitempty"`
	// Invited counts the past buyers invited to answer (R-QA-2).
	Invited       int    `json:"invited"`
	PolicyVersion string `json:"policy_version"`
}

// Answer is one answer to a question.
type Answer struct {
	ID         string `json:"id"`
	QuestionID string `json:"question_id"`
	By         string `json:"by"`        // shop | buyer
	AuthorID   string `json:"author_id"` // the main account or the buyer
	Text       string `json:"text"`
	// Pictures the answer carries (e.g. a quality report, 质检报告), stored
	// as evidence files are: the bytes by SHA-256, the type sniffed.
	Pictures []Picture `json:"pictures,omitempty"`
	At       time.Time `json:"at"`
}

// Picture is one picture of an answer: its bytes are kept in the
// attachment store under SHA256.
type Picture struct {
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// Invalidity is why the system judges a question not valid (R-QA-4).
type Invalidity struct {
	// Code is too_short, or the id of the policy pattern or word list that matched.
	Code string `json:"code"`
	Rule string `json:"rule"`
	ZH   string `json:"reason_zh"`
	EN   string `json:"reason_en"`
	// Match is the text that matched a pattern or word list.
	Match string `json:"match,omitempty"`
}

// Candidate is a past buyer of a product who may be invited (R-QA-2).
type Candidate struct {
	BuyerID string    `json:"buyer_id"`
	PaidAt  time.Time `json:"paid_at"` // the order that qualifies (latest or first, by the pick)
}

// Purchase says a buyer's order contains a product.
type Purchase struct {
	ProductID string    `json:"product_id"`
	OrderID   string    `json:"order_id"`
	BuyerID   string    `json:"buyer_id"`
	PaidAt    time.Time `json:"paid_at"`
}

// Invitation is a past buyer invited to answer a question (R-QA-2).
type Invitation struct {
	QuestionID string    `json:"question_id"`
	BuyerID    string    `json:"buyer_id"`
	InvitedAt  time.Time `json:"invited_at"`
	// PaidAt is the qualifying order's payment time.
	PaidAt time.Time `json:"paid_at"`
}

// Subscription is an account's setting for a message topic (R-QA-1).
type Subscription struct {
	AccountID string    `json:"account_id"`
	ShopID    string    `json:"shop_id"`
	Topic     string    `json:"topic"`
	On        bool      `json:"on"`
	At        time.Time `json:"at"`
}

// Check judges a question's text (R-QA-4): nil when valid, else the first
// reason it is not, in policy order: too short, then each pattern, then
// each word list.
func Check(text string, r *policy.QARules) *Invalidity {
	v := &r.Validity
	if n := policy.QALength(text); n < v.MinLength {
		return &Invalidity{Code: "too_short", Rule: "R-QA-4",
			ZH: "问题过短：至少 " + strconv.Itoa(v.MinLength) + " 个字",
			EN: "too short: at least " + strconv.Itoa(v.MinLength) + " characters"}
	}
	norm := policy.NormalizeQAText(text)
	for i, p := range v.Patterns {
		re := v.Regexp(i)
		if re == nil {
			continue
		}
		if loc := re.FindStringIndex(norm); loc != nil {
			return &Invalidity{Code: p.ID, Rule: "R-QA-4", ZH: p.Reason.ZH, EN: p.Reason.EN, Match: strings.TrimSpace(norm[loc[0]:loc[1]])}
		}
	}
	for _, wl := range v.Words {
		for _, w := range wl.Words {
			if w != "" && strings.Contains(norm, policy.NormalizeQAText(w)) {
				return &Invalidity{Code: wl.ID, Rule: "R-QA-4", ZH: wl.Reason.ZH, EN: wl.Reason.EN, Match: w}
			}
		}
	}
	return nil
}

// CheckText refuses text that is no input at all: empty, or longer than the
// policy's max_length. (A short or contact-laden question is stored as
// invalid instead, R-QA-4.)
func CheckText(field, rule, text string, r *policy.QARules) error {
	n := policy.QALength(text)
	if n == 0 {
		return apperr.Invalid(field, rule, "%s is empty", field)
	}
	if max := r.Validity.MaxLength; n > max {
		return apperr.Invalid(field, rule, "%s has %d characters; at most %d", field, n, max)
	}
	return nil
}

// SuggestAt is when an unanswered question's suggestion falls due: R-QA-3
// says "more than" suggest_after, and times are judged to the second, so
// the first second after it (1 day: not yet; 1 day + 1 s: suggest).
func SuggestAt(askedAt time.Time, r *policy.QARules) time.Time {
	return askedAt.Add(r.SuggestAfter.D() + time.Second)
}

// MayAnswer says whether actor may answer q (R-QA-2, R-QA-4): the shop's
// main account, or a past buyer the system invited (invited: the actor is a
// buyer with an invitation to q). It returns who answers (ByShop or
// ByBuyer), or a refusal naming the rule.
func MayAnswer(q *Question, actor task.Actor, mainAccount string, invited bool) (string, error) {
	if !q.Valid {
		return "", apperr.Conflict("qa.question_invalid", "R-QA-4",
			"question %s was judged not valid (%s) and cannot be answered", q.ID, q.Invalid.Code)
	}
	switch actor.Role {
	case task.RoleShopMain:
		if actor.ID == mainAccount {
			return ByShop, nil
		}
		return "", apperr.Forbidden("qa.not_main_account", "R-QA-2",
			"account %s is not the main account of shop %s; only its main account answers for the shop", actor.ID, q.ShopID)
	case task.RoleShopSub:
		return "", apperr.Forbidden("qa.not_main_account", "R-QA-2",
			"sub-account %s may not answer: only the shop's main account and invited past buyers answer 问大家", actor.ID)
	case task.RoleBuyer:
		if invited {
			return ByBuyer, nil
		}
		return "", apperr.Forbidden("qa.not_invited", "R-QA-2",
			"buyer %s was not invited to answer question %s; only past buyers the system invites answer", actor.ID, q.ID)
	}
	return "", apperr.Forbidden("qa.not_invited", "R-QA-2",
		"a %s may not answer: only the shop's main account and invited past buyers answer 问大家", actor.Role)
}

// Visible reports whether a question may be shown (R-QA-4).
func (q *Question) Visible() bool { return q.Valid }
