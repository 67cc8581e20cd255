-- Live delivery: webhook subscriptions, their deliveries (claimed with a
-- lease, retried, dead-lettered) and named consumer cursors over the outbox
-- and the event log.

-- +goose Up
CREATE TABLE webhook_subscriptions (
    id   TEXT PRIMARY KEY,
    data TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    status          TEXT NOT NULL,
    next_at         TEXT NOT NULL,
    lease_owner     TEXT,
    lease_until     TEXT,
    created_at      TEXT NOT NULL,
    data            TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at, id);
CREATE INDEX webhook_deliveries_sub ON webhook_deliveries (subscription_id, created_at, id);

CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
);

-- +goose Down
DROP TABLE cursors;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
