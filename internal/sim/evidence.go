package sim

import (
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// markOf resolves a mark step's item: an id, or $N for the task's Nth
// evidence item (in the order they were given).
func (r *runner) markOf(taskID string, m *task.EvidenceMark) (*task.EvidenceMark, error) {
	out := *m
	var ids []string
	err := r.eng.Store().View(r.ctx, func(tx store.ReadTx) error {
		items, err := tx.EvidenceItems(r.ctx, taskID)
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if out.ItemID, err = r.ref(m.ItemID, ids, "evidence item"); err != nil {
		return nil, err
	}
	return &out, nil
}

// expectEvidence checks evidence_items and evidence_default on a task.
func (r *runner) expectEvidence(tx store.ReadTx, t *task.Task, e *Expect, fail func(string, ...any)) error {
	if e.EvidenceItems != nil {
		items, err := tx.EvidenceItems(r.ctx, t.ID)
		if err != nil {
			return err
		}
		if len(items) != *e.EvidenceItems {
			fail("task %s has %d evidence items, want %d", t.ID, len(items), *e.EvidenceItems)
		}
	}
	if e.EvidenceDefault != nil {
		got := ""
		if t.Evidence != nil {
			got = t.Evidence.Default
		}
		if got != *e.EvidenceDefault {
			fail("task %s evidence_default %q, want %q", t.ID, got, *e.EvidenceDefault)
		}
	}
	return nil
}
