package policy

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the ask-everyone product Q&A (问大家) section: who is
// invited to answer (R-QA-2), when the shop is told to answer (R-QA-3) and
// what the system judges not a valid question (R-QA-4).

// Invitation picks (values of qa.invite.pick).
const (
	PickMostRecent = "most_recent" // the buyers whose latest order of the product is the most recent
	PickEarliest   = "earliest"    // the buyers who bought the product first
)

// QAPicks are the values of qa.invite.pick.
var QAPicks = []string{PickMostRecent, PickEarliest}

// QARules are the ask-everyone rules (R-QA-1..4).
type QARules struct {
	// SuggestAfter: a valid question without any buyer answer for more than
	// this gets a suggestion to the shop that it answer (R-QA-3: 1 day).
	SuggestAfter Duration `json:"suggest_after" yaml:"suggest_after"`
	// Invite says which past buyers the system invites to answer (R-QA-2).
	Invite QAInviteRules `json:"invite" yaml:"invite"`
	// Validity says what the system judges not a valid question (R-QA-4).
	Validity QAValidityRules `json:"validity" yaml:"validity"`
	// AnswerPictures bound the pictures an answer may carry (R-QA-2, seed
	// 001 温馨提示 1-2: "上图来补充信息可信度(比如质检报告等)").
	AnswerPictures QAPictureRules `json:"answer_pictures" yaml:"answer_pictures"`
}

// QAPictureRules bound an answer's pictures, stored as evidence files are
// (content-addressed bytes, the type sniffed from them).
type QAPictureRules struct {
	// MaxCount is the most pictures an answer carries (0: none allowed).
	MaxCount int `json:"max_count" yaml:"max_count"`
	// MaxBytes is the largest picture.
	MaxBytes int64 `json:"max_bytes" yaml:"max_bytes"`
	// Types are the accepted content types, as sniffed from the bytes.
	Types []string `json:"types" yaml:"types"`
}

// QAInviteRules choose the past buyers invited to answer a new question (R-QA-2).
type QAInviteRules struct {
	// Count is how many past buyers are invited per question (0: none).
	Count int `json:"count" yaml:"count"`
	// Lookback: only buyers with an order of the product paid within this
	// before the question are past buyers who may be invited.
	Lookback Duration `json:"lookback" yaml:"lookback"`
	// Pick orders the candidates: most_recent or earliest.
	Pick string `json:"pick" yaml:"pick"`
}

// QAValidityRules define a valid question (R-QA-4). Texts are compared
// after NormalizeQAText (full-width forms folded, lower case).
type QAValidityRules struct {
	// MinLength is the fewest characters (runes, not counting white space) of a valid question.
	MinLength int `json:"min_length" yaml:"min_length"`
	// MaxLength is the most characters a question or answer may have; longer
	// input is refused (EINVALID), not stored.
	MaxLength int `json:"max_length" yaml:"max_length"`
	// Patterns are regular expressions (RE2) whose match makes a question invalid.
	Patterns []QAPattern `json:"patterns" yaml:"patterns"`
	// Words are word lists; a question containing any word is invalid.
	Words []QAWordList `json:"words" yaml:"words"`

	compiled []*regexp.Regexp // Patterns, compiled by validation
}

// QAReason is the reason given for an invalid question, in both languages.
type QAReason struct {
	ZH string `json:"zh" yaml:"zh"`
	EN string `json:"en" yaml:"en"`
}

// QAPattern is one pattern of invalid questions.
type QAPattern struct {
	// ID names the reason stably (phone, contact, link …).
	ID     string   `json:"id" yaml:"id"`
	Reason QAReason `json:"reason" yaml:"reason"`
	// Pattern is an RE2 regular expression matched against the normalized text.
	Pattern string `json:"pattern" yaml:"pattern"`
	// Examples are texts the pattern must judge invalid (checked with the policy).
	Examples []string `json:"examples" yaml:"examples"`
}

// QAWordList is one list of words that make a question invalid.
type QAWordList struct {
	ID     string   `json:"id" yaml:"id"`
	Reason QAReason `json:"reason" yaml:"reason"`
	// Words are matched as substrings of the normalized text.
	Words []string `json:"words" yaml:"words"`
	// Examples are texts the list must judge invalid (checked with the policy).
	Examples []string `json:"examples" yaml:"examples"`
}

