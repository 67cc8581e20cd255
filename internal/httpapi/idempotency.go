package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"aftersale/internal/store"
)

// Idempotency (docs/api.md, "Idempotency"):
//
// A POST with an Idempotency-Key header is applied at most once per key and
// API key, and every repeat gets the first answer. The change and its answer
// commit together, in one transaction the middleware opens:
//
//  1. It claims the key (store.ReplicaWriter.ClaimIdempotent, an
//     insert-if-free: a second replica claiming the same key waits for the
//     first's transaction, then finds the key taken and replays its answer).
//  2. It runs the handler with the transaction in the request's context:
//     the engine's writes (Store.Update) and the handler's reads (Store.View)
//     run in it instead of in transactions of their own, and the answer is
//     buffered, not sent.
//  3. It replaces the claim with the answer (status, content type, body)
//     and commits; only then is the answer sent and are the engine's
//     after-commit hooks (live hub, webhooks, sweeper: Store.OnCommit) woken.
//
// So a crash at any moment either loses the whole request (the claim rolls
// back with the change: nothing of it is persisted, no lease is left to
// expire, and a retry applies it) or keeps both, and a retry gets the
// original answer. A request that did not reach the engine (authentication,
// validation) or answered 5xx is rolled back and not recorded: it may be
// retried with the same key. A refusal by the engine (its transaction
// failed, e.g. 409 task.open_exists) rolls back what the engine wrote and is
// recorded afterwards, if the key is still free, so that a repeat gets the
// same refusal. A transaction that lost a race with another replica
// (store.ErrRetry, store.ErrRace) is run again, whole.
//
// The sandbox clock's advance is the one exception: it fires timers in many
// transactions while it holds the write gate, so it runs as before, and its
// answer is recorded after it (a crash in between leaves the key free).
//
// A repeat with the same fingerprint (method, path, actor header, body)
// gets the stored answer with the header Idempotent-Replayed: true; with
// another fingerprint, 409 idempotency.mismatch; while the first is running
// in this process, 409 idempotency.in_progress.

