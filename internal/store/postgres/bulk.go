package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"aftersale/internal/store"
	"aftersale/internal/task"
)

// Queued writes are kept per table and sent as one statement per table over
// unnest() arrays: a sweep of 1000 timers is a handful of statements, not
// thousands. Reordering them is safe because the tables have no foreign
// keys or triggers, rows of one table keep their order where it matters
// (appends are appended in order; an upsert or update of a key replaces the
// key's earlier queued row, so the last write wins as it would have), and any
// statement that is not queued (a read, an immediate write, another file's
// statement) sends the queue first.

// colKind is the SQL array type of a queued column.
type colKind int

const (
	colText  colKind = iota // string
	colTime                 // time.Time
	colTimeN                // *time.Time (NULL when nil)
	colInt                  // int64
	colBytes                // []byte (NULL when nil)
)

// bulkKind names a queued statement.
type bulkKind int

const (
	bFactNew bulkKind = iota
	bShop
	bAccount
	bOrder
	bTaskUpdate
	bEvent
	bOutbox
	bFiring
	bComplaint
	bIdempotent
	bCounterAdd
	nBulk
)

// bulkSpec is a queued statement: SQL over one array parameter per column,
// in the order of kinds. keyed statements (upserts, updates) keep one row per
// key (the first column).
type bulkSpec struct {
	sql   string
	kinds []colKind
	keyed bool
	what  string
}

func unnest(kinds ...colKind) string {
	names := map[colKind]string{colText: "text", colTime: "timestamptz", colTimeN: "timestamptz", colInt: "int8", colBytes: "bytea"}
	var b strings.Builder
	b.WriteString("unnest(")
	for i, k := range kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", i+1, names[k])
	}
	b.WriteString(")")
	return b.String()
}

var bulkSpecs = func() [nBulk]bulkSpec {
	T, TS, TN, I, B := colText, colTime, colTimeN, colInt, colBytes
	var s [nBulk]bulkSpec
	def := func(k bulkKind, keyed bool, what string, sql string, kinds ...colKind) {
		s[k] = bulkSpec{sql: strings.ReplaceAll(sql, "UNNEST", unnest(kinds...)), kinds: kinds, keyed: keyed, what: what}
	}
	def(bFactNew, false, "record facts", `INSERT INTO facts (id, type, at, payload) SELECT * FROM UNNEST`, T, T, TS, B)
	def(bShop, true, "put shops", `INSERT INTO shops (id, platform, industry, data) SELECT * FROM UNNEST
		ON CONFLICT (id) DO UPDATE SET platform = excluded.platform, industry = excluded.industry, data = excluded.data`, T, T, T, T)
	def(bAccount, true, "put accounts", `INSERT INTO accounts (id, shop_id, data) SELECT * FROM UNNEST
		ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, data = excluded.data`, T, T, T)
	def(bOrder, true, "put orders", `INSERT INTO orders (id, shop_id, buyer_id, urged_at, shipped_at, data) SELECT * FROM UNNEST
		ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, buyer_id = excluded.buyer_id,
			urged_at = excluded.urged_at, shipped_at = excluded.shipped_at, data = excluded.data`, T, T, T, TN, TN, T)
	def(bTaskUpdate, true, "update tasks", `UPDATE tasks SET state = u.state, due_at = u.due_at, rev = u.rev, data = u.data
		FROM UNNEST AS u(id, state, due_at, rev, data) WHERE tasks.id = u.id AND tasks.rev < u.rev`, T, T, TN, I, T)
	def(bEvent, false, "append events", `INSERT INTO events (seq, stream, task_id, order_id, shop_id, at, body, data)
		OVERRIDING SYSTEM VALUE SELECT * FROM UNNEST`, I, T, T, T, T, TS, T, B)
	def(bOutbox, false, "append outbox messages", `INSERT INTO outbox (seq, kind, recipient, status, at, body, payload)
		OVERRIDING SYSTEM VALUE SELECT * FROM UNNEST`, I, T, T, T, TS, T, B)
	def(bFiring, false, "record firings", `INSERT INTO firings (subject, kind, due_at, fired_at, late_ns) SELECT * FROM UNNEST`, T, T, TS, TS, I)
	def(bComplaint, true, "put complaints", `INSERT INTO complaints (id, order_id, filed_at, data) SELECT * FROM UNNEST
		ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id, filed_at = excluded.filed_at, data = excluded.data`, T, T, TS, T)
	def(bIdempotent, true, "put idempotency keys", `INSERT INTO idempotency (key, response) SELECT * FROM UNNEST
		ON CONFLICT (key) DO UPDATE SET response = excluded.response`, T, B)
	def(bCounterAdd, true, "add to counters", `INSERT INTO counters (key, value) SELECT * FROM UNNEST
		ON CONFLICT (key) DO UPDATE SET value = counters.value + excluded.value`, T, I)
	return s
}()

