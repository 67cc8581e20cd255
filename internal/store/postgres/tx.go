package postgres

import (
	"aftersale/internal/store/storecodec"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// rtx is a read transaction (and the read half of a write transaction).
// pgx prepares and caches every statement per connection on first use, so
// the SQL below is parsed once per connection.
type rtx struct {
	tx pgx.Tx
	// lock makes the single-row reads of projections the engine writes
	// back (orders, tasks, complaints) take a row lock: FOR UPDATE.
	lock bool
}

// wtx is a write transaction.
type wtx struct{ rtx }

var (
	_ store.ReadTx = (*rtx)(nil)
	_ store.Tx     = (*wtx)(nil)
)

// Statements. Those with a ...Lock twin are read FOR UPDATE in Update.
const (
	qShop           = `SELECT data FROM shops WHERE id = $1`
	qAccount        = `SELECT data FROM accounts WHERE id = $1`
	qShopAccounts   = `SELECT data FROM accounts WHERE shop_id = $1 ORDER BY id`
	qOrder          = `SELECT data FROM orders WHERE id = $1`
	qOrderLock      = qOrder + ` FOR UPDATE`
	qOrdersByID     = `SELECT data FROM orders WHERE id = ANY($1)`
	qOrdersByIDLock = qOrdersByID + ` ORDER BY id FOR UPDATE`
	qUrgedOrders    = `SELECT data FROM orders
		WHERE shop_id = $1 AND urged_at IS NOT NULL AND shipped_at IS NULL
		ORDER BY urged_at, id`
	qTask           = `SELECT data FROM tasks WHERE id = $1`
	qTaskLock       = qTask + ` FOR UPDATE`
	qTasksByID      = `SELECT data FROM tasks WHERE id = ANY($1)`
	qTasksByIDLock  = qTasksByID + ` ORDER BY id FOR UPDATE`
	qTaskCursor     = `SELECT created_at FROM tasks WHERE id = $1`
	qOpenTask       = `SELECT data FROM tasks WHERE order_id = $1 AND type = $2 AND state <> 'completed'`
	qOpenTaskLock   = qOpenTask + ` FOR UPDATE`
	qCountTasks     = `SELECT state, count(*) FROM tasks GROUP BY state`
	qCountShopTasks = `SELECT state, count(*) FROM tasks WHERE shop_id = $1 GROUP BY state`
	qEvents         = `SELECT seq, body, data FROM events WHERE stream = $1 ORDER BY seq`
	qEventsAfter    = `SELECT seq, body, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`
	qTimers         = `SELECT subject, kind, due_at, set_at, policy_version FROM timers
		WHERE subject = $1 ORDER BY due_at, subject, kind`
	qAllTimers = `SELECT subject, kind, due_at, set_at, policy_version FROM timers
		ORDER BY due_at, subject, kind`
	qNextDue       = `SELECT due_at FROM timers ORDER BY due_at LIMIT 1`
	qOutbox        = `SELECT seq, body, payload FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2`
	qComplaint     = `SELECT data FROM complaints WHERE id = $1`
	qComplaintLock = qComplaint + ` FOR UPDATE`
	qComplaints    = `SELECT data FROM complaints WHERE order_id = $1 ORDER BY filed_at, id`
	qPoints        = `SELECT data FROM points WHERE shop_id = $1 AND at >= $2 ORDER BY at, id`
	qIdempotent    = `SELECT response FROM idempotency WHERE key = $1`
	qFirings       = `SELECT subject, kind, due_at, fired_at, late_ns FROM firings ORDER BY id LIMIT $1`
	qCounter       = `SELECT value FROM counters WHERE key = $1`
	qTaskRev       = `SELECT rev FROM tasks WHERE id = $1`
	qTaskExists    = `SELECT EXISTS (SELECT 1 FROM tasks WHERE id = $1)`
	qFactSeen      = `SELECT EXISTS (SELECT 1 FROM facts WHERE id = $1)`
	qFactsSeen     = `SELECT id FROM facts WHERE id = ANY($1)`

	wFact = `INSERT INTO facts (id, type, at, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`
	wShop = `INSERT INTO shops (id, platform, industry, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET platform = excluded.platform, industry = excluded.industry, data = excluded.data`
	wAccount = `INSERT INTO accounts (id, shop_id, data) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, data = excluded.data`
	wOrder = `INSERT INTO orders (id, shop_id, buyer_id, urged_at, shipped_at, data) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, buyer_id = excluded.buyer_id,
			urged_at = excluded.urged_at, shipped_at = excluded.shipped_at, data = excluded.data`
	// ON CONFLICT DO NOTHING (no target) covers both the primary key and the
	// tasks_open partial unique index; InsertTask tells them apart after.
	wInsertTask = `INSERT INTO tasks (id, order_id, shop_id, buyer_id, type, state, created_at, due_at, rev, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`
	// A task's identity columns (order, shop, buyer, type, created_at) never
	// change: setting only the mutable ones spares the indexes on the others.
	wUpdateTask = `UPDATE tasks SET state = $2, due_at = $3, rev = $4, data = $5 WHERE id = $1 AND rev < $4`
	wEvent      = `INSERT INTO events (stream, task_id, order_id, shop_id, at, body, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`
	wSetTimer = `INSERT INTO timers (subject, kind, due_at, set_at, policy_version) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (subject, kind) DO UPDATE SET due_at = excluded.due_at, set_at = excluded.set_at,
			policy_version = excluded.policy_version`
	wStopTimer  = `DELETE FROM timers WHERE subject = $1 AND kind = $2`
	wStopTimers = `DELETE FROM timers WHERE subject = $1`
	// SKIP LOCKED: timers another transaction has claimed (and not yet
	// committed or rolled back) are passed over, not waited for.
	wClaimDue = `DELETE FROM timers WHERE (subject, kind) IN (
			SELECT subject, kind FROM timers WHERE due_at <= $1
			ORDER BY due_at, subject, kind LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING subject, kind, due_at, set_at, policy_version`
	wFiring = `INSERT INTO firings (subject, kind, due_at, fired_at, late_ns) VALUES ($1, $2, $3, $4, $5)`
	wOutbox = `INSERT INTO outbox (kind, recipient, status, at, body, payload)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq`
	// Exact under concurrency: the row lock serializes increments of a key.
	wIncr = `INSERT INTO counters (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = counters.value + excluded.value RETURNING value`
	wPoints    = `INSERT INTO points (id, shop_id, at, data) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`
	wComplaint = `INSERT INTO complaints (id, order_id, filed_at, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id, filed_at = excluded.filed_at, data = excluded.data`
	wIdempotent = `INSERT INTO idempotency (key, response) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET response = excluded.response`
)

// pick returns the locking variant of a query inside Update.
func (t *rtx) pick(plain, locking string) string {
	if t.lock {
		return locking
	}
	return plain
}

// limit maps the contract's "0 (or less) means no limit" to LIMIT NULL.
func limit(n int) any {
	if n <= 0 {
		return nil
	}
	return int64(n)
}

// getJSON reads the one JSON column of query q into dst, or returns an
// ENOTFOUND error naming field when there is no row.
func (t *rtx) getJSON(ctx context.Context, q string, dst any, field, what, key string) error {
	var data []byte
	err := t.tx.QueryRow(ctx, q, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.NotFound(field, "%s %q not found", what, key)
	}
	if err != nil {
		return fmt.Errorf("postgres: read %s %q: %w", what, key, err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("postgres: decode %s %q: %w", what, key, err)
	}
	return nil
}

// listJSON runs q and decodes the JSON column of every row into a new T.
func listJSON[T any](ctx context.Context, t *rtx, what, q string, args ...any) ([]T, error) {
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		// RawValues is valid until the next Next: decoding from it saves a copy.
		data := rows.RawValues()[0]
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("postgres: decode %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list %s: %w", what, err)
	}
	return out, nil
}

// Shop implements store.ReadTx.
func (t *rtx) Shop(ctx context.Context, id string) (*commerce.Shop, error) {
	var s commerce.Shop
	if err := t.getJSON(ctx, qShop, &s, "shop_id", "shop", id); err != nil {
		return nil, err
	}
	return &s, nil
}

// Account implements store.ReadTx.
func (t *rtx) Account(ctx context.Context, id string) (*commerce.Account, error) {
	var a commerce.Account
	if err := t.getJSON(ctx, qAccount, &a, "account_id", "account", id); err != nil {
		return nil, err
	}
	return &a, nil
}

// ShopAccounts implements store.ReadTx.
func (t *rtx) ShopAccounts(ctx context.Context, shopID string) ([]commerce.Account, error) {
	return listJSON[commerce.Account](ctx, t, "accounts", qShopAccounts, shopID)
}

// Order implements store.ReadTx. Inside Update the order's row is locked
// until the transaction ends.
func (t *rtx) Order(ctx context.Context, id string) (*commerce.Order, error) {
	var o commerce.Order
	if err := t.getJSON(ctx, t.pick(qOrder, qOrderLock), &o, "order_id", "order", id); err != nil {
		return nil, err
	}
	return &o, nil
}

// OrdersByID implements store.ReadTx. Inside Update the rows are locked, in
// id order so that concurrent batches cannot deadlock on each other.
func (t *rtx) OrdersByID(ctx context.Context, ids []string) ([]commerce.Order, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return listJSON[commerce.Order](ctx, t, "orders", t.pick(qOrdersByID, qOrdersByIDLock), ids)
}

// UrgedOrders implements store.ReadTx.
func (t *rtx) UrgedOrders(ctx context.Context, shopID string) ([]commerce.Order, error) {
	return listJSON[commerce.Order](ctx, t, "urged orders", qUrgedOrders, shopID)
}

// Task implements store.ReadTx. Inside Update the task's row is locked
// until the transaction ends.
func (t *rtx) Task(ctx context.Context, id string) (*task.Task, error) {
	var x task.Task
	if err := t.getJSON(ctx, t.pick(qTask, qTaskLock), &x, "task_id", "task", id); err != nil {
		return nil, err
	}
	return &x, nil
}

// TasksByID implements store.ReadTx. Inside Update the rows are locked, in
// id order so that concurrent batches cannot deadlock on each other.
func (t *rtx) TasksByID(ctx context.Context, ids []string) ([]task.Task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return listJSON[task.Task](ctx, t, "tasks", t.pick(qTasksByID, qTasksByIDLock), ids)
}

// OpenTask implements store.ReadTx. Inside Update the open task's row is
// locked until the transaction ends.
func (t *rtx) OpenTask(ctx context.Context, orderID string, typ task.Type) (*task.Task, error) {
	var data []byte
	err := t.tx.QueryRow(ctx, t.pick(qOpenTask, qOpenTaskLock), orderID, string(typ)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read open task: %w", err)
	}
	var x task.Task
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("postgres: decode task: %w", err)
	}
	return &x, nil
}

