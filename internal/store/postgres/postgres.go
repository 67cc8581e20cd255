// Package postgres is the shared store: one PostgreSQL database behind any
// number of stateless replicas. It implements store.Store over a pgx
// connection pool (pgxpool) and passes the same conformance suite
// (storetest) as the SQLite store.
//
// The schema mirrors SQLite's: nested structures (orders, tasks, shops …)
// are JSON text beside plain columns for what queries filter and sort on.
// Times are timestamptz (microsecond precision; read back in UTC); ids are
// text COLLATE "C" so they sort byte-wise, as in SQLite.
//
// Transactions:
//   - Update runs at READ COMMITTED. Every write is a statement whose
//     outcome does not depend on a snapshot (upserts, ON CONFLICT,
//     the rev check on tasks, counters incremented in place), so the
//     stricter levels would add serialization failures and retries without
//     preventing anything more. The projections the engine reads, changes
//     and writes back (Order, Task, OpenTask, Complaint) are read FOR UPDATE
//     inside Update, so two replicas folding facts into the same order queue
//     instead of losing one update. Shops and accounts are not locked: a
//     shop is read by nearly every command (a hot row) and both are only
//     replaced wholesale from facts.
//   - Writes whose outcome is certain are queued and sent together, one
//     statement per table, with the next read or at commit (pipe.go,
//     bulk.go): a batch of 1000 facts or timers is a few round trips.
//   - A commit that set timers sends NOTIFY with the earliest due time, so
//     the sweepers of other replicas wake (wake.go, ListenTimers).
//   - View runs at REPEATABLE READ READ ONLY: one snapshot, taken at its
//     first statement.
//   - ClaimDue deletes due timers chosen with FOR UPDATE SKIP LOCKED, so
//     replicas sweeping at once claim disjoint timers, and a replica that
//     dies before committing gives its claims back (the rollback restores
//     the rows).
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

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

// Migrate brings the schema of db (a pgx "database/sql" database) up to date
// with the embedded migrations, in the connection's current schema (the
// first schema of its search_path). It is safe to run on an up-to-date
// database and from several replicas at once: a session advisory lock keyed
// by the schema name lets one of them migrate while the others wait.
func Migrate(ctx context.Context, db *sql.DB) error {
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: migrations: current schema: %w", err)
	}
	if schema == "" {
		return errors.New("postgres: migrations: no current schema (check search_path)")
	}
	h := fnv.New64a()
	h.Write([]byte("aftersale migrations\x00" + schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64())),
		lock.WithLockTimeout(1, 300), // poll each second, for up to 5 minutes
	)
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	p, err := goose.NewProvider(database.DialectPostgres, db, Migrations(),
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Store is the PostgreSQL store. It is safe for concurrent use, and several
// Stores (in one process or many) may share one database.
type Store struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
	// channel is the NOTIFY channel of timer wake-ups (one per schema).
	channel string
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a libpq URL or key=value string;
// pgxpool's pool_* parameters apply, and runtime parameters such as
// search_path are sent to the server), migrates it and returns the store.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	err = Migrate(ctx, db)
	_ = db.Close() // closes the database/sql handle, not the pool
	if err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool}
	if err := s.initChannel(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Pool returns the store's connection pool, for statements the contract does
// not cover (tests, tools, LISTEN/NOTIFY).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool, waiting for connections in use to be returned. It
// may be called more than once.
func (s *Store) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.pool.Close()
	}
	return nil
}

var errClosed = errors.New("postgres: store is closed")

// Update runs fn in one READ COMMITTED transaction (see the package
// documentation). fn's error, or a panic in fn, rolls it back (the panic
// continues after the rollback).
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if s.closed.Load() {
		return errClosed
	}
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// Roll back even when ctx is done: the connection goes back clean.
			_ = pgTx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	p := &pipe{Tx: pgTx}
	if err := fn(&wtx{rtx{tx: p, lock: true}}); err != nil {
		if p.err != nil {
			// The root cause: a queued write failed (the error fn saw
			// may have been rewrapped on its way, losing ErrRetry).
			return retryable(p.err)
		}
		return retryable(err)
	}
	if !p.wake.IsZero() {
		// Delivered at commit, and only if it commits.
		p.queue(nil, wNotify, s.channel, p.wake.UTC().Format(time.RFC3339Nano))
	}
	if err := p.Commit(ctx); err != nil {
		return retryable(fmt.Errorf("postgres: commit: %w", err))
	}
	committed = true
	return nil
}

// retryable marks a deadlock or serialization failure (a race with a
// concurrent transaction, which PostgreSQL rolled back) with store.ErrRetry.
func retryable(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") && !errors.Is(err, store.ErrRetry) {
		return fmt.Errorf("%w (%w)", err, store.ErrRetry)
	}
	return err
}

// View runs fn in a REPEATABLE READ READ ONLY transaction: one consistent
// snapshot of the committed data, taken at fn's first read.
func (s *Store) View(ctx context.Context, fn func(store.ReadTx) error) error {
	if s.closed.Load() {
		return errClosed
	}
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin read: %w", err)
	}
	defer func() { _ = pgTx.Rollback(context.WithoutCancel(ctx)) }()
	return fn(&rtx{tx: &pipe{Tx: pgTx}})
}
