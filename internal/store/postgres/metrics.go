package postgres

import (
	"context"
	"fmt"
	"time"

	"aftersale/internal/store"
	"aftersale/internal/task"
)

// TaskCounts implements store.ReadTx.
func (t *rtx) TaskCounts(ctx context.Context) ([]store.TaskCount, error) {
	rows, err := t.tx.Query(ctx, `SELECT state, type, count(*) FROM tasks GROUP BY state, type ORDER BY state, type`)
	if err != nil {
		return nil, fmt.Errorf("postgres: count tasks: %w", err)
	}
	defer rows.Close()
	var out []store.TaskCount
	for rows.Next() {
		var c store.TaskCount
		var state, typ string
		var n int64
		if err := rows.Scan(&state, &typ, &n); err != nil {
			return nil, fmt.Errorf("postgres: count tasks: %w", err)
		}
		c.State, c.Type, c.N = task.State(state), task.Type(typ), int(n)
		out = append(out, c)
	}
	return out, rows.Err()
}

// TimersDue implements store.ReadTx (a range of the timers' due index).
func (t *rtx) TimersDue(ctx context.Context, now time.Time) (int, error) {
	var n int64
	if err := t.tx.QueryRow(ctx, `SELECT count(*) FROM timers WHERE due_at <= $1`, now.UTC()).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count due timers: %w", err)
	}
	return int(n), nil
}

// WebhookBacklog implements store.ReadTx.
func (t *rtx) WebhookBacklog(ctx context.Context) (pending, dead int, err error) {
	var p, d int64
	err = t.tx.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'),
		(SELECT count(*) FROM webhook_deliveries WHERE status = 'dead')`).Scan(&p, &d)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: count webhook deliveries: %w", err)
	}
	return int(p), int(d), nil
}
