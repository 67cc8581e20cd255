package postgres_test

import (
	"testing"

	"aftersale/internal/store"
	"aftersale/internal/store/postgres/pgtest"
	"aftersale/internal/store/storetest"
)

// The store benchmarks are shared (storetest); run them with
//
//	go test ./internal/store/postgres -run '^$' -bench . -benchtime 20x

func openStore(t testing.TB) store.Store { return open(t) }

func BenchmarkRecordFactAndPutOrder(b *testing.B) { storetest.BenchRecordFactAndPutOrder(b, openStore) }
func BenchmarkFactsWithTasks(b *testing.B)        { storetest.BenchFactsWithTasks(b, openStore) }
func BenchmarkClaimDue(b *testing.B)              { storetest.BenchClaimDue(b, open(b)) }
func BenchmarkViewOrder(b *testing.B)             { storetest.BenchViewOrder(b, openStore) }

// BenchmarkClaimDueTwoReplicas: two stores (two pools, as two replicas would
// have) on one schema sweep the same timers at once, each claimed once.
func BenchmarkClaimDueTwoReplicas(b *testing.B) {
	u := pgtest.FreshSchema(b)
	storetest.BenchClaimDue(b, openAt(b, u), openAt(b, u))
}
