package live

import (
	"time"

	"aftersale/internal/seqgap"
)

// tail follows one log (outbox or events) and hands out its items in
// sequence order, each once.
//
// With several writers (PostgreSQL) a sequence can become visible after a
// larger one (store.EventsAfter's caveat). The tail does not skip ahead:
// when low+1 is missing but later items are visible, it holds them for up to
// gapWait for the missing one to commit, counted from when the first item
// after the gap was read (so the many gaps of a burst age together, not one
// after another). A sequence that never shows up (its transaction rolled
// back) is given up after that; if it shows up later anyway, within
// lateWindow, it is still handed out once, marked Late. On SQLite (one
// writer) there are no gaps and nothing is ever held. (The moving is
// seqgap's, shared with the webhook fan-out.)
type tail struct {
	low     int64              // every sequence <= low was handed out or given up
	held    map[int64]heldItem // visible items above a gap, waiting for it
	skipped seqgap.Skipped     // sequences given up, and when
}

// heldItem is an item held behind a gap, with when it was first read.
type heldItem struct {
	Item
	seen time.Time
}

func newTail(low int64) *tail {
	return &tail{low: low, held: map[int64]heldItem{}, skipped: seqgap.Skipped{}}
}

// from is the sequence to read after for new items: low (where a missing
// sequence may have committed since).
func (t *tail) from() int64 { return t.low }

// ahead is the sequence to read after for the next page once a full page
// was read: the highest held (or low), so pages held behind a gap are not
// read again.
func (t *tail) ahead() int64 {
	top := t.low
	for s := range t.held {
		top = max(top, s)
	}
	return top
}

// lateFrom is the sequence to read after for late arrivals (seqgap.Skipped.From).
func (t *tail) lateFrom() (after int64, ok bool) { return t.skipped.From() }

// waiting reports whether items are held behind a gap.
func (t *tail) waiting() bool { return len(t.held) > 0 }

// accept takes items read after from(), in sequence order, and returns those
// to hand out now, in order.
func (t *tail) accept(items []Item, now time.Time, gapWait, lateWindow time.Duration) []Item {
	var out []Item
	for _, it := range items {
		if it.Seq <= t.low {
			if _, ok := t.skipped[it.Seq]; ok {
				delete(t.skipped, it.Seq)
				it.Late = true
				out = append(out, it)
			}
			continue
		}
		if _, ok := t.held[it.Seq]; !ok {
			t.held[it.Seq] = heldItem{Item: it, seen: now}
		}
	}
	keys := seqgap.Sorted(t.held)
	low, gaveUp := seqgap.Advance(t.low, keys, func(s int64) time.Time { return t.held[s].seen }, now, gapWait)
	t.skipped.Add(gaveUp, now)
	for _, s := range keys {
		if s > low {
			break
		}
		out = append(out, t.held[s].Item)
		delete(t.held, s)
	}
	t.low = low
	t.skipped.Expire(now, lateWindow)
	return out
}
