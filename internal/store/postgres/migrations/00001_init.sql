-- Initial schema (PostgreSQL). The same tables as the SQLite store, with
-- PostgreSQL types:
--   * times are timestamptz (UTC instants, microsecond precision);
--   * ids and other sorted keys are text COLLATE "C", so ORDER BY compares
--     bytes, exactly as SQLite's default BINARY collation does;
--   * projections (data) and event/message bodies are JSON kept as text: the
--     exact encoding the store wrote, cheaper than jsonb to write and read,
--     and able to hold any string the domain holds (jsonb refuses \u0000);
--     cast to jsonb for ad-hoc queries (data::jsonb ->> 'state');
--   * Event.Data, Message.Payload, fact payloads and idempotent responses are
--     bytea: they must come back byte for byte, whatever the bytes.
-- The columns beside the JSON are what queries filter and sort on.

-- +goose Up
CREATE TABLE facts (
    id      text COLLATE "C" PRIMARY KEY,
    type    text NOT NULL,
    at      timestamptz NOT NULL,
    payload bytea
);

CREATE TABLE shops (
    id       text COLLATE "C" PRIMARY KEY,
    platform text NOT NULL,
    industry text NOT NULL,
    data     text NOT NULL
);

CREATE TABLE accounts (
    id      text COLLATE "C" PRIMARY KEY,
    shop_id text COLLATE "C" NOT NULL,
    data    text NOT NULL
);
CREATE INDEX accounts_shop ON accounts (shop_id, id);

-- Orders are rewritten by most facts: leave room on each page for HOT updates.
CREATE TABLE orders (
    id         text COLLATE "C" PRIMARY KEY,
    shop_id    text COLLATE "C" NOT NULL,
    buyer_id   text COLLATE "C" NOT NULL,
    urged_at   timestamptz,
    shipped_at timestamptz,
    data       text NOT NULL
) WITH (fillfactor = 85);
-- R-URG-3's 催发货订单 filter: urged and not shipped, by urge time.
CREATE INDEX orders_urged ON orders (shop_id, urged_at, id)
    WHERE urged_at IS NOT NULL AND shipped_at IS NULL;

CREATE TABLE tasks (
    id         text COLLATE "C" PRIMARY KEY,
    order_id   text COLLATE "C" NOT NULL,
    shop_id    text COLLATE "C" NOT NULL,
    buyer_id   text COLLATE "C" NOT NULL,
    type       text COLLATE "C" NOT NULL,
    state      text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    due_at     timestamptz,
    rev        bigint NOT NULL,
    data       text NOT NULL
) WITH (fillfactor = 85);
-- At most one open task per (order, type). The store maps a violation of
-- this index (by name) to ECONFLICT task.open_exists.
CREATE UNIQUE INDEX tasks_open ON tasks (order_id, type) WHERE state <> 'completed';
CREATE INDEX tasks_order ON tasks (order_id, created_at, id);
CREATE INDEX tasks_shop ON tasks (shop_id, state, created_at, id);
CREATE INDEX tasks_buyer ON tasks (buyer_id, created_at, id);
CREATE INDEX tasks_state ON tasks (state, created_at, id); -- agents' queues across shops
CREATE INDEX tasks_created ON tasks (created_at, id);
CREATE INDEX tasks_due ON tasks (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE events (
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream   text COLLATE "C" NOT NULL,
    task_id  text COLLATE "C" NOT NULL,
    order_id text COLLATE "C" NOT NULL,
    shop_id  text COLLATE "C" NOT NULL,
    at       timestamptz NOT NULL,
    body     text NOT NULL, -- the event as JSON, without seq and data
    data     bytea          -- Event.Data, byte for byte
);
CREATE INDEX events_stream ON events (stream, seq);

CREATE TABLE timers (
    subject        text COLLATE "C" NOT NULL,
    kind           text COLLATE "C" NOT NULL,
    due_at         timestamptz NOT NULL,
    set_at         timestamptz NOT NULL,
    policy_version text NOT NULL,
    PRIMARY KEY (subject, kind)
);
CREATE INDEX timers_due ON timers (due_at, subject, kind);

CREATE TABLE firings (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject  text COLLATE "C" NOT NULL,
    kind     text COLLATE "C" NOT NULL,
    due_at   timestamptz NOT NULL,
    fired_at timestamptz NOT NULL,
    late_ns  bigint NOT NULL
);

CREATE TABLE outbox (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind      text NOT NULL,
    recipient text NOT NULL,
    status    text NOT NULL,
    at        timestamptz NOT NULL,
    body      text NOT NULL, -- the message as JSON, without seq and payload
    payload   bytea          -- Message.Payload, byte for byte
);

-- Counters are incremented in place all day: leave room for HOT updates.
CREATE TABLE counters (
    key   text COLLATE "C" PRIMARY KEY,
    value bigint NOT NULL
) WITH (fillfactor = 70);

CREATE TABLE complaints (
    id       text COLLATE "C" PRIMARY KEY,
    order_id text COLLATE "C" NOT NULL,
    filed_at timestamptz NOT NULL,
    data     text NOT NULL
);
CREATE INDEX complaints_order ON complaints (order_id, filed_at, id);

CREATE TABLE idempotency (
    key      text COLLATE "C" PRIMARY KEY,
    response bytea
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