// Tasks implements store.ReadTx.
func (t *rtx) Tasks(ctx context.Context, f store.TaskFilter) ([]task.Task, error) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.ShopID != "" {
		add("shop_id = ?", f.ShopID)
	}
	if f.BuyerID != "" {
		add("buyer_id = ?", f.BuyerID)
	}
	if f.OrderID != "" {
		add("order_id = ?", f.OrderID)
	}
	if f.Type != "" {
		add("type = ?", string(f.Type))
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if f.DueBefore != nil {
		add("due_at < ?", *f.DueBefore)
	}
	if f.After != "" {
		var created time.Time
		err := t.tx.QueryRow(ctx, qTaskCursor, f.After).Scan(&created)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, apperr.NotFound("after", "cursor task %q not found", f.After)
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: read cursor: %w", err)
		}
		args = append(args, created, f.After)
		conds = append(conds, fmt.Sprintf("(created_at, id) > ($%d, $%d)", len(args)-1, len(args)))
	}
	var b strings.Builder
	b.WriteString("SELECT data FROM tasks")
	if len(conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(conds, " AND "))
	}
	b.WriteString(" ORDER BY created_at, id")
	if f.Limit > 0 {
		args = append(args, int64(f.Limit))
		fmt.Fprintf(&b, " LIMIT $%d", len(args))
	}
	return listJSON[task.Task](ctx, t, "tasks", b.String(), args...)
}

