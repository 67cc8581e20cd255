-- Idempotency keys get their creation time (the inserting transaction's
-- start), so that keys older than the retention (24 h by default) can be
-- purged. A replaced response keeps the first creation time.

-- +goose Up
ALTER TABLE idempotency ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX idempotency_created ON idempotency (created_at);

-- +goose Down
DROP INDEX idempotency_created;
ALTER TABLE idempotency DROP COLUMN created_at;
