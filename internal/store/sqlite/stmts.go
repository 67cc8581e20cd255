package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// stmtID names a prepared statement.
type stmtID int

// Read statements (prepared on both pools).
const (
	qShop stmtID = iota
	qAccount
	qShopAccounts
	qOrder
	qUrgedOrders
	qTask
	qTasksByID
	qTaskCursor
	qOpenTask
	qCountTasks
	qCountShopTasks
	qEvents
	qEventsAfter
	qTimers
	qAllTimers
	qNextDue
	qOutbox
	qComplaint
	qComplaints
	qPoints
	qIdempotent
	qFirings
	qCounter
	qTaskRev
	qFactSeen
	qFactsSeen
	qOrdersByID

	nReads // the statements before it only read
)

// Write statements (prepared on the writer only).
const (
	wFact = nReads + iota
	wShop
	wAccount
	wOrder
	wInsertTask
	wUpdateTask
	wEvent
	wSetTimer
	wStopTimer
	wStopTimers
	wClaimDue
	wFiring
	wOutbox
	wIncr
	wComplaint
	wPoints
	wIdempotent

	nStmts
)

// queries holds the SQL of every statement, indexed by stmtID.
var queries = [nStmts]string{
	qShop:         `SELECT data FROM shops WHERE id = ?`,
	qAccount:      `SELECT data FROM accounts WHERE id = ?`,
	qShopAccounts: `SELECT data FROM accounts WHERE shop_id = ? ORDER BY id`,
	qOrder:        `SELECT data FROM orders WHERE id = ?`,
	qUrgedOrders: `SELECT data FROM orders
		WHERE shop_id = ? AND urged_at IS NOT NULL AND shipped_at IS NULL
		ORDER BY urged_at, id`,
	qTask:           `SELECT data FROM tasks WHERE id = ?`,
	qTasksByID:      `SELECT data FROM tasks WHERE id IN (SELECT value FROM json_each(?))`,
	qTaskCursor:     `SELECT created_at FROM tasks WHERE id = ?`,
	qOpenTask:       `SELECT data FROM tasks WHERE order_id = ? AND type = ? AND state <> 'completed'`,
	qCountTasks:     `SELECT state, count(*) FROM tasks GROUP BY state`,
	qCountShopTasks: `SELECT state, count(*) FROM tasks WHERE shop_id = ? GROUP BY state`,
	qEvents:         `SELECT seq, body, data FROM events WHERE stream = ? ORDER BY seq`,
	qEventsAfter:    `SELECT seq, body, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
	qTimers: `SELECT subject, kind, due_at, set_at, policy_version FROM timers
		WHERE subject = ? ORDER BY due_at, subject, kind`,
	qAllTimers: `SELECT subject, kind, due_at, set_at, policy_version FROM timers
		ORDER BY due_at, subject, kind`,
	qNextDue:    `SELECT due_at FROM timers ORDER BY due_at LIMIT 1`,
	qOutbox:     `SELECT seq, body, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?`,
	qComplaint:  `SELECT data FROM complaints WHERE id = ?`,
	qComplaints: `SELECT data FROM complaints WHERE order_id = ? ORDER BY filed_at, id`,
	qPoints:     `SELECT data FROM points WHERE shop_id = ? AND at >= ? ORDER BY at, id`,
	qIdempotent: `SELECT response FROM idempotency WHERE key = ?`,
	qFirings:    `SELECT subject, kind, due_at, fired_at, late_ns FROM firings ORDER BY id LIMIT ?`,
	qCounter:    `SELECT value FROM counters WHERE key = ?`,
	qTaskRev:    `SELECT rev FROM tasks WHERE id = ?`,
	qFactSeen:   `SELECT 1 FROM facts WHERE id = ?`,
	qFactsSeen:  `SELECT id FROM facts WHERE id IN (SELECT value FROM json_each(?))`,
	qOrdersByID: `SELECT data FROM orders WHERE id IN (SELECT value FROM json_each(?))`,

	wFact: `INSERT INTO facts (id, type, at, payload) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
	wShop: `INSERT INTO shops (id, platform, industry, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET platform = excluded.platform, industry = excluded.industry, data = excluded.data`,
	wAccount: `INSERT INTO accounts (id, shop_id, data) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, data = excluded.data`,
	wOrder: `INSERT INTO orders (id, shop_id, buyer_id, urged_at, shipped_at, data) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET shop_id = excluded.shop_id, buyer_id = excluded.buyer_id,
			urged_at = excluded.urged_at, shipped_at = excluded.shipped_at, data = excluded.data`,
	wInsertTask: `INSERT INTO tasks (id, order_id, shop_id, buyer_id, type, state, created_at, due_at, rev, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	// A task's identity columns (order, shop, buyer, type, created_at) never
	// change: setting only the mutable ones spares the indexes on the others.
	wUpdateTask: `UPDATE tasks SET state = ?6, due_at = ?8, rev = ?9, data = ?10
		WHERE id = ?1 AND rev < ?9`,
	wEvent: `INSERT INTO events (stream, task_id, order_id, shop_id, at, body, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
	wSetTimer: `INSERT INTO timers (subject, kind, due_at, set_at, policy_version) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (subject, kind) DO UPDATE SET due_at = excluded.due_at, set_at = excluded.set_at,
			policy_version = excluded.policy_version`,
	wStopTimer:  `DELETE FROM timers WHERE subject = ? AND kind = ?`,
	wStopTimers: `DELETE FROM timers WHERE subject = ?`,
	wClaimDue: `DELETE FROM timers WHERE rowid IN (
			SELECT rowid FROM timers WHERE due_at <= ? ORDER BY due_at, subject, kind LIMIT ?)
		RETURNING subject, kind, due_at, set_at, policy_version`,
	wFiring: `INSERT INTO firings (subject, kind, due_at, fired_at, late_ns) VALUES (?, ?, ?, ?, ?)`,
	wOutbox: `INSERT INTO outbox (kind, recipient, status, at, body, payload) VALUES (?, ?, ?, ?, ?, ?)`,
	wIncr: `INSERT INTO counters (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = value + excluded.value RETURNING value`,
	wPoints: `INSERT INTO points (id, shop_id, at, data) VALUES (?, ?, ?, ?)`,
	wComplaint: `INSERT INTO complaints (id, order_id, filed_at, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id, filed_at = excluded.filed_at, data = excluded.data`,
	wIdempotent: `INSERT INTO idempotency (key, response) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET response = excluded.response`,
}

// stmts are the statements prepared on one pool.
type stmts struct {
	s [nStmts]*sql.Stmt
}

// prepare prepares the read statements on db, and the write statements too
// when writes is set.
func prepare(ctx context.Context, db *sql.DB, writes bool) (*stmts, error) {
	st := &stmts{}
	n := nReads
	if writes {
		n = nStmts
	}
	for id := stmtID(0); id < n; id++ {
		s, err := db.PrepareContext(ctx, queries[id])
		if err != nil {
			_ = st.close()
			return nil, fmt.Errorf("sqlite: prepare %q: %w", queries[id], err)
		}
		st.s[id] = s
	}
	return st, nil
}

func (st *stmts) close() error {
	var errs []error
	for i, s := range st.s {
		if s != nil {
			errs = append(errs, s.Close())
			st.s[i] = nil
		}
	}
	return errors.Join(errs...)
}
