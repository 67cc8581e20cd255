package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"aftersale/internal/scorecard"
	"aftersale/internal/store/storecodec"
)

// CounterRange implements store.ReadTx: one range scan of the counters'
// primary key (BINARY collation, byte order).
func (t *rtx) CounterRange(ctx context.Context, from, to string) (map[string]int64, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT key, value FROM counters WHERE key >= ? AND key <= ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read counters: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("sqlite: read counters: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Takeover implements store.ReadTx.
func (t *rtx) Takeover(ctx context.Context, shopID string) (scorecard.Takeover, error) {
	var data []byte
	err := t.tx.QueryRowContext(ctx, `SELECT data FROM takeovers WHERE shop_id = ?`, shopID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return scorecard.Takeover{ShopID: shopID}, nil
	}
	if err != nil {
		return scorecard.Takeover{}, fmt.Errorf("sqlite: read takeover %q: %w", shopID, err)
	}
	var to scorecard.Takeover
	if err := json.Unmarshal(data, &to); err != nil {
		return scorecard.Takeover{}, fmt.Errorf("sqlite: decode takeover %q: %w", shopID, err)
	}
	return to, nil
}

// PutTakeover implements store.Tx.
func (t *wtx) PutTakeover(ctx context.Context, to scorecard.Takeover) error {
	data, err := storecodec.EncodeUTC(&to)
	if err != nil {
		return fmt.Errorf("sqlite: encode takeover %q: %w", to.ShopID, err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO takeovers (shop_id, data) VALUES (?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET data = excluded.data`, to.ShopID, string(data)); err != nil {
		return fmt.Errorf("sqlite: put takeover %q: %w", to.ShopID, err)
	}
	return nil
}