// CountTasks implements store.ReadTx.
func (t *rtx) CountTasks(ctx context.Context, shopID string) (map[task.State]int, error) {
	var rows pgx.Rows
	var err error
	if shopID == "" {
		rows, err = t.tx.Query(ctx, qCountTasks)
	} else {
		rows, err = t.tx.Query(ctx, qCountShopTasks, shopID)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: count tasks: %w", err)
	}
	defer rows.Close()
	out := map[task.State]int{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("postgres: count tasks: %w", err)
		}
		out[task.State(s)] = int(n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: count tasks: %w", err)
	}
	return out, nil
}

// scanEvents reads (seq, body, data) rows.
func (t *rtx) scanEvents(ctx context.Context, q string, args ...any) ([]task.Event, error) {
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list events: %w", err)
	}
	defer rows.Close()
	var out []task.Event
	for rows.Next() {
		var seq int64
		var body, data []byte
		if err := rows.Scan(&seq, &body, &data); err != nil {
			return nil, fmt.Errorf("postgres: list events: %w", err)
		}
		var e task.Event
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, fmt.Errorf("postgres: decode event %d: %w", seq, err)
		}
		e.Seq, e.Data = seq, data
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list events: %w", err)
	}
	return out, nil
}

// Events implements store.ReadTx.
func (t *rtx) Events(ctx context.Context, stream string) ([]task.Event, error) {
	return t.scanEvents(ctx, qEvents, stream)
}

