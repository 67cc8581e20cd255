package sqlite

import (
	"aftersale/internal/store/storecodec"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// rtx is a read transaction (and the read half of a write transaction).
type rtx struct {
	tx *sql.Tx
	st *stmts
	// bound caches the pool's prepared statements bound to tx.
	bound [nStmts]*sql.Stmt
}

// wtx is a write transaction.
type wtx struct{ rtx }

var (
	_ store.ReadTx = (*rtx)(nil)
	_ store.Tx     = (*wtx)(nil)
)

// stmt returns statement id bound to the transaction.
func (t *rtx) stmt(ctx context.Context, id stmtID) *sql.Stmt {
	if s := t.bound[id]; s != nil {
		return s
	}
	s := t.tx.StmtContext(ctx, t.st.s[id])
	t.bound[id] = s
	return s
}

// limit maps the contract's "0 (or less) means no limit" to SQLite's LIMIT -1.
func limit(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// getJSON reads the one JSON column of statement id into dst, or returns an
// ENOTFOUND error naming field when there is no row.
func (t *rtx) getJSON(ctx context.Context, id stmtID, dst any, field, what, key string) error {
	rows, err := t.stmt(ctx, id).QueryContext(ctx, key)
	if err != nil {
		return fmt.Errorf("sqlite: read %s %q: %w", what, key, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: read %s %q: %w", what, key, err)
		}
		return apperr.NotFound(field, "%s %q not found", what, key)
	}
	var data sql.RawBytes // decoded before the next Next/Close: no copy
	if err := rows.Scan(&data); err != nil {
		return fmt.Errorf("sqlite: read %s %q: %w", what, key, err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("sqlite: decode %s %q: %w", what, key, err)
	}
	return nil
}

// listJSON decodes the JSON column of every row into a new T.
func listJSON[T any](rows *sql.Rows, err error, what string) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var data sql.RawBytes
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("sqlite: list %s: %w", what, err)
		}
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("sqlite: decode %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", what, err)
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
	rows, err := t.stmt(ctx, qShopAccounts).QueryContext(ctx, shopID)
	return listJSON[commerce.Account](rows, err, "accounts")
}

// Order implements store.ReadTx.
func (t *rtx) Order(ctx context.Context, id string) (*commerce.Order, error) {
	var o commerce.Order
	if err := t.getJSON(ctx, qOrder, &o, "order_id", "order", id); err != nil {
		return nil, err
	}
	return &o, nil
}

// OrdersByID implements store.ReadTx.
func (t *rtx) OrdersByID(ctx context.Context, ids []string) ([]commerce.Order, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := t.stmt(ctx, qOrdersByID).QueryContext(ctx, string(list))
	return listJSON[commerce.Order](rows, err, "orders")
}

// UrgedOrders implements store.ReadTx.
func (t *rtx) UrgedOrders(ctx context.Context, shopID string) ([]commerce.Order, error) {
	rows, err := t.stmt(ctx, qUrgedOrders).QueryContext(ctx, shopID)
	return listJSON[commerce.Order](rows, err, "urged orders")
}

// Task implements store.ReadTx.
func (t *rtx) Task(ctx context.Context, id string) (*task.Task, error) {
	var x task.Task
	if err := t.getJSON(ctx, qTask, &x, "task_id", "task", id); err != nil {
		return nil, err
	}
	return &x, nil
}

// TasksByID implements store.ReadTx.
func (t *rtx) TasksByID(ctx context.Context, ids []string) ([]task.Task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := t.stmt(ctx, qTasksByID).QueryContext(ctx, string(list))
	return listJSON[task.Task](rows, err, "tasks")
}

// OpenTask implements store.ReadTx.
func (t *rtx) OpenTask(ctx context.Context, orderID string, typ task.Type) (*task.Task, error) {
	var data []byte
	err := t.stmt(ctx, qOpenTask).QueryRowContext(ctx, orderID, string(typ)).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read open task: %w", err)
	}
	var x task.Task
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("sqlite: decode task: %w", err)
	}
	return &x, nil
}

// Tasks implements store.ReadTx.
func (t *rtx) Tasks(ctx context.Context, f store.TaskFilter) ([]task.Task, error) {
	q, args, err := t.tasksQuery(ctx, f)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, q, args...)
	return listJSON[task.Task](rows, err, "tasks")
}

