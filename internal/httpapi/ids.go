package httpapi

import (
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/ident"
)

// idQueryParams are the query parameters that carry an id, besides those
// whose name ends in _id; viewer and actor carry one after "role:".
var idQueryParams = map[string]bool{"cursor": true, "after": true}

// roleIDQueryParams carry "role:id"; the id part obeys the id rule.
var roleIDQueryParams = map[string]bool{"viewer": true, "actor": true}

// checkIDs holds every id an operation takes in its path or query to the
// one id rule (ident.Check) before the handler runs: a malformed id is a
// 422 id.invalid naming the parameter, the same on every store, and never
// reaches one. Path parameters with a fixed set of values (enum) are
// validated by huma instead.
func checkIDs(ctx huma.Context, next func(huma.Context)) {
	for _, p := range ctx.Operation().Parameters {
		if p == nil || (p.Schema != nil && len(p.Schema.Enum) > 0) {
			continue
		}
		var v string
		switch {
		case p.In == "path":
			v = ctx.Param(p.Name)
		case p.In == "query" && (idQueryParams[p.Name] || strings.HasSuffix(p.Name, "_id")):
			v = ctx.Query(p.Name)
		case p.In == "query" && roleIDQueryParams[p.Name]:
			_, v, _ = strings.Cut(ctx.Query(p.Name), ":")
		default:
			continue
		}
		if err := ident.Check(p.Name, v); err != nil {
			r, w := unwrap(ctx)
			ae, _ := apperr.As(err)
			writeProblem(w, problemFrom(ae, langOf(r.Context())))
			return
		}
	}
	next(ctx)
}
