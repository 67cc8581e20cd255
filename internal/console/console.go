// Package console is the people's web console of aftersale: server-rendered
// html/template pages with htmx (and its SSE extension for live cards), the
// assets embedded in the binary. It is mounted in the API's server under
// /console and speaks for the person signed in with the API's session
// cookie: every read goes through the engine's shared reads (engine.ReadTask,
// engine.ListTasksTx, engine.Scorecard, the store's ledgers), every write
// through the engine's commands, and every right is a row of auth.Table —
// there is no second path to the data. Unsafe requests carry the session's
// CSRF token in X-CSRF-Token (htmx sends it from the page's hx-headers); the
// API's middleware checks it before the console sees the request.
//
// zh-CN is the default language; en is one click away (a cookie). Every page
// logs its server render time and sends it in Server-Timing.
package console

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/task"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console"

// LangCookie holds the chosen language (zh-CN when absent).
const LangCookie = "aftersale_lang"

// Principal is the signed-in person a request speaks for.
type Principal struct {
	Person *auth.Person
	// Account is a shop person's shop account (nil for other roles).
	Account *commerce.Account
	// CSRF is the session's CSRF token, put in every page for htmx to send.
	CSRF string
}

// Config assembles the console.
type Config struct {
	// Engine is the write path and the reads.
	Engine *engine.Engine
	// Who returns the signed-in person of a request, or nil (the API's
	// session middleware has authenticated it).
	Who func(r *http.Request) *Principal
	// Title names a problem reason in a language (the API's titles).
	Title func(reason, lang string) string
	// Logger receives the render times (default: discard).
	Logger *slog.Logger
}

// Console is the console's http.Handler.
type Console struct {
	cfg   Config
	eng   *engine.Engine
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New builds the console. It panics when an embedded template does not
// parse (a build error, caught by the tests).
func New(cfg Config) *Console {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Title == nil {
		cfg.Title = func(reason, _ string) string { return reason }
	}
	c := &Console{cfg: cfg, eng: cfg.Engine, log: cfg.Logger, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	c.parse()
	c.routes()
	return c
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'self'; frame-src 'self'; connect-src 'self'")
	c.mux.ServeHTTP(w, r)
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix(Prefix+"/static/", http.FileServerFS(static))
	c.mux.Handle("GET "+Prefix+"/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	c.mux.HandleFunc("GET "+Prefix+"/{$}", c.home)
	c.mux.HandleFunc("GET "+Prefix, c.home)
	c.mux.HandleFunc("GET "+Prefix+"/login", c.page("login", c.login))
	c.mux.HandleFunc("GET "+Prefix+"/lang", c.setLang)
	c.routesTasks()
	c.routesBuyer()
	c.routesAgent()
	c.routesScorecard()
	c.routesPolicy()
	c.routesQA()
	c.routesAccount()
	c.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, apperr.NotFound("path", "no console page %s", r.URL.Path))
	})
}

// req is one request's context for a page.
type req struct {
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	p    *Principal
	lang string
	L    tr
	now  time.Time
}

// viewer is who the person reads as (agents and operators: the agent view).
func (q *req) viewer() engine.Viewer {
	if q.p == nil {
		return engine.Viewer{}
	}
	if a, ok := q.p.Person.Actor(); ok {
		return engine.Viewer{Role: a.Role, ID: a.ID}
	}
	return engine.Viewer{Role: task.RoleAgent}
}

// actor is who the person acts as in tasks.
func (q *req) actor() task.Actor {
	a, _ := q.p.Person.Actor()
	return a
}

// may checks the person's right to take action a (auth.Table).
func (q *req) may(a auth.Action) error {
	if q.p == nil {
		return apperr.New(apperr.EFORBIDDEN, "auth.missing", "", "", "sign in first")
	}
	return auth.Check(q.p.Person.Role, q.p.Account, a)
}

// role is the person's role ("" when nobody is signed in).
func (q *req) role() auth.Role {
	if q.p == nil {
		return ""
	}
	return q.p.Person.Role
}

// view is what every page template gets.
type view struct {
	L       tr
	Lang    string
	Title   string
	Page    string
	P       *Principal
	Role    string
	Now     time.Time
	CSRF    string
	Path    string
	Partial bool
	Flash   string
	Err     *problemView
	Data    any
	Sub     bool // a shop sub-account (live cards)
	Live    bool // open the SSE stream
}

// problemView is an error as a page shows it.
type problemView struct {
	Title, Detail, Rule, Field, Reason string
}

func (c *Console) problem(err error, lang string) *problemView {
	if err == nil {
		return nil
	}
	ae, ok := apperr.As(err)
	if !ok || ae.Code == apperr.EINTERNAL {
		return &problemView{Title: c.cfg.Title("internal", lang), Detail: "internal error"}
	}
	return &problemView{Title: c.cfg.Title(ae.Reason, lang), Detail: ae.Message, Rule: ae.Rule, Field: ae.Field, Reason: ae.Reason}
}

// hideTenant answers a shop's person or a buyer the same not-found for
// another tenant's object (a "not yours" refusal) as for an unknown id, and
// the same for every unknown id: one fixed error, so that neither the
// status, the problem nor its detail tells that the id exists (the API's
// hideTenant does the same). Agents and operators, who see every tenant,
// keep the specific detail.
func (q *req) hideTenant(err error) error {
	ae, ok := apperr.As(err)
	if !ok || q.p == nil {
		return err
	}
	r := q.p.Person.Role
	if r != auth.RoleBuyer && !r.Shop() {
		return err
	}
	if ae.Reason == "not_your_order" || ae.Reason == "not_your_shop" || ae.Code == apperr.ENOTFOUND {
		return apperr.NotFound("id", "not found")
	}
	return err
}