// tasksQuery is the SELECT of the tasks' data a filter selects, in order.
func (t *rtx) tasksQuery(ctx context.Context, f store.TaskFilter) (string, []any, error) {
	var conds []string
	var args []any
	add := func(cond string, vs ...any) {
		conds = append(conds, cond)
		args = append(args, vs...)
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
		add("due_at < ?", fmtTime(*f.DueBefore))
	}
	// Tasks without a deadline sort after every deadline (times are
	// fixed-width RFC 3339 text, so text order is time order).
	const dueKey = "coalesce(due_at, '9999-12-31T23:59:59.999999Z')"
	if f.After != "" {
		var created, due string
		err := t.tx.QueryRowContext(ctx, "SELECT created_at, "+dueKey+" FROM tasks WHERE id = ?", f.After).Scan(&created, &due)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, apperr.NotFound("after", "cursor task %q not found", f.After)
		}
		if err != nil {
			return "", nil, fmt.Errorf("sqlite: read cursor: %w", err)
		}
		if f.ByDue {
			add("("+dueKey+", created_at, id) > (?, ?, ?)", due, created, f.After)
		} else {
			add("(created_at, id) > (?, ?)", created, f.After)
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
		b.WriteString(" LIMIT ?")
		args = append(args, f.Limit)
	}
	return b.String(), args, nil
}

// CountTasks implements store.ReadTx.
func (t *rtx) CountTasks(ctx context.Context, shopID string) (map[task.State]int, error) {
	var rows *sql.Rows
	var err error
	if shopID == "" {
		rows, err = t.stmt(ctx, qCountTasks).QueryContext(ctx)
	} else {
		rows, err = t.stmt(ctx, qCountShopTasks).QueryContext(ctx, shopID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: count tasks: %w", err)
	}
	defer rows.Close()
	out := map[task.State]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("sqlite: count tasks: %w", err)
		}
		out[task.State(s)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count tasks: %w", err)
	}
	return out, nil
}

// scanEvents reads (seq, body, data) rows.
func scanEvents(rows *sql.Rows, err error) ([]task.Event, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlite: list events: %w", err)
	}
	defer rows.Close()
	var out []task.Event
	for rows.Next() {
		var seq int64
		var body sql.RawBytes
		var data []byte
		if err := rows.Scan(&seq, &body, &data); err != nil {
			return nil, fmt.Errorf("sqlite: list events: %w", err)
		}
		var e task.Event
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, fmt.Errorf("sqlite: decode event %d: %w", seq, err)
		}
		e.Seq, e.Data = seq, data
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list events: %w", err)
	}
	return out, nil
}

// Events implements store.ReadTx.
func (t *rtx) Events(ctx context.Context, stream string) ([]task.Event, error) {
	return scanEvents(t.stmt(ctx, qEvents).QueryContext(ctx, stream))
}

// EventsAfter implements store.ReadTx. A limit of 0 or less means no limit.
func (t *rtx) EventsAfter(ctx context.Context, after int64, n int) ([]task.Event, error) {
	return scanEvents(t.stmt(ctx, qEventsAfter).QueryContext(ctx, after, limit(n)))
}

func scanTimers(rows *sql.Rows, err error) ([]task.Timer, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlite: list timers: %w", err)
	}
	defer rows.Close()
	var out []task.Timer
	for rows.Next() {
		tm, err := scanTimer(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list timers: %w", err)
		}
		out = append(out, tm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list timers: %w", err)
	}
	return out, nil
}

// Timers implements store.ReadTx.
func (t *rtx) Timers(ctx context.Context, subject string) ([]task.Timer, error) {
	if subject == "" {
		return scanTimers(t.stmt(ctx, qAllTimers).QueryContext(ctx))
	}
	return scanTimers(t.stmt(ctx, qTimers).QueryContext(ctx, subject))
}

// NextDue implements store.ReadTx.
func (t *rtx) NextDue(ctx context.Context) (time.Time, bool, error) {
	var due string
	err := t.stmt(ctx, qNextDue).QueryRowContext(ctx).Scan(&due)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: next due: %w", err)
	}
	at, err := parseTime(due)
	if err != nil {
		return time.Time{}, false, err
	}
	return at, true, nil
}

// Outbox implements store.ReadTx. A limit of 0 or less means no limit.
func (t *rtx) Outbox(ctx context.Context, after int64, n int) ([]notify.Message, error) {
	rows, err := t.stmt(ctx, qOutbox).QueryContext(ctx, after, limit(n))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list outbox: %w", err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		var seq int64
		var body sql.RawBytes
		var payload []byte
		if err := rows.Scan(&seq, &body, &payload); err != nil {
			return nil, fmt.Errorf("sqlite: list outbox: %w", err)
		}
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("sqlite: decode outbox message %d: %w", seq, err)
		}
		m.Seq, m.Payload = seq, payload
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list outbox: %w", err)
	}
	return out, nil
}

