package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// People sign in (docs/api.md, "Authentication"):
//
//   - POST /v1/sessions with a login and a password answers a session token
//     (for API clients: Authorization: Bearer ses_…) and sets it as an
//     HttpOnly, SameSite=Lax cookie (Secure when the request came over TLS),
//     with a CSRF token in the body and in a readable cookie.
//   - A cookie-authenticated unsafe request (POST, PUT, PATCH, DELETE) must
//     carry the session's CSRF token in X-CSRF-Token (double submit: another
//     site can make the browser send the cookie, not read the token).
//   - A person acts as themselves: an actor in the body or X-Actor that is
//     someone else is refused (actor.mismatch), and their reads are forced
//     to their own orders or shop (another tenant's task is 404).
//   - What each role may do is auth.Table; opActions maps operations to it.

// Cookie and header names.
const (
	SessionCookie = "aftersale_session"
	CSRFCookie    = "aftersale_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// SessionConfig configures people's sessions and sign-in. Zero fields take
// the defaults.
type SessionConfig struct {
	// Lifetimes: idle (since the last request) and absolute (since sign-in).
	// Default 30 minutes and 12 hours.
	Lifetimes auth.Lifetimes
	// Clock times sessions (default: the real clock; not the sandbox clock,
	// so moving the sandbox clock by days does not sign everyone out).
	Clock clock.Clock
	// Hash is the argon2id cost of new passwords (default auth.DefaultParams).
	Hash auth.Params
	// MaxFailures failed password checks (sign-ins, wrong current
	// passwords) from one client address within FailureWindow make further
	// checks from that address answer 429 auth.throttled until the window
	// ends (default 5 in 15 minutes); other addresses sign in as the same
	// login. See auth.ThrottleConfig, also for the per-login bound.
	MaxFailures   int
	FailureWindow time.Duration
	// HashMemory is how many bytes argon2id may hold at once over all
	// requests (default auth.DefaultHashMemory, 64 MiB: 3 hashes of 19 MiB);
	// HashWait is how long a password check waits for room before 429
	// auth.busy (default 1 s). See auth.Gate.
	HashMemory int64
	HashWait   time.Duration
	// OnHash, when set, is called before every argon2id run (tests count them).
	OnHash func()
}

func (c SessionConfig) withDefaults() SessionConfig {
	if c.Lifetimes.Idle <= 0 {
		c.Lifetimes.Idle = auth.DefaultLifetimes.Idle
	}
	if c.Lifetimes.Absolute <= 0 {
		c.Lifetimes.Absolute = auth.DefaultLifetimes.Absolute
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Hash == (auth.Params{}) {
		c.Hash = auth.DefaultParams
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = auth.DefaultMaxFailures
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = auth.DefaultFailureWindow
	}
	return c
}

// sessions is the server's sign-in state.
type sessions struct {
	cfg      SessionConfig
	gate     *auth.Gate     // every argon2id run goes through it
	throttle *auth.Throttle // failed password checks per client address and per login
	dummy    string         // a hash to verify against for unknown logins (same cost as a real one)
}

// newSessions builds the sign-in state of cfg (defaults applied).
func newSessions(cfg SessionConfig) *sessions {
	cfg = cfg.withDefaults()
	return &sessions{cfg: cfg,
		gate:     auth.NewGate(auth.GateConfig{Memory: cfg.HashMemory, Params: cfg.Hash, Wait: cfg.HashWait, OnHash: cfg.OnHash}),
		throttle: auth.NewThrottle(auth.ThrottleConfig{MaxFailures: cfg.MaxFailures, Window: cfg.FailureWindow}),
		dummy:    auth.DummyHash(cfg.Hash)}
}

// touchEvery is how stale a session's last use may be before a request
// records a new one (so that not every request writes).
func (ss *sessions) touchEvery() time.Duration {
	return min(time.Minute, ss.cfg.Lifetimes.Idle/10)
}

// opActions maps each operation a person may call to its row of the
// permission table (auth.Table). An operation not listed is refused to
// every person (a test checks every operation is here). "act" is checked
// per task action by the handler.
var opActions = map[string]auth.Action{
	"ingest-facts":       auth.ActIngestFacts,
	"urge":               auth.ActUrge,
	"keep-contacting":    auth.ActKeepContacting,
	"file-complaint":     auth.ActFileComplaint,
	"finish-complaint":   auth.ActFinishComplaint,
	"withdraw-complaint": auth.ActWithdrawComplaint,
	"overturn-complaint": auth.ActOverturnComplaint,
	"urged-orders":       auth.ActReadUrged,
	"create-task":        auth.ActOpenTask,
	"act":                auth.ActSelf, // every person reaches the handler, which checks the action
	"list-tasks":         auth.ActReadTasks,
	"get-task":           auth.ActReadTasks,
	"overturn-judgment":  auth.ActOverturnJudgment,
	"sandbox-clock":      auth.ActSandboxClock,
	"sandbox-advance":    auth.ActSandboxClock,
	"list-policies":      auth.ActReadPolicy,
	"policy-rules":       auth.ActReadPolicy,
	"preview-policy":     auth.ActLoadPolicy,
	"load-policy":        auth.ActLoadPolicy,
	"me":                 auth.ActSelf,
	"close-session":      auth.ActSelf,
	"list-people":        auth.ActManagePeople,
	"reset-password":     auth.ActManagePeople,
	"change-password":    auth.ActChangePassword,
	"create-person":      auth.ActManagePeople,
	"list-shop-accounts": auth.ActReadAccounts,
	"create-sub-account": auth.ActManageAccounts,
	"grant-permission":   auth.ActManageAccounts,
	"revoke-permission":  auth.ActManageAccounts,
	"set-reminders":      auth.ActManageAccounts,
	// service promises
	"file-claim":        auth.ActFileClaim,
	"judge-claim":       auth.ActJudgeClaim,
	"claim-remedy":      auth.ActClaimRemedy,
	"ship-resend":       auth.ActClaimRemedy,
	"get-claim":         auth.ActReadClaims,
	"shop-compensation": auth.ActReadCompensation,
	// evidence: giving it is the provide_evidence action, reading it is reading the task
	"upload-attachment": auth.TaskAction(task.ActProvideEvidence),
	"provide-evidence":  auth.TaskAction(task.ActProvideEvidence),
	"request-evidence":  auth.TaskAction(task.ActRequestEvidence),
	"mark-evidence":     auth.TaskAction(task.ActMarkEvidence),
	"list-evidence":     auth.ActReadTasks,
	"get-attachment":    auth.ActReadTasks,
	// 问大家
	"ask-question":      auth.ActAsk,
	"answer-question":   auth.ActAnswer,
	"product-questions": auth.ActReadQuestions,
	"get-question":      auth.ActReadQuestions,
	"answer-picture":    auth.ActReadQuestions,
	"shop-questions":    auth.ActReadShopQuestions,
	"set-subscription":  auth.ActSubscribe,
	// scorecards
	"shop-scorecard": auth.ActReadStanding,
	"shop-points":    auth.ActReadStanding,
	// live
	"stream":                    auth.ActStream,
	"create-webhook":            auth.ActManageWebhooks,
	"list-webhooks":             auth.ActManageWebhooks,
	"delete-webhook":            auth.ActManageWebhooks,
	"list-webhook-deliveries":   auth.ActManageWebhooks,
	"list-webhook-dead-letters": auth.ActManageWebhooks,
	"redeliver-webhook":         auth.ActManageWebhooks,
}

// sessionPrincipal resolves a session token. A token that is not a live
// session gives authBad (unknown) or authExpired (past its idle or absolute end).
func (s *Server) sessionPrincipal(r *http.Request, token string, cookie bool) (authState, *principal) {
	ctx := r.Context()
	now := s.sess.cfg.Clock.Now()
	var p *principal
	state := authBad
	err := s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		sess, err := tx.Session(ctx, auth.HashToken(token))
		if err != nil {
			return err
		}
		if !sess.Alive(now, s.sess.cfg.Lifetimes) {
			state = authExpired
			return nil
		}
		person, err := tx.Person(ctx, sess.PersonID)
		if err != nil {
			return err
		}
		p = &principal{KeyID: "person:" + person.ID, Person: person, Session: sess, Cookie: cookie}
		if person.Role.Shop() {
			acc, err := tx.Account(ctx, person.SubjectID)
			if err != nil && apperr.CodeOf(err) != apperr.ENOTFOUND {
				return err
			}
			p.Account = acc
		}
		state = authOK
		return nil
	})
	if err != nil {
		if apperr.CodeOf(err) != apperr.ENOTFOUND {
			s.log.ErrorContext(ctx, "session lookup failed", "err", err)
		}
		return authBad, nil
	}
	if p != nil && now.Sub(p.Session.LastSeen) >= s.sess.touchEvery() {
		if err := s.eng.TouchSession(context.WithoutCancel(ctx), p.Session.ID, now); err != nil {
			s.log.ErrorContext(ctx, "session touch failed", "err", err)
		}
	}
	return state, p
}