// idemRecord is the JSON stored under an idempotency key.
type idemRecord struct {
	V           int    `json:"v"`
	State       string `json:"state"` // "applied" (claim, never committed alone since v2) or "done"
	Fingerprint string `json:"fp"`
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

// idemCall is the idempotent request in flight, carried in its context.
type idemCall struct {
	key string // store key: "http:" + API key id + ":" + Idempotency-Key
	fp  string

	mu       sync.Mutex
	tx       store.Tx // the request's transaction while the handler runs in it; nil: writes run on their own
	executed bool     // the request wrote through the engine's store
	failed   error    // a write in tx failed: tx is to be rolled back
	stored   []byte   // the record found when the key was taken by another request
}

type idemKey struct{}

func idemOf(ctx context.Context) *idemCall {
	c, _ := ctx.Value(idemKey{}).(*idemCall)
	return c
}

// inTx returns the request's transaction, if it runs in one.
func (c *idemCall) inTx() store.Tx {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tx
}

// write runs fn in the request's transaction. After a failed write the
// transaction is spoiled: later writes fail the same way.
func (c *idemCall) write(tx store.Tx, fn func(store.Tx) error) error {
	c.mu.Lock()
	c.executed = true
	failed := c.failed
	c.mu.Unlock()
	if failed != nil {
		return failed
	}
	err := fn(tx)
	if err != nil {
		c.mu.Lock()
		c.failed = err
		c.mu.Unlock()
	}
	return err
}

type advancingKey struct{}

// Store wraps the engine's store.Store for the HTTP service: writes and
// reads of an idempotent request run in the request's own transaction (see
// above), and in sandbox mode it holds writes of the timer sweeper and of
// other requests while the operator advances the clock, so that the jump is
// one step for everyone else: no request lands at an intermediate time.
// (engine.AdvanceTo itself fires every timer at its due time even when a
// sweeper claims some first.) Build the engine on it.
type Store struct {
	store.Store
	// gate is held for writing while the sandbox clock advances; nil outside the sandbox.
	gate *sync.RWMutex

	hookMu sync.Mutex
	hooks  []func()
}

// WrapStore wraps st. With sandbox true, writes wait while the sandbox clock advances.
func WrapStore(st store.Store, sandbox bool) *Store {
	s := &Store{Store: st}
	if sandbox {
		s.gate = &sync.RWMutex{}
	}
	return s
}

// OnCommit adds a hook called after each idempotent request's transaction
// commits. The engine's own after-commit hooks (engine.OnCommit) run when
// its write returns, which for such a request is before the commit: give the
// wake-ups (live hub, webhook sender, sweeper) here too. Hooks must not block.
func (s *Store) OnCommit(f func()) {
	s.hookMu.Lock()
	s.hooks = append(s.hooks, f)
	s.hookMu.Unlock()
}

func (s *Store) committed() {
	s.hookMu.Lock()
	hs := s.hooks
	s.hookMu.Unlock()
	for _, f := range hs {
		f()
	}
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	call := idemOf(ctx)
	if tx := call.inTx(); tx != nil {
		return call.write(tx, fn)
	}
	if s.gate != nil && ctx.Value(advancingKey{}) == nil {
		s.gate.RLock()
		defer s.gate.RUnlock()
	}
	if call != nil {
		call.mu.Lock()
		call.executed = true
		call.mu.Unlock()
	}
	return s.Store.Update(ctx, fn)
}

// View implements store.Store: an idempotent request reads in its own
// transaction (it sees its writes, and holds one connection, not two).
func (s *Store) View(ctx context.Context, fn func(store.ReadTx) error) error {
	if tx := idemOf(ctx).inTx(); tx != nil {
		return fn(tx)
	}
	return s.Store.View(ctx, fn)
}

// request runs fn in one write transaction, behind the sandbox gate.
func (s *Store) request(ctx context.Context, fn func(store.Tx) error) error {
	if s.gate != nil {
		s.gate.RLock()
		defer s.gate.RUnlock()
	}
	return s.Store.Update(ctx, fn)
}

// advance runs fn with the write gate held: no other write (timer sweeper,
// requests) runs meanwhile; fn's own writes use the returned context.
func (s *Store) advance(ctx context.Context, fn func(context.Context) error) error {
	if s.gate == nil {
		return fn(ctx)
	}
	s.gate.Lock()
	defer s.gate.Unlock()
	return fn(context.WithValue(ctx, advancingKey{}, true))
}

// idempotency is the middleware that answers repeated Idempotency-Keys.
type idempotency struct {
	st  store.Store
	log *slog.Logger

	mu       sync.Mutex
	inflight map[string]bool
}

// maxIdemBody bounds the body the middleware buffers (the facts endpoint's limit).
const maxIdemBody = 16 << 20

// sandboxAdvancePath is the request that runs outside the request's transaction.
const sandboxAdvancePath = "/v1/sandbox/clock/advance"

// afterCommit, when set (tests only: export_test.go and the crashtest build
// tag), holds a func() run after an idempotent request's transaction
// committed and before its answer is sent.
var afterCommit atomic.Value

// Outcomes of the request's transaction that roll it back.
var (
	errKeyTaken = errors.New("idempotency key taken")
	errUndo     = errors.New("request not recorded")
)

// raceLost reports whether err is a lost race: running the request again is safe.
func raceLost(err error) bool {
	return errors.Is(err, store.ErrRetry) || errors.Is(err, store.ErrRace)
}

// maxIdemAttempts bounds the runs of a request that keeps losing races.
const maxIdemAttempts = 4

func (m *idempotency) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		p := principalOf(r.Context())
		ws, _ := m.st.(*Store)
		if r.Method != http.MethodPost || key == "" || p == nil || ws == nil {
			next.ServeHTTP(w, r)
			return
		}
		lang := langOf(r.Context())
		if len(key) > 255 {
			writeProblem(w, newProblem(http.StatusBadRequest, "invalid", "request.invalid", "Idempotency-Key", lang, "Idempotency-Key is at most 255 characters"))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxIdemBody))
		if err != nil {
			writeProblem(w, newProblem(http.StatusRequestEntityTooLarge, "invalid", "request.too_large", "", lang, err.Error()))
			return
		}
		h := sha256.New()
		fmt.Fprintf(h, "%s\n%s\n%s\n", r.Method, r.URL.RequestURI(), r.Header.Get("X-Actor"))
		h.Write(body)
		fp := hex.EncodeToString(h.Sum(nil))
		skey := "http:" + p.KeyID + ":" + key

		m.mu.Lock()
		if m.inflight[skey] {
			m.mu.Unlock()
			writeProblem(w, newProblem(http.StatusConflict, "conflict", "idempotency.in_progress", "Idempotency-Key", lang,
				"a request with this Idempotency-Key is still being processed; retry later"))
			return
		}
		m.inflight[skey] = true
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			delete(m.inflight, skey)
			m.mu.Unlock()
		}()

		// A repeat is answered without taking a write transaction.
		var stored []byte
		var found bool
		if err := m.st.View(r.Context(), func(tx store.ReadTx) (err error) {
			stored, found, err = tx.Idempotent(r.Context(), skey)
			return err
		}); err != nil {
			m.log.ErrorContext(r.Context(), "idempotency lookup failed", "err", err)
			writeProblem(w, unavailable(lang))
			return
		}
		if found {
			m.replay(w, r, skey, fp, stored)
			return
		}

		if ws.gate != nil && r.URL.Path == sandboxAdvancePath {
			call, buf := &idemCall{key: skey, fp: fp}, newBuffer()
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(buf, r.WithContext(context.WithValue(r.Context(), idemKey{}, call)))
			m.record(r.Context(), ws, call, buf)
			buf.send(w)
			return
		}
		for attempt := 1; ; attempt++ {
			buf, call, err := m.inTx(r, ws, skey, fp, body, next)
			switch {
			case err == nil:
				ws.committed()
				if f, _ := afterCommit.Load().(func()); f != nil {
					f()
				}
				buf.send(w)
			case errors.Is(err, errKeyTaken):
				// Another request (another replica) took the key and committed meanwhile.
				m.replay(w, r, skey, fp, call.stored)
			case errors.Is(err, errUndo) && call.failed != nil && raceLost(call.failed) && attempt < maxIdemAttempts:
				continue
			case errors.Is(err, errUndo):
				if call.failed != nil && !raceLost(call.failed) {
					m.record(r.Context(), ws, call, buf)
				}
				buf.send(w)
			case raceLost(err) && attempt < maxIdemAttempts:
				continue
			default:
				m.log.ErrorContext(r.Context(), "idempotent request not committed", "key", skey, "err", err)
				writeProblem(w, unavailable(lang))
			}
			return
		}
	})
}

