package policy

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// This file holds the refund-refusal evidence rules (拒绝退款举证, seed 002,
// R-EVD-1..5): the evidence-required scenario table keyed by refund reason,
// the date it starts, the second-round deadline and the attachment limits.

// Remedies a buyer may ask for (the order's 诉求, R-EVD-3): what the platform
// opens when the refusal had no valid evidence.
const (
	RemedyReturnRefund = "return_refund" // 退货退款
	RemedyRefundOnly   = "refund_only"   // 仅退款
	RemedyExchange     = "exchange"      // 换货
)

// Remedies lists the remedy values.
var Remedies = []string{RemedyReturnRefund, RemedyRefundOnly, RemedyExchange}

// SniffableTypes are the attachment content types the product can recognise
// by their bytes; evidence.attachment_types may list only these.
var SniffableTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}

// EvidenceRules are the refusal evidence rules (R-EVD-1..5). A policy without
// an evidence section knows no refund reasons and requires no evidence.
type EvidenceRules struct {
	// RequiredFrom is when the evidence requirement on refusal starts
	// (R-EVD-1: 2022-12-27 00:00 +08:00). A refusal before it requires no
	// evidence whatever the table says.
	RequiredFrom time.Time `json:"required_from" yaml:"required_from"`
	// Reasons is the scenario table keyed by refund reason code (R-EVD-5).
	Reasons map[string]RefundReason `json:"reasons" yaml:"reasons"`
	// SecondRoundDeadline is the time a side has to provide evidence when an
	// agent asks for a second round (二次举证, R-EVD-4).
	SecondRoundDeadline Duration `json:"second_round_deadline" yaml:"second_round_deadline"`
	// AttachmentMaxBytes is the largest attachment accepted.
	AttachmentMaxBytes int64 `json:"attachment_max_bytes" yaml:"attachment_max_bytes"`
	// AttachmentTypes are the content types accepted, as sniffed from the bytes.
	AttachmentTypes []string `json:"attachment_types" yaml:"attachment_types"`
	// TaskMaxFiles is how many attachments one side (buyer, shop, agents)
	// may hold on one task, attached or not yet; 0: no limit.
	TaskMaxFiles int `json:"task_max_files,omitempty" yaml:"task_max_files"`
	// TaskMaxBytes is how many bytes of attachments one side may hold on
	// one task; 0: no limit.
	TaskMaxBytes int64 `json:"task_max_bytes,omitempty" yaml:"task_max_bytes"`
	// PersonDailyMaxBytes is how many bytes one buyer or shop account may
	// upload in a business day, over all tasks (agents are not limited);
	// 0: no limit.
	PersonDailyMaxBytes int64 `json:"person_daily_max_bytes,omitempty" yaml:"person_daily_max_bytes"`
}

// RefundReason is one row of the scenario table.
type RefundReason struct {
	// Name of the reason, in zh-CN and en.
	Name Text `json:"name" yaml:"name"`
	// RequiredOnRefusal: a seller refusing a request with this reason must
	// give evidence (强举证场景, R-EVD-1), from RequiredFrom.
	RequiredOnRefusal bool `json:"required_on_refusal" yaml:"required_on_refusal"`
	// Examples describe the evidence expected (查看示例), in zh-CN and en.
	Examples []Text `json:"examples" yaml:"examples"`
}

// Text is a text in the two languages the product speaks.
type Text struct {
	ZH string `json:"zh-CN" yaml:"zh-CN"`
	EN string `json:"en" yaml:"en"`
}

// In returns the text in lang ("en" or zh-CN for anything else).
func (t Text) In(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "en") && t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// Reason returns the table row of a reason code.
func (e *EvidenceRules) Reason(code string) (RefundReason, bool) {
	if e == nil {
		return RefundReason{}, false
	}
	r, ok := e.Reasons[code]
	return r, ok
}

// RequiresEvidence reports whether refusing a request with this reason at
// time at needs evidence (R-EVD-1): the reason's row says so and the
// requirement has started.
func (e *EvidenceRules) RequiresEvidence(code string, at time.Time) bool {
	if e == nil || e.RequiredFrom.IsZero() || at.Before(e.RequiredFrom) {
		return false
	}
	r, ok := e.Reasons[code]
	return ok && r.RequiredOnRefusal
}

// ReasonCodes lists the table's reason codes, sorted.
func (e *EvidenceRules) ReasonCodes() []string {
	if e == nil {
		return nil
	}
	ks := make([]string, 0, len(e.Reasons))
	for k := range e.Reasons {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// validateEvidence checks the evidence section when there is one.
func validateEvidence(rs *RuleSet, add func(path, format string, args ...any)) {
	ev := rs.Evidence
	if ev == nil {
		return
	}
	if ev.RequiredFrom.IsZero() {
		add("evidence.required_from", "must be a time (R-EVD-1: when refusals start to need evidence)")
	}
	if ev.SecondRoundDeadline <= 0 {
		add("evidence.second_round_deadline", "must be more than 0, got %s", ev.SecondRoundDeadline)
	}
	if ev.AttachmentMaxBytes <= 0 {
		add("evidence.attachment_max_bytes", "must be more than 0, got %d", ev.AttachmentMaxBytes)
	}
	if ev.TaskMaxFiles < 0 {
		add("evidence.task_max_files", "must not be negative (0: no limit), got %d", ev.TaskMaxFiles)
	}
	for _, q := range []struct {
		path string
		n    int64
	}{{"evidence.task_max_bytes", ev.TaskMaxBytes}, {"evidence.person_daily_max_bytes", ev.PersonDailyMaxBytes}} {
		switch {
		case q.n < 0:
			add(q.path, "must not be negative (0: no limit), got %d", q.n)
		case q.n > 0 && q.n < ev.AttachmentMaxBytes:
			add(q.path, "must be at least attachment_max_bytes (%d), got %d", ev.AttachmentMaxBytes, q.n)
		}
	}
	if len(ev.AttachmentTypes) == 0 {
		add("evidence.attachment_types", "must list at least one content type (%s)", strings.Join(SniffableTypes, ", "))
	}
	seen := map[string]bool{}
	for i, ct := range ev.AttachmentTypes {
		p := fmt.Sprintf("evidence.attachment_types[%d]", i)
		switch {
		case !Contains(SniffableTypes, ct):
			add(p, "unknown content type %q (want one of: %s)", ct, strings.Join(SniffableTypes, ", "))
		case seen[ct]:
			add(p, "%q is listed twice", ct)
		}
		seen[ct] = true
	}
	if len(ev.Reasons) == 0 {
		add("evidence.reasons", "must list at least one refund reason (R-EVD-5)")
	}
	for _, code := range ev.ReasonCodes() {
		r := ev.Reasons[code]
		p := "evidence.reasons." + code
		if !validCode(code) {
			add(p, "reason code %q must be lower-case letters, digits and _ (e.g. not_received)", code)
		}
		text := func(path string, t Text) {
			if strings.TrimSpace(t.ZH) == "" {
				add(path+".zh-CN", "must not be empty")
			}
			if strings.TrimSpace(t.EN) == "" {
				add(path+".en", "must not be empty")
			}
		}
		text(p+".name", r.Name)
		if r.RequiredOnRefusal && len(r.Examples) == 0 {
			add(p+".examples", "a reason that requires evidence on refusal needs at least one example (R-EVD-1)")
		}
		for i, ex := range r.Examples {
			text(fmt.Sprintf("%s.examples[%d]", p, i), ex)
		}
	}
}

func validCode(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
