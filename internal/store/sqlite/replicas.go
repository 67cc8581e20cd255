package sqlite

import (
	"context"
	"fmt"

	"aftersale/internal/store/storecodec"
)

// wClaimIdempotent inserts an idempotency marker unless the key exists.
const wClaimIdempotent = `INSERT INTO idempotency (key, response) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`

// ClaimIdempotent implements store.Tx. With one writer at a time the key is
// either free or committed by an earlier transaction.
func (t *wtx) ClaimIdempotent(ctx context.Context, key string, marker []byte) (bool, error) {
	res, err := t.tx.ExecContext(ctx, wClaimIdempotent, key, storecodec.Blob(marker))
	if err != nil {
		return false, fmt.Errorf("sqlite: claim idempotency key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: claim idempotency key: %w", err)
	}
	return n == 1, nil
}
