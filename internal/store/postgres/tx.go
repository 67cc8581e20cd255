package postgres

import (
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
	"aftersale/internal/store/storecodec"
	"aftersale/internal/task"
)

// rtx is a read transaction (and the read half of a write transaction).
// pgx prepares and caches every statement per connection on first use, so
// the SQL below is parsed once per connection. Statements go through a pipe
// (pipe.go): in a write transaction, writes are queued and sent in front of
// the next read, in one round trip.
type rtx struct {
	tx *pipe
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
	qTaskLock       = lockTaskOrder + qTask + lockedOrders + ` FOR UPDATE`
	qTasksByID      = `SELECT data FROM tasks WHERE id = ANY($1)`
	qTasksByIDLock  = lockTasksOrders + qTasksByID + lockedOrders + ` ORDER BY id FOR UPDATE`
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
	qComplaintLock = lockComplaintOrder + qComplaint + lockedOrders + ` FOR UPDATE`
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
	// ON CONFLICT DO NOTHING (no target) covers both the primary key and the
	// tasks_open partial unique index; InsertTask tells them apart after.
	wInsertTask = `INSERT INTO tasks (id, order_id, shop_id, buyer_id, type, state, created_at, due_at, rev, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`
	// A task's identity columns (order, shop, buyer, type, created_at) never
	// change: setting only the mutable ones spares the indexes on the others.
	wUpdateTask = `UPDATE tasks SET state = $2, due_at = $3, rev = $4, data = $5 WHERE id = $1 AND rev < $4`
	wNotify     = `SELECT pg_notify($1, $2)`
	qReserve    = `SELECT nextval(pg_get_serial_sequence($1, 'seq')) FROM generate_series(1, $2)`
	// SKIP LOCKED: timers another transaction has claimed (and not yet
	// committed or rolled back) are passed over, not waited for. The batch
	// is chosen once, in a MATERIALIZED CTE: as `IN (SELECT … LIMIT …)`
	// the planner may rescan the locking subquery in a join, each rescan
	// locking rows past the last, and claim more than the limit.
	wClaimDue = `WITH due AS MATERIALIZED (
			SELECT subject, kind FROM timers WHERE due_at <= $1
			ORDER BY due_at, subject, kind LIMIT $2 FOR UPDATE SKIP LOCKED)
		DELETE FROM timers t USING due WHERE t.subject = due.subject AND t.kind = due.kind
		RETURNING t.subject, t.kind, t.due_at, t.set_at, t.policy_version`
	// Exact under concurrency: the row lock serializes increments of a key.
	wIncr = `INSERT INTO counters (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = counters.value + excluded.value RETURNING value`
	wPoints = `INSERT INTO points (id, shop_id, at, data) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`
)

// Lock order. Inside Update, every transaction takes its row locks in one
// order, so that two of them never wait on each other: the orders (in id
// order), then the orders' tasks and complaints (in id order), then the
// shops' takeover rows, then counters (in key order, at commit: pipe.take).
// Most commands start from an order, but a command on a task (a seller's
// reply), a timer sweep and a complaint's finish start from a task or a
// complaint: their locking reads lock the task's (complaint's) order first,
// in the same statement, with the prefix and filter below. Without it a
// reply (task, then order) and a fact batch (orders, then their open tasks)
// on the same order deadlocked (docs/replicas.md, "Lock order").
//
// lockTaskOrder locks the order of the task $1 names, lockTasksOrders
// those of the tasks $1 (an array) names, in id order, and
// lockComplaintOrder the order of the complaint $1 names; lockedOrders
// makes the statement run it (an InitPlan, evaluated before the first row
// is read and locked). A task's or complaint's order never changes, so the
// order locked is the one read.
const (
	lockTaskOrder   = `WITH o AS (SELECT id FROM orders WHERE id = (SELECT order_id FROM tasks WHERE id = $1) FOR UPDATE) `
	lockTasksOrders = `WITH o AS (SELECT id FROM orders WHERE id IN (SELECT order_id FROM tasks WHERE id = ANY($1))
		ORDER BY id FOR UPDATE) `
	lockComplaintOrder = `WITH o AS (SELECT id FROM orders WHERE id = (SELECT order_id FROM complaints WHERE id = $1) FOR UPDATE) `
	lockedOrders       = ` AND (SELECT count(*) FROM o) >= 0`
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
	err := t.tx.reader(q).QueryRow(ctx, q, key).Scan(&data)
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
	rows, err := t.tx.reader(q).Query(ctx, q, args...)
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
	t.noteLocked(&x)
	return &x, nil
}

