package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"aftersale/internal/apperr"
	"aftersale/internal/judgment"
	"aftersale/internal/store/storecodec"
)

// Statements of the service promises (R-PRM-1..6). Those with a ...Lock
// twin are read FOR UPDATE in Update.
const (
	qClaim        = `SELECT data FROM claims WHERE id = $1`
	qClaimLock    = qClaim + ` FOR UPDATE`
	qClaims       = `SELECT data FROM claims WHERE order_id = $1 ORDER BY filed_at, id`
	qCompensation = `SELECT data FROM compensation WHERE shop_id = $1 ORDER BY at, id`
	qDeposit      = `SELECT balance_fen FROM deposits WHERE shop_id = $1`
	qDepositLock  = qDeposit + ` FOR UPDATE`

	wClaim = `INSERT INTO claims (id, order_id, shop_id, filed_at, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id, shop_id = excluded.shop_id,
			filed_at = excluded.filed_at, data = excluded.data`
	wCompensation = `INSERT INTO compensation (id, shop_id, order_id, at, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO NOTHING`
	// A top-up creates the balance or adds to it; a payment only takes from
	// a balance that covers it, so no statement fails (a failed statement
	// would abort the transaction) and the CHECK constraint is the last guard.
	wDepositAdd = `INSERT INTO deposits (shop_id, balance_fen) VALUES ($1, $2)
		ON CONFLICT (shop_id) DO UPDATE SET balance_fen = deposits.balance_fen + excluded.balance_fen RETURNING balance_fen`
	wDepositTake = `UPDATE deposits SET balance_fen = balance_fen + $2
		WHERE shop_id = $1 AND balance_fen + $2 >= 0 RETURNING balance_fen`
)

// Claim implements store.PromiseReader. Inside Update the claim's row is
// locked until the transaction ends.
func (t *rtx) Claim(ctx context.Context, id string) (*judgment.Claim, error) {
	var c judgment.Claim
	if err := t.getJSON(ctx, t.pick(qClaim, qClaimLock), &c, "claim_id", "claim", id); err != nil {
		return nil, err
	}
	return &c, nil
}

// Claims implements store.PromiseReader.
func (t *rtx) Claims(ctx context.Context, orderID string) ([]judgment.Claim, error) {
	return listJSON[judgment.Claim](ctx, t, "claims", qClaims, orderID)
}

// Compensation implements store.PromiseReader.
func (t *rtx) Compensation(ctx context.Context, shopID string) ([]judgment.CompensationEntry, error) {
	return listJSON[judgment.CompensationEntry](ctx, t, "compensation", qCompensation, shopID)
}

// Deposit implements store.PromiseReader. Inside Update the balance's row
// (when there is one) is locked until the transaction ends.
func (t *rtx) Deposit(ctx context.Context, shopID string) (int64, error) {
	var v int64
	err := t.tx.QueryRow(ctx, t.pick(qDeposit, qDepositLock), shopID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: read deposit of %q: %w", shopID, err)
	}
	return v, nil
}

// PutClaim implements store.PromiseWriter.
func (t *wtx) PutClaim(ctx context.Context, c *judgment.Claim) error {
	data, err := storecodec.EncodeUTC(c)
	if err != nil {
		return fmt.Errorf("postgres: encode claim %q: %w", c.ID, err)
	}
	if _, err := t.tx.Exec(ctx, wClaim, c.ID, c.OrderID, c.ShopID, c.FiledAt, string(data)); err != nil {
		return fmt.Errorf("postgres: put claim %q: %w", c.ID, err)
	}
	return nil
}

// AppendCompensation implements store.PromiseWriter.
func (t *wtx) AppendCompensation(ctx context.Context, es []judgment.CompensationEntry) error {
	for i := range es {
		e := &es[i]
		data, err := storecodec.EncodeUTC(e)
		if err != nil {
			return fmt.Errorf("postgres: encode compensation %q: %w", e.ID, err)
		}
		tag, err := t.tx.Exec(ctx, wCompensation, e.ID, e.ShopID, e.OrderID, e.At, string(data))
		if err != nil {
			return fmt.Errorf("postgres: append compensation %q: %w", e.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.Conflict("compensation.exists", "", "compensation entry %s already exists", e.ID)
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
	err := t.tx.QueryRow(ctx, q, shopID, delta).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, apperr.Conflict("deposit.insufficient", "", "the deposit of shop %s does not cover %d fen", shopID, -delta)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: add to deposit of %q: %w", shopID, err)
	}
	return v, nil
}
