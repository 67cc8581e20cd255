package live

import (
	"slices"
	"time"
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
// writer) there are no gaps and nothing is ever held.
type tail struct {
	low     int64               // every sequence <= low was handed out or given up
	held    map[int64]heldItem  // visible items above a gap, waiting for it
	skipped map[int64]time.Time // sequences given up, and when
}

// heldItem is an item held behind a gap, with when it was first read.
type heldItem struct {
	Item
	seen time.Time
}

func newTail(low int64) *tail {
	return &tail{low: low, held: map[int64]heldItem{}, skipped: map[int64]time.Time{}}
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

// lateFrom is the sequence to read after for late arrivals: just below the
// oldest sequence given up recently; ok is false when none was. A separate
// read: a page read from there could hold only items handed out already,
// and reading new items from there would never get past them.
func (t *tail) lateFrom() (after int64, ok bool) {
	for s := range t.skipped {
		if !ok || s-1 < after {
			after, ok = s-1, true
		}
	}
	return after, ok
}

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
	keys := make([]int64, 0, len(t.held))
	for s := range t.held {
		keys = append(keys, s)
	}
	slices.Sort(keys)
	for _, s := range keys {
		h := t.held[s]
		if s > t.low+1 {
			if now.Sub(h.seen) < gapWait {
				break
			}
			for q := t.low + 1; q < s; q++ { // give up waiting for them
				t.skipped[q] = now
			}
		}
		delete(t.held, s)
		t.low = s
		out = append(out, h.Item)
	}
	for s, at := range t.skipped {
		if now.Sub(at) > lateWindow {
			delete(t.skipped, s)
		}
	}
	return out
}