// bulk is the queued rows of one statement.
type bulk struct {
	rows  [][]any
	index map[string]int // keyed: row by key
}

// add queues a row; a keyed row replaces the queued row of its key.
func (b *bulk) add(keyed bool, row []any) {
	if keyed {
		k := row[0].(string)
		if i, ok := b.index[k]; ok {
			b.rows[i] = row
			return
		}
		if b.index == nil {
			b.index = map[string]int{}
		}
		b.index[k] = len(b.rows)
	}
	b.rows = append(b.rows, row)
}

// args builds the statement's array parameters.
func (b *bulk) args(kinds []colKind) []any {
	n := len(b.rows)
	out := make([]any, len(kinds))
	for c, k := range kinds {
		switch k {
		case colText:
			a := make([]string, n)
			for i, r := range b.rows {
				a[i] = r[c].(string)
			}
			out[c] = a
		case colTime:
			a := make([]time.Time, n)
			for i, r := range b.rows {
				a[i] = r[c].(time.Time)
			}
			out[c] = a
		case colTimeN:
			a := make([]*time.Time, n)
			for i, r := range b.rows {
				a[i] = r[c].(*time.Time)
			}
			out[c] = a
		case colInt:
			a := make([]int64, n)
			for i, r := range b.rows {
				a[i] = r[c].(int64)
			}
			out[c] = a
		case colBytes:
			a := make([][]byte, n)
			for i, r := range b.rows {
				a[i] = r[c].([]byte)
			}
			out[c] = a
		}
	}
	return out
}

// timerKey is a timer's key.
type timerKey struct{ subject, kind string }

// timerQueue is the queued timer changes, as their net effect: subjects
// whose timers are all stopped (sent first), single timers stopped, and
// timers set (sent last, as one upsert).
type timerQueue struct {
	cleared   []string
	isCleared map[string]bool
	stops     map[timerKey]bool
	sets      map[timerKey]task.Timer
	setOrder  []timerKey
	bySubject map[string][]string // kinds set, by subject
}

func (q *timerQueue) empty() bool {
	return len(q.cleared) == 0 && len(q.stops) == 0 && len(q.sets) == 0
}

func (q *timerQueue) set(tm task.Timer) {
	k := timerKey{tm.Subject, tm.Kind}
	delete(q.stops, k)
	if q.sets == nil {
		q.sets, q.bySubject = map[timerKey]task.Timer{}, map[string][]string{}
	}
	if _, ok := q.sets[k]; !ok {
		q.setOrder = append(q.setOrder, k)
		q.bySubject[tm.Subject] = append(q.bySubject[tm.Subject], tm.Kind)
	}
	q.sets[k] = tm
}

func (q *timerQueue) stop(subject, kind string) {
	k := timerKey{subject, kind}
	delete(q.sets, k)
	if q.stops == nil {
		q.stops = map[timerKey]bool{}
	}
	q.stops[k] = true
}

