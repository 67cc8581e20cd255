package sqlite_test

import (
	"testing"

	"aftersale/internal/store"
	"aftersale/internal/store/storetest"
)

// The store benchmarks are shared (storetest); run them with
//
//	go test ./internal/store/sqlite -run '^$' -bench . -benchtime 20x

func openStore(t testing.TB) store.Store { return open(t) }

func BenchmarkRecordFactAndPutOrder(b *testing.B) { storetest.BenchRecordFactAndPutOrder(b, openStore) }
func BenchmarkFactsWithTasks(b *testing.B)        { storetest.BenchFactsWithTasks(b, openStore) }
func BenchmarkClaimDue(b *testing.B)              { storetest.BenchClaimDue(b, open(b)) }
func BenchmarkViewOrder(b *testing.B)             { storetest.BenchViewOrder(b, openStore) }
