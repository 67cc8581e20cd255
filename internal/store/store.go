// Package store defines the storage contract the engine writes through. There
// are two implementations (SQLite, the embedded default, and PostgreSQL) and
// one conformance suite (storetest) that both must pass.
//
// All writes happen inside Update, in one transaction: facts, task
// projections, appended events, timers, outbox messages and idempotency
// records commit together or not at all. Times are stored in UTC.
package store

import (
	"context"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/task"
)

// Store is a transactional store.
type Store interface {
	// Update runs fn in one write transaction; fn's error rolls it back.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only snapshot.
	View(ctx context.Context, fn func(ReadTx) error) error
	Close() error
}

// ReadTx is what can be read. Getters of single things return an
// apperr ENOTFOUND error when the thing does not exist, except OpenTask,
// which returns (nil, nil) when no task is open.
type ReadTx interface {
	PolicyReader
	ScorecardReader
	ConsoleReader
	Shop(ctx context.Context, id string) (*commerce.Shop, error)
	Account(ctx context.Context, id string) (*commerce.Account, error)
	// ShopAccounts lists a shop's accounts (main and sub), ordered by id.
	ShopAccounts(ctx context.Context, shopID string) ([]commerce.Account, error)
	Order(ctx context.Context, id string) (*commerce.Order, error)
	// OrdersByID returns the orders with these ids that exist, in no
	// particular order (one query for a batch of facts). Inside Update a store
	// with several writers locks them as Order does.
	OrdersByID(ctx context.Context, ids []string) ([]commerce.Order, error)

	Task(ctx context.Context, id string) (*task.Task, error)
	// TasksByID returns the tasks with these ids that exist, in no particular
	// order (one query for a batch, e.g. the tasks of claimed timers).
	// Inside Update a store with several writers locks them as Task does.
	TasksByID(ctx context.Context, ids []string) ([]task.Task, error)
	// OpenTask returns the open task of the type on the order, or nil.
	OpenTask(ctx context.Context, orderID string, typ task.Type) (*task.Task, error)
	// Tasks lists tasks matching the filter, ordered by (created_at, id).
	Tasks(ctx context.Context, f TaskFilter) ([]task.Task, error)
	// CountTasks counts tasks by state for a shop ("" for all shops).
	CountTasks(ctx context.Context, shopID string) (map[task.State]int, error)

	// Events returns a stream's events in order (a task id or an order id).
	Events(ctx context.Context, stream string) ([]task.Event, error)
	// EventsAfter returns up to limit events with Seq > after, in order.
	// With several writers (PostgreSQL), a Seq can become visible after a
	// larger one; a cursor consumer must tolerate that (re-read a recent
	// window, or take Seqs only below the oldest running transaction).
	EventsAfter(ctx context.Context, after int64, limit int) ([]task.Event, error)

	// Timers returns the subject's timers ("" for all), ordered by (due_at, subject, kind).
	Timers(ctx context.Context, subject string) ([]task.Timer, error)
	// NextDue returns the earliest due time of any timer; ok is false when there is none.
	NextDue(ctx context.Context) (due time.Time, ok bool, err error)

	// Outbox returns up to limit messages with Seq > after, in order. The
	// same caution as for EventsAfter applies to cursors.
	Outbox(ctx context.Context, after int64, limit int) ([]notify.Message, error)

	Complaint(ctx context.Context, id string) (*judgment.Complaint, error)
	// Complaints lists an order's complaints by filing time.
	Complaints(ctx context.Context, orderID string) ([]judgment.Complaint, error)

	// Points lists a shop's points ledger entries at or after since, by (at, id).
	Points(ctx context.Context, shopID string, since time.Time) ([]judgment.PointsEntry, error)

	// Idempotent returns the stored response for an idempotency key.
	Idempotent(ctx context.Context, key string) (response []byte, ok bool, err error)
	// Firings returns up to limit timer firings, oldest first.
	Firings(ctx context.Context, limit int) ([]task.Firing, error)
	// FactSeen reports whether a fact id was recorded (see Tx.RecordFact).
	FactSeen(ctx context.Context, id string) (bool, error)
	// FactsSeen returns which of the ids were recorded (one query for a batch).
	FactsSeen(ctx context.Context, ids []string) (map[string]bool, error)
	// Counter reads a named counter (0 when never incremented).
	Counter(ctx context.Context, key string) (int64, error)
	// UrgedOrders lists a shop's orders marked "urged" within the shipping
	// deadline and not shipped (R-URG-3's 催发货订单 filter), by urge time.
	UrgedOrders(ctx context.Context, shopID string) ([]commerce.Order, error)
	PromiseReader
	LiveReader
	PeopleReader
	EvidenceReader
	QAReader
	BatchReader
	MetricsReader
	TaskJSONReader
}