// inTx runs the request in one transaction with its answer (see above).
// err is nil when both committed, errKeyTaken when the key was taken
// (call.stored holds the record), errUndo when the request was rolled back
// and not recorded (buf holds its answer), or the store's error.
func (m *idempotency) inTx(r *http.Request, ws *Store, skey, fp string, body []byte, next http.Handler) (buf *buffer, call *idemCall, err error) {
	ctx := r.Context()
	call = &idemCall{key: skey, fp: fp}
	buf = newBuffer()
	var panicked any
	err = ws.request(ctx, func(tx store.Tx) error {
		claim, _ := json.Marshal(idemRecord{V: 2, State: "applied", Fingerprint: fp})
		claimed, err := tx.ClaimIdempotent(ctx, skey, claim)
		if err != nil {
			return err
		}
		if !claimed {
			b, _, err := tx.Idempotent(ctx, skey)
			if err != nil {
				return err
			}
			call.stored = b
			return errKeyTaken
		}
		call.mu.Lock()
		call.tx = tx
		call.mu.Unlock()
		func() {
			defer func() { panicked = recover() }()
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(buf, r.WithContext(context.WithValue(ctx, idemKey{}, call)))
		}()
		call.mu.Lock()
		call.tx = nil
		executed, failed := call.executed, call.failed
		call.mu.Unlock()
		if panicked != nil || !executed || failed != nil || buf.status >= 500 {
			return errUndo
		}
		rec, _ := json.Marshal(idemRecord{V: 2, State: "done", Fingerprint: fp, Status: buf.status,
			ContentType: buf.header.Get("Content-Type"), Body: buf.body.Bytes()})
		return tx.PutIdempotent(ctx, skey, rec)
	})
	if panicked != nil {
		panic(panicked)
	}
	return buf, call, err
}

