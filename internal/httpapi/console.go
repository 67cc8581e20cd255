package httpapi

import (
	"net/http"

	"aftersale/internal/auth"
	"aftersale/internal/console"
)

// A signed-in person may hold their own stream (the console's live cards,
// R-NTF-2): streamIdentity makes it theirs.
func init() { opActions["stream"] = auth.ActStream }

// mountConsole serves the people's console (internal/console) under
// /console on the same mux, behind the same middleware: the session cookie
// authenticates, bindPerson checks the CSRF token of unsafe requests, and
// the console calls the engine's commands and shared reads.
func (s *Server) mountConsole(mux *http.ServeMux) {
	c := console.New(console.Config{
		Engine: s.eng,
		Logger: s.log,
		Who: func(r *http.Request) *console.Principal {
			p := principalOf(r.Context())
			if p == nil || p.Person == nil {
				return nil
			}
			return &console.Principal{Person: p.Person, Account: p.Account, CSRF: p.Session.CSRF}
		},
		Title: titleOf,
	})
	mux.Handle(console.Prefix+"/", c)
	mux.Handle(console.Prefix, c)
	mux.Handle("GET /{$}", http.RedirectHandler(console.Prefix+"/", http.StatusSeeOther))
}