// Complaint implements store.ReadTx.
func (t *rtx) Complaint(ctx context.Context, id string) (*judgment.Complaint, error) {
	var c judgment.Complaint
	if err := t.getJSON(ctx, qComplaint, &c, "complaint_id", "complaint", id); err != nil {
		return nil, err
	}
	return &c, nil
}

// Complaints implements store.ReadTx.
func (t *rtx) Complaints(ctx context.Context, orderID string) ([]judgment.Complaint, error) {
	rows, err := t.stmt(ctx, qComplaints).QueryContext(ctx, orderID)
	return listJSON[judgment.Complaint](rows, err, "complaints")
}

// Points implements store.ReadTx.
func (t *rtx) Points(ctx context.Context, shopID string, since time.Time) ([]judgment.PointsEntry, error) {
	rows, err := t.stmt(ctx, qPoints).QueryContext(ctx, shopID, fmtTime(since))
	return listJSON[judgment.PointsEntry](rows, err, "points")
}

// Idempotent implements store.ReadTx.
func (t *rtx) Idempotent(ctx context.Context, key string) ([]byte, bool, error) {
	var resp []byte
	err := t.stmt(ctx, qIdempotent).QueryRowContext(ctx, key).Scan(&resp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: read idempotency key: %w", err)
	}
	return resp, true, nil
}

// Firings implements store.ReadTx. A limit of 0 or less means no limit.
func (t *rtx) Firings(ctx context.Context, n int) ([]task.Firing, error) {
	rows, err := t.stmt(ctx, qFirings).QueryContext(ctx, limit(n))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list firings: %w", err)
	}
	defer rows.Close()
	var out []task.Firing
	for rows.Next() {
		f, err := scanFiring(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list firings: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list firings: %w", err)
	}
	return out, nil
}

// FactSeen implements store.ReadTx.
func (t *rtx) FactSeen(ctx context.Context, id string) (bool, error) {
	var one int
	err := t.stmt(ctx, qFactSeen).QueryRowContext(ctx, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: read fact %q: %w", id, err)
	}
	return true, nil
}

// FactsSeen implements store.ReadTx.
func (t *rtx) FactsSeen(ctx context.Context, ids []string) (map[string]bool, error) {
	seen := map[string]bool{}
	if len(ids) == 0 {
		return seen, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := t.stmt(ctx, qFactsSeen).QueryContext(ctx, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: read facts: %w", err)
		}
		seen[id] = true
	}
	return seen, rows.Err()
}

// Counter implements store.ReadTx.
func (t *rtx) Counter(ctx context.Context, key string) (int64, error) {
	var v int64
	err := t.stmt(ctx, qCounter).QueryRowContext(ctx, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: read counter: %w", err)
	}
	return v, nil
}

// exec runs write statement id.
func (t *wtx) exec(ctx context.Context, id stmtID, args ...any) (sql.Result, error) {
	return t.stmt(ctx, id).ExecContext(ctx, args...)
}

// RecordFact implements store.Tx.
func (t *wtx) RecordFact(ctx context.Context, id string, typ commerce.FactType, at time.Time, payload []byte) (bool, error) {
	var p any
	if len(payload) > 0 {
		p = string(payload)
	}
	res, err := t.exec(ctx, wFact, id, string(typ), fmtTime(at), p)
	if err != nil {
		return false, fmt.Errorf("sqlite: record fact %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: record fact %q: %w", id, err)
	}
	return n == 0, nil
}

// PutShop implements store.Tx. SubAccounts are not stored.
func (t *wtx) PutShop(ctx context.Context, s *commerce.Shop) error {
	data, err := storecodec.EncodeUTC(storecodec.ShopStored(s))
	if err != nil {
		return fmt.Errorf("sqlite: encode shop %q: %w", s.ID, err)
	}
	if _, err := t.exec(ctx, wShop, s.ID, string(s.Platform), s.Industry, string(data)); err != nil {
		return fmt.Errorf("sqlite: put shop %q: %w", s.ID, err)
	}
	return nil
}

