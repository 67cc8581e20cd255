-- People who sign in (buyers, shop main and sub-accounts, agents,
-- operators) and their sessions. A person's password is an argon2id PHC
-- string inside data; a session's id is the SHA-256 of its token, never the
-- token itself.

-- +goose Up
CREATE TABLE people (
    id         text COLLATE "C" PRIMARY KEY,
    login      text COLLATE "C" NOT NULL UNIQUE,
    role       text COLLATE "C" NOT NULL,
    subject_id text COLLATE "C" NOT NULL,
    shop_id    text COLLATE "C" NOT NULL,
    data       text NOT NULL
);
CREATE UNIQUE INDEX people_subject ON people (role, subject_id);
CREATE INDEX people_shop ON people (shop_id, id);

CREATE TABLE sessions (
    id         text COLLATE "C" PRIMARY KEY,
    person_id  text COLLATE "C" NOT NULL,
    expires_at timestamptz NOT NULL,
    data       text NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE people;
