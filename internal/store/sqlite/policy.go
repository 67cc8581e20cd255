package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"aftersale/internal/store"
	"aftersale/internal/store/storecodec"
)

// PolicyRecords implements store.ReadTx.
func (t *rtx) PolicyRecords(ctx context.Context, after int64) ([]store.PolicyRecord, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT seq, data FROM policy_records WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read policy records: %w", err)
	}
	defer rows.Close()
	var out []store.PolicyRecord
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, fmt.Errorf("sqlite: read policy records: %w", err)
		}
		var r store.PolicyRecord
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("sqlite: decode policy record %d: %w", seq, err)
		}
		r.Seq = seq
		out = append(out, r)
	}
	return out, rows.Err()
}

// AppendPolicyRecord implements store.Tx.
func (t *wtx) AppendPolicyRecord(ctx context.Context, r *store.PolicyRecord) error {
	data, err := storecodec.EncodeUTC(r)
	if err != nil {
		return fmt.Errorf("sqlite: encode policy record: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO policy_records (data) VALUES (?)`, string(data))
	if err != nil {
		return fmt.Errorf("sqlite: append policy record: %w", err)
	}
	if r.Seq, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: append policy record: %w", err)
	}
	return nil
}

// PurgeIdempotent implements store.Tx.
func (t *wtx) PurgeIdempotent(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM idempotency WHERE created_at < ?`, before.UTC().Format("2006-01-02T15:04:05.000Z"))
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge idempotency keys: %w", err)
	}
	return res.RowsAffected()
}
