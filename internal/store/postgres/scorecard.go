package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"aftersale/internal/scorecard"
	"aftersale/internal/store/storecodec"
)

// CounterRange implements store.ReadTx: one range scan of the counters'
// primary key (COLLATE "C", byte order).
func (t *rtx) CounterRange(ctx context.Context, from, to string) (map[string]int64, error) {
	rows, err := t.tx.Query(ctx, `SELECT key, value FROM counters WHERE key >= $1 AND key <= $2`, from, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: read counters: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("postgres: read counters: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Takeover implements store.ReadTx. Inside Update it locks the shop's row
// (when there is one), so two replicas evaluating one shop take turns.
func (t *rtx) Takeover(ctx context.Context, shopID string) (scorecard.Takeover, error) {
	var data []byte
	q := t.pick(`SELECT data FROM takeovers WHERE shop_id = $1`, `SELECT data FROM takeovers WHERE shop_id = $1 FOR UPDATE`)
	err := t.tx.QueryRow(ctx, q, shopID).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return scorecard.Takeover{ShopID: shopID}, nil
	}
	if err != nil {
		return scorecard.Takeover{}, fmt.Errorf("postgres: read takeover %q: %w", shopID, err)
	}
	var to scorecard.Takeover
	if err := json.Unmarshal(data, &to); err != nil {
		return scorecard.Takeover{}, fmt.Errorf("postgres: decode takeover %q: %w", shopID, err)
	}
	return to, nil
}

// PutTakeover implements store.Tx.
func (t *wtx) PutTakeover(ctx context.Context, to scorecard.Takeover) error {
	data, err := storecodec.EncodeUTC(&to)
	if err != nil {
		return fmt.Errorf("postgres: encode takeover %q: %w", to.ShopID, err)
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO takeovers (shop_id, data) VALUES ($1, $2)
		ON CONFLICT (shop_id) DO UPDATE SET data = excluded.data`, to.ShopID, string(data)); err != nil {
		return fmt.Errorf("postgres: put takeover %q: %w", to.ShopID, err)
	}
	return nil
}
