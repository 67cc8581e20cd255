package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

func init() { register("TasksJSON", testTasksJSON) }

// testTasksJSON: for every filter, the raw list decodes to exactly what Tasks
// returns, in the same order; an unknown cursor is ENOTFOUND as for Tasks.
func testTasksJSON(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if l := get[[]json.RawMessage](t)(tx.TasksJSON(ctx, store.TaskFilter{})); len(l) != 0 {
			t.Errorf("TasksJSON on an empty store = %d items", len(l))
		}
	})
	loadTaskSet(t, s)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		for _, f := range append(filters, store.TaskFilter{ShopID: "shp_a", Limit: 2}) {
			want := get[[]task.Task](t)(tx.Tasks(ctx, f))
			raw := get[[]json.RawMessage](t)(tx.TasksJSON(ctx, f))
			got := make([]task.Task, len(raw))
			for i, r := range raw {
				if err := json.Unmarshal(r, &got[i]); err != nil {
					t.Fatalf("TasksJSON(%+v)[%d]: %v", f, i, err)
				}
			}
			if len(want) == 0 {
				want = []task.Task{}
			}
			equal(t, fmt.Sprintf("TasksJSON(%+v)", f), got, want)
		}
		_, err := tx.TasksJSON(ctx, store.TaskFilter{After: "tsk_none"})
		wantCode(t, "TasksJSON(after unknown)", err, apperr.ENOTFOUND)
	})
}
