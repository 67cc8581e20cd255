-- The violation points ledger (违规扣分): append-only; a reversal is a new
-- entry pointing at the one it reverses (R-INV-3, R-COL-6).

-- +goose Up
CREATE TABLE points (
    id      TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    at      TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX points_shop ON points (shop_id, at, id);

-- +goose Down
DROP TABLE points;