// EventsAfter implements store.ReadTx. A limit of 0 or less means no limit.
func (t *rtx) EventsAfter(ctx context.Context, after int64, n int) ([]task.Event, error) {
	return t.scanEvents(ctx, qEventsAfter, after, limit(n))
}

// scanTimers reads (subject, kind, due_at, set_at, policy_version) rows.
func scanTimers(rows pgx.Rows, err error) ([]task.Timer, error) {
	if err != nil {
		return nil, fmt.Errorf("postgres: list timers: %w", err)
	}
	defer rows.Close()
	var out []task.Timer
	for rows.Next() {
		var tm task.Timer
		if err := rows.Scan(&tm.Subject, &tm.Kind, &tm.DueAt, &tm.SetAt, &tm.PolicyVersion); err != nil {
			return nil, fmt.Errorf("postgres: list timers: %w", err)
		}
		tm.DueAt, tm.SetAt = tm.DueAt.UTC(), tm.SetAt.UTC()
		out = append(out, tm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list timers: %w", err)
	}
	return out, nil
}

// Timers implements store.ReadTx.
func (t *rtx) Timers(ctx context.Context, subject string) ([]task.Timer, error) {
	if subject == "" {
		return scanTimers(t.tx.Query(ctx, qAllTimers))
	}
	return scanTimers(t.tx.Query(ctx, qTimers, subject))
}

// NextDue implements store.ReadTx.
func (t *rtx) NextDue(ctx context.Context) (time.Time, bool, error) {
	var due time.Time
	err := t.tx.QueryRow(ctx, qNextDue).Scan(&due)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("postgres: next due: %w", err)
	}
	return due.UTC(), true, nil
}

// Outbox implements store.ReadTx. A limit of 0 or less means no limit.
func (t *rtx) Outbox(ctx context.Context, after int64, n int) ([]notify.Message, error) {
	rows, err := t.tx.Query(ctx, qOutbox, after, limit(n))
	if err != nil {
		return nil, fmt.Errorf("postgres: list outbox: %w", err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		var seq int64
		var body, payload []byte
		if err := rows.Scan(&seq, &body, &payload); err != nil {
			return nil, fmt.Errorf("postgres: list outbox: %w", err)
		}
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("postgres: decode outbox message %d: %w", seq, err)
		}
		m.Seq, m.Payload = seq, payload
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list outbox: %w", err)
	}
	return out, nil
}

// Complaint implements store.ReadTx. Inside Update the complaint's row is
// locked until the transaction ends.
func (t *rtx) Complaint(ctx context.Context, id string) (*judgment.Complaint, error) {
	var c judgment.Complaint
	if err := t.getJSON(ctx, t.pick(qComplaint, qComplaintLock), &c, "complaint_id", "complaint", id); err != nil {
		return nil, err
	}
	return &c, nil
}

// Complaints implements store.ReadTx.
func (t *rtx) Complaints(ctx context.Context, orderID string) ([]judgment.Complaint, error) {
	return listJSON[judgment.Complaint](ctx, t, "complaints", qComplaints, orderID)
}

// Points implements store.ReadTx.
func (t *rtx) Points(ctx context.Context, shopID string, since time.Time) ([]judgment.PointsEntry, error) {
	return listJSON[judgment.PointsEntry](ctx, t, "points", qPoints, shopID, since)
}

// Idempotent implements store.ReadTx.
func (t *rtx) Idempotent(ctx context.Context, key string) ([]byte, bool, error) {
	var resp []byte
	err := t.tx.QueryRow(ctx, qIdempotent, key).Scan(&resp)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: read idempotency key: %w", err)
	}
	return resp, true, nil
}

