-- Service promises (保障服务, R-PRM-1..6): buyers' claims, the per-shop
-- compensation ledger (赔付; append-only, a reversal is an entry of its own)
-- and each shop's deposit (保证金) balance, which never goes below 0.

-- +goose Up
CREATE TABLE claims (
    id       text COLLATE "C" PRIMARY KEY,
    order_id text COLLATE "C" NOT NULL,
    shop_id  text COLLATE "C" NOT NULL,
    filed_at timestamptz NOT NULL,
    data     text NOT NULL
);
CREATE INDEX claims_order ON claims (order_id, filed_at, id);

CREATE TABLE compensation (
    id       text COLLATE "C" PRIMARY KEY,
    shop_id  text COLLATE "C" NOT NULL,
    order_id text COLLATE "C" NOT NULL,
    at       timestamptz NOT NULL,
    data     text NOT NULL
);
CREATE INDEX compensation_shop ON compensation (shop_id, at, id);

CREATE TABLE deposits (
    shop_id     text COLLATE "C" PRIMARY KEY,
    balance_fen bigint NOT NULL CHECK (balance_fen >= 0)
);

-- +goose Down
DROP TABLE deposits;
DROP TABLE compensation;
DROP TABLE claims;
