package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"aftersale/internal/apperr"
	"aftersale/internal/store"
)

// Idempotency (docs/api.md, "Idempotency"):
//
// A POST with an Idempotency-Key header is applied at most once per key and
// API key. The engine owns its transactions, so the HTTP layer cannot put the
// response into the engine's own transaction (the response exists only after
// the commit). It does the next best thing, in two steps:
//
//  1. Store (the store.Store the engine is built on, wrapped by WrapStore)
//     claims the key with an "applied" marker inside the engine's
//     transaction (store.ReplicaWriter.ClaimIdempotent: the second of two
//     replicas claiming it at once waits for the first and is refused). So
//     the change and the marker commit together: a change is never applied
//     twice, even if the process stops before the response is recorded, nor
//     when two replicas receive the same key at once (docs/replicas.md).
//  2. After the handler answers, the middleware replaces the marker with the
//     full response (status, content type, body) in a second transaction.
//
// A repeat with the same fingerprint (method, path, actor header, body)
// gets the stored response with the header Idempotent-Replayed: true; with
// another fingerprint, 409 idempotency.mismatch; while the first is still
// running, or if it was applied but its response never recorded, 409
// idempotency.in_progress. Responses are recorded only when the request
// reached the engine (validation and authentication failures are not), and
// never for 5xx answers, so those may be retried with the same key.

// idemRecord is the JSON stored under an idempotency key.
type idemRecord struct {
	V           int    `json:"v"`
	State       string `json:"state"` // "applied" (marker) or "done"
	Fingerprint string `json:"fp"`
	Nonce       string `json:"nonce,omitempty"`
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

// idemCall is the idempotent request in flight, carried in its context.
type idemCall struct {
	key   string // store key: "http:" + API key id + ":" + Idempotency-Key
	fp    string
	nonce string

	mu       sync.Mutex
	executed bool // the engine's transaction took the key (the request reached the engine)
}

type idemKey struct{}

func idemOf(ctx context.Context) *idemCall {
	c, _ := ctx.Value(idemKey{}).(*idemCall)
	return c
}

type advancingKey struct{}

// Store wraps the engine's store.Store for the HTTP service: it writes the
// idempotency marker of the request in flight inside the engine's
// transaction, and in sandbox mode it holds writes of the timer sweeper and
// of other requests while the operator advances the clock, so that the jump
// is one step for everyone else: no request lands at an intermediate time.
// (engine.AdvanceTo itself fires every timer at its due time even when a
// sweeper claims some first.) Build the engine on it.
type Store struct {
	store.Store
	// gate is held for writing while the sandbox clock advances; nil outside the sandbox.
	gate *sync.RWMutex
}

// WrapStore wraps st. With sandbox true, writes wait while the sandbox clock advances.
func WrapStore(st store.Store, sandbox bool) *Store {
	s := &Store{Store: st}
	if sandbox {
		s.gate = &sync.RWMutex{}
	}
	return s
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if s.gate != nil && ctx.Value(advancingKey{}) == nil {
		s.gate.RLock()
		defer s.gate.RUnlock()
	}
	call := idemOf(ctx)
	if call == nil {
		return s.Store.Update(ctx, fn)
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		// Claim, not put: when another replica's transaction holds the key,
		// the claim waits for it and then fails, so only one applies.
		marker, _ := json.Marshal(idemRecord{V: 1, State: "applied", Fingerprint: call.fp, Nonce: call.nonce})
		claimed, err := tx.ClaimIdempotent(ctx, call.key, marker)
		if err != nil {
			return err
		}
		if !claimed {
			// Ours from an earlier transaction of this request, or another's.
			b, _, err := tx.Idempotent(ctx, call.key)
			if err != nil {
				return err
			}
			var rec idemRecord
			if json.Unmarshal(b, &rec) != nil || rec.Nonce != call.nonce {
				return apperr.Conflict("idempotency.in_progress", "", "another request with this Idempotency-Key was applied meanwhile")
			}
		}
		call.mu.Lock()
		call.executed = true
		call.mu.Unlock()
		return fn(tx)
	})
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

func (m *idempotency) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		p := principalOf(r.Context())
		if r.Method != http.MethodPost || key == "" || p == nil {
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
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		fmt.Fprintf(h, "%s\n%s\n%s\n", r.Method, r.URL.RequestURI(), r.Header.Get("X-Actor"))
		h.Write(body)
		call := &idemCall{key: "http:" + p.KeyID + ":" + key, fp: hex.EncodeToString(h.Sum(nil)), nonce: nonce()}

		m.mu.Lock()
		if m.inflight[call.key] {
			m.mu.Unlock()
			writeProblem(w, newProblem(http.StatusConflict, "conflict", "idempotency.in_progress", "Idempotency-Key", lang,
				"a request with this Idempotency-Key is still being processed; retry later"))
			return
		}
		m.inflight[call.key] = true
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			delete(m.inflight, call.key)
			m.mu.Unlock()
		}()

		var stored []byte
		var found bool
		if err := m.st.View(r.Context(), func(tx store.ReadTx) (err error) {
			stored, found, err = tx.Idempotent(r.Context(), call.key)
			return err
		}); err != nil {
			m.log.ErrorContext(r.Context(), "idempotency lookup failed", "err", err)
			writeProblem(w, newProblem(http.StatusInternalServerError, "internal", "internal", "", lang, "internal error; the server log has the details"))
			return
		}
		if found {
			var rec idemRecord
			if err := json.Unmarshal(stored, &rec); err != nil {
				m.log.ErrorContext(r.Context(), "idempotency record unreadable", "key", call.key, "err", err)
				writeProblem(w, newProblem(http.StatusInternalServerError, "internal", "internal", "", lang, "internal error; the server log has the details"))
				return
			}
			switch {
			case rec.Fingerprint != call.fp:
				writeProblem(w, newProblem(http.StatusConflict, "conflict", "idempotency.mismatch", "Idempotency-Key", lang,
					"this Idempotency-Key was used with a different request (method, path, actor or body); use a new key"))
			case rec.State != "done":
				writeProblem(w, newProblem(http.StatusConflict, "conflict", "idempotency.in_progress", "Idempotency-Key", lang,
					"the request with this Idempotency-Key was applied but its response is not recorded (still running, or interrupted); read the resource instead"))
			default:
				w.Header().Set("Content-Type", rec.ContentType)
				w.Header().Set("Idempotent-Replayed", "true")
				w.WriteHeader(rec.Status)
				w.Write(rec.Body)
			}
			return
		}

		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), idemKey{}, call)))
		call.mu.Lock()
		executed := call.executed
		call.mu.Unlock()
		if !executed || rw.status >= 500 {
			return
		}
		rec, _ := json.Marshal(idemRecord{V: 1, State: "done", Fingerprint: call.fp, Status: rw.status,
			ContentType: rw.Header().Get("Content-Type"), Body: rw.body.Bytes()})
		// The response is on its way; record it even if the client went away.
		ctx := context.WithoutCancel(r.Context())
		if err := m.st.Update(ctx, func(tx store.Tx) error { return tx.PutIdempotent(ctx, call.key, rec) }); err != nil {
			m.log.ErrorContext(ctx, "idempotency record not written", "key", call.key, "err", err)
		}
	})
}

func nonce() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
