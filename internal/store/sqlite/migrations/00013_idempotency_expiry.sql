-- Idempotency keys get their creation time, so that keys older than the
-- retention (24 h by default) can be purged. SQLite cannot add a column
-- with a time default, so the table is rebuilt; existing keys count as
-- created now.

-- +goose Up
CREATE TABLE idempotency_new (
    key        TEXT PRIMARY KEY,
    response   BLOB,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO idempotency_new (key, response) SELECT key, response FROM idempotency;
DROP TABLE idempotency;
ALTER TABLE idempotency_new RENAME TO idempotency;
CREATE INDEX idempotency_created ON idempotency (created_at);

-- +goose Down
CREATE TABLE idempotency_old (
    key      TEXT PRIMARY KEY,
    response BLOB
);
INSERT INTO idempotency_old (key, response) SELECT key, response FROM idempotency;
DROP TABLE idempotency;
ALTER TABLE idempotency_old RENAME TO idempotency;
