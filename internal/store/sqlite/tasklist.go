package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"aftersale/internal/store"
)

// TasksJSON implements store.ReadTx.
func (t *rtx) TasksJSON(ctx context.Context, f store.TaskFilter) ([]json.RawMessage, error) {
	q, args, err := t.tasksQuery(ctx, f)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tasks: %w", err)
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var b []byte // a copy: valid after Next
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("sqlite: list tasks: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tasks: %w", err)
	}
	return out, nil
}