// handler is a page's body: it returns the template to render and its data,
// or an error.
type handler func(q *req) (tmpl string, data any, err error)

// page wraps a handler: it resolves the person and language, times the
// render, and renders the page (the "content" template alone for an htmx
// request targeting the main area or a fragment).
func (c *Console) page(title string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		q := c.newReq(w, r)
		if q.p == nil && title != "login" {
			c.toLogin(w, r)
			return
		}
		if err := checkIDs(r); err != nil {
			c.fail(w, r, err)
			return
		}
		tmpl, data, err := h(q)
		err = q.hideTenant(err)
		if err != nil && tmpl == "" {
			c.fail(w, r, err)
			return
		}
		if tmpl == "" { // the handler answered itself
			return
		}
		v := c.newView(q, title, data)
		v.Err = c.problem(err, q.lang)
		c.render(w, r, tmpl, v, start)
	}
}

func (c *Console) newReq(w http.ResponseWriter, r *http.Request) *req {
	lang := langOf(r)
	var p *Principal
	if c.cfg.Who != nil {
		p = c.cfg.Who(r)
	}
	if p != nil && p.Person.Role.Shop() && p.Account == nil {
		p = nil // a shop login without its account cannot work
	}
	return &req{w: w, r: r, ctx: r.Context(), p: p, lang: lang, L: tr{lang}, now: c.eng.Clock().Now()}
}

func (c *Console) newView(q *req, title string, data any) *view {
	v := &view{L: q.L, Lang: q.lang, Title: title, Page: title, P: q.p, Now: q.now, Path: q.r.URL.RequestURI(), Data: data,
		Partial: q.r.Header.Get("HX-Request") == "true" && q.r.Header.Get("HX-Boosted") != "true"}
	if q.p != nil {
		v.Role, v.CSRF = string(q.p.Person.Role), q.p.CSRF
		v.Sub = q.p.Person.Role == auth.RoleShopSub
		_, v.Live = q.p.Person.Actor()
	}
	if f := q.r.URL.Query().Get("flash"); f != "" {
		v.Flash = q.L.T("flash." + f)
	}
	return v
}

// render executes a page template into a buffer (so a template error is a
// clean 500) and logs the server render time.
func (c *Console) render(w http.ResponseWriter, r *http.Request, tmpl string, v *view, start time.Time) {
	t, ok := c.pages[tmpl]
	if !ok {
		c.log.Error("console: no template", "template", tmpl)
		http.Error(w, "no template "+tmpl, http.StatusInternalServerError)
		return
	}
	name := "layout"
	if v.Partial {
		name = "content"
		if r.Header.Get("HX-Target") == "detail" || strings.HasPrefix(r.Header.Get("HX-Target"), "frag-") {
			if t.Lookup("fragment") != nil {
				name = "fragment"
			}
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		c.log.Error("console: render", "template", tmpl, "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	took := time.Since(start)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", v.Lang)
	h.Set("Server-Timing", fmt.Sprintf("render;dur=%.2f", float64(took.Microseconds())/1000))
	if v.Err != nil && r.Method != http.MethodGet {
		// htmx swaps 2xx only: a refusal is rendered in place with 200 and
		// marked for scripts and tests.
		h.Set("X-Console-Problem", v.Err.Reason)
	}
	_, _ = w.Write(buf.Bytes())
	c.log.LogAttrs(r.Context(), slog.LevelInfo, "console render", slog.String("template", tmpl), slog.String("path", r.URL.Path),
		slog.Bool("partial", v.Partial), slog.Duration("took", took))
}

// fail answers an error page with the status of its class.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	start := time.Now()
	q := c.newReq(w, r)
	status := http.StatusInternalServerError
	switch apperr.CodeOf(err) {
	case apperr.EINVALID:
		status = http.StatusBadRequest
	case apperr.ENOTFOUND:
		status = http.StatusNotFound
	case apperr.EFORBIDDEN:
		status = http.StatusForbidden
	case apperr.ECONFLICT:
		status = http.StatusConflict
	}
	if status == http.StatusInternalServerError {
		c.log.Error("console", "path", r.URL.Path, "err", err)
	}
	v := c.newView(q, "error", nil)
	v.Err = c.problem(err, q.lang)
	w.WriteHeader(status)
	c.render(w, r, "error", v, start)
}

// toLogin sends a visitor who is not signed in to the sign-in page.
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.RequestURI()
	to := Prefix + "/login?next=" + url.QueryEscape(next)
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// home sends each role to its first page.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	q := c.newReq(w, r)
	to := Prefix + "/login"
	switch q.role() {
	case auth.RoleBuyer:
		to = Prefix + "/orders"
	case auth.RoleShopMain, auth.RoleShopSub:
		to = Prefix + "/tasks"
	case auth.RoleAgent:
		to = Prefix + "/queue"
	case auth.RoleOperator:
		to = Prefix + "/policy"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type loginData struct{ Next string }

func (c *Console) login(q *req) (string, any, error) {
	next := q.r.URL.Query().Get("next")
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") {
		next = Prefix + "/"
	}
	return "login", loginData{Next: next}, nil
}

// setLang switches the language (a cookie) and goes back.
func (c *Console) setLang(w http.ResponseWriter, r *http.Request) {
	lang := "zh-CN"
	if r.URL.Query().Get("to") == "en" {
		lang = "en"
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	back := r.URL.Query().Get("back")
	if !strings.HasPrefix(back, Prefix) || strings.HasPrefix(back, "//") {
		back = Prefix + "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// langOf is the request's console language: the cookie, else zh-CN.
func langOf(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil && c.Value == "en" {
		return "en"
	}
	return "zh-CN"
}

// form reads a posted form (url-encoded or multipart).
func form(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return r.ParseMultipartForm(8 << 20)
	}
	return r.ParseForm()
}
