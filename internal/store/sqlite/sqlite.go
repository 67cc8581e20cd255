// Package sqlite is the embedded store: one SQLite file in WAL mode, written
// through exactly one connection and read through a separate pool of
// read-only connections. It implements store.Store.
//
// Every statement is prepared once when the store opens; a transaction binds
// the prepared statements it uses to itself on first use, so the write path
// never re-parses SQL. Nested structures (orders, tasks, shops …) are stored
// as JSON beside plain columns for what queries filter and sort on. Times are
// stored as fixed-width UTC text (2006-01-02T15:04:05.000000000Z), which sorts as it should and
// round-trips to the nanosecond.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"aftersale/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the embedded goose migrations (files at the root of the
// returned file system).
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is always there
	}
	return sub
}

// Migrate brings the schema of db (a "sqlite" driver database) up to date with
// the embedded migrations. It is safe to run on an up-to-date database.
func Migrate(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(database.DialectSQLite3, db, Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Store is the SQLite store. Update transactions are serialized on one
// writer connection (SQLite allows one writer at a time; waiting in Go is
// cheaper than SQLITE_BUSY retries). View transactions run on a pool of
// read-only connections and see a snapshot taken at their first read.
//
// Do not call Update from inside Update's fn: the writer connection is busy
// and the inner call would wait for it forever.
type Store struct {
	w, r   *sql.DB
	ws, rs *stmts
}

var _ store.Store = (*Store)(nil)

// Pragmas every connection gets. journal_mode is persistent in the file; the
// writer sets it, readers find it.
const commonParams = "_busy_timeout=5000&_pragma=temp_store(memory)&_pragma=cache_size(-16000)"

// writerParams: checkpoint the WAL every 10,000 pages (~40 MB) rather than
// SQLite's 1,000: a batch of 1,000 facts scattered over many orders dirties
// about that many pages, and checkpointing after every batch cost about
// 10–15 % of the write path's CPU. journal_size_limit truncates the WAL back after a
// checkpoint that reset it.
const writerParams = "&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate" +
	"&_pragma=wal_autocheckpoint(10000)&_pragma=journal_size_limit(67108864)"

// WriterDSN returns the DSN of the writer connection for the file at path:
// WAL, synchronous=NORMAL, busy_timeout=5000, temp_store=MEMORY, a larger
// WAL checkpoint interval, and BEGIN IMMEDIATE so a write transaction takes
// the write lock up front.
func WriterDSN(path string) string {
	return path + "?" + commonParams + writerParams
}

// ReaderDSN returns the DSN of the read-only pool for the file at path.
func ReaderDSN(path string) string {
	return path + "?" + commonParams + "&_query_only=1"
}

// Open opens (creating it if needed) and migrates the database file at path.
// path is a plain file name; it may not contain '?' (the driver reads what
// follows as its parameters), and ":memory:" is refused (a private in-memory
// database cannot be shared by the writer and the readers).
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path", path)
	}
	w, err := sql.Open("sqlite", WriterDSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	fail := func(err error) (*Store, error) {
		_ = s.Close()
		return nil, err
	}
	if err := w.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
	}
	if err := Migrate(ctx, w); err != nil {
		return fail(err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r, err := sql.Open("sqlite", ReaderDSN(path))
	if err != nil {
		return fail(fmt.Errorf("sqlite: open readers %s: %w", path, err))
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	s.r = r
	if s.ws, err = prepare(ctx, w, true); err != nil {
		return fail(err)
	}
	if s.rs, err = prepare(ctx, r, false); err != nil {
		return fail(err)
	}
	return s, nil
}

// DB returns the writer database (one connection). Tests and tools may use
// it for statements the contract does not cover; do not use it while an
// Update is running on the same goroutine.
func (s *Store) DB() *sql.DB { return s.w }

// Close closes the prepared statements and both connection pools, after
// letting SQLite refresh its query planner statistics (PRAGMA optimize).
func (s *Store) Close() error {
	var errs []error
	if s.w != nil {
		_, _ = s.w.Exec("PRAGMA optimize")
	}
	for _, st := range []*stmts{s.rs, s.ws} {
		if st != nil {
			errs = append(errs, st.close())
		}
	}
	s.rs, s.ws = nil, nil
	for _, db := range []*sql.DB{s.r, s.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	s.r, s.w = nil, nil
	return errors.Join(errs...)
}

// Update runs fn in one write transaction. fn's error, or a panic in fn,
// rolls it back (the panic continues after the rollback).
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if s.w == nil {
		return errClosed
	}
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	tx := &wtx{rtx{tx: sqlTx, st: s.ws}}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	return nil
}

// View runs fn in a read-only transaction on the reader pool: a consistent
// snapshot of the committed data as of fn's first read.
func (s *Store) View(ctx context.Context, fn func(store.ReadTx) error) error {
	if s.r == nil {
		return errClosed
	}
	sqlTx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	return fn(&rtx{tx: sqlTx, st: s.rs})
}

var errClosed = errors.New("sqlite: store is closed")