// PutAccount implements store.Tx.
func (t *wtx) PutAccount(ctx context.Context, a *commerce.Account) error {
	data, err := storecodec.EncodeUTC(a)
	if err != nil {
		return fmt.Errorf("sqlite: encode account %q: %w", a.ID, err)
	}
	if _, err := t.exec(ctx, wAccount, a.ID, a.ShopID, string(data)); err != nil {
		return fmt.Errorf("sqlite: put account %q: %w", a.ID, err)
	}
	return nil
}

// PutOrder implements store.Tx.
func (t *wtx) PutOrder(ctx context.Context, o *commerce.Order) error {
	data, err := storecodec.EncodeUTC(o)
	if err != nil {
		return fmt.Errorf("sqlite: encode order %q: %w", o.ID, err)
	}
	if _, err := t.exec(ctx, wOrder, o.ID, o.ShopID, o.BuyerID, nullTime(o.UrgedAt), nullTime(o.ShippedAt), string(data)); err != nil {
		return fmt.Errorf("sqlite: put order %q: %w", o.ID, err)
	}
	return nil
}

// constraintCode returns the extended SQLite result code of a constraint
// violation, or 0.
func constraintCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return se.Code()
	}
	return 0
}

func openExists(x *task.Task) error {
	return apperr.Conflict("task.open_exists", "", "a %s task is already open on order %s", x.Type, x.OrderID)
}

// taskArgs are the column values of wInsertTask / wUpdateTask, in order.
func taskArgs(x *task.Task) ([]any, error) {
	data, err := storecodec.EncodeUTC(x)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode task %q: %w", x.ID, err)
	}
	return []any{x.ID, x.OrderID, x.ShopID, x.BuyerID, string(x.Type), string(x.State),
		fmtTime(x.CreatedAt), nullTime(x.DueAt), x.Rev, string(data)}, nil
}

// InsertTask implements store.Tx.
func (t *wtx) InsertTask(ctx context.Context, x *task.Task) error {
	args, err := taskArgs(x)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, wInsertTask, args...)
	switch constraintCode(err) {
	case 0:
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return apperr.Conflict("task.exists", "", "task %s already exists", x.ID)
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return openExists(x)
	}
	if err != nil {
		return fmt.Errorf("sqlite: insert task %q: %w", x.ID, err)
	}
	return nil
}

// UpdateTask implements store.Tx. The task's Rev must be greater than the
// stored one (optimistic check): otherwise it fails with ECONFLICT
// "task.stale". A task that does not exist is ENOTFOUND.
func (t *wtx) UpdateTask(ctx context.Context, x *task.Task) error {
	args, err := taskArgs(x)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, wUpdateTask, args...)
	if constraintCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return openExists(x)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update task %q: %w", x.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: update task %q: %w", x.ID, err)
	}
	if n == 1 {
		return nil
	}
	var rev int
	err = t.stmt(ctx, qTaskRev).QueryRowContext(ctx, x.ID).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound("task_id", "task %q not found", x.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update task %q: %w", x.ID, err)
	}
	return apperr.Conflict("task.stale", "", "task %s is at rev %d; rev %d is not newer", x.ID, rev, x.Rev)
}

// AppendEvents implements store.Tx.
func (t *wtx) AppendEvents(ctx context.Context, evs []task.Event) error {
	for i := range evs {
		e := &evs[i]
		body, err := storecodec.EncodeUTC(storecodec.EventBody(e))
		if err != nil {
			return fmt.Errorf("sqlite: encode event: %w", err)
		}
		res, err := t.exec(ctx, wEvent, e.Stream, e.TaskID, e.OrderID, e.ShopID, fmtTime(e.At), string(body), storecodec.Blob(e.Data))
		if err != nil {
			return fmt.Errorf("sqlite: append event: %w", err)
		}
		if e.Seq, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlite: append event: %w", err)
		}
	}
	return nil
}

// SetTimer implements store.Tx.
func (t *wtx) SetTimer(ctx context.Context, tm task.Timer) error {
	if _, err := t.exec(ctx, wSetTimer, tm.Subject, tm.Kind, fmtTime(tm.DueAt), fmtTime(tm.SetAt), tm.PolicyVersion); err != nil {
		return fmt.Errorf("sqlite: set timer %s/%s: %w", tm.Subject, tm.Kind, err)
	}
	return nil
}

// StopTimer implements store.Tx.
func (t *wtx) StopTimer(ctx context.Context, subject, kind string) error {
	if _, err := t.exec(ctx, wStopTimer, subject, kind); err != nil {
		return fmt.Errorf("sqlite: stop timer %s/%s: %w", subject, kind, err)
	}
	return nil
}

