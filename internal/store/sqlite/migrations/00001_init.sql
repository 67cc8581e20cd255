-- Initial schema. Times are TEXT in a fixed-width UTC format
-- (2006-01-02T15:04:05.000000000Z) so that they sort as strings and
-- round-trip to the nanosecond. Nested structures live in JSON columns; the
-- columns beside them are what queries filter and sort on.

-- +goose Up
CREATE TABLE facts (
    id      TEXT PRIMARY KEY,
    type    TEXT NOT NULL,
    at      TEXT NOT NULL,
    payload BLOB
);

CREATE TABLE shops (
    id       TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    industry TEXT NOT NULL,
    data     TEXT NOT NULL
);

CREATE TABLE accounts (
    id      TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX accounts_shop ON accounts (shop_id, id);

CREATE TABLE orders (
    id         TEXT PRIMARY KEY,
    shop_id    TEXT NOT NULL,
    buyer_id   TEXT NOT NULL,
    urged_at   TEXT,
    shipped_at TEXT,
    data       TEXT NOT NULL
);
-- R-URG-3's 催发货订单 filter: urged and not shipped, by urge time.
CREATE INDEX orders_urged ON orders (shop_id, urged_at, id)
    WHERE urged_at IS NOT NULL AND shipped_at IS NULL;

CREATE TABLE tasks (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL,
    shop_id    TEXT NOT NULL,
    buyer_id   TEXT NOT NULL,
    type       TEXT NOT NULL,
    state      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    due_at     TEXT,
    rev        INTEGER NOT NULL,
    data       TEXT NOT NULL
);
-- At most one open task per (order, type).
CREATE UNIQUE INDEX tasks_open ON tasks (order_id, type) WHERE state <> 'completed';
CREATE INDEX tasks_order ON tasks (order_id, created_at, id);
CREATE INDEX tasks_shop ON tasks (shop_id, state, created_at, id);
CREATE INDEX tasks_buyer ON tasks (buyer_id, created_at, id);
CREATE INDEX tasks_state ON tasks (state, created_at, id); -- agents' queues across shops
CREATE INDEX tasks_created ON tasks (created_at, id);
CREATE INDEX tasks_due ON tasks (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE events (
    seq      INTEGER PRIMARY KEY, -- events are never deleted, so rowids only grow
    stream   TEXT NOT NULL,
    task_id  TEXT NOT NULL,
    order_id TEXT NOT NULL,
    shop_id  TEXT NOT NULL,
    at       TEXT NOT NULL,
    body     TEXT NOT NULL, -- the event as JSON, without seq and data
    data     BLOB           -- Event.Data, byte for byte
);
CREATE INDEX events_stream ON events (stream, seq);

CREATE TABLE timers (
    subject        TEXT NOT NULL,
    kind           TEXT NOT NULL,
    due_at         TEXT NOT NULL,
    set_at         TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    PRIMARY KEY (subject, kind)
);
CREATE INDEX timers_due ON timers (due_at, subject, kind);

CREATE TABLE firings (
    id       INTEGER PRIMARY KEY,
    subject  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    due_at   TEXT NOT NULL,
    fired_at TEXT NOT NULL,
    late_ns  INTEGER NOT NULL
);

CREATE TABLE outbox (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind      TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status    TEXT NOT NULL,
    at        TEXT NOT NULL,
    body      TEXT NOT NULL, -- the message as JSON, without seq and payload
    payload   BLOB           -- Message.Payload, byte for byte
);

CREATE TABLE counters (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE complaints (
    id       TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    data     TEXT NOT NULL
);
CREATE INDEX complaints_order ON complaints (order_id, filed_at, id);

CREATE TABLE idempotency (
    key      TEXT PRIMARY KEY,
    response BLOB
);

-- +goose Down
DROP TABLE idempotency;
DROP TABLE complaints;
DROP TABLE counters;
DROP TABLE outbox;
DROP TABLE firings;
DROP TABLE timers;
DROP TABLE events;
DROP TABLE tasks;
DROP TABLE orders;
DROP TABLE accounts;
DROP TABLE shops;
DROP TABLE facts;
