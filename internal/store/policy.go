package store

import (
	"context"
	"time"
)

// PolicyRecord is a policy version file an operator loaded at run time: its
// YAML source as given, kept so that every replica, and the process after a
// restart, loads the same versions on top of the defaults.
type PolicyRecord struct {
	// Seq orders the records (the order they were loaded in).
	Seq      int64     `json:"seq"`
	Platform string    `json:"platform"`
	Name     string    `json:"name"`
	Source   string    `json:"source"`
	LoadedAt time.Time `json:"loaded_at"`
	LoadedBy string    `json:"loaded_by"`
}

// PolicyReader reads the operator-loaded policy versions.
type PolicyReader interface {
	// PolicyRecords returns the records with Seq > after, in order.
	PolicyRecords(ctx context.Context, after int64) ([]PolicyRecord, error)
}

// PolicyWriter stores operator-loaded policy versions.
type PolicyWriter interface {
	// AppendPolicyRecord stores a record and sets its Seq.
	AppendPolicyRecord(ctx context.Context, r *PolicyRecord) error
}