// Regexp returns pattern i compiled (validation compiles them once; a rule
// set built by hand compiles on demand). It is nil when the pattern does not compile.
func (v *QAValidityRules) Regexp(i int) *regexp.Regexp {
	if i < len(v.compiled) && v.compiled[i] != nil {
		return v.compiled[i]
	}
	re, err := regexp.Compile(v.Patterns[i].Pattern)
	if err != nil {
		return nil
	}
	return re
}

// NormalizeQAText folds full-width ASCII forms (１３８, ｗｗｗ) to their ASCII
// counterparts, the ideographic space to a space, and letters to lower case,
// so that one pattern catches both ways of writing.
func NormalizeQAText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u3000':
			return ' '
		case r >= '\uFF01' && r <= '\uFF5E':
			r -= 0xFEE0
		}
		return unicode.ToLower(r)
	}, s)
}

// QALength counts the characters of a question for min_length and
// max_length: runes, not counting white space.
func QALength(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// validateQA checks the qa section and compiles its patterns into rs.
func validateQA(rs *RuleSet, add func(path, format string, args ...any)) {
	q := &rs.QA
	if q.SuggestAfter <= 0 {
		add("qa.suggest_after", "must be more than 0, got %s", q.SuggestAfter)
	}
	in := &q.Invite
	if in.Count < 0 {
		add("qa.invite.count", "must not be negative (0 invites nobody), got %d", in.Count)
	}
	if in.Lookback <= 0 {
		add("qa.invite.lookback", "must be more than 0, got %s", in.Lookback)
	}
	if !Contains(QAPicks, in.Pick) {
		add("qa.invite.pick", "must be one of %s, got %q", strings.Join(QAPicks, ", "), in.Pick)
	}
	if p := q.AnswerPictures; p.MaxCount < 0 {
		add("qa.answer_pictures.max_count", "must not be negative (0 allows none), got %d", p.MaxCount)
	}
	if p := q.AnswerPictures; p.MaxBytes <= 0 {
		add("qa.answer_pictures.max_bytes", "must be more than 0, got %d", p.MaxBytes)
	}
	if p := q.AnswerPictures; len(p.Types) == 0 {
		add("qa.answer_pictures.types", "must list at least one content type")
	}
	v := &q.Validity
	if v.MinLength < 1 {
		add("qa.validity.min_length", "must be at least 1, got %d", v.MinLength)
	}
	if v.MaxLength < v.MinLength || v.MaxLength < 1 {
		add("qa.validity.max_length", "must be at least min_length (%d) and 1, got %d", v.MinLength, v.MaxLength)
	}
	ids := map[string]bool{}
	reason := func(p, id string, r QAReason) {
		switch {
		case strings.TrimSpace(id) == "":
			add(p+".id", "must name the reason (e.g. phone)")
		case ids[id]:
			add(p+".id", "%q is used twice among patterns and word lists", id)
		}
		ids[id] = true
		if strings.TrimSpace(r.ZH) == "" || strings.TrimSpace(r.EN) == "" {
			add(p+".reason", "needs zh and en texts")
		}
	}
	v.compiled = make([]*regexp.Regexp, len(v.Patterns))
	for i, pt := range v.Patterns {
		p := fmt.Sprintf("qa.validity.patterns[%d]", i)
		reason(p, pt.ID, pt.Reason)
		if pt.Pattern == "" {
			add(p+".pattern", "must be a regular expression")
			continue
		}
		re, err := regexp.Compile(pt.Pattern)
		if err != nil {
			add(p+".pattern", "%v", err)
			continue
		}
		v.compiled[i] = re
		for j, ex := range pt.Examples {
			if !re.MatchString(NormalizeQAText(ex)) {
				add(fmt.Sprintf("%s.examples[%d]", p, j), "the pattern does not match its example %q", ex)
			}
		}
	}
	for i, wl := range v.Words {
		p := fmt.Sprintf("qa.validity.words[%d]", i)
		reason(p, wl.ID, wl.Reason)
		if len(wl.Words) == 0 {
			add(p+".words", "must list at least one word")
		}
		for j, w := range wl.Words {
			if strings.TrimSpace(w) == "" || !utf8.ValidString(w) {
				add(fmt.Sprintf("%s.words[%d]", p, j), "must not be empty")
			}
		}
		for j, ex := range wl.Examples {
			n := NormalizeQAText(ex)
			hit := false
			for _, w := range wl.Words {
				hit = hit || (w != "" && strings.Contains(n, NormalizeQAText(w)))
			}
			if !hit {
				add(fmt.Sprintf("%s.examples[%d]", p, j), "no word of the list occurs in its example %q", ex)
			}
		}
	}
}
