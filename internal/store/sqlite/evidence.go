package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/store/storecodec"
	"aftersale/internal/task"
)

// Evidence statements (R-EVD-1..4). They are few and run on the
// transaction directly rather than from the prepared-statement table.
const (
	sqlEvidenceItems   = `SELECT data FROM evidence_items WHERE task_id = $1 ORDER BY at, id`
	sqlAttachment      = `SELECT data FROM evidence_attachments WHERE id = $1`
	sqlAttachmentBytes = `SELECT bytes FROM evidence_blobs WHERE sha256 = $1`
	sqlPutItem         = `INSERT INTO evidence_items (id, task_id, at, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET task_id = excluded.task_id, at = excluded.at, data = excluded.data`
	sqlPutAttachment = `INSERT INTO evidence_attachments (id, task_id, sha256, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET task_id = excluded.task_id, sha256 = excluded.sha256, data = excluded.data`
	sqlPutBytes = `INSERT INTO evidence_blobs (sha256, size, bytes) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING`
	// The attachments of a task (the upload quotas), and those of no item
	// (the sweep of unreferenced uploads: an attachment's item and upload
	// time are in its JSON).
	sqlAttachments   = `SELECT data FROM evidence_attachments WHERE task_id = $1 ORDER BY id`
	sqlUnreferenced  = `SELECT data FROM evidence_attachments WHERE json_extract(data, '$.item_id') IS NULL`
	sqlDeleteUnref   = `DELETE FROM evidence_attachments WHERE id = $1 AND json_extract(data, '$.item_id') IS NULL`
	sqlDeleteOrphans = `DELETE FROM evidence_blobs WHERE sha256 IN (SELECT value FROM json_each($1))
		AND sha256 NOT IN (SELECT sha256 FROM evidence_attachments WHERE sha256 IN (SELECT value FROM json_each($1)))`
)

// Attachments implements store.ReadTx.
func (t *rtx) Attachments(ctx context.Context, taskID string) ([]task.Attachment, error) {
	rows, err := t.tx.QueryContext(ctx, sqlAttachments, taskID)
	return listJSON[task.Attachment](rows, err, "attachments")
}

// DeleteUnreferencedAttachments implements store.Tx.
func (t *wtx) DeleteUnreferencedAttachments(ctx context.Context, before time.Time, limit int) ([]task.Attachment, error) {
	rows, err := t.tx.QueryContext(ctx, sqlUnreferenced)
	all, err := listJSON[task.Attachment](rows, err, "unreferenced attachments")
	if err != nil {
		return nil, err
	}
	due := storecodec.DueUnreferenced(all, before, limit)
	var out []task.Attachment
	var shas []string
	for _, a := range due {
		res, err := t.tx.ExecContext(ctx, sqlDeleteUnref, a.ID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: delete attachment %q: %w", a.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = append(out, a)
			shas = append(shas, a.SHA256)
		}
	}
	if len(shas) > 0 {
		ids, _ := json.Marshal(shas)
		if _, err := t.tx.ExecContext(ctx, sqlDeleteOrphans, string(ids)); err != nil {
			return nil, fmt.Errorf("sqlite: delete unreferenced attachment bytes: %w", err)
		}
	}
	return out, nil
}

// EvidenceItems implements store.ReadTx.
func (t *rtx) EvidenceItems(ctx context.Context, taskID string) ([]task.EvidenceItem, error) {
	rows, err := t.tx.QueryContext(ctx, sqlEvidenceItems, taskID)
	return listJSON[task.EvidenceItem](rows, err, "evidence items")
}

// Attachment implements store.ReadTx.
func (t *rtx) Attachment(ctx context.Context, id string) (*task.Attachment, error) {
	var data []byte
	err := t.tx.QueryRowContext(ctx, sqlAttachment, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("attachment_id", "attachment %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read attachment %q: %w", id, err)
	}
	var a task.Attachment
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("sqlite: decode attachment %q: %w", id, err)
	}
	return &a, nil
}

// AttachmentBytes implements store.ReadTx.
func (t *rtx) AttachmentBytes(ctx context.Context, sha string) ([]byte, error) {
	var b []byte
	err := t.tx.QueryRowContext(ctx, sqlAttachmentBytes, sha).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("sha256", "no attachment bytes with SHA-256 %s", sha)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read attachment bytes: %w", err)
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
		return fmt.Errorf("sqlite: encode evidence item %q: %w", it.ID, err)
	}
	if _, err := t.tx.ExecContext(ctx, sqlPutItem, it.ID, it.TaskID, fmtTime(it.At), string(data)); err != nil {
		return fmt.Errorf("sqlite: put evidence item %q: %w", it.ID, err)
	}
	return nil
}

// PutAttachment implements store.Tx.
func (t *wtx) PutAttachment(ctx context.Context, a *task.Attachment) error {
	data, err := storecodec.EncodeUTC(a)
	if err != nil {
		return fmt.Errorf("sqlite: encode attachment %q: %w", a.ID, err)
	}
	if _, err := t.tx.ExecContext(ctx, sqlPutAttachment, a.ID, a.TaskID, a.SHA256, string(data)); err != nil {
		return fmt.Errorf("sqlite: put attachment %q: %w", a.ID, err)
	}
	return nil
}

// PutAttachmentBytes implements store.Tx.
func (t *wtx) PutAttachmentBytes(ctx context.Context, sha string, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	if _, err := t.tx.ExecContext(ctx, sqlPutBytes, sha, len(data), data); err != nil {
		return fmt.Errorf("sqlite: put attachment bytes: %w", err)
	}
	return nil
}
