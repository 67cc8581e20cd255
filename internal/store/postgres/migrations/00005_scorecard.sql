-- Shop standing: the takeover state of the after-sales liability rules
-- (R-LIA-2/3). Its switches are events on the shop's stream; this row is the
-- current state the engine reads when an order arrives.

-- +goose Up
CREATE TABLE takeovers (
    shop_id text COLLATE "C" PRIMARY KEY,
    data    text NOT NULL
);

-- +goose Down
DROP TABLE takeovers;
