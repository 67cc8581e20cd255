-- Policy versions an operator loaded at run time (YAML as given), loaded on
-- top of the embedded defaults by every replica and after every restart.

-- +goose Up
CREATE TABLE policy_records (
    seq  bigserial PRIMARY KEY,
    data text NOT NULL
);

-- +goose Down
DROP TABLE policy_records;
