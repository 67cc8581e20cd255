package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PGWaker carries commit wake-ups between replicas sharing one PostgreSQL
// database (docs/replicas.md). Each replica calls Notify after every commit
// of its engine (engine.OnCommit) and runs Run, which sends
// pg_notify(channel, replica id) — coalesced: at most one in flight, and at
// most one per MinInterval. Listen (the hub's Waker) holds a connection of
// its own in LISTEN and wakes the hub on every other replica's
// notification, so a card or reminder committed on one replica reaches a
// stream open on another within milliseconds instead of at the hub's
// fallback poll.
//
// The notification is sent after the commit, in a transaction of its own,
// not by a trigger inside the writing transaction: PostgreSQL serializes
// the commits of all transactions that notify (a database-wide lock on the
// notification queue), which would serialize every replica's writes. The
// cost of sending it after is that a replica dying between its commit and
// its notification leaves the others to find that commit at their next
// wake-up or poll.
//
// The channel is derived from the connection's schema, so deployments (or
// tests) in other schemas of one database do not wake each other.
type PGWaker struct {
	pool    *pgxpool.Pool
	channel string
	id      string
	log     *slog.Logger
	kick    chan struct{}
	// MinInterval spaces the notifications this replica sends (default 10 ms).
	MinInterval time.Duration
	// Retry is the wait before reconnecting a lost LISTEN connection or
	// sending again after a failed notification (default 1 s).
	Retry time.Duration
}

var _ Waker = (*PGWaker)(nil)

// NewPGWaker returns a waker on the pool's database and current schema.
func NewPGWaker(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (*PGWaker, error) {
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("live: waker: current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte(schema))
	var b [6]byte
	_, _ = rand.Read(b[:])
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PGWaker{pool: pool, channel: fmt.Sprintf("aftersale_commit_%016x", h.Sum64()), id: hex.EncodeToString(b[:]),
		log: log, kick: make(chan struct{}, 1), MinInterval: 10 * time.Millisecond, Retry: time.Second}, nil
}

// Channel returns the LISTEN/NOTIFY channel name.
func (w *PGWaker) Channel() string { return w.channel }

// Notify asks Run to tell the other replicas of a commit. It never blocks
// (engine.OnCommit).
func (w *PGWaker) Notify() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run sends the notifications Notify asks for until ctx is done.
func (w *PGWaker) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.kick:
		}
		wait := w.MinInterval
		if _, err := w.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, w.channel, w.id); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.log.Warn("live: notify failed", "err", err)
			wait = w.Retry
			w.Notify() // try again: the commit is still unannounced
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Listen implements Waker: it calls wake for every other replica's
// notification until ctx is done, reconnecting when the connection is lost
// (and waking once after each (re)connection, for what it may have missed).
func (w *PGWaker) Listen(ctx context.Context, wake func()) error {
	for {
		err := w.listen(ctx, wake)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.log.Warn("live: LISTEN connection lost; reconnecting", "err", err, "after", w.Retry)
		t := time.NewTimer(w.Retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (w *PGWaker) listen(ctx context.Context, wake func()) error {
	// A connection of its own, outside the pool: it is held for good.
	conn, err := pgx.ConnectConfig(ctx, w.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{w.channel}.Sanitize()); err != nil {
		return err
	}
	wake()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != w.id {
			wake()
		}
	}
}