// Firings implements store.ReadTx. A limit of 0 or less means no limit.
func (t *rtx) Firings(ctx context.Context, n int) ([]task.Firing, error) {
	rows, err := t.tx.Query(ctx, qFirings, limit(n))
	if err != nil {
		return nil, fmt.Errorf("postgres: list firings: %w", err)
	}
	defer rows.Close()
	var out []task.Firing
	for rows.Next() {
		var f task.Firing
		var late int64
		if err := rows.Scan(&f.Subject, &f.Kind, &f.DueAt, &f.FiredAt, &late); err != nil {
			return nil, fmt.Errorf("postgres: list firings: %w", err)
		}
		f.DueAt, f.FiredAt, f.Late = f.DueAt.UTC(), f.FiredAt.UTC(), time.Duration(late)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list firings: %w", err)
	}
	return out, nil
}

// FactSeen implements store.ReadTx.
func (t *rtx) FactSeen(ctx context.Context, id string) (bool, error) {
	var seen bool
	if err := t.tx.QueryRow(ctx, qFactSeen, id).Scan(&seen); err != nil {
		return false, fmt.Errorf("postgres: read fact %q: %w", id, err)
	}
	return seen, nil
}

// FactsSeen implements store.ReadTx.
func (t *rtx) FactsSeen(ctx context.Context, ids []string) (map[string]bool, error) {
	seen := map[string]bool{}
	if len(ids) == 0 {
		return seen, nil
	}
	rows, err := t.tx.Query(ctx, qFactsSeen, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: read facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("postgres: read facts: %w", err)
		}
		seen[id] = true
	}
	return seen, rows.Err()
}

// Counter implements store.ReadTx.
func (t *rtx) Counter(ctx context.Context, key string) (int64, error) {
	var v int64
	err := t.tx.QueryRow(ctx, qCounter, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: read counter: %w", err)
	}
	return v, nil
}

// RecordFact implements store.Tx.
func (t *wtx) RecordFact(ctx context.Context, id string, typ commerce.FactType, at time.Time, payload []byte) (bool, error) {
	tag, err := t.tx.Exec(ctx, wFact, id, string(typ), at, storecodec.Blob(payload))
	if err != nil {
		return false, fmt.Errorf("postgres: record fact %q: %w", id, err)
	}
	return tag.RowsAffected() == 0, nil
}

// PutShop implements store.Tx. SubAccounts are not stored.
func (t *wtx) PutShop(ctx context.Context, s *commerce.Shop) error {
	data, err := storecodec.EncodeUTC(storecodec.ShopStored(s))
	if err != nil {
		return fmt.Errorf("postgres: encode shop %q: %w", s.ID, err)
	}
	if _, err := t.tx.Exec(ctx, wShop, s.ID, string(s.Platform), s.Industry, string(data)); err != nil {
		return fmt.Errorf("postgres: put shop %q: %w", s.ID, err)
	}
	return nil
}

// PutAccount implements store.Tx.
func (t *wtx) PutAccount(ctx context.Context, a *commerce.Account) error {
	data, err := storecodec.EncodeUTC(a)
	if err != nil {
		return fmt.Errorf("postgres: encode account %q: %w", a.ID, err)
	}
	if _, err := t.tx.Exec(ctx, wAccount, a.ID, a.ShopID, string(data)); err != nil {
		return fmt.Errorf("postgres: put account %q: %w", a.ID, err)
	}
	return nil
}

// PutOrder implements store.Tx.
func (t *wtx) PutOrder(ctx context.Context, o *commerce.Order) error {
	data, err := storecodec.EncodeUTC(o)
	if err != nil {
		return fmt.Errorf("postgres: encode order %q: %w", o.ID, err)
	}
	if _, err := t.tx.Exec(ctx, wOrder, o.ID, o.ShopID, o.BuyerID, nullTime(o.UrgedAt), nullTime(o.ShippedAt), string(data)); err != nil {
		return fmt.Errorf("postgres: put order %q: %w", o.ID, err)
	}
	return nil
}

// uniqueViolation returns the name of the unique index or constraint err
// violates (SQLSTATE 23505), or "".
func uniqueViolation(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName
	}
	return ""
}

func openExists(x *task.Task) error {
	return apperr.Conflict("task.open_exists", "", "a %s task is already open on order %s", x.Type, x.OrderID)
}