// StopTimers implements store.Tx.
func (t *wtx) StopTimers(ctx context.Context, subject string) error {
	if _, err := t.exec(ctx, wStopTimers, subject); err != nil {
		return fmt.Errorf("sqlite: stop timers of %s: %w", subject, err)
	}
	return nil
}

// ClaimDue implements store.Tx. A limit of 0 or less means no limit.
func (t *wtx) ClaimDue(ctx context.Context, now time.Time, n int) ([]task.Timer, error) {
	timers, err := scanTimers(t.stmt(ctx, wClaimDue).QueryContext(ctx, fmtTime(now), limit(n)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim due timers: %w", err)
	}
	// RETURNING yields rows in no particular order.
	slices.SortFunc(timers, func(a, b task.Timer) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), strings.Compare(a.Subject, b.Subject), strings.Compare(a.Kind, b.Kind))
	})
	return timers, nil
}

// RecordFirings implements store.Tx.
func (t *wtx) RecordFirings(ctx context.Context, fs []task.Firing) error {
	for _, f := range fs {
		if _, err := t.exec(ctx, wFiring, f.Subject, f.Kind, fmtTime(f.DueAt), fmtTime(f.FiredAt), int64(f.Late)); err != nil {
			return fmt.Errorf("sqlite: record firing: %w", err)
		}
	}
	return nil
}

// AppendOutbox implements store.Tx.
func (t *wtx) AppendOutbox(ctx context.Context, ms []notify.Message) error {
	for i := range ms {
		m := &ms[i]
		body, err := storecodec.EncodeUTC(storecodec.MessageBody(m))
		if err != nil {
			return fmt.Errorf("sqlite: encode outbox message: %w", err)
		}
		res, err := t.exec(ctx, wOutbox, string(m.Kind), m.Recipient, string(m.Status), fmtTime(m.At), string(body), storecodec.Blob(m.Payload))
		if err != nil {
			return fmt.Errorf("sqlite: append outbox message: %w", err)
		}
		if m.Seq, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlite: append outbox message: %w", err)
		}
	}
	return nil
}

// IncrCounter implements store.Tx.
func (t *wtx) IncrCounter(ctx context.Context, key string, delta int64) (int64, error) {
	var v int64
	if err := t.stmt(ctx, wIncr).QueryRowContext(ctx, key, delta).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: increment counter %q: %w", key, err)
	}
	return v, nil
}

// AddCounters implements store.Tx: one statement per key (in-process, no
// round trips to save).
func (t *wtx) AddCounters(ctx context.Context, keys []string, deltas []int64) error {
	if len(keys) != len(deltas) {
		return fmt.Errorf("sqlite: add to counters: %d keys, %d deltas", len(keys), len(deltas))
	}
	for i, k := range keys {
		if _, err := t.IncrCounter(ctx, k, deltas[i]); err != nil {
			return err
		}
	}
	return nil
}

// PutComplaint implements store.Tx.
func (t *wtx) PutComplaint(ctx context.Context, c *judgment.Complaint) error {
	data, err := storecodec.EncodeUTC(c)
	if err != nil {
		return fmt.Errorf("sqlite: encode complaint %q: %w", c.ID, err)
	}
	if _, err := t.exec(ctx, wComplaint, c.ID, c.OrderID, fmtTime(c.FiledAt), string(data)); err != nil {
		return fmt.Errorf("sqlite: put complaint %q: %w", c.ID, err)
	}
	return nil
}

// AppendPoints implements store.Tx.
func (t *wtx) AppendPoints(ctx context.Context, es []judgment.PointsEntry) error {
	for i := range es {
		e := &es[i]
		data, err := storecodec.EncodeUTC(e)
		if err != nil {
			return fmt.Errorf("sqlite: encode points %q: %w", e.ID, err)
		}
		_, err = t.exec(ctx, wPoints, e.ID, e.ShopID, fmtTime(e.At), string(data))
		if constraintCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return apperr.Conflict("points.exists", "", "points entry %s already exists", e.ID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: append points %q: %w", e.ID, err)
		}
	}
	return nil
}

// PutIdempotent implements store.Tx. Putting a key again replaces its response.
func (t *wtx) PutIdempotent(ctx context.Context, key string, response []byte) error {
	if _, err := t.exec(ctx, wIdempotent, key, storecodec.Blob(response)); err != nil {
		return fmt.Errorf("sqlite: put idempotency key: %w", err)
	}
	return nil
}