func (q *timerQueue) stopAll(subject string) {
	for _, kind := range q.bySubject[subject] {
		delete(q.sets, timerKey{subject, kind})
		delete(q.stops, timerKey{subject, kind})
	}
	delete(q.bySubject, subject)
	if !q.isCleared[subject] {
		if q.isCleared == nil {
			q.isCleared = map[string]bool{}
		}
		q.isCleared[subject] = true
		q.cleared = append(q.cleared, subject)
	}
}

const (
	wClearTimers = `DELETE FROM timers WHERE subject = ANY($1::text[])`
	wStopTimersK = `DELETE FROM timers WHERE (subject, kind) IN (SELECT * FROM unnest($1::text[], $2::text[]))`
	wSetTimers   = `INSERT INTO timers (subject, kind, due_at, set_at, policy_version)
		SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[])
		ON CONFLICT (subject, kind) DO UPDATE SET due_at = excluded.due_at, set_at = excluded.set_at,
			policy_version = excluded.policy_version`
)

// queueTo adds the pending statements to a batch with their checks.
func (q *timerQueue) queueTo(queue func(func(pgconn.CommandTag, error) error, string, ...any)) {
	if len(q.cleared) > 0 {
		queue(wrote("stop timers"), wClearTimers, q.cleared)
	}
	if len(q.stops) > 0 {
		var subs, kinds []string
		for k := range q.stops {
			subs, kinds = append(subs, k.subject), append(kinds, k.kind)
		}
		queue(wrote("stop timers"), wStopTimersK, subs, kinds)
	}
	if len(q.sets) > 0 {
		n := len(q.sets)
		subs, kinds, vers := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		due, set := make([]time.Time, 0, n), make([]time.Time, 0, n)
		for _, k := range q.setOrder {
			tm, ok := q.sets[k]
			if !ok {
				continue
			}
			subs, kinds, vers = append(subs, tm.Subject), append(kinds, tm.Kind), append(vers, tm.PolicyVersion)
			due, set = append(due, tm.DueAt), append(set, tm.SetAt)
		}
		queue(wrote("set timers"), wSetTimers, subs, kinds, due, set, vers)
	}
	*q = timerQueue{}
}

// bulkCheck is the result check of a queued bulk statement.
func bulkCheck(k bulkKind, rows int) func(pgconn.CommandTag, error) error {
	spec := &bulkSpecs[k]
	return func(tag pgconn.CommandTag, err error) error {
		switch {
		case err != nil && k == bFactNew && uniqueViolation(err) != "":
			return fmt.Errorf("postgres: record facts: a fact read as new was recorded by a concurrent transaction: %w", store.ErrRetry)
		case err != nil:
			return fmt.Errorf("postgres: %s: %w", spec.what, err)
		case k == bTaskUpdate && tag.RowsAffected() != int64(rows):
			return fmt.Errorf("postgres: %s: %d of %d locked rows updated", spec.what, tag.RowsAffected(), rows)
		}
		return nil
	}
}

// readTables names, for the read statements that read one table, the
// queued statement that writes it: such a read sends the queue only when
// that statement has rows waiting (a sweep reads shops between queued task
// updates without sending them). Other statements send the whole queue.
var readTables = map[string]bulkKind{
	qShop: bShop, qShopsByID: bShop, qAccount: bAccount, qShopAccounts: bAccount,
	qOrder: bOrder, qOrderLock: bOrder, qOrdersByID: bOrder, qOrdersByIDLock: bOrder,
	qComplaint: bComplaint, qComplaints: bComplaint,
	qEvents: bEvent, qEventsAfter: bEvent, qOutbox: bOutbox, qIdempotent: bIdempotent,
}

// querier is what reads use: the pipe, or the bare transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader returns what to run read statement sql with: the bare transaction
// when the table it reads has no queued writes, else the pipe (which sends
// the queue first).
func (p *pipe) reader(sql string) querier {
	if k, ok := readTables[sql]; ok && p.err == nil && len(p.bulks[k].rows) == 0 {
		return p.Tx
	}
	return p
}
