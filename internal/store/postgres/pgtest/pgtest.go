// Package pgtest gives tests a PostgreSQL schema of their own on the local
// test server: it skips the test when no server answers, or fails it when
// AFTERSALE_REQUIRE_POSTGRES=1 (as CI sets), and drops the schema afterwards.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultURL is the test database when AFTERSALE_TEST_DATABASE_URL is not set.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL is the test server: AFTERSALE_TEST_DATABASE_URL or the local default.
func BaseURL() string {
	if u := os.Getenv("AFTERSALE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultURL
}

// reachable remembers whether the server answered, so that only the first
// test waits for the timeout.
var reachable struct {
	once sync.Once
	err  error
}

// RequireServer skips the test (fails it when AFTERSALE_REQUIRE_POSTGRES=1)
// when the test database does not answer: within 3 s when a skip is allowed,
// within 60 s when PostgreSQL is required (a busy 2-core machine running
// every package's tests at once can take seconds to accept a connection).
func RequireServer(t testing.TB) {
	t.Helper()
	reachable.once.Do(func() {
		reachable.err = ping(reachTimeout())
	})
	if err := reachable.err; err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s: %v", redact(BaseURL()), err)
		if os.Getenv("AFTERSALE_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// reachTimeout is how long RequireServer keeps trying to reach the server.
func reachTimeout() time.Duration {
	if os.Getenv("AFTERSALE_REQUIRE_POSTGRES") == "1" {
		return 60 * time.Second
	}
	return 3 * time.Second
}

// ping connects to the test server and pings it, trying again until total
// has passed; it returns the last error.
func ping(total time.Duration) error {
	deadline := time.Now().Add(total)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, BaseURL())
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// redact hides a password in a URL.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// WithSearchPath returns base with its search_path set to schema.
func WithSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	if !strings.Contains(base, "://") { // key=value form
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("AFTERSALE_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// FreshSchema creates an empty schema with a unique name, drops it (and
// everything in it) when the test ends, and returns a URL whose connections
// use it.
func FreshSchema(t testing.TB) string {
	t.Helper()
	RequireServer(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "aftersale_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	exec := func(sql string) error {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(c, BaseURL())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(c, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(t, BaseURL(), schema)
}