// InsertTask implements store.Tx. The insert is ON CONFLICT DO NOTHING, so a
// conflict never aborts the transaction (no savepoint needed); when nothing
// was inserted, an existing id is ECONFLICT "task.exists", otherwise the open
// task of the same type on the order is ECONFLICT "task.open_exists".
func (t *wtx) InsertTask(ctx context.Context, x *task.Task) error {
	data, err := storecodec.EncodeUTC(x)
	if err != nil {
		return fmt.Errorf("postgres: encode task %q: %w", x.ID, err)
	}
	tag, err := t.tx.Exec(ctx, wInsertTask, x.ID, x.OrderID, x.ShopID, x.BuyerID, string(x.Type), string(x.State),
		x.CreatedAt, nullTime(x.DueAt), int64(x.Rev), string(data))
	if err != nil {
		return fmt.Errorf("postgres: insert task %q: %w", x.ID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := t.tx.QueryRow(ctx, qTaskExists, x.ID).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: insert task %q: %w", x.ID, err)
	}
	if exists {
		return apperr.Conflict("task.exists", "", "task %s already exists", x.ID)
	}
	return openExists(x)
}

// UpdateTask implements store.Tx. The task's Rev must be greater than the
// stored one (optimistic check): otherwise it fails with ECONFLICT
// "task.stale". A task that does not exist is ENOTFOUND. Reopening a task
// while another of its type is open on the order is ECONFLICT
// "task.open_exists"; the update runs inside a savepoint (sent in the same
// round trip), so the transaction stays usable after that refusal.
func (t *wtx) UpdateTask(ctx context.Context, x *task.Task) error {
	data, err := storecodec.EncodeUTC(x)
	if err != nil {
		return fmt.Errorf("postgres: encode task %q: %w", x.ID, err)
	}
	b := &pgx.Batch{}
	b.Queue(`SAVEPOINT update_task`)
	b.Queue(wUpdateTask, x.ID, string(x.State), nullTime(x.DueAt), int64(x.Rev), string(data))
	b.Queue(`RELEASE SAVEPOINT update_task`)
	br := t.tx.SendBatch(ctx, b)
	_, spErr := br.Exec()
	tag, err := br.Exec()
	if spErr == nil && err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if spErr == nil {
			// Undo the failed statement so the transaction goes on.
			_, _ = t.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT update_task; RELEASE SAVEPOINT update_task`)
		}
		if uniqueViolation(err) == "tasks_open" {
			return openExists(x)
		}
		return fmt.Errorf("postgres: update task %q: %w", x.ID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var rev int64
	err = t.tx.QueryRow(ctx, qTaskRev, x.ID).Scan(&rev)
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.NotFound("task_id", "task %q not found", x.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: update task %q: %w", x.ID, err)
	}
	return apperr.Conflict("task.stale", "", "task %s is at rev %d; rev %d is not newer", x.ID, rev, x.Rev)
}

// AppendEvents implements store.Tx. The events are sent in one round trip.
func (t *wtx) AppendEvents(ctx context.Context, evs []task.Event) error {
	if len(evs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for i := range evs {
		e := &evs[i]
		body, err := storecodec.EncodeUTC(storecodec.EventBody(e))
		if err != nil {
			return fmt.Errorf("postgres: encode event: %w", err)
		}
		b.Queue(wEvent, e.Stream, e.TaskID, e.OrderID, e.ShopID, e.At, string(body), storecodec.Blob(e.Data))
	}
	seqs, err := t.insertReturning(ctx, b)
	if err != nil {
		return fmt.Errorf("postgres: append events: %w", err)
	}
	for i := range evs {
		evs[i].Seq = seqs[i]
	}
	return nil
}

// insertReturning runs a batch of INSERT … RETURNING seq statements and
// returns the seqs in order.
func (t *wtx) insertReturning(ctx context.Context, b *pgx.Batch) ([]int64, error) {
	br := t.tx.SendBatch(ctx, b)
	seqs := make([]int64, b.Len())
	var err error
	for i := range seqs {
		if err = br.QueryRow().Scan(&seqs[i]); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return seqs, err
}

// SetTimer implements store.Tx.
func (t *wtx) SetTimer(ctx context.Context, tm task.Timer) error {
	if _, err := t.tx.Exec(ctx, wSetTimer, tm.Subject, tm.Kind, tm.DueAt, tm.SetAt, tm.PolicyVersion); err != nil {
		return fmt.Errorf("postgres: set timer %s/%s: %w", tm.Subject, tm.Kind, err)
	}
	return nil
}

// StopTimer implements store.Tx.
func (t *wtx) StopTimer(ctx context.Context, subject, kind string) error {
	if _, err := t.tx.Exec(ctx, wStopTimer, subject, kind); err != nil {
		return fmt.Errorf("postgres: stop timer %s/%s: %w", subject, kind, err)
	}
	return nil
}

// StopTimers implements store.Tx.
func (t *wtx) StopTimers(ctx context.Context, subject string) error {
	if _, err := t.tx.Exec(ctx, wStopTimers, subject); err != nil {
		return fmt.Errorf("postgres: stop timers of %s: %w", subject, err)
	}
	return nil
}

// ClaimDue implements store.Tx. A limit of 0 or less means no limit. Timers
// claimed by a concurrent transaction that has not ended are skipped.
func (t *wtx) ClaimDue(ctx context.Context, now time.Time, n int) ([]task.Timer, error) {
	timers, err := scanTimers(t.tx.Query(ctx, wClaimDue, now, limit(n)))
	if err != nil {
		return nil, fmt.Errorf("postgres: claim due timers: %w", err)
	}
	// RETURNING yields rows in no particular order.
	slices.SortFunc(timers, func(a, b task.Timer) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), strings.Compare(a.Subject, b.Subject), strings.Compare(a.Kind, b.Kind))
	})
	return timers, nil
}

// RecordFirings implements store.Tx. The firings are sent in one round trip.
func (t *wtx) RecordFirings(ctx context.Context, fs []task.Firing) error {
	if len(fs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, f := range fs {
		b.Queue(wFiring, f.Subject, f.Kind, f.DueAt, f.FiredAt, int64(f.Late))
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: record firings: %w", err)
	}
	return nil
}

// AppendOutbox implements store.Tx. The messages are sent in one round trip.
func (t *wtx) AppendOutbox(ctx context.Context, ms []notify.Message) error {
	if len(ms) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for i := range ms {
		m := &ms[i]
		body, err := storecodec.EncodeUTC(storecodec.MessageBody(m))
		if err != nil {
			return fmt.Errorf("postgres: encode outbox message: %w", err)
		}
		b.Queue(wOutbox, string(m.Kind), m.Recipient, string(m.Status), m.At, string(body), storecodec.Blob(m.Payload))
	}
	seqs, err := t.insertReturning(ctx, b)
	if err != nil {
		return fmt.Errorf("postgres: append outbox messages: %w", err)
	}
	for i := range ms {
		ms[i].Seq = seqs[i]
	}
	return nil
}

// IncrCounter implements store.Tx.
func (t *wtx) IncrCounter(ctx context.Context, key string, delta int64) (int64, error) {
	var v int64
	if err := t.tx.QueryRow(ctx, wIncr, key, delta).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: increment counter %q: %w", key, err)
	}
	return v, nil
}

// PutComplaint implements store.Tx.
func (t *wtx) PutComplaint(ctx context.Context, c *judgment.Complaint) error {
	data, err := storecodec.EncodeUTC(c)
	if err != nil {
		return fmt.Errorf("postgres: encode complaint %q: %w", c.ID, err)
	}
	if _, err := t.tx.Exec(ctx, wComplaint, c.ID, c.OrderID, c.FiledAt, string(data)); err != nil {
		return fmt.Errorf("postgres: put complaint %q: %w", c.ID, err)
	}
	return nil
}

// AppendPoints implements store.Tx.
func (t *wtx) AppendPoints(ctx context.Context, es []judgment.PointsEntry) error {
	for i := range es {
		e := &es[i]
		data, err := storecodec.EncodeUTC(e)
		if err != nil {
			return fmt.Errorf("postgres: encode points %q: %w", e.ID, err)
		}
		tag, err := t.tx.Exec(ctx, wPoints, e.ID, e.ShopID, e.At, string(data))
		if err != nil {
			return fmt.Errorf("postgres: append points %q: %w", e.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.Conflict("points.exists", "", "points entry %s already exists", e.ID)
		}
	}
	return nil
}

// PutIdempotent implements store.Tx. Putting a key again replaces its response.
func (t *wtx) PutIdempotent(ctx context.Context, key string, response []byte) error {
	if _, err := t.tx.Exec(ctx, wIdempotent, key, storecodec.Blob(response)); err != nil {
		return fmt.Errorf("postgres: put idempotency key: %w", err)
	}
	return nil
}