// actorString is "role:id", the X-Actor form.
func actorString(a task.Actor) string { return string(a.Role) + ":" + a.ID }

// bindPerson makes a signed-in person's requests speak for them: it checks
// the CSRF token of cookie-authenticated unsafe requests, refuses an actor
// (body "actor" or X-Actor) or a forced viewer that is someone else, and
// sets X-Actor and (for buyers and shop accounts) the viewer query to the
// person, so that the handlers' actorOf and parseViewer see them.
func (s *Server) bindPerson(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalOf(r.Context())
		if p == nil || p.Person == nil {
			next.ServeHTTP(w, r)
			return
		}
		lang := langOf(r.Context())
		refuse := func(reason, field, detail string) {
			writeProblem(w, newProblem(http.StatusForbidden, "forbidden", reason, field, lang, detail))
		}
		unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
		signIn := r.Method == http.MethodPost && r.URL.Path == "/v1/sessions"
		if unsafe && p.Cookie && !signIn {
			tok := r.Header.Get(CSRFHeader)
			if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(p.Session.CSRF)) != 1 {
				refuse("auth.csrf", CSRFHeader, "a request authenticated by the session cookie must send the session's CSRF token in "+CSRFHeader+
					" (from the sign-in answer, GET /v1/me or the "+CSRFCookie+" cookie)")
				return
			}
		}
		a, acts := p.Person.Actor()
		want := ""
		if acts {
			want = actorString(a)
		}
		if tenantScoped(p.Person.Role) {
			q := r.URL.Query()
			if v := q.Get("viewer"); v != "" && v != want {
				refuse("actor.mismatch", "viewer", fmt.Sprintf("you read as yourself (%s), not as %s", want, v))
				return
			}
			q.Set("viewer", want)
			r.URL.RawQuery = q.Encode()
		}
		if unsafe && !signIn {
			if h := r.Header.Get("X-Actor"); h != "" && h != want {
				refuse("actor.mismatch", "X-Actor", fmt.Sprintf("a signed-in %s acts as themselves (%q), not as %q", p.Person.Role, want, h))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxIdemBody))
				if err != nil {
					writeProblem(w, newProblem(http.StatusRequestEntityTooLarge, "invalid", "request.too_large", "", lang, err.Error()))
					return
				}
				var probe struct {
					Actor *ActorBody `json:"actor"`
				}
				if json.Unmarshal(body, &probe) == nil && probe.Actor != nil {
					if got := probe.Actor.Role + ":" + probe.Actor.ID; got != want {
						refuse("actor.mismatch", "actor", fmt.Sprintf("a signed-in %s acts as themselves (%q), not as %q", p.Person.Role, want, got))
						return
					}
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			if acts {
				r.Header.Set("X-Actor", want)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// hideTenant answers a shop's or a buyer's person the same 404 for another
// tenant's object ("not yours" refusals, which would be 403) as for an
// unknown id, byte for byte: the detail of an unknown id ("no task
// \"tsk_9\"") differs from place to place, so both are replaced by one
// fixed answer, and neither the status nor the text tells that the id exists.
// Agents and operators, who see every tenant, keep the specific detail.
func hideTenant(ctx huma.Context, ae *apperr.Error) *apperr.Error {
	if ctx == nil {
		return ae
	}
	p := principalOf(ctx.Context())
	if p == nil || p.Person == nil {
		return ae
	}
	hidden := ae.Reason == "not_your_order" || ae.Reason == "not_your_shop"
	if hidden || ae.Code == apperr.ENOTFOUND && tenantScoped(p.Person.Role) {
		return apperr.NotFound("id", "not found")
	}
	return ae
}

// tenantScoped tells the roles that see one tenant's objects only (a shop's
// people, a buyer) from the platform's (agents, operators).
func tenantScoped(r auth.Role) bool { return r == auth.RoleBuyer || r.Shop() }

// personMayAct checks a signed-in person's right to take a task action
// (auth.Table) and that the task is theirs: another tenant's task answers
// 404 like an unknown one, before any check of its state could tell it exists.
func (s *Server) personMayAct(ctx context.Context, taskID string, act task.Action) error {
	p := principalOf(ctx)
	if p == nil || p.Person == nil {
		return nil
	}
	if err := auth.Check(p.Person.Role, p.Account, auth.TaskAction(act)); err != nil {
		return err
	}
	if !tenantScoped(p.Person.Role) {
		return nil
	}
	return s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		t, err := tx.Task(ctx, taskID)
		if err != nil {
			return err // an unknown task: the engine answers it
		}
		if p.Person.Role == auth.RoleBuyer && t.BuyerID != p.Person.SubjectID || p.Person.Role.Shop() && t.ShopID != p.Person.ShopID {
			return apperr.NotFound("id", "no task %q", taskID)
		}
		return nil
	})
}

