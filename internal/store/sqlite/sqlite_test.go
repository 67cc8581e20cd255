package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"aftersale/internal/store"
	"aftersale/internal/store/sqlite"
	"aftersale/internal/store/storetest"
)

func open(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "aftersale.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.IncrCounter(ctx, "c", 7)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again runs the migrations again: a no-op.
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := sqlite.Migrate(ctx, s.DB()); err != nil {
		t.Fatalf("Migrate on an up-to-date database: %v", err)
	}
	err = s.View(ctx, func(tx store.ReadTx) error {
		n, err := tx.Counter(ctx, "c")
		if n != 7 {
			t.Errorf("Counter after reopen = %d, want 7", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := sqlite.Open(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestClosed(t *testing.T) {
	s := open(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Update(context.Background(), func(store.Tx) error { return nil }); err == nil {
		t.Error("Update on a closed store succeeded")
	}
	if err := s.View(context.Background(), func(store.ReadTx) error { return nil }); err == nil {
		t.Error("View on a closed store succeeded")
	}
}

func TestViewIsReadOnly(t *testing.T) {
	s := open(t)
	defer s.Close()
	err := s.View(context.Background(), func(tx store.ReadTx) error {
		if _, ok := tx.(store.Tx); ok {
			t.Error("View's ReadTx is also a Tx")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenOddPath(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seed#3 x", "a.db"))
	if err == nil {
		s.Close()
		t.Fatal("Open in a missing directory succeeded")
	}
	dir := filepath.Join(t.TempDir(), "seed#3 x")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(context.Background(), filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
