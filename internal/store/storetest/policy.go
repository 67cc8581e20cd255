package storetest

import (
	"context"
	"testing"
	"time"

	"aftersale/internal/store"
)

func init() { register("PolicyRecords", testPolicyRecords) }

// testPolicyRecords: records come back in the order appended, with
// increasing Seq, and the cursor skips what was read.
func testPolicyRecords(t *testing.T, s store.Store) {
	a := store.PolicyRecord{Platform: "tmall", Name: "ops/a.yaml", Source: "platform: tmall\n", LoadedAt: t0, LoadedBy: "operator:o1"}
	b := store.PolicyRecord{Platform: "taobao", Name: "ops/b.yaml", Source: "platform: taobao\n", LoadedAt: t0, LoadedBy: "operator:o1"}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.AppendPolicyRecord(ctx, &a))
		must(t, tx.AppendPolicyRecord(ctx, &b))
	})
	if a.Seq <= 0 || b.Seq <= a.Seq {
		t.Fatalf("seqs %d, %d", a.Seq, b.Seq)
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		all := get[[]store.PolicyRecord](t)(tx.PolicyRecords(ctx, 0))
		if len(all) != 2 || all[0].Seq != a.Seq || all[0].Source != a.Source || all[1].Platform != "taobao" || !all[0].LoadedAt.Equal(t0) {
			t.Fatalf("records %+v", all)
		}
		if rest := get[[]store.PolicyRecord](t)(tx.PolicyRecords(ctx, a.Seq)); len(rest) != 1 || rest[0].Seq != b.Seq {
			t.Fatalf("after %d: %+v", a.Seq, rest)
		}
	})
}

func init() { register("PurgeIdempotent", testPurgeIdempotent) }

// testPurgeIdempotent: keys created before the cut-off (by the database's
// clock) are deleted, later ones stay.
func testPurgeIdempotent(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutIdempotent(ctx, "k1", []byte(`{"v":1}`)))
		must(t, tx.PutIdempotent(ctx, "k2", []byte(`{"v":1}`)))
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if n := get[int64](t)(tx.PurgeIdempotent(ctx, time.Now().Add(-time.Hour))); n != 0 {
			t.Errorf("purged %d keys created within the hour", n)
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if n := get[int64](t)(tx.PurgeIdempotent(ctx, time.Now().Add(time.Minute))); n != 2 {
			t.Errorf("purged %d, want 2", n)
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if _, ok, err := tx.Idempotent(ctx, "k1"); err != nil || ok {
			t.Errorf("k1 after purge: ok=%v err=%v", ok, err)
		}
	})
}