func (s *Server) routesAccounts() {
	api := s.api
	login := op("open-session", http.MethodPost, "/v1/sessions", "Sign in with a login and a password", nil, "sessions")
	login.DefaultStatus = http.StatusCreated
	login.Description = "Answers a session token and sets it as an HttpOnly cookie, with the CSRF token cookie-authenticated requests must send in X-CSRF-Token. Unknown login and wrong password answer the same 401. 429 with Retry-After: auth.throttled when the client address failed too often in the window (other addresses still sign in), auth.busy when too many passwords are being checked at once."
	login.Middlewares = huma.Middlewares{withClient}
	huma.Register(api, login, s.openSession)
	logout := op("close-session", http.MethodDelete, "/v1/sessions", "Sign out (ends the session of the request)", anyKey, "sessions")
	logout.DefaultStatus = http.StatusNoContent
	huma.Register(api, logout, s.closeSession)
	huma.Register(api, op("me", http.MethodGet, "/v1/me", "Who am I: role, shop, permissions, session", anyKey, "sessions"), s.me)

	cp := op("create-person", http.MethodPost, "/v1/people", "Create a login (operators: agents, buyers, operators, shop accounts)", operatorOnly, "people")
	cp.DefaultStatus = http.StatusCreated
	cp.Middlewares = huma.Middlewares{withClient}
	huma.Register(api, cp, s.createPerson)
	huma.Register(api, op("list-people", http.MethodGet, "/v1/people", "List logins", operatorOnly, "people"), s.listPeople)
	cpw := op("change-password", http.MethodPut, "/v1/me/password", "Change one's own password (signs out one's other sessions)", anyKey, "sessions")
	cpw.Description = "For a signed-in person: the current password and a new one (8–256 characters). The session of the request stays; every other session of the person ends. Wrong current passwords count as failed sign-ins from the client address (429 auth.throttled after too many); 429 auth.busy when too many passwords are being checked at once."
	cpw.Middlewares = huma.Middlewares{withClient}
	huma.Register(api, cpw, s.changePassword)
	rpw := op("reset-password", http.MethodPut, "/v1/people/{id}/password",
		"An operator sets a person's password (the person is signed out everywhere)", operatorOnly, "people")
	rpw.Middlewares = huma.Middlewares{withClient}
	huma.Register(api, rpw, s.resetPassword)

	huma.Register(api, op("list-shop-accounts", http.MethodGet, "/v1/shops/{id}/accounts", "A shop's accounts, their permissions and logins", anyKey, "accounts"), s.listShopAccounts)
	csa := op("create-sub-account", http.MethodPost, "/v1/shops/{id}/accounts", "The main account creates a sub-account with a login (R-ACC-1)", platformOnly, "accounts")
	csa.DefaultStatus = http.StatusCreated
	csa.Middlewares = huma.Middlewares{withClient}
	huma.Register(api, csa, s.createSubAccount)
	huma.Register(api, op("grant-permission", http.MethodPut, "/v1/accounts/{id}/permissions/{permission}", "The main account grants a sub-account a permission (R-ACC-1)", platformOnly, "accounts"), s.grantPermission)
	huma.Register(api, op("revoke-permission", http.MethodDelete, "/v1/accounts/{id}/permissions/{permission}", "The main account revokes a sub-account's permission (R-ACC-1)", platformOnly, "accounts"), s.revokePermission)
	huma.Register(api, op("set-reminders", http.MethodPut, "/v1/accounts/{id}/reminders", "The main account turns an account's task reminders on or off (R-NTF-1)", platformOnly, "accounts"), s.setReminders)
}

