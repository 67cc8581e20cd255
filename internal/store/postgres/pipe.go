package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipe is a transaction's connection with a write queue. Each statement is a
// network round trip; the engine makes thousands per transaction (a batch of
// facts, a sweep of timers), most of them writes whose outcome it does not
// read. Such writes are queued and sent together, as one pgx.Batch (one round
// trip), in front of the next statement that could observe them: every Exec,
// Query, QueryRow, SendBatch or CopyFrom on the pipe sends the queue first
// (in the same batch when it can), and so does Commit. Reads therefore see
// the transaction's own writes (read-your-writes holds), whichever file's
// method reads, as long as it goes through rtx.tx.
//
// A queued write fails when the queue is sent: the error is returned by the
// call that sent it (a later read, or Commit), it is kept (every later call
// returns it), and the transaction cannot commit. Only writes whose outcome is
// certain are queued, except RecordFact (see there), so in practice this is a
// system fault, not an answer a caller acts on.
type pipe struct {
	pgx.Tx

	// Queued rows by statement, and timer changes (see bulk.go).
	bulks  [nBulk]bulk
	rows   int
	timers timerQueue
	// batch holds other queued statements, sent after the rows and timer
	// changes (so only statements independent of them: NOTIFY); done
	// checks the result of each (nil: any success).
	batch pgx.Batch
	done  []func(pgconn.CommandTag, error) error
	err   error // the first failure of a queued write; sticky

	// What the transaction knows for certain, for writes to be queued:
	// facts maps fact ids read (false: absent) or recorded (true) in this
	// transaction; tasks holds the tasks it has locked (FOR UPDATE) or
	// inserted, with their stored rev and whether they are completed.
	facts map[string]bool
	tasks map[string]lockedTask
	// seqs holds identity values reserved for events and outbox rows.
	seqs  map[string][]int64
	block map[string]int // the last block reserved, by table
	calls map[string]int // reservations made, by table
	// wake is the earliest due time of the timers set (zero: none), sent
	// to other replicas with NOTIFY at commit.
	wake time.Time
}

// lockedTask is what a write transaction holds of a task row it locked.
type lockedTask struct {
	rev       int64
	completed bool
}

// queue adds a statement to the queue; done (may be nil) maps its result to
// an error.
func (p *pipe) queue(done func(pgconn.CommandTag, error) error, sql string, args ...any) {
	p.batch.Queue(sql, args...)
	p.done = append(p.done, done)
}

// add queues a row of statement k (column values as bulkSpecs[k] says).
func (p *pipe) add(k bulkKind, row ...any) {
	p.bulks[k].add(bulkSpecs[k].keyed, row)
	p.rows++
}

// addCounter queues delta for counter key; deltas of one key queued before
// the queue is sent are summed into one row (an upsert may not touch a row
// twice in one statement).
func (p *pipe) addCounter(key string, delta int64) {
	b := &p.bulks[bCounterAdd]
	if i, ok := b.index[key]; ok {
		b.rows[i][1] = b.rows[i][1].(int64) + delta
		return
	}
	p.add(bCounterAdd, key, delta)
}

// queued is the number of writes waiting (at least; rows count once each).
func (p *pipe) queued() int {
	n := p.rows + p.batch.Len()
	if !p.timers.empty() {
		n++
	}
	return n
}

// take empties the queue into a batch: one statement per table with rows,
// the timer changes, then the other statements.
func (p *pipe) take() (*pgx.Batch, []func(pgconn.CommandTag, error) error) {
	b := &pgx.Batch{}
	var done []func(pgconn.CommandTag, error) error
	queue := func(d func(pgconn.CommandTag, error) error, sql string, args ...any) {
		b.Queue(sql, args...)
		done = append(done, d)
	}
	for k := range p.bulks {
		bk := &p.bulks[k]
		if len(bk.rows) == 0 {
			continue
		}
		spec := &bulkSpecs[k]
		if bulkKind(k) == bCounterAdd {
			// key order, so two writers lock counters in the same order
			slices.SortFunc(bk.rows, func(a, b []any) int { return strings.Compare(a[0].(string), b[0].(string)) })
		}
		queue(bulkCheck(bulkKind(k), len(bk.rows)), spec.sql, bk.args(spec.kinds)...)
		*bk = bulk{}
	}
	p.rows = 0
	p.timers.queueTo(queue)
	b.QueuedQueries = append(b.QueuedQueries, p.batch.QueuedQueries...)
	done = append(done, p.done...)
	p.batch, p.done = pgx.Batch{}, nil
	return b, done
}

// send sends the queue, with sql appended when it is not "", and checks the
// queued writes' results. It returns the batch results positioned at sql's
// result (the caller reads it and closes them), or nil when sql is "".
func (p *pipe) send(ctx context.Context, sql string, args ...any) (pgx.BatchResults, error) {
	if p.err != nil {
		return nil, p.err
	}
	b, done := p.take()
	if sql != "" {
		b.Queue(sql, args...)
	}
	br := p.Tx.SendBatch(ctx, b)
	for _, d := range done {
		tag, err := br.Exec()
		if d != nil {
			err = d(tag, err)
		}
		if err != nil {
			_ = br.Close()
			p.err = err
			return nil, err
		}
	}
	if sql == "" {
		if err := br.Close(); err != nil {
			p.err = fmt.Errorf("postgres: queued writes: %w", err)
			return nil, p.err
		}
		return nil, nil
	}
	return br, nil
}

// flush sends the queue, if any.
func (p *pipe) flush(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	if p.queued() == 0 {
		return nil
	}
	_, err := p.send(ctx, "")
	return err
}

// Exec sends the queue and sql in one round trip.
func (p *pipe) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if p.err != nil {
		return pgconn.CommandTag{}, p.err
	}
	if p.queued() == 0 {
		return p.Tx.Exec(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args...)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query sends the queue and sql in one round trip.
func (p *pipe) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.queued() == 0 {
		return p.Tx.Query(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow sends the queue and sql in one round trip.
func (p *pipe) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if p.err != nil {
		return errRow{p.err}
	}
	if p.queued() == 0 {
		return p.Tx.QueryRow(ctx, sql, args...)
	}
	br, err := p.send(ctx, sql, args...)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

// SendBatch sends the queue, then b.
func (p *pipe) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := p.flush(ctx); err != nil {
		return errBatch{err}
	}
	return p.Tx.SendBatch(ctx, b)
}

// CopyFrom sends the queue, then copies.
func (p *pipe) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := p.flush(ctx); err != nil {
		return 0, err
	}
	return p.Tx.CopyFrom(ctx, table, cols, src)
}

// Commit sends the queue, then commits. A transaction whose queued write
// failed does not commit.
func (p *pipe) Commit(ctx context.Context) error {
	if err := p.flush(ctx); err != nil {
		return err
	}
	return p.Tx.Commit(ctx)
}

// batchRows are a query's rows at the end of a batch; closing them closes the batch.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// batchRow is a QueryRow at the end of a batch; scanning it closes the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// errRow is a pgx.Row that fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// errBatch is a pgx.BatchResults that fails with err.
type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }
