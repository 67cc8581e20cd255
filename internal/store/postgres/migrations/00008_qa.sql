-- Ask-everyone product Q&A (问大家, R-QA-1..4): products, the purchases that
-- make a buyer a past buyer of a product, questions (valid or not), answers,
-- invitations of past buyers, and accounts' message subscriptions.

-- +goose Up
CREATE TABLE products (
    id      text COLLATE "C" PRIMARY KEY,
    shop_id text COLLATE "C" NOT NULL,
    data    text NOT NULL
);

CREATE TABLE purchases (
    product_id text COLLATE "C" NOT NULL,
    order_id   text COLLATE "C" NOT NULL,
    buyer_id   text COLLATE "C" NOT NULL,
    paid_at    timestamptz NOT NULL,
    PRIMARY KEY (product_id, order_id)
);
-- R-QA-2: the past buyers of a product within a window.
CREATE INDEX purchases_product ON purchases (product_id, paid_at, buyer_id);

CREATE TABLE questions (
    id         text COLLATE "C" PRIMARY KEY,
    product_id text COLLATE "C" NOT NULL,
    shop_id    text COLLATE "C" NOT NULL,
    asked_at   timestamptz NOT NULL,
    valid      boolean NOT NULL, -- false: judged not valid (R-QA-4), never listed
    answers    integer NOT NULL,
    data       text NOT NULL
);
CREATE INDEX questions_product ON questions (product_id, valid, asked_at, id);
CREATE INDEX questions_shop ON questions (shop_id, valid, asked_at, id);
CREATE INDEX questions_shop_unanswered ON questions (shop_id, asked_at, id) WHERE answers = 0;

CREATE TABLE answers (
    id          text COLLATE "C" PRIMARY KEY,
    question_id text COLLATE "C" NOT NULL,
    at          timestamptz NOT NULL,
    data        text NOT NULL
);
CREATE INDEX answers_question ON answers (question_id, at, id);

CREATE TABLE invitations (
    question_id text COLLATE "C" NOT NULL,
    buyer_id    text COLLATE "C" NOT NULL,
    data        text NOT NULL,
    PRIMARY KEY (question_id, buyer_id)
);

CREATE TABLE subscriptions (
    account_id text COLLATE "C" NOT NULL,
    topic      text COLLATE "C" NOT NULL,
    data       text NOT NULL,
    PRIMARY KEY (account_id, topic)
);

-- +goose Down
DROP TABLE subscriptions;
DROP TABLE invitations;
DROP TABLE answers;
DROP TABLE questions;
DROP TABLE purchases;
DROP TABLE products;