// --- sessions ----------------------------------------------------------------

type openSessionInput struct {
	Body struct {
		Login    string `json:"login" required:"true" maxLength:"128"`
		Password string `json:"password" required:"true" maxLength:"1024"`
	}
}

// PersonBody is a person as the API shows them (never the password hash).
type PersonBody struct {
	ID        string    `json:"id"`
	Login     string    `json:"login"`
	Name      string    `json:"name,omitempty"`
	Role      auth.Role `json:"role" enum:"buyer,shop_main,shop_sub,agent,operator"`
	SubjectID string    `json:"subject_id" doc:"The buyer id, shop account id or agent id the person acts as (the person id for operators)."`
	ShopID    string    `json:"shop_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	// PasswordChangedAt is when the password was last changed or reset.
	PasswordChangedAt *time.Time `json:"password_changed_at,omitempty"`
}

func personBody(p *auth.Person) PersonBody {
	return PersonBody{ID: p.ID, Login: p.Login, Name: p.Name, Role: p.Role, SubjectID: p.SubjectID, ShopID: p.ShopID,
		CreatedAt: p.CreatedAt, CreatedBy: p.CreatedBy, PasswordChangedAt: p.PasswordChangedAt}
}

type changePasswordInput struct {
	Body struct {
		CurrentPassword string `json:"current_password" required:"true" maxLength:"1024"`
		NewPassword     string `json:"new_password" required:"true" maxLength:"1024"`
	}
}

type resetPasswordInput struct {
	ID   string `path:"id" doc:"The person's id (usr_…)."`
	Body struct {
		NewPassword string `json:"new_password" required:"true" maxLength:"1024"`
	}
}

// changePassword: a signed-in person changes their own password, proving
// the current one (a wrong one counts as a failed sign-in of the login, so
// a stolen session cannot guess it faster than the sign-in form could).
func (s *Server) changePassword(ctx context.Context, in *changePasswordInput) (*personOutput, error) {
	p := principalOf(ctx)
	if p == nil || p.Person == nil || p.Session == nil {
		return nil, apperr.New(apperr.EINVALID, "session.none", "Authorization", "", "an API key has no password: sign in as the person")
	}
	now := s.sess.cfg.Clock.Now()
	addr := clientAddrOf(ctx)
	if until, ok := s.sess.throttle.Allow(addr, p.Person.Login, now); !ok {
		return nil, tooManyFailures("current_password", langOf(ctx), now, until)
	}
	if err := auth.CheckPassword(in.Body.NewPassword); err != nil {
		return nil, asField(err, "new_password") // refused before any hashing
	}
	ok, err := s.sess.gate.Verify(ctx, addr, in.Body.CurrentPassword, p.Person.PasswordHash)
	if err != nil {
		return nil, s.hashFailed(ctx, err, p.Person)
	}
	if !ok {
		s.sess.throttle.Failed(addr, p.Person.Login, now)
		return nil, apperr.New(apperr.EINVALID, "password.current_wrong", "current_password", "", "the current password is wrong")
	}
	s.sess.throttle.Succeeded(p.Person.Login, now)
	if in.Body.NewPassword == in.Body.CurrentPassword {
		return nil, apperr.New(apperr.EINVALID, "password.unchanged", "new_password", "", "the new password is the current one")
	}
	hash, err := s.hashNew(ctx, in.Body.NewPassword)
	if err != nil {
		return nil, err
	}
	person, err := s.eng.SetPassword(ctx, callerActor(ctx), p.Person.ID, hash, p.Session.ID)
	if err != nil {
		return nil, err
	}
	return &personOutput{Body: personBody(person)}, nil
}

// resetPassword: an operator sets a person's password; every session of
// the person ends.
func (s *Server) resetPassword(ctx context.Context, in *resetPasswordInput) (*personOutput, error) {
	hash, err := s.hashNew(ctx, in.Body.NewPassword)
	if err != nil {
		return nil, err
	}
	person, err := s.eng.SetPassword(ctx, callerActor(ctx), in.ID, hash, "")
	if err != nil {
		return nil, err
	}
	return &personOutput{Body: personBody(person)}, nil
}

// hashNew checks a new password's length and hashes it (through the gate).
func (s *Server) hashNew(ctx context.Context, pw string) (string, error) {
	if err := auth.CheckPassword(pw); err != nil {
		return "", asField(err, "new_password")
	}
	h, err := s.sess.gate.Hash(ctx, clientAddrOf(ctx), pw, s.sess.cfg.Hash)
	if err != nil {
		return "", s.hashFailed(ctx, err, nil)
	}
	return h, nil
}

// asField names field as the one at fault of an application error.
func asField(err error, field string) error {
	if ae, ok := apperr.As(err); ok {
		ae.Field = field
	}
	return err
}

// SessionBody is a new session.
type SessionBody struct {
	Token     string     `json:"token" doc:"The session token: send it as Authorization: Bearer TOKEN (API clients), or rely on the cookie (browsers). Shown once."`
	CSRFToken string     `json:"csrf_token" doc:"Send in X-CSRF-Token with every cookie-authenticated POST, PUT, PATCH or DELETE."`
	ExpiresAt time.Time  `json:"expires_at" doc:"The absolute end of the session."`
	IdleFor   string     `json:"idle_timeout" doc:"The session ends this long after its last request."`
	Person    PersonBody `json:"person"`
}

type openSessionOutput struct {
	SetCookie []http.Cookie `header:"Set-Cookie"`
	Body      SessionBody
}

func (s *Server) openSession(ctx context.Context, in *openSessionInput) (*openSessionOutput, error) {
	lang := langOf(ctx)
	now := s.sess.cfg.Clock.Now()
	failed := newProblem(http.StatusUnauthorized, "unauthorized", "auth.login_failed", "", lang, "the login or the password is wrong")
	login, err := auth.NormalizeLogin(in.Body.Login)
	if err != nil {
		return nil, failed // the same answer as an unknown login
	}
	addr := clientAddrOf(ctx)
	if until, ok := s.sess.throttle.Allow(addr, login, now); !ok {
		return nil, tooManyFailures("login", lang, now, until)
	}
	var person *auth.Person
	err = s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		var err error
		person, err = tx.PersonByLogin(ctx, login)
		if apperr.CodeOf(err) == apperr.ENOTFOUND {
			person, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	hash := s.sess.dummy // an unknown login costs a check all the same
	if person != nil {
		hash = person.PasswordHash
	}
	ok, err := s.sess.gate.Verify(ctx, addr, in.Body.Password, hash)
	if err != nil {
		return nil, s.hashFailed(ctx, err, person)
	}
	if !ok || person == nil {
		s.sess.throttle.Failed(addr, login, now)
		return nil, failed
	}
	s.sess.throttle.Succeeded(login, now)
	token, csrf := auth.NewToken(auth.TokenPrefix), auth.NewToken("")
	sess := &auth.Session{ID: auth.HashToken(token), PersonID: person.ID, CSRF: csrf, CreatedAt: now, LastSeen: now,
		ExpiresAt: now.Add(s.sess.cfg.Lifetimes.Absolute)}
	if err := s.eng.OpenSession(ctx, sess); err != nil {
		return nil, err
	}
	secure, _ := ctx.Value(tlsKey{}).(bool)
	out := &openSessionOutput{Body: SessionBody{Token: token, CSRFToken: csrf, ExpiresAt: sess.ExpiresAt,
		IdleFor: s.sess.cfg.Lifetimes.Idle.String(), Person: personBody(person)}}
	out.SetCookie = []http.Cookie{
		{Name: SessionCookie, Value: token, Path: "/", Expires: sess.ExpiresAt, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode},
		{Name: CSRFCookie, Value: csrf, Path: "/", Expires: sess.ExpiresAt, Secure: secure, SameSite: http.SameSiteLaxMode},
	}
	return out, nil
}

// tooManyFailures is the 429 of a client address with too many failed
// sign-ins (or wrong current passwords) in the window ending at windowEnd.
func tooManyFailures(field, lang string, now, windowEnd time.Time) *throttled {
	return &throttled{Problem: newProblem(http.StatusTooManyRequests, "forbidden", "auth.throttled", field, lang,
		fmt.Sprintf("too many failed sign-ins from your address; try again after %s", windowEnd.Format(time.RFC3339))),
		retry: windowEnd.Sub(now)}
}

// busyRetry is the Retry-After of 429 auth.busy.
const busyRetry = time.Second

// hashFailed is the answer to an error of the hashing gate: auth.ErrBusy
// is 429 auth.busy with Retry-After (a retry can succeed); a stored hash
// that does not parse is the server's fault (500, logged with the person).
func (s *Server) hashFailed(ctx context.Context, err error, person *auth.Person) error {
	if errors.Is(err, auth.ErrBusy) {
		return &throttled{Problem: newProblem(http.StatusTooManyRequests, "forbidden", "auth.busy", "", langOf(ctx),
			fmt.Sprintf("too many passwords are being checked right now; try again in %s", busyRetry)), retry: busyRetry}
	}
	if person != nil {
		err = fmt.Errorf("person %s: %w", person.ID, err)
	}
	return apperr.Internal(err)
}

// clientAddrKey is the context key of the client address of a request that
// checks or hashes a password (withClient).
type clientAddrKey struct{}

// withClient is the middleware of the operations that run argon2id: it
// records the request's client address (ClientAddr: the peer, or what a
// trusted proxy says) for the hashing gate and the failure throttle.
func withClient(ctx huma.Context, next func(huma.Context)) {
	r, _ := unwrap(ctx)
	next(huma.WithValue(ctx, clientAddrKey{}, ClientAddr(r)))
}

// clientAddrOf is the client address withClient recorded ("" when none).
func clientAddrOf(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

// throttled is a 429 problem with its Retry-After.
type throttled struct {
	*Problem
	retry time.Duration
}

// GetHeaders implements huma.HeadersError.
func (t *throttled) GetHeaders() http.Header {
	secs := int64((t.retry + time.Second - 1) / time.Second)
	return http.Header{"Retry-After": []string{strconv.FormatInt(max(secs, 1), 10)}}
}

type closeSessionOutput struct {
	SetCookie []http.Cookie `header:"Set-Cookie"`
}

func (s *Server) closeSession(ctx context.Context, _ *struct{}) (*closeSessionOutput, error) {
	p := principalOf(ctx)
	if p == nil || p.Session == nil {
		return nil, apperr.New(apperr.EINVALID, "session.none", "Authorization", "", "an API key is not a session: there is nothing to sign out of")
	}
	if err := s.eng.CloseSession(ctx, p.Session.ID); err != nil {
		return nil, err
	}
	secure, _ := ctx.Value(tlsKey{}).(bool)
	return &closeSessionOutput{SetCookie: []http.Cookie{
		{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode},
		{Name: CSRFCookie, Value: "", Path: "/", MaxAge: -1, Secure: secure, SameSite: http.SameSiteLaxMode},
	}}, nil
}

// MeBody says who the caller is.
type MeBody struct {
	Kind        string      `json:"kind" enum:"person,api_key"`
	Role        string      `json:"role" doc:"The person's role (buyer, shop_main, shop_sub, agent, operator) or the key's (platform, operator)."`
	KeyID       string      `json:"key_id,omitempty" doc:"An API key's non-secret id."`
	Person      *PersonBody `json:"person,omitempty"`
	Actor       *task.Actor `json:"actor,omitempty" doc:"Who the person acts as in tasks (none for operators)."`
	ShopID      string      `json:"shop_id,omitempty"`
	Permissions []string    `json:"permissions,omitempty" doc:"A shop account's permissions (a main account holds them all)."`
	Actions     []string    `json:"actions,omitempty" doc:"The actions of the permission table the person may take."`
	CSRFToken   string      `json:"csrf_token,omitempty" doc:"The session's CSRF token (for cookie-authenticated unsafe requests)."`
	ExpiresAt   *time.Time  `json:"expires_at,omitempty" doc:"The session's absolute end."`
	IdleUntil   *time.Time  `json:"idle_until,omitempty" doc:"The session ends at this time unless used again."`
}

type meOutput struct{ Body MeBody }

func (s *Server) me(ctx context.Context, _ *struct{}) (*meOutput, error) {
	p := principalOf(ctx)
	if p.Person == nil {
		return &meOutput{Body: MeBody{Kind: "api_key", Role: string(p.Role), KeyID: p.KeyID}}, nil
	}
	pb := personBody(p.Person)
	out := MeBody{Kind: "person", Role: string(p.Person.Role), Person: &pb, ShopID: p.Person.ShopID, CSRFToken: p.Session.CSRF}
	if a, ok := p.Person.Actor(); ok {
		out.Actor = &a
	}
	if p.Account != nil {
		out.Permissions = []string{}
		for _, perm := range auth.Permissions {
			if p.Account.Has(perm) {
				out.Permissions = append(out.Permissions, perm)
			}
		}
	}
	for _, e := range auth.Table {
		if auth.Check(p.Person.Role, p.Account, e.Action) == nil {
			out.Actions = append(out.Actions, string(e.Action))
		}
	}
	end, idle := p.Session.ExpiresAt, p.Session.LastSeen.Add(s.sess.cfg.Lifetimes.Idle)
	if now := s.sess.cfg.Clock.Now(); now.After(p.Session.LastSeen) {
		idle = now.Add(s.sess.cfg.Lifetimes.Idle) // this request counts as use
	}
	if idle.After(end) {
		idle = end
	}
	out.ExpiresAt, out.IdleUntil = &end, &idle
	return &meOutput{Body: out}, nil
}

// --- people (operators) -------------------------------------------------------

type createPersonInput struct {
	Body struct {
		Login     string    `json:"login" required:"true" maxLength:"64"`
		Password  string    `json:"password" required:"true" maxLength:"1024"`
		Role      auth.Role `json:"role" required:"true" enum:"buyer,shop_main,shop_sub,agent,operator"`
		SubjectID string    `json:"subject_id,omitempty" maxLength:"128" doc:"The buyer id, shop account id or agent id; not for operators."`
		Name      string    `json:"name,omitempty" maxLength:"128"`
	}
}

type personOutput struct{ Body PersonBody }

// newPerson checks and hashes a new login (through the gate).
func (s *Server) newPerson(ctx context.Context, login, password string) (*auth.Person, error) {
	l, err := auth.NormalizeLogin(login)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckPassword(password); err != nil {
		return nil, err
	}
	h, err := s.sess.gate.Hash(ctx, clientAddrOf(ctx), password, s.sess.cfg.Hash)
	if err != nil {
		return nil, s.hashFailed(ctx, err, nil)
	}
	return &auth.Person{Login: l, PasswordHash: h}, nil
}

// callerActor names who made a change, for its event.
func callerActor(ctx context.Context) task.Actor {
	p := principalOf(ctx)
	switch {
	case p == nil:
		return task.Actor{}
	case p.Person != nil:
		if a, ok := p.Person.Actor(); ok {
			return a
		}
		return task.Actor{Role: task.Role(p.Person.Role), ID: p.Person.ID}
	}
	return task.Actor{Role: task.Role(p.Role), ID: "key:" + p.KeyID}
}

func (s *Server) createPerson(ctx context.Context, in *createPersonInput) (*personOutput, error) {
	p, err := s.newPerson(ctx, in.Body.Login, in.Body.Password)
	if err != nil {
		return nil, err
	}
	p.Role, p.SubjectID, p.Name = in.Body.Role, in.Body.SubjectID, in.Body.Name
	if err := s.eng.CreatePerson(ctx, callerActor(ctx), p); err != nil {
		return nil, err
	}
	return &personOutput{Body: personBody(p)}, nil
}

type listPeopleInput struct {
	ShopID string `query:"shop_id" doc:"Only this shop's accounts' logins."`
}

// PeopleList is a list of people.
type PeopleList struct {
	People []PersonBody `json:"people"`
}

type peopleOutput struct{ Body PeopleList }

func (s *Server) listPeople(ctx context.Context, in *listPeopleInput) (*peopleOutput, error) {
	out := PeopleList{People: []PersonBody{}}
	err := s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		ps, err := tx.People(ctx, in.ShopID)
		for i := range ps {
			out.People = append(out.People, personBody(&ps[i]))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &peopleOutput{Body: out}, nil
}

// --- shop accounts (main account) ---------------------------------------------

// AccountBody is a shop account with its login, if it has one.
type AccountBody struct {
	commerce.Account
	Login string `json:"login,omitempty" doc:"The account's login, when it has one."`
}

// AccountList is a shop's accounts, by id.
type AccountList struct {
	Accounts []AccountBody `json:"accounts"`
}

type accountListOutput struct{ Body AccountList }

type shopAccountsInput struct {
	ID string `path:"id" doc:"The shop id."`
}

// ownShop refuses (404, like an unknown shop) a shop person reading or
// managing another shop.
func ownShop(ctx context.Context, shopID string) error {
	if p := principalOf(ctx); p != nil && p.Person != nil && p.Person.Role.Shop() && p.Person.ShopID != shopID {
		return apperr.NotFound("id", "no shop %q", shopID)
	}
	return nil
}

// ownAccount refuses (404, like an unknown account) a shop person naming
// an account of another shop. An unknown account is left to the engine.
func (s *Server) ownAccount(ctx context.Context, accountID string) error {
	p := principalOf(ctx)
	if p == nil || p.Person == nil || !p.Person.Role.Shop() {
		return nil
	}
	return s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		acc, err := tx.Account(ctx, accountID)
		switch {
		case apperr.CodeOf(err) == apperr.ENOTFOUND:
			return nil
		case err != nil:
			return err
		case acc.ShopID != p.Person.ShopID:
			return apperr.NotFound("id", "no account %q", accountID)
		}
		return nil
	})
}

func (s *Server) listShopAccounts(ctx context.Context, in *shopAccountsInput) (*accountListOutput, error) {
	if err := ownShop(ctx, in.ID); err != nil {
		return nil, err
	}
	out := AccountList{Accounts: []AccountBody{}}
	err := s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		if _, err := tx.Shop(ctx, in.ID); err != nil {
			return apperr.NotFoundAs(err, "id", "no shop %q", in.ID)
		}
		accs, err := tx.ShopAccounts(ctx, in.ID)
		if err != nil {
			return err
		}
		ps, err := tx.People(ctx, in.ID)
		if err != nil {
			return err
		}
		logins := map[string]string{}
		for _, p := range ps {
			logins[p.SubjectID] = p.Login
		}
		for _, a := range accs {
			out.Accounts = append(out.Accounts, AccountBody{Account: a, Login: logins[a.ID]})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &accountListOutput{Body: out}, nil
}

type createSubAccountInput struct {
	ID             string `path:"id" doc:"The shop id."`
	Actor          string `header:"X-Actor" doc:"The shop's main account, as shop_main:ACCOUNT (platform key), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor       *ActorBody `json:"actor,omitempty" doc:"The shop's main account."`
		AccountID   string     `json:"account_id" required:"true" minLength:"1" maxLength:"128" doc:"The new sub-account's id."`
		Login       string     `json:"login" required:"true" maxLength:"64"`
		Password    string     `json:"password" required:"true" maxLength:"1024"`
		Permissions []string   `json:"permissions,omitempty" doc:"Granted from the start: platform_task lets it reply to and work tasks (R-ACC-1)."`
	}
}

