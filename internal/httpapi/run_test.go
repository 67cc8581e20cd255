package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
	"aftersale/internal/store"
)

// serve (httpapi.Run) starts on a free port with a real SQLite file and the
// timer sweeper, answers /readyz, and shuts down cleanly when its context is
// cancelled: Run returns nil and the port is closed.
func TestRun_StartsAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- httpapi.Run(ctx, httpapi.RunConfig{
			Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "run.db"), Sandbox: true,
			Keys:   []httpapi.Key{httpapi.NewKey(httpapi.RoleOperator, operatorKey)},
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Ready: func(a string) { ready <- a },
		})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready after 10 s")
	}
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var h httpapi.HealthBody
	json.NewDecoder(res.Body).Decode(&h)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || h.Status != "ready" || time.Since(h.Now) > time.Minute {
		t.Fatalf("readyz %d %+v", res.StatusCode, h)
	}
	// the sandbox clock starts at the real now
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/sandbox/clock/advance", strings.NewReader(`{"by":"1h"}`))
	req.Header.Set("Authorization", "Bearer "+operatorKey)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("advance: %d", res.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of cancel")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still answering after shutdown")
	}
}

// Every reason the code produces (apperr.New/Conflict/Forbidden with a
// literal reason, anywhere under internal/) has a zh-CN and an en title, so
// every problem type is titled in both languages.
func TestProblemTitles_EveryReason(t *testing.T) {
	re := regexp.MustCompile(`apperr\.(?:Conflict|Forbidden)\(\s*"([^"]+)"|apperr\.New\(\s*apperr\.\w+,\s*"([^"]+)"`)
	known := map[string]bool{}
	for _, r := range httpapi.Reasons() {
		known[r] = true
	}
	found := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if strings.Contains(path, "storetest") || strings.Contains(path, "testkit") {
			return nil // test helpers
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			r := m[1] + m[2]
			found++
			if !known[r] {
				t.Errorf("%s: reason %q has no title in httpapi's catalog", path, r)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 30 {
		t.Fatalf("only %d reasons found: is the scan looking at the right tree?", found)
	}
	for _, r := range httpapi.Reasons() {
		zh, en := httpapi.Title(r, "zh-CN"), httpapi.Title(r, "en")
		if zh == "" || en == "" || zh == en {
			t.Errorf("reason %q: titles zh %q en %q", r, zh, en)
		}
	}
	for _, r := range []string{"urge.exempt.region", "permission.platform_task", "task.state", "logistics.not_stalled", "invalid", "not_found", "internal"} {
		if !known[r] {
			t.Errorf("reason %q missing", r)
		}
	}
}

// A request whose answer cannot be recorded (the write of the answer fails,
// as if the process stopped before it) is not applied either: the change
// and its answer commit together (issue 12, finding 7). The client gets 503
// and nothing is applied; the retry with the same key, once the store
// works, applies it once, and a repeat replays that answer.
func TestIdempotencyKey_AnswerCommitsWithTheChange(t *testing.T) {
	broken := &atomic.Bool{}
	broken.Store(true)
	e := newAPIOn(t, bj(t, "2023-08-01T10:00:00"), false, func(s store.Store) store.Store { return noResponses{s, broken} })
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	body := map[string]any{"type": "resend", "order_id": "o1", "actor": actor("buyer", buyerOf("o1"))}
	tasks := func() int {
		var n int
		e.st.View(t.Context(), func(tx store.ReadTx) error {
			ts, err := tx.Tasks(t.Context(), store.TaskFilter{OrderID: "o1"})
			n = len(ts)
			return err
		})
		return n
	}
	e.wantProblem(e.post("/v1/tasks", body, "Idempotency-Key", "k1"), http.StatusServiceUnavailable, "not_ready", "", "")
	if n := tasks(); n != 0 {
		t.Fatalf("%d tasks after a request whose answer was not recorded, want 0", n)
	}
	broken.Store(false)
	first := e.post("/v1/tasks", body, "Idempotency-Key", "k1")
	e.ok(first, http.StatusCreated, nil)
	again := e.post("/v1/tasks", body, "Idempotency-Key", "k1")
	if again.Status != http.StatusCreated || again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(first.Body) {
		t.Fatalf("repeat %d %s, want the first answer replayed", again.Status, again.Body)
	}
	if n := tasks(); n != 1 {
		t.Fatalf("%d tasks, want 1", n)
	}
	// another key applies (and is refused by the engine: one open task per order and type)
	e.wantProblem(e.post("/v1/tasks", body, "Idempotency-Key", "k2"), http.StatusConflict, "task.open_exists", "", "")
}

// noResponses is a store whose writes of recorded responses fail while broken.
type noResponses struct {
	store.Store
	broken *atomic.Bool
}

func (s noResponses) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(noResponsesTx{tx, s.broken}) })
}

type noResponsesTx struct {
	store.Tx
	broken *atomic.Bool
}

func (tx noResponsesTx) PutIdempotent(ctx context.Context, key string, resp []byte) error {
	if tx.broken.Load() && strings.Contains(string(resp), `"state":"done"`) {
		return errors.New("disk on fire")
	}
	return tx.Tx.PutIdempotent(ctx, key, resp)
}
