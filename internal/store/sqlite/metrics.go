package sqlite

import (
	"context"
	"fmt"
	"time"

	"aftersale/internal/store"
)

// TaskCounts implements store.ReadTx.
func (t *rtx) TaskCounts(ctx context.Context) ([]store.TaskCount, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT state, type, count(*) FROM tasks GROUP BY state, type ORDER BY state, type`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count tasks: %w", err)
	}
	defer rows.Close()
	var out []store.TaskCount
	for rows.Next() {
		var c store.TaskCount
		if err := rows.Scan((*string)(&c.State), (*string)(&c.Type), &c.N); err != nil {
			return nil, fmt.Errorf("sqlite: count tasks: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// TimersDue implements store.ReadTx (a range of the timers_due index).
func (t *rtx) TimersDue(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM timers WHERE due_at <= ?`, fmtTime(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count due timers: %w", err)
	}
	return n, nil
}

// WebhookBacklog implements store.ReadTx.
func (t *rtx) WebhookBacklog(ctx context.Context) (pending, dead int, err error) {
	err = t.tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'),
		(SELECT count(*) FROM webhook_deliveries WHERE status = 'dead')`).Scan(&pending, &dead)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: count webhook deliveries: %w", err)
	}
	return pending, dead, nil
}
