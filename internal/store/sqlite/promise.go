package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"aftersale/internal/apperr"
	"aftersale/internal/judgment"
	"aftersale/internal/store/storecodec"
)

// Statements of the service promises (R-PRM-1..6). They are few and run
// once or twice per claim, so they are not in the prepared set.
const (
	qClaim        = `SELECT data FROM claims WHERE id = ?`
	qClaims       = `SELECT data FROM claims WHERE order_id = ? ORDER BY filed_at, id`
	qCompensation = `SELECT data FROM compensation WHERE shop_id = ? ORDER BY at, id`
	qDeposit      = `SELECT balance_fen FROM deposits WHERE shop_id = ?`

	wClaim = `INSERT INTO claims (id, order_id, shop_id, filed_at, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id, shop_id = excluded.shop_id,
			filed_at = excluded.filed_at, data = excluded.data`
	wCompensation = `INSERT INTO compensation (id, shop_id, order_id, at, data) VALUES (?, ?, ?, ?, ?)`
	// A top-up creates the balance or adds to it; a payment only takes from
	// a balance that covers it (the CHECK constraint is the last guard).
	wDepositAdd = `INSERT INTO deposits (shop_id, balance_fen) VALUES (?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET balance_fen = balance_fen + excluded.balance_fen RETURNING balance_fen`
	wDepositTake = `UPDATE deposits SET balance_fen = balance_fen + ?2
		WHERE shop_id = ?1 AND balance_fen + ?2 >= 0 RETURNING balance_fen`
)

// Claim implements store.PromiseReader. (SQLite has one writer: no row lock is needed.)
func (t *rtx) Claim(ctx context.Context, id string) (*judgment.Claim, error) {
	rows, err := t.tx.QueryContext(ctx, qClaim, id)
	cs, err := listJSON[judgment.Claim](rows, err, "claim")
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, apperr.NotFound("claim_id", "claim %q not found", id)
	}
	return &cs[0], nil
}

// Claims implements store.PromiseReader.
func (t *rtx) Claims(ctx context.Context, orderID string) ([]judgment.Claim, error) {
	rows, err := t.tx.QueryContext(ctx, qClaims, orderID)
	return listJSON[judgment.Claim](rows, err, "claims")
}

// Compensation implements store.PromiseReader.
func (t *rtx) Compensation(ctx context.Context, shopID string) ([]judgment.CompensationEntry, error) {
	rows, err := t.tx.QueryContext(ctx, qCompensation, shopID)
	return listJSON[judgment.CompensationEntry](rows, err, "compensation")
}

// Deposit implements store.PromiseReader.
func (t *rtx) Deposit(ctx context.Context, shopID string) (int64, error) {
	var v int64
	err := t.tx.QueryRowContext(ctx, qDeposit, shopID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: read deposit of %q: %w", shopID, err)
	}
	return v, nil
}

// PutClaim implements store.PromiseWriter.
func (t *wtx) PutClaim(ctx context.Context, c *judgment.Claim) error {
	data, err := storecodec.EncodeUTC(c)
	if err != nil {
		return fmt.Errorf("sqlite: encode claim %q: %w", c.ID, err)
	}
	if _, err := t.tx.ExecContext(ctx, wClaim, c.ID, c.OrderID, c.ShopID, fmtTime(c.FiledAt), string(data)); err != nil {
		return fmt.Errorf("sqlite: put claim %q: %w", c.ID, err)
	}
	return nil
}

// AppendCompensation implements store.PromiseWriter.
func (t *wtx) AppendCompensation(ctx context.Context, es []judgment.CompensationEntry) error {
	for i := range es {
		e := &es[i]
		data, err := storecodec.EncodeUTC(e)
		if err != nil {
			return fmt.Errorf("sqlite: encode compensation %q: %w", e.ID, err)
		}
		_, err = t.tx.ExecContext(ctx, wCompensation, e.ID, e.ShopID, e.OrderID, fmtTime(e.At), string(data))
		if constraintCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return apperr.Conflict("compensation.exists", "", "compensation entry %s already exists", e.ID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: append compensation %q: %w", e.ID, err)
		}
	}
	return nil
}

// AddDeposit implements store.PromiseWriter.
func (t *wtx) AddDeposit(ctx context.Context, shopID string, delta int64) (int64, error) {
	q := wDepositAdd
	if delta < 0 {
		q = wDepositTake
	}
	var v int64
	err := t.tx.QueryRowContext(ctx, q, shopID, delta).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || constraintCode(err) == sqlite3.SQLITE_CONSTRAINT_CHECK {
		return 0, apperr.Conflict("deposit.insufficient", "", "the deposit of shop %s does not cover %d fen", shopID, -delta)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: add to deposit of %q: %w", shopID, err)
	}
	return v, nil
}
