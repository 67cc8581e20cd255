package live

import (
	"testing"
	"time"
)

func seqs(its []Item) []int64 {
	var out []int64
	for _, it := range its {
		out = append(out, it.Seq)
	}
	return out
}

func items(ss ...int64) []Item {
	var out []Item
	for _, s := range ss {
		out = append(out, Item{Seq: s})
	}
	return out
}

// With concurrent writers a sequence can become visible after a larger one
// (store.EventsAfter's caveat): the tail holds the later items for up to
// gapWait, hands out in order when the gap fills, gives a gap up after
// gapWait (exactly: 2 s − 1 ns holds, 2 s gives up), and hands out a
// given-up sequence that shows up late once, marked Late.
func TestTailGaps(t *testing.T) {
	now := time.Unix(0, 0)
	const wait, late = 2 * time.Second, time.Minute
	tl := newTail(10)
	if got := seqs(tl.accept(items(11, 12), now, wait, late)); len(got) != 2 || got[1] != 12 {
		t.Fatalf("contiguous: %v", got)
	}
	// 13 not yet visible, 14 and 15 are: held
	if got := tl.accept(items(14, 15), now, wait, late); len(got) != 0 || !tl.waiting() {
		t.Fatalf("handed out %v across a gap", seqs(got))
	}
	// 13 commits: all three in order
	if got := seqs(tl.accept(items(13, 14, 15), now.Add(time.Second), wait, late)); len(got) != 3 || got[0] != 13 || got[2] != 15 || tl.waiting() {
		t.Fatalf("after the gap filled: %v", got)
	}
	// 16 never shows up (rolled back): 17 held until gapWait, then handed out
	t1 := now.Add(10 * time.Second)
	tl.accept(items(17), t1, wait, late)
	if got := tl.accept(items(17), t1.Add(wait-1), wait, late); len(got) != 0 {
		t.Fatalf("gave up early: %v", seqs(got))
	}
	if got := seqs(tl.accept(items(17), t1.Add(wait), wait, late)); len(got) != 1 || got[0] != 17 || tl.from() != 17 {
		t.Fatalf("after gapWait: %v (from %d, want 17)", got, tl.from())
	}
	if after, ok := tl.lateFrom(); !ok || after != 15 {
		t.Fatalf("lateFrom %d %v, want 15 to watch 16", after, ok)
	}
	// 16 shows up after all: once, late; then no more
	got := tl.accept(items(16, 17), t1.Add(3*time.Second), wait, late)
	if len(got) != 1 || got[0].Seq != 16 || !got[0].Late {
		t.Fatalf("late arrival: %+v", got)
	}
	if again := tl.accept(items(16, 17), t1.Add(4*time.Second), wait, late); len(again) != 0 || tl.from() != 17 {
		t.Fatalf("handed out twice: %v (from %d)", seqs(again), tl.from())
	}
	if _, ok := tl.lateFrom(); ok {
		t.Fatal("still watching a sequence that arrived")
	}
}

// Many gaps read in one burst (PostgreSQL leaves one after each
// transaction's unused sequence values) age together: each waits gapWait
// from when the item after it was first read, not from when the gap
// before it was given up, so a burst with many gaps is held gapWait once.
func TestTailGapsOfABurstAgeTogether(t *testing.T) {
	now := time.Unix(0, 0)
	const wait, late = 2 * time.Second, time.Minute
	tl := newTail(0)
	// 1, 3, 5, …, 99 visible; every even sequence missing
	var odd []int64
	for s := int64(1); s < 100; s += 2 {
		odd = append(odd, s)
	}
	if got := seqs(tl.accept(items(odd...), now, wait, late)); len(got) != 1 || got[0] != 1 {
		t.Fatalf("first read: %v, want [1] then held", got)
	}
	if tl.ahead() != 99 {
		t.Fatalf("ahead %d, want 99 (the next page is read after what is held)", tl.ahead())
	}
	if got := tl.accept(nil, now.Add(wait-time.Nanosecond), wait, late); len(got) != 0 {
		t.Fatalf("gave up early: %v", seqs(got))
	}
	// 4 commits meanwhile: handed out with the rest, in order
	got := seqs(tl.accept(items(4), now.Add(wait), wait, late))
	if len(got) != 50 || got[0] != 3 || got[1] != 4 || got[49] != 99 || tl.waiting() {
		t.Fatalf("after one gapWait: %d items %v…, want 3, 4, 5, 7, … 99 at once", len(got), got[:min(3, len(got))])
	}
	if after, ok := tl.lateFrom(); !ok || after != 1 {
		t.Fatalf("lateFrom %d %v, want 1 (watching 2, 6, 8, …)", after, ok)
	}
}
