-- People who sign in (buyers, shop main and sub-accounts, agents,
-- operators) and their sessions. A person's password is an argon2id PHC
-- string inside data; a session's id is the SHA-256 of its token, never the
-- token itself.

-- +goose Up
CREATE TABLE people (
    id         TEXT PRIMARY KEY,
    login      TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    shop_id    TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE UNIQUE INDEX people_subject ON people (role, subject_id);
CREATE INDEX people_shop ON people (shop_id, id);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE people;
