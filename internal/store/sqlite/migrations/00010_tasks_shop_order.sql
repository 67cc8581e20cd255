-- A shop's task list without a state filter (GET /v1/tasks?shop_id=…, the
-- shop's own view) is ordered by (created_at, id): without this index the
-- store sorts all of the shop's tasks for every page (docs/performance.md,
-- "Service over HTTP").

-- +goose Up
CREATE INDEX tasks_shop_created ON tasks (shop_id, created_at, id);

-- +goose Down
DROP INDEX tasks_shop_created;