// Tx is a write transaction.
type Tx interface {
	ReadTx
	IdempotencyPurger
	PolicyWriter
	ScorecardWriter

	// RecordFact stores a fact's id (and its canonical JSON) as accepted.
	// It returns duplicate=true and stores nothing if the id was seen before
	// (a race with a concurrent transaction may instead fail the transaction
	// with ErrRetry: see batch.go).
	RecordFact(ctx context.Context, id string, typ commerce.FactType, at time.Time, payload []byte) (duplicate bool, err error)

	PutShop(ctx context.Context, s *commerce.Shop) error // upsert; SubAccounts are not stored here
	PutAccount(ctx context.Context, a *commerce.Account) error
	PutOrder(ctx context.Context, o *commerce.Order) error // upsert

	// InsertTask stores a new task. It fails with apperr ECONFLICT when a
	// task of the same type is already open on the order.
	InsertTask(ctx context.Context, t *task.Task) error
	// UpdateTask stores the task's new projection.
	UpdateTask(ctx context.Context, t *task.Task) error

	// AppendEvents appends events and sets their Seq.
	AppendEvents(ctx context.Context, evs []task.Event) error

	// SetTimer sets (or moves) the timer (Subject, Kind).
	SetTimer(ctx context.Context, t task.Timer) error
	// StopTimer removes the timer (Subject, Kind) if present.
	StopTimer(ctx context.Context, subject, kind string) error
	// StopTimers removes all of a subject's timers.
	StopTimers(ctx context.Context, subject string) error
	// ClaimDue returns up to limit timers due at or before now, ordered by
	// (due_at, subject, kind), and removes them: the caller fires them in the
	// same transaction, so a crash before commit leaves them in place.
	ClaimDue(ctx context.Context, now time.Time, limit int) ([]task.Timer, error)
	RecordFirings(ctx context.Context, fs []task.Firing) error

	// AppendOutbox appends messages and sets their Seq.
	AppendOutbox(ctx context.Context, ms []notify.Message) error
	// IncrCounter adds delta to a named counter (e.g. "remind:acc_1:2023-07-05")
	// and returns the new value. Counters back caps and scorecards.
	IncrCounter(ctx context.Context, key string, delta int64) (int64, error)
	// AddCounters adds deltas[i] to counter keys[i] for every i, as
	// IncrCounter does but without reading the values back, so a store may
	// queue the writes until its next read or its commit. The keys are
	// distinct; a store with several writers updates them in key order.
	AddCounters(ctx context.Context, keys []string, deltas []int64) error

	PutComplaint(ctx context.Context, c *judgment.Complaint) error // upsert
	// AppendPoints appends ledger entries; entries are never changed or
	// deleted (a reversal is an entry of its own). A repeated id is ECONFLICT.
	AppendPoints(ctx context.Context, es []judgment.PointsEntry) error

	PutIdempotent(ctx context.Context, key string, response []byte) error
	PromiseWriter
	LiveWriter
	PeopleWriter
	EvidenceWriter
	QAWriter
	ReplicaWriter
}

// TaskFilter selects tasks. Zero fields do not filter.
type TaskFilter struct {
	ShopID  string
	BuyerID string
	OrderID string
	Type    task.Type
	State   task.State
	// DueBefore keeps tasks whose DueAt is before it.
	DueBefore *time.Time
	// After is a cursor: keep tasks ordered after this task id (in the
	// list's order).
	After string
	// ByDue orders by deadline, soonest first, tasks without one last, then
	// by (created_at, id): an agent's intervention queue. Default: by
	// (created_at, id).
	ByDue bool
	Limit int // 0 means no limit
}
