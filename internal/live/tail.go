package live

import "time"

// tail follows one log (outbox or events) and hands out its items in
// sequence order, each once.
//
// With several writers (PostgreSQL) a sequence can become visible after a
// larger one (store.EventsAfter's caveat). The tail does not skip ahead:
// when low+1 is missing but later items are visible, it holds them for up to
// gapWait for the missing one to commit. A sequence that never shows up (its
// transaction rolled back) is given up after gapWait; if it shows up later
// anyway, within lateWindow, it is still handed out once, marked Late. On
// SQLite (one writer) there are no gaps and nothing is ever held.
type tail struct {
	low     int64               // every sequence <= low was handed out or given up
	held    map[int64]Item      // visible items above a gap, waiting for it
	gapAt   time.Time           // when the gap at low+1 was first seen (zero: none)
	skipped map[int64]time.Time // sequences given up, and when
}

func newTail(low int64) *tail {
	return &tail{low: low, held: map[int64]Item{}, skipped: map[int64]time.Time{}}
}

// from is the sequence to read after for new items: low.
func (t *tail) from() int64 { return t.low }

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
		t.held[it.Seq] = it
	}
	for len(t.held) > 0 {
		if it, ok := t.held[t.low+1]; ok {
			delete(t.held, t.low+1)
			t.low++
			t.gapAt = time.Time{}
			out = append(out, it)
			continue
		}
		if t.gapAt.IsZero() {
			t.gapAt = now
		}
		if now.Sub(t.gapAt) < gapWait {
			break
		}
		t.low++ // give up waiting for it
		t.skipped[t.low] = now
	}
	for s, at := range t.skipped {
		if now.Sub(at) > lateWindow {
			delete(t.skipped, s)
		}
	}
	return out
}
