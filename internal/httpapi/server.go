// Package httpapi is the JSON API of aftersale: huma operations on the
// standard library's ServeMux, an OpenAPI 3.1 document at /openapi.json and
// its docs page at /docs. Every write goes through the engine; reads go to
// the store. Errors are application/problem+json with a stable type per
// reason, the field and the rule that refused, titled in zh-CN or en.
//
// The request path is: access log → language → API key → Idempotency-Key →
// huma (role check, validation, handler).
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"aftersale/internal/clock"
	"aftersale/internal/engine"
	"aftersale/internal/metrics"
)

// Config assembles the API.
type Config struct {
	// Engine is the write path. Build it on a *Store (WrapStore) so that
	// Idempotency-Key markers commit with the engine's changes and the
	// sandbox clock can hold other writes while it advances.
	Engine *engine.Engine
	// Keys are the accepted API keys. With none, every operation that needs
	// a key answers 401.
	Keys []Key
	// Sandbox, when set, is the engine's manual clock, and the sandbox
	// endpoints move it. Nil outside the sandbox (they answer 404).
	Sandbox *clock.Manual
	// Logger receives the access log and internal errors (default: discard).
	Logger *slog.Logger
	// Version is the API version in the OpenAPI document.
	Version string
	// Live serves GET /v1/stream and Webhooks is woken by redeliveries
	// (both optional: without a hub the stream answers 503).
	Live LiveConfig
	// Sessions configures people's sign-in and sessions (defaults when zero).
	Sessions SessionConfig
	// Metrics, when set, counts requests by route and facts by outcome.
	Metrics *metrics.Service
	// BodyTimeout bounds reading a request's body (default
	// DefaultBodyTimeout): past it the answer is 408 request.timeout.
	BodyTimeout time.Duration
	// WriteTimeout bounds writing each frame of an event stream (default
	// DefaultWriteTimeout); the stream itself is not bounded.
	WriteTimeout time.Duration
	// Proxy says which peers are trusted proxies and when cookies are Secure.
	Proxy ProxyConfig
}

// Server is the HTTP handler of the API.
type Server struct {
	eng      *engine.Engine
	st       *Store // nil when the engine's store is not wrapped
	sandbox  *clock.Manual
	log      *slog.Logger
	api      huma.API
	handler  http.Handler
	draining atomic.Bool
	live     LiveConfig
	sess     *sessions
	metrics  *metrics.Service
	// streamWrite bounds writing one frame of an event stream.
	streamWrite time.Duration
}

// New builds the API.
func New(cfg Config) *Server {
	installProblemErrors()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	problemLogger.Lock()
	problemLogger.l = log
	problemLogger.Unlock()
	ver := cfg.Version
	if ver == "" {
		ver = "1.0.0"
	}
	s := &Server{eng: cfg.Engine, sandbox: cfg.Sandbox, log: log, live: cfg.Live, sess: newSessions(cfg.Sessions)}
	s.st, _ = cfg.Engine.Store().(*Store)
	s.metrics = cfg.Metrics
	s.streamWrite = cfg.WriteTimeout
	if s.streamWrite <= 0 {
		s.streamWrite = DefaultWriteTimeout
	}

	mux := http.NewServeMux()
	hc := huma.DefaultConfig("aftersale — platform after-sales task centre (平台售后任务)", ver)
	hc.CreateHooks = nil // no $schema links in responses
	hc.DocsPath = ""     // served by mountDocs, from the binary (docs.go)
	hc.FieldsOptionalByDefault = true
	hc.Info.Description = "The JSON API of aftersale. Errors are application/problem+json; see docs/api.md for the problem types, idempotency, pagination and visibility."
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"apiKey": {Type: "http", Scheme: "bearer", Description: "An API key of role platform or operator: Authorization: Bearer KEY (or the X-API-Key header); or a person's session token from POST /v1/sessions: Authorization: Bearer ses_… (or the aftersale_session cookie, with X-CSRF-Token on unsafe requests). People may call what docs/api.md's permission table allows their role."},
	}
	s.api = humago.New(mux, hc)
	if s.metrics != nil {
		s.api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
			metrics.SetRoute(ctx.Context(), ctx.Operation().Method, ctx.Operation().Path)
			next(ctx)
		})
	}
	s.api.UseMiddleware(requireRole)
	s.api.UseMiddleware(checkIDs)
	s.routes()
	s.mountConsole(mux)
	s.mountDocs(mux, hc.Info.Title)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, newProblem(http.StatusNotFound, "not_found", "route.not_found", "", langOf(r.Context()),
			"no endpoint "+r.Method+" "+r.URL.Path+"; see /openapi.json"))
	})

	idem := &idempotency{st: cfg.Engine.Store(), log: log, inflight: map[string]bool{}}
	s.handler = cfg.Proxy.middleware(s.accessLog(withLang(bodyDeadline(cfg.BodyTimeout, s.authenticate(cfg.Keys, s.bindPerson(idem.wrap(mux)))))))
	if s.metrics != nil {
		s.handler = s.metrics.Middleware(s.handler)
	}
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the API's OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// Drain makes /readyz answer 503 from now on (graceful shutdown began).
func (s *Server) Drain() { s.draining.Store(true) }

