-- The console's reads (store.ConsoleReader): "my orders" lists a buyer's
-- orders, newest id first; the agents' queue lists intervening tasks by
-- deadline (a partial index: only intervening tasks pay for it).

-- +goose Up
CREATE INDEX orders_buyer ON orders (buyer_id, id);
CREATE INDEX tasks_queue ON tasks (due_at, id) WHERE state = 'platform_intervening';

-- +goose Down
DROP INDEX tasks_queue;
DROP INDEX orders_buyer;
