package store

import (
	"context"
	"encoding/json"
)

// TaskJSONReader reads task lists as stored, for a reader that only passes
// them on (the API's task list): no decoding into task.Task and encoding
// again.
type TaskJSONReader interface {
	// TasksJSON is Tasks as each task's JSON (task.Task's encoding, times
	// in UTC), in the same order, with the same filter and errors. Object
	// key order may differ between stores.
	TasksJSON(ctx context.Context, f TaskFilter) ([]json.RawMessage, error)
}
