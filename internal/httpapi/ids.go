package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
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
			refuseID(ctx, err)
			return
		}
	}
	if err := checkBodyIDs(ctx); err != nil {
		refuseID(ctx, err)
		return
	}
	next(ctx)
}

func refuseID(ctx huma.Context, err error) {
	r, w := unwrap(ctx)
	ae, _ := apperr.As(err)
	writeProblem(w, problemFrom(ae, langOf(r.Context())))
}

// checkBodyIDs holds the ids of a JSON request body to the id rule: every
// member named id or ending in _id (a string), and every string of a
// member ending in _ids, at any depth, named by its path (actor.id,
// order_id). POST /v1/facts is left to its per-fact refusals; a body
// that is not JSON, or larger than the operation takes, is left for huma
// to refuse. The body is put back for the handler.
func checkBodyIDs(ctx huma.Context) error {
	op := ctx.Operation()
	if op.RequestBody == nil || op.OperationID == factsOperation || !strings.Contains(ctx.Header("Content-Type"), "json") {
		return nil
	}
	r, _ := unwrap(ctx)
	if r.Body == nil {
		return nil
	}
	limit := op.MaxBodyBytes
	if limit <= 0 {
		limit = 1 << 20 // huma's default
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if err != nil || int64(len(b)) > limit {
		return nil
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return walkIDs(v, "")
}

// factsOperation is the operation id of POST /v1/facts.
const factsOperation = "ingest-facts"

// walkIDs checks the ids of a decoded JSON value (members in sorted order,
// so the first bad one named is the same every time).
func walkIDs(v any, path string) error {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			e := x[k]
			switch s := e.(type) {
			case string:
				if k == "id" || strings.HasSuffix(k, "_id") {
					if err := ident.Check(join(k), s); err != nil {
						return err
					}
				}
			case []any:
				if strings.HasSuffix(k, "_ids") {
					for i, id := range s {
						if str, ok := id.(string); ok {
							if err := ident.Check(fmt.Sprintf("%s[%d]", join(k), i), str); err != nil {
								return err
							}
						}
					}
					continue
				}
				if err := walkIDs(e, join(k)); err != nil {
					return err
				}
			default:
				if err := walkIDs(e, join(k)); err != nil {
					return err
				}
			}
		}
	case []any:
		for i, e := range x {
			if err := walkIDs(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}
