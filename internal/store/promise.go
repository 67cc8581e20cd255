package store

import (
	"context"

	"aftersale/internal/judgment"
)

// PromiseReader reads service-promise claims, the compensation ledger and
// shops' deposits (R-PRM-1..6).
type PromiseReader interface {
	// Claim returns a claim; ENOTFOUND (field claim_id) when there is none.
	// Inside Update a store with several writers locks it until the end of
	// the transaction.
	Claim(ctx context.Context, id string) (*judgment.Claim, error)
	// Claims lists an order's claims by (filed_at, id).
	Claims(ctx context.Context, orderID string) ([]judgment.Claim, error)
	// Compensation lists a shop's compensation ledger by (at, id).
	Compensation(ctx context.Context, shopID string) ([]judgment.CompensationEntry, error)
	// Deposit returns a shop's deposit balance in fen (0 when it never had
	// one). Inside Update a store with several writers locks the balance
	// until the end of the transaction, so a read-then-add cannot race.
	Deposit(ctx context.Context, shopID string) (int64, error)
}

// PromiseWriter writes claims, compensation entries and deposits.
type PromiseWriter interface {
	// PutClaim stores a claim (upsert).
	PutClaim(ctx context.Context, c *judgment.Claim) error
	// AppendCompensation appends ledger entries; entries are never changed
	// or deleted (a reversal is an entry of its own). A repeated id is
	// ECONFLICT "compensation.exists".
	AppendCompensation(ctx context.Context, es []judgment.CompensationEntry) error
	// AddDeposit adds delta (negative to pay from it) to a shop's deposit and
	// returns the new balance. A change that would take the balance below 0
	// is ECONFLICT "deposit.insufficient" and changes nothing.
	AddDeposit(ctx context.Context, shopID string, delta int64) (int64, error)
}
