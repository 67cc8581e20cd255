package console

import (
	"net/http"

	"aftersale/internal/ident"
)

// idQuery are the query parameters of console pages that carry an id.
var idQuery = []string{"after", "shop", "product"}

// checkIDs holds the ids a console request names — the {id} of its path
// and the ids of its query — to the one id rule (ident.Check), so that a
// malformed id is a clear 400 page naming it, alike on every store, and
// never reaches one (PostgreSQL refuses a NUL byte with an error).
func checkIDs(r *http.Request) error {
	if err := ident.Check("id", r.PathValue("id")); err != nil {
		return err
	}
	q := r.URL.Query()
	for _, k := range idQuery {
		if err := ident.Check(k, q.Get(k)); err != nil {
			return err
		}
	}
	return nil
}
