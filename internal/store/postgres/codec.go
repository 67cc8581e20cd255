package postgres

// The JSON encoding shared with the SQLite store is in internal/store/storecodec.

import (
	"bytes"
	"time"
)

// nullTime is a nullable timestamptz parameter.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// timePtr is a copy of a nullable time, for a queued row.
func timePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// blob is a copy of a nullable byte column for a queued row: nil when empty
// (NULL), as storecodec.Blob stores it.
func blob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}
