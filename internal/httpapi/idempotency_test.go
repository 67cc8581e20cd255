package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
)

// Issue 12, finding 7: the process stops right after the change of an
// idempotent request committed, before its answer is recorded or sent. A
// retry with the same Idempotency-Key gets the original answer (the task
// created, replayed), and the change is applied once.
func TestIdempotencyKey_RetryAfterCrashAfterCommitGetsOriginalAnswer(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o1")
	body, _ := json.Marshal(map[string]any{"actor": actor("buyer", buyerOf("o1"))})
	send := func() (*http.Response, []byte, error) {
		r, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/orders/o1/urge", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+platformKey)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Idempotency-Key", "urge-o1")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res, b, err
	}

	crashes := 0
	restore := httpapi.CrashAfterCommit(func() { crashes++; panic(http.ErrAbortHandler) })
	if res, b, err := send(); err == nil {
		t.Logf("the crashed request was answered %d %s", res.StatusCode, b)
	}
	restore()
	if crashes != 1 {
		t.Fatalf("the crash hook ran %d times, want 1", crashes)
	}

	res, b, err := send()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after the crash: %d (replayed %q) %s; want the original 200, replayed", res.StatusCode, res.Header.Get("Idempotent-Replayed"), b)
	}
	var u httpapi.UrgeBody
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	var list struct{ Tasks []struct{ ID, Type string } }
	e.ok(e.get("/v1/tasks?order_id=o1"), http.StatusOK, &list)
	if len(list.Tasks) != 1 || u.Outcome != "task_created" || u.Task == nil || u.Task.ID != list.Tasks[0].ID {
		t.Fatalf("retry answered %s; tasks on o1: %+v; want the one task created, once", b, list.Tasks)
	}
	// Every later repeat is the same answer, byte for byte.
	_, again, err := send()
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("second retry %s (%v), want %s", again, err, b)
	}
}
