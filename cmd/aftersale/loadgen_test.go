package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"aftersale/internal/clock"
	"aftersale/internal/engine"
	"aftersale/internal/httpapi"
	"aftersale/internal/policy"
	"aftersale/internal/store/sqlite"
)

const lgKey = "platform-loadgen-test-key-0123"

// newLoadServer is the API in process (httptest) on a fresh SQLite file.
func newLoadServer(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	raw, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	reg, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(engine.Config{Store: httpapi.WrapStore(raw, false), Policy: reg, Clock: clock.Real{}})
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Engine: eng, Keys: []httpapi.Key{httpapi.NewKey(httpapi.RolePlatform, lgKey)}}))
	t.Cleanup(srv.Close)
	return srv
}

// loadgen runs briefly against an in-process server and reports, per
// operation of the mix, requests with their outcomes and p50 ≤ p90 ≤ p99 ≤
// max; facts are counted as accepted, with none refused. No timing is
// asserted: only that the report is complete and consistent.
func TestLoadgenReportsCountsAndPercentiles(t *testing.T) {
	srv := newLoadServer(t)
	var out, errb bytes.Buffer
	code := runLoadgen(t.Context(), []string{"--target", srv.URL, "--key", lgKey, "--duration", "3s", "--max-requests", "300",
		"--concurrency", "3", "--batch", "50", "--shops", "3", "--seed-orders", "60", "--mix", "facts=2,urge=2,open=1,reply=1,list=4", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s, stdout %s", code, errb.String(), out.String())
	}
	var rep LoadReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	if rep.Requests == 0 || rep.Requests > 300 || rep.Errors != 0 || rep.ErrorRate != 0 {
		t.Fatalf("report totals: %+v", rep)
	}
	var sum int64
	for _, o := range rep.Ops {
		sum += o.Requests
		if o.OK+o.Refused+o.Errors != o.Requests {
			t.Errorf("%s: ok %d + refused %d + errors %d != requests %d", o.Op, o.OK, o.Refused, o.Errors, o.Requests)
		}
		if o.Op == "facts" || o.Op == "urge" || o.Op == "list" {
			if o.Requests == 0 || o.OK == 0 {
				t.Errorf("%s: no successful request: %+v", o.Op, o)
				continue
			}
			if !(o.P50ms > 0 && o.P50ms <= o.P90ms && o.P90ms <= o.P99ms && o.P99ms <= o.MaxMs) || o.PerSecond <= 0 {
				t.Errorf("%s: percentiles not ordered or missing: %+v", o.Op, o)
			}
		}
		if o.Op == "facts" && (o.FactsAccepted != 50*o.OK || o.FactsRefused != 0 || o.FactsPerSecond <= 0) {
			t.Errorf("facts: %d accepted for %d batches of 50, %d refused (%s)", o.FactsAccepted, o.OK, o.FactsRefused, o.LastRefusal)
		}
	}
	if sum != rep.Requests {
		t.Errorf("ops sum to %d requests, total says %d", sum, rep.Requests)
	}

	// The text report names every operation that ran and the percentiles.
	out.Reset()
	code = runLoadgen(t.Context(), []string{"--target", srv.URL, "--key", lgKey, "--duration", "1s", "--max-requests", "20",
		"--concurrency", "2", "--seed-orders", "10", "--shops", "3", "--mix", "list=1"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "p99 ms") || !strings.Contains(out.String(), "list") {
		t.Fatalf("text report (exit %d):\n%s", code, out.String())
	}
}

// A failed set-up exits 1 naming the answer: a wrong key makes the first
// request fail with 401.
func TestLoadgenExitsNonZeroWhenSetUpFails(t *testing.T) {
	srv := newLoadServer(t)
	var out, errb bytes.Buffer
	code := runLoadgen(t.Context(), []string{"--target", srv.URL, "--key", "wrong-key-0123456789", "--duration", "1s", "--max-requests", "10"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "401") {
		t.Fatalf("exit %d, stderr %q; want 1 naming the 401", code, errb.String())
	}
}

// Failed requests (here: every list read answers 500) above --max-error-rate
// exit 1 and are reported with the last error; under a threshold of 1 the
// same run exits 0. 409 refusals are not failures.
func TestLoadgenErrorRateThreshold(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/facts":
			var body struct{ Facts []json.RawMessage }
			json.NewDecoder(r.Body).Decode(&body)
			fmt.Fprintf(w, `{"accepted": %d, "duplicate": 0, "refused": 0, "results": []}`, len(body.Facts))
		case strings.HasSuffix(r.URL.Path, "/urge"):
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"reason": "urge.within_deadline", "detail": "within the deadline"}`)
		default:
			http.Error(w, "disk on fire", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	args := []string{"--target", srv.URL, "--key", lgKey, "--duration", "2s", "--max-requests", "40", "--concurrency", "2",
		"--seed-orders", "20", "--shops", "3", "--mix", "urge=1,list=1", "--json"}
	var out, errb bytes.Buffer
	if code := runLoadgen(t.Context(), args, &out, &errb); code != 1 || !strings.Contains(errb.String(), "above --max-error-rate") {
		t.Fatalf("exit %d, stderr %q; want 1 for the error rate", code, errb.String())
	}
	var rep LoadReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.Ops {
		switch o.Op {
		case "list":
			if o.Requests == 0 || o.Errors != o.Requests || !strings.Contains(o.LastError, "500") {
				t.Errorf("list: %+v; want every request failed with the 500", o)
			}
		case "urge":
			if o.Requests == 0 || o.Refused != o.Requests || o.Errors != 0 || !strings.Contains(o.LastRefusal, "urge.within_deadline") {
				t.Errorf("urge: %+v; want every request refused (409), none failed", o)
			}
		}
	}
	if rep.Errors == 0 || rep.ErrorRate <= 0.01 || rep.ErrorRate >= 1 {
		t.Errorf("report: %d errors, rate %v", rep.Errors, rep.ErrorRate)
	}
	out.Reset()
	errb.Reset()
	if code := runLoadgen(t.Context(), append(args, "--max-error-rate", "1"), &out, &errb); code != 0 {
		t.Fatalf("with --max-error-rate 1: exit %d, %s", code, errb.String())
	}
}

// loadgen refuses a target that is not loopback unless --allow-remote, and
// checks its bounds and mix.
func TestLoadgenFlags(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{
		{"--key", "k", "--target", "http://10.0.0.5:8080"},
		{"--key", "k", "--target", "http://example.com"},
		{"--target", "http://127.0.0.1:8080"},
		{"--key", "k", "--duration", "11m"},
		{"--key", "k", "--mix", "list=0"},
		{"--key", "k", "--mix", "delete=1"},
		{"--key", "k", "--batch", "1001"},
		{"--key", "k", "--concurrency", "0"},
	} {
		if _, err := parseLoadgen(args, env, io.Discard); err == nil {
			t.Errorf("parseLoadgen(%q) accepted", args)
		}
	}
	for _, args := range [][]string{
		{"--key", "k", "--target", "http://localhost:1"},
		{"--key", "k", "--target", "http://[::1]:8080"},
		{"--key", "k", "--target", "http://10.0.0.5:8080", "--allow-remote"},
	} {
		o, err := parseLoadgen(args, env, io.Discard)
		if err != nil || o.runID == "" || o.mix["list"] == 0 {
			t.Errorf("parseLoadgen(%q) = %+v, %v", args, o, err)
		}
	}
}
