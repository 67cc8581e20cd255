-- The violation points ledger (违规扣分): append-only; a reversal is a new
-- entry pointing at the one it reverses (R-INV-3, R-COL-6).

-- +goose Up
CREATE TABLE points (
    id      text COLLATE "C" PRIMARY KEY,
    shop_id text COLLATE "C" NOT NULL,
    at      timestamptz NOT NULL,
    data    text NOT NULL
);
CREATE INDEX points_shop ON points (shop_id, at, id);

-- +goose Down
DROP TABLE points;
