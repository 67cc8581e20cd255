package console_test

import (
	"net/http"
	"strings"
	"testing"

	"aftersale/internal/auth"
)

// A malformed id in a console URL (a NUL, invalid UTF-8, RLO, a zero-width
// space, 129 characters) is the console's clear 400 page naming it, on
// every store (PostgreSQL answered 500 for /console/tasks/%00), never a
// lookup.
func TestConsole_MalformedIDIsAClearPage(t *testing.T) {
	e := newEnv(t)
	e.shop()
	e.person("agent.li", auth.RoleAgent, "a1")
	b := e.signIn("agent.li")
	for _, id := range []string{"%00", "%FF", "a%E2%80%AEb", "a%E2%80%8Bb", strings.Repeat("a", 129)} {
		for _, c := range []struct{ path, field string }{
			{"/console/tasks/" + id, "id"},
			{"/console/attachments/" + id, "id"},
			{"/console/tasks?after=" + id, "after"},
			{"/console/scorecard?shop=" + id, "shop"},
		} {
			p := b.get(c.path, "Cookie", "aftersale_lang=en")
			must(t, p, http.StatusBadRequest, "The id breaks the id rule", c.field)
		}
	}
}