// TasksByID implements store.ReadTx. Inside Update the rows are locked, in
// id order so that concurrent batches cannot deadlock on each other.
func (t *rtx) TasksByID(ctx context.Context, ids []string) ([]task.Task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ts, err := listJSON[task.Task](ctx, t, "tasks", t.pick(qTasksByID, qTasksByIDLock), ids)
	for i := range ts {
		t.noteLocked(&ts[i])
	}
	return ts, err
}

// noteLocked remembers, in a write transaction, a task row read FOR UPDATE
// (or inserted): no other transaction can change it before this one ends,
// so an update of it with a newer rev cannot fail and may be queued.
func (t *rtx) noteLocked(x *task.Task) {
	if !t.lock {
		return
	}
	if t.tx.tasks == nil {
		t.tx.tasks = map[string]lockedTask{}
	}
	t.tx.tasks[x.ID] = lockedTask{rev: int64(x.Rev), completed: x.State == task.Completed}
}

// noteFacts remembers, in a write transaction, fact ids read as recorded or not.
func (t *rtx) noteFacts(ids []string, seen map[string]bool) {
	if !t.lock {
		return
	}
	if t.tx.facts == nil {
		t.tx.facts = make(map[string]bool, len(ids))
	}
	for _, id := range ids {
		t.tx.facts[id] = seen[id]
	}
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
	t.noteLocked(&x)
	return &x, nil
}

// Tasks implements store.ReadTx.
func (t *rtx) Tasks(ctx context.Context, f store.TaskFilter) ([]task.Task, error) {
	q, args, err := t.tasksQuery(ctx, f)
	if err != nil {
		return nil, err
	}
	return listJSON[task.Task](ctx, t, "tasks", q, args...)
}

// tasksQuery is the SELECT of the tasks' data a filter selects, in order.
func (t *rtx) tasksQuery(ctx context.Context, f store.TaskFilter) (string, []any, error) {
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
	// Tasks without a deadline sort after every deadline.
	const dueKey = "coalesce(due_at, 'infinity'::timestamptz)"
	if f.After != "" {
		var created time.Time
		err := t.tx.QueryRow(ctx, qTaskCursor, f.After).Scan(&created)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", nil, apperr.NotFound("after", "cursor task %q not found", f.After)
		}
		if err != nil {
			return "", nil, fmt.Errorf("postgres: read cursor: %w", err)
		}
		args = append(args, f.After, created)
		if f.ByDue {
			conds = append(conds, fmt.Sprintf("(%s, created_at, id) > ((SELECT %s FROM tasks WHERE id = $%d), $%d, $%d)",
				dueKey, dueKey, len(args)-1, len(args), len(args)-1))
		} else {
			conds = append(conds, fmt.Sprintf("(created_at, id) > ($%d, $%d)", len(args), len(args)-1))
		}
	}
	var b strings.Builder
	b.WriteString("SELECT data FROM tasks")
	if len(conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(conds, " AND "))
	}
	if f.ByDue {
		b.WriteString(" ORDER BY " + dueKey + ", created_at, id")
	} else {
		b.WriteString(" ORDER BY created_at, id")
	}
	if f.Limit > 0 {
		args = append(args, int64(f.Limit))
		fmt.Fprintf(&b, " LIMIT $%d", len(args))
	}
	return b.String(), args, nil
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
	rows, err := t.tx.reader(q).Query(ctx, q, args...)
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
	t.noteFacts([]string{id}, map[string]bool{id: seen})
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read facts: %w", err)
	}
	t.noteFacts(ids, seen)
	return seen, nil
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

// The writes below whose outcome is certain are queued on the pipe (see
// pipe.go) and sent in front of the next read or at commit; the others run at
// once, carrying the queue in the same round trip.

// wrote returns a result check that wraps a queued write's error.
func wrote(format string, args ...any) func(pgconn.CommandTag, error) error {
	return func(_ pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("postgres: "+format+": %w", append(args, err)...)
		}
		return nil
	}
}

// RecordFact implements store.Tx. When this transaction read the id with
// FactSeen or FactsSeen, the answer is known without a round trip and the
// insert is queued; if a concurrent transaction records the same id after
// that read, the queued insert fails on the primary key and the transaction
// fails with an error wrapping store.ErrRetry (nothing is committed; running
// it again answers duplicate). Other ids are inserted at once.
func (t *wtx) RecordFact(ctx context.Context, id string, typ commerce.FactType, at time.Time, payload []byte) (bool, error) {
	if seen, ok := t.tx.facts[id]; ok {
		if seen {
			return true, nil
		}
		t.tx.facts[id] = true
		t.tx.add(bFactNew, id, string(typ), at, blob(payload))
		return false, nil
	}
	tag, err := t.tx.Exec(ctx, wFact, id, string(typ), at, storecodec.Blob(payload))
	if err != nil {
		return false, fmt.Errorf("postgres: record fact %q: %w", id, err)
	}
	if t.tx.facts == nil {
		t.tx.facts = map[string]bool{}
	}
	t.tx.facts[id] = true
	return tag.RowsAffected() == 0, nil
}

