package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/store"
)

// ProblemBase is the prefix of every problem type URI. A problem's type is
// ProblemBase followed by its reason key, e.g.
// https://aftersale.example/problems/urge.exempt.presale. The URI is an
// identifier (stable across releases, one per reason); docs/api.md lists them.
const ProblemBase = "https://aftersale.example/problems/"

// ProblemContentType is the media type of error bodies (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem detail with the application's extension
// members: the error code, the reason key (the last part of Type), the field
// at fault and the rule (an R-… id of RULES.md) that refused.
type Problem struct {
	Type   string `json:"type" doc:"Stable URI of the problem type: https://aftersale.example/problems/{reason}."`
	Title  string `json:"title" doc:"Short summary of the problem type, in the language negotiated by Accept-Language (zh-CN default, en)."`
	Status int    `json:"status" doc:"HTTP status code."`
	Detail string `json:"detail,omitempty" doc:"What happened in this occurrence (English, from the engine)."`
	Code   string `json:"code,omitempty" doc:"Error class: invalid, not_found, conflict, forbidden, internal, unauthorized."`
	Reason string `json:"reason,omitempty" doc:"Stable reason key; clients switch on it."`
	Field  string `json:"field,omitempty" doc:"The request field at fault, when there is one."`
	Rule   string `json:"rule,omitempty" doc:"The rule of RULES.md that refused (R-URG-2 …), when one did."`
	// Data is what the client needs to act on the refusal, e.g. the example
	// evidence of an evidence.required refusal (R-EVD-1).
	Data any `json:"data,omitempty" doc:"Details to act on, in the negotiated language where they have one (e.g. evidence.required: the reason, example_evidence, and both languages' examples)."`
	// Errors lists the individual failures of a request validation.
	Errors []*huma.ErrorDetail `json:"errors,omitempty" doc:"Individual validation failures."`
}

// Error implements error.
func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType implements huma.ContentTypeFilter: problems are problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return ProblemContentType
	}
	return ct
}

// statusOf maps an application error code to an HTTP status, once, here.
func statusOf(c apperr.Code) int {
	switch c {
	case apperr.EINVALID:
		return http.StatusUnprocessableEntity
	case apperr.ENOTFOUND:
		return http.StatusNotFound
	case apperr.ECONFLICT:
		return http.StatusConflict
	case apperr.EFORBIDDEN:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// problemFrom turns an application error into a problem in language lang.
// An internal error keeps its message out of the answer.
func problemFrom(ae *apperr.Error, lang string) *Problem {
	reason := ae.Reason
	if reason == "" {
		reason = string(ae.Code)
	}
	p := &Problem{
		Type: ProblemBase + reason, Title: titleOf(reason, lang), Status: statusOf(ae.Code), Detail: ae.Message,
		Code: string(ae.Code), Reason: reason, Field: ae.Field, Rule: ae.Rule,
	}
	if l, ok := ae.Data.(interface{ ForLang(string) any }); ok {
		p.Data = l.ForLang(lang)
	} else if ae.Data != nil {
		p.Data = ae.Data
	}
	if ae.Code == apperr.EINTERNAL {
		p.Type, p.Reason, p.Title, p.Field, p.Rule = ProblemBase+"internal", "internal", titleOf("internal", lang), "", ""
		p.Detail = "internal error; the server log has the details"
		p.Data = nil
	}
	return p
}

// newProblem builds a problem of the HTTP layer (no engine error behind it).
func newProblem(status int, code, reason, field, lang, detail string) *Problem {
	return &Problem{Type: ProblemBase + reason, Title: titleOf(reason, lang), Status: status, Detail: detail,
		Code: code, Reason: reason, Field: field}
}

// problemLogger is where errors that huma reports as 500 are logged. It is
// set by New (the last server's logger wins; they are the same in a process).
var problemLogger struct {
	sync.Mutex
	l *slog.Logger
}

func logInternal(ctx context.Context, err error) {
	problemLogger.Lock()
	l := problemLogger.l
	problemLogger.Unlock()
	switch {
	case l == nil:
	case ctx.Err() != nil:
		// the client went away (or the server is stopping): not a failure
		l.DebugContext(ctx, "request abandoned: the client went away", "err", err) // the access log says 499
	default:
		l.ErrorContext(ctx, "request failed", "err", err)
	}
}

var installErrors sync.Once

// installProblemErrors makes huma write every error as a Problem: its own
// (validation 422, malformed body 400, body too large 413 …) and the
// application errors handlers return, which huma hands over as a 500 cause.
func installProblemErrors() {
	installErrors.Do(func() {
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			return humaProblem(nil, status, msg, errs...)
		}
		huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			return humaProblem(ctx, status, msg, errs...)
		}
	})
}

func humaProblem(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	lang := langZH
	if ctx != nil {
		lang = negotiate(ctx.Header("Accept-Language"))
	}
	for _, err := range errs {
		if ae, ok := apperr.As(err); ok {
			if ae.Code == apperr.EINTERNAL && ctx != nil {
				logInternal(ctx.Context(), err)
			}
			return problemFrom(hideTenant(ctx, ae), lang)
		}
		var p *Problem
		if errors.As(err, &p) {
			return p
		}
		if errors.Is(err, store.ErrRetry) || errors.Is(err, store.ErrRace) {
			// Lost races with concurrent transactions (a deadlock) more
			// times than the engine runs one again: nothing was applied,
			// and the client may retry.
			if ctx != nil {
				logInternal(ctx.Context(), err)
			}
			return newProblem(http.StatusServiceUnavailable, "unavailable", "not_ready", "", lang,
				"concurrent changes to the same data kept winning; nothing was applied: retry the request")
		}
	}
	if status >= 500 {
		if ctx != nil {
			logInternal(ctx.Context(), errors.Join(append([]error{errors.New(msg)}, errs...)...))
		}
		return newProblem(status, "internal", "internal", "", lang, "internal error; the server log has the details")
	}
	reason, code := "request.invalid", "invalid"
	switch status {
	case http.StatusUnprocessableEntity:
		reason = "request.validation"
	case http.StatusRequestEntityTooLarge:
		reason = "request.too_large"
	case http.StatusNotFound:
		reason, code = "not_found", "not_found"
	case http.StatusNotAcceptable, http.StatusUnsupportedMediaType:
		reason = "request.media_type"
	}
	p := newProblem(status, code, reason, "", lang, msg)
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d huma.ErrorDetailer
		if errors.As(err, &d) {
			p.Errors = append(p.Errors, d.ErrorDetail())
		} else {
			p.Errors = append(p.Errors, &huma.ErrorDetail{Message: err.Error()})
		}
	}
	if len(p.Errors) == 1 && p.Errors[0].Location != "" {
		p.Field = p.Errors[0].Location
	}
	return p
}

// writeProblem writes p outside huma (middleware, the catch-all route).
func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", ProblemContentType)
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(p)
}
