// Package replicas holds the tests that run several real `aftersale serve`
// processes on one PostgreSQL schema, as a deployment behind a load balancer
// does: every deadline fired exactly once across the replicas, even when one
// is killed mid-sweep; webhooks delivered once per event (deduplicated by
// webhook-id); one Idempotency-Key or fact applied once when sent to two
// replicas at once; live cards and reminders crossing replicas with the
// daily reminder cap exact. See docs/replicas.md.
//
// The tests need PostgreSQL and run with AFTERSALE_TEST_STORE=postgres (as
// .ci/run's PostgreSQL step does); otherwise they skip and say so. The crash
// tests (crash_test.go: serve killed with SIGKILL at random, and right after
// a commit) run on one serve process on SQLite without it, and on two
// replicas with it; -crash.kills=N makes the long run.
package replicas