// SubAccountBody is a new sub-account and its login.
type SubAccountBody struct {
	Account commerce.Account `json:"account"`
	Person  PersonBody       `json:"person"`
}

type subAccountOutput struct{ Body SubAccountBody }

func (s *Server) createSubAccount(ctx context.Context, in *createSubAccountInput) (*subAccountOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	if err := ownShop(ctx, in.ID); err != nil {
		return nil, err
	}
	p, err := s.newPerson(ctx, in.Body.Login, in.Body.Password)
	if err != nil {
		return nil, err
	}
	acc, err := s.eng.CreateSubAccount(ctx, a, in.ID, in.Body.AccountID, in.Body.Permissions, p)
	if err != nil {
		return nil, err
	}
	return &subAccountOutput{Body: SubAccountBody{Account: *acc, Person: personBody(p)}}, nil
}

type permissionInput struct {
	ID         string `path:"id" doc:"The sub-account id."`
	Permission string `path:"permission" enum:"platform_task" doc:"The permission: platform_task (子账号管理 → 客户服务平台权限 → 服务待办 → 平台任务, R-ACC-1)."`
	Actor      string `header:"X-Actor" doc:"The shop's main account, as shop_main:ACCOUNT (platform key)."`
}

type accountOutput struct{ Body commerce.Account }

