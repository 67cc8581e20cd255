-- Refusal evidence (R-EVD-1..4): evidence items per task, attachment
-- metadata, and the attachments' bytes, content-addressed by SHA-256.

-- +goose Up
CREATE TABLE evidence_items (
    id      text COLLATE "C" PRIMARY KEY,
    task_id text COLLATE "C" NOT NULL,
    at      timestamptz NOT NULL,
    data    text NOT NULL
);
CREATE INDEX evidence_items_task ON evidence_items (task_id, at, id);

CREATE TABLE evidence_attachments (
    id      text COLLATE "C" PRIMARY KEY,
    task_id text COLLATE "C" NOT NULL,
    sha256  text COLLATE "C" NOT NULL,
    data    text NOT NULL
);
CREATE INDEX evidence_attachments_task ON evidence_attachments (task_id, id);

CREATE TABLE evidence_blobs (
    sha256 text COLLATE "C" PRIMARY KEY,
    size   bigint NOT NULL,
    bytes  bytea NOT NULL
);

-- +goose Down
DROP TABLE evidence_blobs;
DROP TABLE evidence_attachments;
DROP TABLE evidence_items;
