-- Live delivery: webhook subscriptions, their deliveries (claimed with a
-- lease, retried, dead-lettered) and named consumer cursors over the outbox
-- and the event log.

-- +goose Up
CREATE TABLE webhook_subscriptions (
    id   text COLLATE "C" PRIMARY KEY,
    data text NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              text COLLATE "C" PRIMARY KEY,
    subscription_id text COLLATE "C" NOT NULL,
    status          text NOT NULL,
    next_at         timestamptz NOT NULL,
    lease_owner     text,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL,
    data            text NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at, id);
CREATE INDEX webhook_deliveries_sub ON webhook_deliveries (subscription_id, created_at, id);

CREATE TABLE cursors (
    name text COLLATE "C" PRIMARY KEY,
    seq  bigint NOT NULL
);

-- +goose Down
DROP TABLE cursors;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
