package postgres

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
	rows, err := t.tx.Query(ctx, `SELECT seq, data FROM policy_records WHERE seq > $1 ORDER BY seq`, after)
	if err != nil {
		return nil, fmt.Errorf("postgres: read policy records: %w", err)
	}
	defer rows.Close()
	var out []store.PolicyRecord
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, fmt.Errorf("postgres: read policy records: %w", err)
		}
		var r store.PolicyRecord
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("postgres: decode policy record %d: %w", seq, err)
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
		return fmt.Errorf("postgres: encode policy record: %w", err)
	}
	if err := t.tx.QueryRow(ctx, `INSERT INTO policy_records (data) VALUES ($1) RETURNING seq`, string(data)).Scan(&r.Seq); err != nil {
		return fmt.Errorf("postgres: append policy record: %w", err)
	}
	return nil
}

// PurgeIdempotent implements store.Tx.
func (t *wtx) PurgeIdempotent(ctx context.Context, before time.Time) (int64, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM idempotency WHERE created_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
