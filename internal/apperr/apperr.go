// Package apperr defines the application's error type: a stable code, the
// field at fault, the rule (R-… id from RULES.md) that refused, and a reason
// key that front ends translate. Errors are mapped to transport codes once,
// at the edge.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers and transports.
type Code string

// Error codes.
const (
	EINVALID   Code = "invalid"   // the input breaks a rule or is malformed
	ENOTFOUND  Code = "not_found" // a referenced thing does not exist
	ECONFLICT  Code = "conflict"  // the action conflicts with current state
	EFORBIDDEN Code = "forbidden" // the actor may not do this
	EINTERNAL  Code = "internal"  // a fault of ours
)

// Error is the application error. Message is English; Reason is a stable key
// (e.g. "urge.exempt.region") for translation and for clients to switch on.
type Error struct {
	Code    Code   `json:"code"`
	Reason  string `json:"reason,omitempty"`
	Field   string `json:"field,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
	// Data carries what a client needs to act on the refusal (e.g. the
	// example evidence of R-EVD-1); nil for most errors. A value with a
	// ForLang(lang string) any method is localized by the HTTP layer.
	Data any `json:"data,omitempty"`
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Rule != "" {
		s += " [" + e.Rule + "]"
	}
	if e.Field != "" {
		s += " " + e.Field + ":"
	}
	return s + " " + e.Message
}

// New builds an error.
func New(code Code, reason, field, rule, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Invalid is shorthand for an EINVALID error naming a field and a rule.
func Invalid(field, rule, format string, args ...any) *Error {
	return New(EINVALID, "invalid", field, rule, format, args...)
}

// NotFound is shorthand for an ENOTFOUND error naming the field that referred to it.
func NotFound(field, format string, args ...any) *Error {
	return New(ENOTFOUND, "not_found", field, "", format, args...)
}

// NotFoundAs restates a store's "not found" as the caller's: when err is
// ENOTFOUND it returns NotFound(field, format, args...), naming the request
// field that referred to the missing thing; any other err (nil too) is
// returned as it is.
func NotFoundAs(err error, field, format string, args ...any) error {
	if err != nil && CodeOf(err) == ENOTFOUND {
		return NotFound(field, format, args...)
	}
	return err
}

// Forbidden is shorthand for an EFORBIDDEN error.
func Forbidden(reason, rule, format string, args ...any) *Error {
	return New(EFORBIDDEN, reason, "", rule, format, args...)
}

// Conflict is shorthand for an ECONFLICT error.
func Conflict(reason, rule, format string, args ...any) *Error {
	return New(ECONFLICT, reason, "", rule, format, args...)
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the code of err: EINTERNAL for errors not of this package, "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := As(err); ok {
		return e.Code
	}
	return EINTERNAL
}

// IsApp reports whether err is a refusal: an application error other than
// EINTERNAL. Anything else (EINTERNAL, or an error of another package) is a
// system fault that must abort the transaction.
func IsApp(err error) bool {
	e, ok := As(err)
	return ok && e.Code != EINTERNAL
}

// Internal turns err into a system fault (EINTERNAL) even when it is a
// refusal, for errors that arrive after writes began, where answering
// "refused" would leave half a change behind. It returns nil for nil.
func Internal(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := As(err); ok && e.Code == EINTERNAL {
		return err
	}
	return &Error{Code: EINTERNAL, Reason: "internal", Message: err.Error()}
}
