package postgres

// The JSON encoding shared with the SQLite store is in internal/store/storecodec.

import (
	"time"
)

// nullTime is a nullable timestamptz parameter.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
