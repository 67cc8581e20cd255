package store

import (
	"context"
	"time"

	"aftersale/internal/task"
)

// EvidenceReader reads evidence items and attachments (R-EVD-1..4).
type EvidenceReader interface {
	// EvidenceItems lists a task's evidence items, ordered by (at, id).
	EvidenceItems(ctx context.Context, taskID string) ([]task.EvidenceItem, error)
	// Attachment returns an attachment's metadata; ENOTFOUND (field
	// "attachment_id") when there is none.
	Attachment(ctx context.Context, id string) (*task.Attachment, error)
	// AttachmentBytes returns the stored bytes with this SHA-256 (hex);
	// ENOTFOUND (field "sha256") when there are none.
	AttachmentBytes(ctx context.Context, sha256 string) ([]byte, error)
	// Attachments lists a task's attachments, those of evidence items and
	// those not attached yet, ordered by id (the upload quotas count them).
	Attachments(ctx context.Context, taskID string) ([]task.Attachment, error)
}

// EvidenceWriter stores evidence items and attachments.
type EvidenceWriter interface {
	// PutEvidenceItem stores an item, replacing the one with its id (an
	// agent's mark changes an item's finding, never what was given).
	PutEvidenceItem(ctx context.Context, it *task.EvidenceItem) error
	// PutAttachment stores an attachment's metadata, replacing the one with
	// its id (attaching it to an item sets ItemID).
	PutAttachment(ctx context.Context, a *task.Attachment) error
	// PutAttachmentBytes stores bytes under their SHA-256 (hex). Content is
	// addressed by its hash and never overwritten: storing the same hash
	// again keeps the first copy.
	PutAttachmentBytes(ctx context.Context, sha256 string, data []byte) error
	// DeleteUnreferencedAttachments deletes at most limit attachments that
	// belong to no evidence item and were uploaded before before, oldest
	// first (by upload time, then id), and the bytes no attachment left
	// refers to; it returns the attachments deleted. An attachment bound to
	// an item is never deleted, whatever its age.
	DeleteUnreferencedAttachments(ctx context.Context, before time.Time, limit int) ([]task.Attachment, error)
}
