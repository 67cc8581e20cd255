package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"aftersale/internal/apperr"
	"aftersale/internal/store/storecodec"
	"aftersale/internal/task"
)

// Evidence statements (R-EVD-1..4).
const (
	qEvidenceItems   = `SELECT data FROM evidence_items WHERE task_id = $1 ORDER BY at, id`
	qAttachment      = `SELECT data FROM evidence_attachments WHERE id = $1`
	qAttachmentLock  = qAttachment + ` FOR UPDATE`
	qAttachmentBytes = `SELECT bytes FROM evidence_blobs WHERE sha256 = $1`
	wPutItem         = `INSERT INTO evidence_items (id, task_id, at, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET task_id = excluded.task_id, at = excluded.at, data = excluded.data`
	wPutAttachment = `INSERT INTO evidence_attachments (id, task_id, sha256, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET task_id = excluded.task_id, sha256 = excluded.sha256, data = excluded.data`
	wPutBytes = `INSERT INTO evidence_blobs (sha256, size, bytes) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING`
	// The attachments of a task (the upload quotas), and those of no item
	// (the sweep of unreferenced uploads: an attachment's item and upload
	// time are in its JSON).
	qAttachments  = `SELECT data FROM evidence_attachments WHERE task_id = $1 ORDER BY id`
	qUnreferenced = `SELECT data FROM evidence_attachments WHERE (data::jsonb ->> 'item_id') IS NULL`
	wDeleteUnref  = `DELETE FROM evidence_attachments WHERE id = ANY($1) AND (data::jsonb ->> 'item_id') IS NULL RETURNING data`
	wDeleteOrphan = `DELETE FROM evidence_blobs b WHERE b.sha256 = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM evidence_attachments a WHERE a.sha256 = b.sha256)`
)

// Attachments implements store.ReadTx.
func (t *rtx) Attachments(ctx context.Context, taskID string) ([]task.Attachment, error) {
	return listJSON[task.Attachment](ctx, t, "attachments", qAttachments, taskID)
}

// DeleteUnreferencedAttachments implements store.Tx.
func (t *wtx) DeleteUnreferencedAttachments(ctx context.Context, before time.Time, limit int) ([]task.Attachment, error) {
	all, err := listJSON[task.Attachment](ctx, &t.rtx, "unreferenced attachments", qUnreferenced)
	if err != nil {
		return nil, err
	}
	due := storecodec.DueUnreferenced(all, before, limit)
	if len(due) == 0 {
		return nil, nil
	}
	ids := make([]string, len(due))
	for i, a := range due {
		ids[i] = a.ID
	}
	// Deleted under the item check again: an attachment bound to an item
	// since it was read stays.
	gone, err := listJSON[task.Attachment](ctx, &t.rtx, "deleted attachments", wDeleteUnref, ids)
	if err != nil {
		return nil, err
	}
	out := make([]task.Attachment, 0, len(gone))
	shas := make([]string, 0, len(gone))
	for _, a := range due { // in the order chosen
		for _, g := range gone {
			if g.ID == a.ID {
				out = append(out, a)
				shas = append(shas, a.SHA256)
			}
		}
	}
	if len(shas) > 0 {
		if _, err := t.tx.Exec(ctx, wDeleteOrphan, shas); err != nil {
			return nil, fmt.Errorf("postgres: delete unreferenced attachment bytes: %w", err)
		}
	}
	return out, nil
}

// EvidenceItems implements store.ReadTx.
func (t *rtx) EvidenceItems(ctx context.Context, taskID string) ([]task.EvidenceItem, error) {
	return listJSON[task.EvidenceItem](ctx, t, "evidence items", qEvidenceItems, taskID)
}

// Attachment implements store.ReadTx. Inside Update it locks the row, as
// attaching it to an item writes it back.
func (t *rtx) Attachment(ctx context.Context, id string) (*task.Attachment, error) {
	var a task.Attachment
	if err := t.getJSON(ctx, t.pick(qAttachment, qAttachmentLock), &a, "attachment_id", "attachment", id); err != nil {
		return nil, err
	}
	return &a, nil
}

// AttachmentBytes implements store.ReadTx.
func (t *rtx) AttachmentBytes(ctx context.Context, sha string) ([]byte, error) {
	var b []byte
	err := t.tx.QueryRow(ctx, qAttachmentBytes, sha).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.NotFound("sha256", "no attachment bytes with SHA-256 %s", sha)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read attachment bytes: %w", err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// PutEvidenceItem implements store.Tx.
func (t *wtx) PutEvidenceItem(ctx context.Context, it *task.EvidenceItem) error {
	data, err := storecodec.EncodeUTC(it)
	if err != nil {
		return fmt.Errorf("postgres: encode evidence item %q: %w", it.ID, err)
	}
	if _, err := t.tx.Exec(ctx, wPutItem, it.ID, it.TaskID, it.At, string(data)); err != nil {
		return fmt.Errorf("postgres: put evidence item %q: %w", it.ID, err)
	}
	return nil
}

// PutAttachment implements store.Tx.
func (t *wtx) PutAttachment(ctx context.Context, a *task.Attachment) error {
	data, err := storecodec.EncodeUTC(a)
	if err != nil {
		return fmt.Errorf("postgres: encode attachment %q: %w", a.ID, err)
	}
	if _, err := t.tx.Exec(ctx, wPutAttachment, a.ID, a.TaskID, a.SHA256, string(data)); err != nil {
		return fmt.Errorf("postgres: put attachment %q: %w", a.ID, err)
	}
	return nil
}

// PutAttachmentBytes implements store.Tx.
func (t *wtx) PutAttachmentBytes(ctx context.Context, sha string, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	if _, err := t.tx.Exec(ctx, wPutBytes, sha, int64(len(data)), data); err != nil {
		return fmt.Errorf("postgres: put attachment bytes: %w", err)
	}
	return nil
}