func (s *Server) setPermission(ctx context.Context, in *permissionInput, granted bool) (*accountOutput, error) {
	a, err := actorOf(nil, in.Actor)
	if err != nil {
		return nil, err
	}
	acc, err := s.eng.SetPermission(ctx, a, in.ID, in.Permission, granted)
	if err != nil {
		return nil, err
	}
	if acc.Permissions == nil {
		acc.Permissions = []string{}
	}
	return &accountOutput{Body: *acc}, nil
}

func (s *Server) grantPermission(ctx context.Context, in *permissionInput) (*accountOutput, error) {
	return s.setPermission(ctx, in, true)
}

func (s *Server) revokePermission(ctx context.Context, in *permissionInput) (*accountOutput, error) {
	return s.setPermission(ctx, in, false)
}

type remindersInput struct {
	ID    string `path:"id" doc:"The shop account (main or sub)."`
	Actor string `header:"X-Actor" doc:"The shop's main account, as shop_main:ACCOUNT (platform key)."`
	Body  struct {
		On bool `json:"on" doc:"true: the account gets task reminders (at most 10 a business day, R-NTF-1); false: none."`
	}
}

func (s *Server) setReminders(ctx context.Context, in *remindersInput) (*accountOutput, error) {
	a, err := actorOf(nil, in.Actor)
	if err != nil {
		return nil, err
	}
	acc, err := s.eng.SetReminders(ctx, a, in.ID, in.Body.On)
	if err != nil {
		return nil, err
	}
	if acc.Permissions == nil {
		acc.Permissions = []string{}
	}
	return &accountOutput{Body: *acc}, nil
}
