-- Refusal evidence (R-EVD-1..4): evidence items per task, attachment
-- metadata, and the attachments' bytes, content-addressed by SHA-256.

-- +goose Up
CREATE TABLE evidence_items (
    id      TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    at      TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX evidence_items_task ON evidence_items (task_id, at, id);

CREATE TABLE evidence_attachments (
    id      TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    sha256  TEXT NOT NULL,
    data    TEXT NOT NULL
);
CREATE INDEX evidence_attachments_task ON evidence_attachments (task_id, id);

CREATE TABLE evidence_blobs (
    sha256 TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    bytes  BLOB NOT NULL
);

-- +goose Down
DROP TABLE evidence_blobs;
DROP TABLE evidence_attachments;
DROP TABLE evidence_items;
