package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Timer wake-ups across replicas. A transaction that sets timers sends, at
// commit, NOTIFY on the schema's channel with the earliest due time it set
// (NOTIFY is transactional: a rolled-back transaction sends nothing). Every
// replica's sweeper listens (ListenTimers) and re-reads the earliest due time
// when told, instead of sleeping until a later timer or its idle limit.

// initChannel names the store's NOTIFY channel after its schema, so that
// schemas sharing a database (tests, tenants) do not wake each other.
func (s *Store) initChannel(ctx context.Context) error {
	var schema string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: open: current schema: %w", err)
	}
	s.channel = "aftersale_timers_" + schema
	if len(s.channel) > 63 { // NAMEDATALEN-1
		h := fnv.New64a()
		h.Write([]byte(schema))
		s.channel = fmt.Sprintf("aftersale_timers_%x", h.Sum64())
	}
	return nil
}

// ListenTimers calls wake with the due time each time a transaction (of any
// replica on the schema, this one included) commits timers, until ctx is
// done or the connection fails. It holds one connection of its own, outside
// the pool. It returns ctx's error when ctx is done, and the connection's
// error otherwise; the caller listens again after a pause (timers set while
// no one listened are found by the sweeper's next look at the earliest due
// time).
func (s *Store) ListenTimers(ctx context.Context, wake func(due time.Time)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("postgres: listen: %w", err)
		}
		due, err := time.Parse(time.RFC3339Nano, n.Payload)
		if err != nil {
			due = time.Time{} // unknown: wake anyway
		}
		wake(due)
	}
}
