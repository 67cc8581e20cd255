package store

import (
	"context"
	"time"

	"aftersale/internal/task"
)

// TaskCount is how many tasks are in one state of one type.
type TaskCount struct {
	State task.State
	Type  task.Type
	N     int
}

// MetricsReader answers the service's gauges (/metrics) with counting
// queries: nothing is loaded but the counts.
type MetricsReader interface {
	// TaskCounts counts tasks by (state, type), ordered by state then type;
	// pairs with no task are left out.
	TaskCounts(ctx context.Context) ([]TaskCount, error)
	// TimersDue counts the timers due at or before now.
	TimersDue(ctx context.Context, now time.Time) (int, error)
	// WebhookBacklog counts pending webhook deliveries and dead letters.
	WebhookBacklog(ctx context.Context) (pending, dead int, err error)
}