// record stores the answer of a request whose writes did not run in its own
// transaction (an engine refusal rolled back, or the sandbox advance), if
// the request reached the engine, did not fail with 5xx, and the key is free.
func (m *idempotency) record(ctx context.Context, ws *Store, call *idemCall, buf *buffer) {
	call.mu.Lock()
	executed := call.executed
	call.mu.Unlock()
	if !executed || buf.status >= 500 {
		return
	}
	rec, _ := json.Marshal(idemRecord{V: 2, State: "done", Fingerprint: call.fp, Status: buf.status,
		ContentType: buf.header.Get("Content-Type"), Body: buf.body.Bytes()})
	// The answer is on its way; record it even if the client went away.
	ctx = context.WithoutCancel(ctx)
	if err := ws.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.ClaimIdempotent(ctx, call.key, rec)
		return err
	}); err != nil {
		m.log.ErrorContext(ctx, "idempotency record not written", "key", call.key, "err", err)
	}
}

// replay answers a request whose key has a record.
func (m *idempotency) replay(w http.ResponseWriter, r *http.Request, skey, fp string, stored []byte) {
	lang := langOf(r.Context())
	var rec idemRecord
	if err := json.Unmarshal(stored, &rec); err != nil {
		m.log.ErrorContext(r.Context(), "idempotency record unreadable", "key", skey, "err", err)
		writeProblem(w, newProblem(http.StatusInternalServerError, "internal", "internal", "", lang, "internal error; the server log has the details"))
		return
	}
	switch {
	case rec.Fingerprint != fp:
		writeProblem(w, newProblem(http.StatusConflict, "conflict", "idempotency.mismatch", "Idempotency-Key", lang,
			"this Idempotency-Key was used with a different request (method, path, actor or body); use a new key"))
	case rec.State != "done":
		// Only a record of an earlier version (answer written after the change) can be left so.
		writeProblem(w, newProblem(http.StatusConflict, "conflict", "idempotency.in_progress", "Idempotency-Key", lang,
			"the request with this Idempotency-Key was applied but its response is not recorded (interrupted); read the resource instead"))
	default:
		w.Header().Set("Content-Type", rec.ContentType)
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(rec.Status)
		w.Write(rec.Body)
	}
}

// unavailable is the answer when the store failed: nothing is lost, a retry
// with the same key is applied at most once.
func unavailable(lang string) *Problem {
	return newProblem(http.StatusServiceUnavailable, "unavailable", "not_ready", "", lang,
		"the store did not answer; retry with the same Idempotency-Key (it is applied at most once)")
}

// buffer keeps an answer until its transaction commits.
type buffer struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func newBuffer() *buffer { return &buffer{header: http.Header{}, status: http.StatusOK} }

// Header implements http.ResponseWriter.
func (b *buffer) Header() http.Header { return b.header }

// WriteHeader implements http.ResponseWriter.
func (b *buffer) WriteHeader(code int) {
	if !b.wrote {
		b.status, b.wrote = code, true
	}
}

// Write implements http.ResponseWriter.
func (b *buffer) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

// send writes the answer.
func (b *buffer) send(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}
