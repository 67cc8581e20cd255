package storecodec

import (
	"cmp"
	"slices"
	"time"

	"aftersale/internal/task"
)

// DueUnreferenced picks, from attachments that belong to no evidence item,
// those uploaded before before, oldest first (upload time, then id), at
// most limit (limit <= 0: none). Both stores choose the attachments their
// sweep deletes with it, so they delete the same ones.
func DueUnreferenced(all []task.Attachment, before time.Time, limit int) []task.Attachment {
	var due []task.Attachment
	for _, a := range all {
		if a.ItemID == "" && a.At.Before(before) {
			due = append(due, a)
		}
	}
	slices.SortFunc(due, func(a, b task.Attachment) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if limit <= 0 {
		return nil
	}
	if len(due) > limit {
		due = due[:limit]
	}
	return due
}
