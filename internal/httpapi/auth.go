package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/commerce"
)

// KeyRole is what an API key may do.
type KeyRole string

// Key roles.
const (
	// RolePlatform is the marketplace's own systems: they send facts and act
	// for buyers, shop accounts and agents.
	RolePlatform KeyRole = "platform"
	// RoleOperator runs the service: reads, and the sandbox clock.
	RoleOperator KeyRole = "operator"
)

// Key is an API key as the server keeps it: its role and the SHA-256 of the
// secret, never the secret itself.
type Key struct {
	Role KeyRole
	Hash [32]byte
}

// ID is a short, non-secret name of the key (the first 12 hex digits of its hash).
func (k Key) ID() string { return hex.EncodeToString(k.Hash[:6]) }

// NewKey makes a Key from a role and a secret.
func NewKey(role KeyRole, secret string) Key {
	return Key{Role: role, Hash: sha256.Sum256([]byte(secret))}
}

// ParseKeys reads "role:secret" pairs separated by commas or newlines; blank
// lines and lines starting with # are ignored. Roles are platform and operator.
func ParseKeys(s string) ([]Key, error) {
	var out []Key
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, pair := range strings.Split(line, ",") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			role, secret, ok := strings.Cut(pair, ":")
			role, secret = strings.TrimSpace(role), strings.TrimSpace(secret)
			if !ok || secret == "" {
				return nil, fmt.Errorf("api key %q: want role:key", redact(pair))
			}
			switch KeyRole(role) {
			case RolePlatform, RoleOperator:
			default:
				return nil, fmt.Errorf("api key role %q: want platform or operator", role)
			}
			if len(secret) < 16 {
				return nil, fmt.Errorf("api key for %s: at least 16 characters, got %d", role, len(secret))
			}
			out = append(out, NewKey(KeyRole(role), secret))
		}
	}
	return out, nil
}

func redact(s string) string {
	role, _, ok := strings.Cut(s, ":")
	if !ok {
		return "…"
	}
	return role + ":…"
}

// GenerateSecret returns a new random API key: 256 bits, URL-safe base64,
// prefixed by its role ("platform_…", "operator_…") so a leaked key says what it is.
func GenerateSecret(role KeyRole) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return string(role) + "_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// principal is the authenticated caller: an API key (Role, KeyID) or a
// signed-in person (Person, with their Session, and their shop Account for
// shop roles).
type principal struct {
	Role  KeyRole
	KeyID string // the API key's id, or "person:<id>" (idempotency keys are per caller)

	Person  *auth.Person
	Session *auth.Session
	Account *commerce.Account
	Cookie  bool // authenticated by the session cookie (unsafe methods need X-CSRF-Token)
}

type principalKey struct{}

// authState says what authenticate found.
type authState int

const (
	authNone authState = iota
	authBad
	authOK
	authExpired
)

type authKey struct{}

type tlsKey struct{}

// authenticate finds the caller: an API key (Authorization: Bearer KEY, or
// X-API-Key) compared with every configured key in constant time; else a
// session token (Authorization: Bearer ses_…, or the session cookie),
// looked up by its SHA-256. It records the caller in the request context and
// does not refuse: operations declare who may call them and the huma
// middleware (requireRole) answers 401 or 403.
func (s *Server) authenticate(keys []Key, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := r.Header.Get("X-API-Key")
		if a := r.Header.Get("Authorization"); secret == "" && a != "" {
			if scheme, v, ok := strings.Cut(a, " "); ok && strings.EqualFold(scheme, "Bearer") {
				secret = strings.TrimSpace(v)
			} else {
				secret = "\x00invalid"
			}
		}
		state := authNone
		var p *principal
		if secret != "" {
			state = authBad
			h := sha256.Sum256([]byte(secret))
			found := -1
			for i := range keys { // no early exit: the time does not depend on which key matched
				if subtle.ConstantTimeCompare(h[:], keys[i].Hash[:]) == 1 {
					found = i
				}
			}
			if found >= 0 {
				state, p = authOK, &principal{Role: keys[found].Role, KeyID: keys[found].ID()}
			} else if strings.HasPrefix(secret, auth.TokenPrefix) {
				state, p = s.sessionPrincipal(r, secret, false)
			}
		} else if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
			state, p = s.sessionPrincipal(r, c.Value, true)
			if p == nil {
				state = authNone // a stale cookie is no credential: public operations still answer
			}
		}
		ctx := context.WithValue(r.Context(), authKey{}, state)
		ctx = context.WithValue(ctx, tlsKey{}, secureCookies(r)) // Config.Proxy.CookieSecure
		if p != nil {
			ctx = context.WithValue(ctx, principalKey{}, p)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func principalOf(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// metaRoles is the operation metadata key listing the key roles it accepts.
const metaRoles = "aftersale-roles"

// requireRole is the huma middleware that enforces who may call an
// operation: 401 without valid credentials; for an API key, 403 auth.role
// when the operation does not accept its role; for a person, 403 from the
// permission table (auth.Table, via opActions): permission.denied, or
// permission.platform_task naming what a sub-account lacks (R-ACC-1).
func requireRole(ctx huma.Context, next func(huma.Context)) {
	roles, _ := ctx.Operation().Metadata[metaRoles].([]KeyRole)
	if len(roles) == 0 {
		next(ctx)
		return
	}
	r, w := unwrap(ctx)
	lang := langOf(r.Context())
	p := principalOf(r.Context())
	if p == nil {
		reason, detail := "auth.missing", "send an API key (Authorization: Bearer KEY, or X-API-Key: KEY), a session token (Authorization: Bearer ses_…) or the session cookie; sign in with POST /v1/sessions"
		switch st, _ := r.Context().Value(authKey{}).(authState); st {
		case authBad:
			reason, detail = "auth.invalid", "the API key or session token is not one this server knows"
		case authExpired:
			reason, detail = "auth.session_expired", "the session ended (idle or absolute lifetime); sign in again"
		}
		pr := newProblem(http.StatusUnauthorized, "unauthorized", reason, "", lang, detail)
		w.Header().Set("WWW-Authenticate", `Bearer realm="aftersale"`)
		writeProblem(w, pr)
		return
	}
	if p.Person != nil {
		action, ok := opActions[ctx.Operation().OperationID]
		if !ok {
			action = auth.Action("op." + ctx.Operation().OperationID) // not in the table: refused
		}
		if err := auth.Check(p.Person.Role, p.Account, action); err != nil {
			ae, _ := apperr.As(err)
			writeProblem(w, problemFrom(ae, lang))
			return
		}
		next(ctx)
		return
	}
	if !slices.Contains(roles, p.Role) {
		writeProblem(w, newProblem(http.StatusForbidden, "forbidden", "auth.role", "", lang,
			fmt.Sprintf("the %s key may not call %s %s (needs: %s)", p.Role, ctx.Operation().Method, ctx.Operation().Path, joinRoles(roles))))
		return
	}
	next(ctx)
}

func joinRoles(rs []KeyRole) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}
