package postgres

import (
	"context"
	"fmt"

	"aftersale/internal/store/storecodec"
)

// wClaimIdempotent inserts an idempotency marker unless the key exists. At
// READ COMMITTED, an insert that meets a row another transaction inserted
// and has not committed waits for it, then does nothing if it committed:
// two replicas claiming one key at once get one true and one false.
const wClaimIdempotent = `INSERT INTO idempotency (key, response) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`

// ClaimIdempotent implements store.Tx.
func (t *wtx) ClaimIdempotent(ctx context.Context, key string, marker []byte) (bool, error) {
	tag, err := t.tx.Exec(ctx, wClaimIdempotent, key, storecodec.Blob(marker))
	if err != nil {
		return false, fmt.Errorf("postgres: claim idempotency key: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