// PutShop implements store.Tx (queued). SubAccounts are not stored.
func (t *wtx) PutShop(ctx context.Context, s *commerce.Shop) error {
	data, err := storecodec.EncodeUTC(storecodec.ShopStored(s))
	if err != nil {
		return fmt.Errorf("postgres: encode shop %q: %w", s.ID, err)
	}
	t.tx.add(bShop, s.ID, string(s.Platform), s.Industry, string(data))
	return nil
}

// PutAccount implements store.Tx (queued).
func (t *wtx) PutAccount(ctx context.Context, a *commerce.Account) error {
	data, err := storecodec.EncodeUTC(a)
	if err != nil {
		return fmt.Errorf("postgres: encode account %q: %w", a.ID, err)
	}
	t.tx.add(bAccount, a.ID, a.ShopID, string(data))
	return nil
}

// PutOrder implements store.Tx (queued).
func (t *wtx) PutOrder(ctx context.Context, o *commerce.Order) error {
	data, err := storecodec.EncodeUTC(o)
	if err != nil {
		return fmt.Errorf("postgres: encode order %q: %w", o.ID, err)
	}
	t.tx.add(bOrder, o.ID, o.ShopID, o.BuyerID, timePtr(o.UrgedAt), timePtr(o.ShippedAt), string(data))
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

// InsertTask implements store.Tx. It runs at once: its conflict is an
// answer the engine acts on. The insert is ON CONFLICT DO NOTHING, so a
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
		t.noteLocked(x)
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
//
// When this transaction holds the task's row lock (it read the task inside
// Update, or inserted it), the rev is newer and the task does not leave the
// completed state, none of these can happen: the update is queued.
func (t *wtx) UpdateTask(ctx context.Context, x *task.Task) error {
	data, err := storecodec.EncodeUTC(x)
	if err != nil {
		return fmt.Errorf("postgres: encode task %q: %w", x.ID, err)
	}
	if l, ok := t.tx.tasks[x.ID]; ok && int64(x.Rev) > l.rev && (!l.completed || x.State == task.Completed) {
		t.tx.add(bTaskUpdate, x.ID, string(x.State), timePtr(x.DueAt), int64(x.Rev), string(data))
		t.noteLocked(x)
		return nil
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
		// The UPDATE locked the row.
		t.noteLocked(x)
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

// exactReservations is how many reservations of a table per transaction
// take exactly the values asked for, before blocks are fetched ahead.
const exactReservations = 3

// reserve returns n values of the identity sequence of table's seq column.
// Values are fetched ahead in growing blocks (one round trip, carrying the
// queue) and handed out in increasing order, so rows appended in one
// transaction keep their order; values left when it ends are skipped, as
// sequences skip values of rolled-back transactions.
func (t *wtx) reserve(ctx context.Context, table string, n int) ([]int64, error) {
	if t.tx.err != nil {
		return nil, t.tx.err
	}
	have := t.tx.seqs[table]
	if len(have) < n {
		// The first few reservations of a transaction take exactly what
		// is asked: a command appends a few rows in a few calls and leaves
		// no unused values, so readers following the log in sequence order
		// (the live hub) meet no gap to wait behind. From the fourth call
		// on, blocks double (16, 32, … 4096): a sweep of 1000 firings
		// reserves about 10 times and leaves at most one partial block.
		if t.tx.block == nil {
			t.tx.block = map[string]int{}
		}
		if t.tx.calls == nil {
			t.tx.calls = map[string]int{}
		}
		t.tx.calls[table]++
		want := n - len(have)
		if t.tx.calls[table] > exactReservations {
			block := min(max(2*t.tx.block[table], 16), 4096)
			t.tx.block[table] = block
			want = max(want, block)
		}
		// The sequence is not a table with queued writes: no need to send them.
		rows, err := t.tx.Tx.Query(ctx, qReserve, table, int64(want))
		if err != nil {
			return nil, fmt.Errorf("postgres: reserve %s seqs: %w", table, err)
		}
		more := make([]int64, 0, len(have)+want)
		more = append(more, have...)
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("postgres: reserve %s seqs: %w", table, err)
			}
			more = append(more, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("postgres: reserve %s seqs: %w", table, err)
		}
		if len(more) < n {
			return nil, fmt.Errorf("postgres: reserve %s seqs: got %d of %d", table, len(more), n)
		}
		// nextval in one statement is increasing; keep the order explicit.
		slices.Sort(more)
		have = more
	}
	if t.tx.seqs == nil {
		t.tx.seqs = map[string][]int64{}
	}
	t.tx.seqs[table] = have[n:]
	return have[:n:n], nil
}

// AppendEvents implements store.Tx (queued, with seqs reserved ahead).
func (t *wtx) AppendEvents(ctx context.Context, evs []task.Event) error {
	if len(evs) == 0 {
		return nil
	}
	bodies := make([]string, len(evs))
	for i := range evs {
		body, err := storecodec.EncodeUTC(storecodec.EventBody(&evs[i]))
		if err != nil {
			return fmt.Errorf("postgres: encode event: %w", err)
		}
		bodies[i] = string(body)
	}
	seqs, err := t.reserve(ctx, "events", len(evs))
	if err != nil {
		return fmt.Errorf("postgres: append events: %w", err)
	}
	for i := range evs {
		e := &evs[i]
		t.tx.add(bEvent, seqs[i], e.Stream, e.TaskID, e.OrderID, e.ShopID, e.At, bodies[i], blob(e.Data))
		e.Seq = seqs[i]
	}
	return nil
}

// SetTimer implements store.Tx (queued). The earliest due time set is
// announced to other replicas at commit (see ListenTimers).
func (t *wtx) SetTimer(ctx context.Context, tm task.Timer) error {
	t.tx.timers.set(tm)
	if t.tx.wake.IsZero() || tm.DueAt.Before(t.tx.wake) {
		t.tx.wake = tm.DueAt
	}
	return nil
}

// StopTimer implements store.Tx (queued).
func (t *wtx) StopTimer(ctx context.Context, subject, kind string) error {
	t.tx.timers.stop(subject, kind)
	return nil
}

// StopTimers implements store.Tx (queued).
func (t *wtx) StopTimers(ctx context.Context, subject string) error {
	t.tx.timers.stopAll(subject)
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

// RecordFirings implements store.Tx (queued).
func (t *wtx) RecordFirings(ctx context.Context, fs []task.Firing) error {
	for _, f := range fs {
		t.tx.add(bFiring, f.Subject, f.Kind, f.DueAt, f.FiredAt, int64(f.Late))
	}
	return nil
}

// AppendOutbox implements store.Tx (queued, with seqs reserved ahead).
func (t *wtx) AppendOutbox(ctx context.Context, ms []notify.Message) error {
	if len(ms) == 0 {
		return nil
	}
	bodies := make([]string, len(ms))
	for i := range ms {
		body, err := storecodec.EncodeUTC(storecodec.MessageBody(&ms[i]))
		if err != nil {
			return fmt.Errorf("postgres: encode outbox message: %w", err)
		}
		bodies[i] = string(body)
	}
	seqs, err := t.reserve(ctx, "outbox", len(ms))
	if err != nil {
		return fmt.Errorf("postgres: append outbox messages: %w", err)
	}
	for i := range ms {
		m := &ms[i]
		t.tx.add(bOutbox, seqs[i], string(m.Kind), m.Recipient, string(m.Status), m.At, bodies[i], blob(m.Payload))
		m.Seq = seqs[i]
	}
	return nil
}

// IncrCounter implements store.Tx. It runs at once (the caller reads the value).
func (t *wtx) IncrCounter(ctx context.Context, key string, delta int64) (int64, error) {
	var v int64
	if err := t.tx.QueryRow(ctx, wIncr, key, delta).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: increment counter %q: %w", key, err)
	}
	return v, nil
}

// AddCounters implements store.Tx (queued): one upsert over unnest arrays
// with the transaction's other queued writes; deltas queued for one key
// before the queue is sent are summed, and the rows go out in key order.
func (t *wtx) AddCounters(ctx context.Context, keys []string, deltas []int64) error {
	if len(keys) != len(deltas) {
		return fmt.Errorf("postgres: add to counters: %d keys, %d deltas", len(keys), len(deltas))
	}
	for i, k := range keys {
		t.tx.addCounter(k, deltas[i])
	}
	return nil
}

// PutComplaint implements store.Tx (queued).
func (t *wtx) PutComplaint(ctx context.Context, c *judgment.Complaint) error {
	data, err := storecodec.EncodeUTC(c)
	if err != nil {
		return fmt.Errorf("postgres: encode complaint %q: %w", c.ID, err)
	}
	t.tx.add(bComplaint, c.ID, c.OrderID, c.FiledAt, string(data))
	return nil
}

// AppendPoints implements store.Tx. It runs at once (a repeated id is an answer).
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

// PutIdempotent implements store.Tx (queued). Putting a key again replaces its response.
func (t *wtx) PutIdempotent(ctx context.Context, key string, response []byte) error {
	t.tx.add(bIdempotent, key, blob(response))
	return nil
}