var (
	platformOnly = []KeyRole{RolePlatform}
	operatorOnly = []KeyRole{RoleOperator}
	anyKey       = []KeyRole{RolePlatform, RoleOperator}
	secured      = []map[string][]string{{"apiKey": {}}}
)

// op declares an operation that needs one of roles.
func op(id, method, path, summary string, roles []KeyRole, tags ...string) huma.Operation {
	o := huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: tags}
	if len(roles) > 0 {
		o.Security = secured
		o.Metadata = map[string]any{metaRoles: roles}
		o.Description = "API key role: " + joinRoles(roles) + "."
	}
	return o
}

func (s *Server) routes() {
	api := s.api
	huma.Register(api, op("healthz", http.MethodGet, "/healthz", "The process is alive", nil, "health"), s.healthz)
	huma.Register(api, op("readyz", http.MethodGet, "/readyz", "The store answers", nil, "health"), s.readyz)

	facts := op("ingest-facts", http.MethodPost, "/v1/facts", "Ingest up to 1000 facts in one transaction", platformOnly, "facts")
	facts.MaxBodyBytes = maxIdemBody
	facts.SkipValidateBody = true // decoded once, in ingest (see factsInput)
	huma.Register(api, facts, s.ingest)
	documentFactsBody(api)

	huma.Register(api, op("urge", http.MethodPost, "/v1/orders/{id}/urge", "The buyer presses urge shipment (R-URG-1..3)", platformOnly, "orders"), s.urge)
	huma.Register(api, op("keep-contacting", http.MethodPost, "/v1/orders/{id}/keep-contacting", "The buyer presses keep contacting the seller (R-URG-4)", platformOnly, "orders"), s.keepContacting)
	fc := op("file-complaint", http.MethodPost, "/v1/orders/{id}/complaints", "The buyer files a complaint about the order", platformOnly, "complaints")
	fc.DefaultStatus = http.StatusCreated
	huma.Register(api, fc, s.fileComplaint)
	huma.Register(api, op("finish-complaint", http.MethodPost, "/v1/complaints/{id}/finish", "An agent finishes a complaint (R-ST-3)", platformOnly, "complaints"), s.finishComplaint)
	huma.Register(api, op("urged-orders", http.MethodGet, "/v1/shops/{id}/urged-orders", "The shop's urged orders filter (R-URG-3)", anyKey, "orders"), s.urgedOrders)

	ct := op("create-task", http.MethodPost, "/v1/tasks", "Open a task (buyer; agent or system for collaborative)", platformOnly, "tasks")
	ct.DefaultStatus = http.StatusCreated
	huma.Register(api, ct, s.createTask)
	huma.Register(api, op("act", http.MethodPost, "/v1/tasks/{id}/actions", "Take an action on a task", platformOnly, "tasks"), s.act)
	huma.Register(api, op("list-tasks", http.MethodGet, "/v1/tasks", "List tasks (filters, cursor pagination)", anyKey, "tasks"), s.listTasks)
	documentTaskList(api)
	huma.Register(api, op("get-task", http.MethodGet, "/v1/tasks/{id}", "A task with its history and running timers", anyKey, "tasks"), s.getTask)

	huma.Register(api, op("sandbox-clock", http.MethodGet, "/v1/sandbox/clock", "The sandbox clock (--sandbox only)", operatorOnly, "sandbox"), s.sandboxClock)
	huma.Register(api, op("sandbox-advance", http.MethodPost, "/v1/sandbox/clock/advance", "Move the sandbox clock forward, firing due timers in order (--sandbox only)", operatorOnly, "sandbox"), s.sandboxAdvance)
	s.routesPromise()
	s.routesLive()
	s.routesAccounts()
	s.routesEvidence()
	s.routesQA()
	s.routesScorecard()
	s.routesPolicy()
}

// accessLog logs one JSON line per request.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		lvl, status, msg := slog.LevelInfo, metrics.Status(r, sw.status), "http"
		switch {
		case status == metrics.StatusClientGone:
			msg = "http: client went away before the answer" // not a server error
		case status >= 500:
			lvl = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), lvl, msg, slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.Duration("took", time.Since(start)),
			slog.Bool("replayed", sw.Header().Get("Idempotent-Replayed") == "true"))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func unwrap(ctx huma.Context) (*http.Request, http.ResponseWriter) { return humago.Unwrap(ctx) }

// HealthBody answers /healthz and /readyz.
type HealthBody struct {
	Status string    `json:"status" example:"ok"`
	Now    time.Time `json:"now" doc:"The engine clock (the sandbox clock under --sandbox)."`
}

type healthOutput struct{ Body HealthBody }

func (s *Server) healthz(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	return &healthOutput{Body: HealthBody{Status: "ok", Now: s.eng.Clock().Now()}}, nil
}

func (s *Server) readyz(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	lang := langOf(ctx)
	if s.draining.Load() {
		return nil, newProblem(http.StatusServiceUnavailable, "unavailable", "not_ready", "", lang, "shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.eng.Store().View(ctx, func(tx readTx) error { _, _, err := tx.NextDue(ctx); return err }); err != nil {
		s.log.ErrorContext(ctx, "readiness check failed", "err", err)
		return nil, newProblem(http.StatusServiceUnavailable, "unavailable", "not_ready", "", lang, "the store does not answer")
	}
	return &healthOutput{Body: HealthBody{Status: "ready", Now: s.eng.Clock().Now()}}, nil
}
