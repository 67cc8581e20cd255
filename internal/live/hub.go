package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// Presence records an account coming online or going offline through the
// engine's write path (engine.Engine.SetPresence).
type Presence interface {
	SetPresence(ctx context.Context, accountID string, online bool) error
}

// Waker is the seam for wake-ups from other replicas: Run calls Listen once
// with the hub's Wake; an implementation (PostgreSQL LISTEN/NOTIFY) calls it
// whenever another replica commits, until ctx is done. Local commits wake
// the hub through engine.OnCommit and need no Waker.
type Waker interface {
	Listen(ctx context.Context, wake func()) error
}

// Config assembles a hub.
type Config struct {
	Store store.Store
	// Presence, when set, keeps shop sub-accounts online while they hold a
	// stream (R-NTF-2).
	Presence Presence
	// Grace is how long a sub-account stays online after its last stream
	// closes, so a reconnect does not flap (default 10 s).
	Grace time.Duration
	// Poll is the fallback interval between reads when nothing wakes the
	// hub (default 30 s).
	Poll time.Duration
	// GapWait is how long items are held behind a missing sequence
	// (default 2 s); LateWindow how long a given-up sequence is still
	// watched for (default 1 min). See tail.
	GapWait, LateWindow time.Duration
	// Buffer is each subscriber's queue; a subscriber that falls this far
	// behind is closed and reconnects with Last-Event-ID (default 256).
	Buffer int
	// Coalesce is the shortest time between the starts of two reads that
	// wake-ups caused (default 10 ms; negative: none): a stream of commits
	// costs at most one read per Coalesce, each item waiting that much more
	// at most.
	Coalesce time.Duration
	// Waker, when set, delivers other replicas' wake-ups.
	Waker  Waker
	Logger *slog.Logger
}

// Hub fans out outbox messages and events to subscribers.
type Hub struct {
	c    Config
	wake chan struct{}
	log  *slog.Logger

	mu        sync.Mutex
	inited    bool
	closed    bool
	out, ev   *tail
	subs      map[*Sub]struct{}
	streams   map[string]int         // open streams per sub-account (presence)
	offline   map[string]*time.Timer // pending offline after the grace period
	presence  sync.Mutex             // orders presence writes
	closeOnce sync.Once
}

// New returns a hub; call Init (or Run) before subscribing.
func New(c Config) *Hub {
	if c.Grace <= 0 {
		c.Grace = 10 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = 30 * time.Second
	}
	if c.GapWait <= 0 {
		c.GapWait = 2 * time.Second
	}
	if c.LateWindow <= 0 {
		c.LateWindow = time.Minute
	}
	if c.Buffer <= 0 {
		c.Buffer = 256
	}
	if c.Coalesce == 0 {
		c.Coalesce = 10 * time.Millisecond
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{c: c, log: log, wake: make(chan struct{}, 1), subs: map[*Sub]struct{}{},
		streams: map[string]int{}, offline: map[string]*time.Timer{}}
}

// Wake makes the hub read the logs soon. It never blocks (engine.OnCommit).
func (h *Hub) Wake() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Init starts the tails at the newest sequences: the hub delivers what is
// committed from now on (a stream catches up on the past with Replay).
func (h *Hub) Init(ctx context.Context) error {
	h.mu.Lock()
	inited := h.inited
	h.mu.Unlock()
	if inited {
		return nil
	}
	var o, e int64
	if err := h.c.Store.View(ctx, func(tx store.ReadTx) error {
		var err error
		o, e, err = tx.LatestSeqs(ctx)
		return err
	}); err != nil {
		return err
	}
	h.mu.Lock()
	if !h.inited {
		h.out, h.ev, h.inited = newTail(o), newTail(e), true
	}
	h.mu.Unlock()
	return nil
}

// Run tails the logs until ctx is done, then closes every subscriber.
func (h *Hub) Run(ctx context.Context) error {
	defer h.Close()
	if err := h.Init(ctx); err != nil {
		return err
	}
	if h.c.Waker != nil {
		go func() {
			if err := h.c.Waker.Listen(ctx, h.Wake); err != nil && !errors.Is(err, context.Canceled) {
				h.log.Error("live: waker stopped", "err", err)
			}
		}()
	}
	var last time.Time
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.wake:
			// One read covers a burst of commits (here and on other replicas).
			if d := h.c.Coalesce - time.Since(last); d > 0 {
				c := time.NewTimer(d)
				select {
				case <-ctx.Done():
					c.Stop()
					return ctx.Err()
				case <-c.C:
				}
			}
		case <-t.C:
		}
		last = time.Now()
		next := h.c.Poll
		held, err := h.Poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			h.log.Error("live: read failed", "err", err)
			next = time.Second
		} else if held {
			next = h.c.GapWait / 4
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(next)
	}
}

const page = 500

// Poll reads what was committed since the last read and fans it out. It
// reports whether items are held behind a gap (read again soon).
func (h *Hub) Poll(ctx context.Context) (held bool, err error) {
	if err := h.Init(ctx); err != nil {
		return false, err
	}
	// The first page is read after each tail's low (a missing sequence
	// may have committed since); the next ones after what is held, so that
	// a full page held behind a gap is not read again.
	first := true
	for {
		h.mu.Lock()
		of, ef := h.out.from(), h.ev.from()
		if !first {
			of, ef = h.out.ahead(), h.ev.ahead()
		}
		first = false
		olate, oLate := h.out.lateFrom()
		elate, eLate := h.ev.lateFrom()
		h.mu.Unlock()
		var msgs []notify.Message
		var evs []task.Event
		var newMsgs, newEvs int
		var buyers map[string]string
		err := h.c.Store.View(ctx, func(tx store.ReadTx) error {
			var err error
			if msgs, err = tx.Outbox(ctx, of, page); err != nil {
				return err
			}
			if evs, err = tx.EventsAfter(ctx, ef, page); err != nil {
				return err
			}
			newMsgs, newEvs = len(msgs), len(evs)
			// Late arrivals below the cursor, read on their own (see tail.lateFrom).
			if oLate {
				late, err := tx.Outbox(ctx, olate, page)
				if err != nil {
					return err
				}
				msgs = append(late, msgs...)
			}
			if eLate {
				late, err := tx.EventsAfter(ctx, elate, page)
				if err != nil {
					return err
				}
				evs = append(late, evs...)
			}
			buyers, err = buyersOf(ctx, tx, evs)
			return err
		})
		if err != nil {
			return false, err
		}
		now := time.Now()
		h.mu.Lock()
		ready := h.out.accept(outboxItems(msgs), now, h.c.GapWait, h.c.LateWindow)
		ready = append(ready, h.ev.accept(eventItems(evs, buyers), now, h.c.GapWait, h.c.LateWindow)...)
		for _, it := range ready {
			h.dispatch(it)
		}
		held = h.out.waiting() || h.ev.waiting()
		h.mu.Unlock()
		if newMsgs < page && newEvs < page {
			return held, nil
		}
	}
}

func outboxItems(ms []notify.Message) []Item {
	out := make([]Item, len(ms))
	for i := range ms {
		out[i] = Item{Source: FromOutbox, Seq: ms[i].Seq, Msg: &ms[i]}
	}
	return out
}

func eventItems(evs []task.Event, buyers map[string]string) []Item {
	out := make([]Item, len(evs))
	for i := range evs {
		e := &evs[i]
		b := buyers[e.TaskID]
		if e.TaskID == "" {
			b = buyers[e.OrderID]
		}
		out[i] = Item{Source: FromEvents, Seq: e.Seq, Event: e, BuyerID: b}
	}
	return out
}

// buyersOf maps the events' task ids (and, for order events, order ids) to
// their buyers, in two queries.
func buyersOf(ctx context.Context, tx store.ReadTx, evs []task.Event) (map[string]string, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	var tids, oids []string
	for _, e := range evs {
		if e.TaskID != "" {
			tids = append(tids, e.TaskID)
		} else if e.OrderID != "" {
			oids = append(oids, e.OrderID)
		}
	}
	m := map[string]string{}
	if len(tids) > 0 {
		ts, err := tx.TasksByID(ctx, tids)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			m[t.ID] = t.BuyerID
		}
	}
	if len(oids) > 0 {
		os, err := tx.OrdersByID(ctx, oids)
		if err != nil {
			return nil, err
		}
		for _, o := range os {
			m[o.ID] = o.BuyerID
		}
	}
	return m, nil
}

// dispatch hands an item to every subscriber it is for; h.mu is held. A
// subscriber whose queue is full is dropped (it reconnects and replays).
func (h *Hub) dispatch(it Item) {
	for s := range h.subs {
		if !s.id.Wants(it) {
			continue
		}
		select {
		case s.ch <- it:
		default:
			h.log.Warn("live: subscriber too slow, closing its stream", "who", s.id.ID)
			h.drop(s)
		}
	}
}

// drop removes a subscriber and ends its stream; h.mu is held.
func (h *Hub) drop(s *Sub) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	close(s.done)
}

// Replay calls fn with the items for id committed after the given
// sequences, outbox first, each log in order; it returns the sequences it
// handed out, so the live items that repeat them can be skipped.
func (h *Hub) Replay(ctx context.Context, id Identity, afterOutbox, afterEvents int64, fn func(Item) error) (map[Source]map[int64]bool, error) {
	seen := map[Source]map[int64]bool{FromOutbox: {}, FromEvents: {}}
	for _, src := range []Source{FromOutbox, FromEvents} {
		after := afterOutbox
		if src == FromEvents {
			after = afterEvents
		}
		for {
			var items []Item
			err := h.c.Store.View(ctx, func(tx store.ReadTx) error {
				if src == FromOutbox {
					ms, err := tx.Outbox(ctx, after, page)
					items = outboxItems(ms)
					return err
				}
				evs, err := tx.EventsAfter(ctx, after, page)
				if err != nil {
					return err
				}
				buyers, err := buyersOf(ctx, tx, evs)
				items = eventItems(evs, buyers)
				return err
			})
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				after = it.Seq
				seen[src][it.Seq] = true
				if id.Wants(it) {
					if err := fn(it); err != nil {
						return nil, err
					}
				}
			}
			if len(items) < page {
				break
			}
		}
	}
	return seen, nil
}

// Sub is one subscriber (one open stream).
type Sub struct {
	h  *Hub
	id Identity
	ch chan Item
	// done is closed when the hub drops the subscriber (too slow, or shutdown).
	done      chan struct{}
	outStart  int64
	evStart   int64
	closeOnce sync.Once
}

// Subscribe registers a stream for id. A shop sub-account with its first
// stream comes online (through Presence) before Subscribe returns, so the
// next task's card is decided for it.
func (h *Hub) Subscribe(ctx context.Context, id Identity) (*Sub, error) {
	if err := h.Init(ctx); err != nil {
		return nil, err
	}
	if id.Role == task.RoleShopSub {
		if err := h.opened(ctx, id.ID); err != nil {
			return nil, err
		}
	}
	s := &Sub{h: h, id: id, ch: make(chan Item, h.c.Buffer), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.done)
		return s, nil
	}
	s.outStart, s.evStart = h.out.low, h.ev.low
	h.subs[s] = struct{}{}
	return s, nil
}

// C delivers the subscriber's items.
func (s *Sub) C() <-chan Item { return s.ch }

// Done is closed when the hub ends the subscription.
func (s *Sub) Done() <-chan struct{} { return s.done }

// Start returns the hub's sequences when the subscriber registered: live
// items come after them (or are Late).
func (s *Sub) Start() (outbox, events int64) { return s.outStart, s.evStart }

// Close ends the subscription; a sub-account's last stream starts the
// offline grace period.
func (s *Sub) Close() {
	s.closeOnce.Do(func() {
		s.h.mu.Lock()
		s.h.drop(s)
		s.h.mu.Unlock()
		if s.id.Role == task.RoleShopSub {
			s.h.closed1(s.id.ID)
		}
	})
}

// opened counts a sub-account's stream and sets it online on the first.
func (h *Hub) opened(ctx context.Context, acc string) error {
	if h.isClosed() {
		return nil
	}
	h.presence.Lock()
	defer h.presence.Unlock()
	h.streams[acc]++
	if h.streams[acc] > 1 {
		return nil
	}
	if t := h.offline[acc]; t != nil {
		// reconnected within the grace period: still online, nothing to write
		t.Stop()
		delete(h.offline, acc)
		return nil
	}
	if h.c.Presence == nil {
		return nil
	}
	if err := h.c.Presence.SetPresence(ctx, acc, true); err != nil {
		h.streams[acc]--
		if h.streams[acc] == 0 {
			delete(h.streams, acc)
		}
		return err
	}
	return nil
}

// closed1 uncounts a stream; the last one schedules going offline.
func (h *Hub) closed1(acc string) {
	if h.isClosed() {
		return // Close set it offline
	}
	h.presence.Lock()
	defer h.presence.Unlock()
	h.streams[acc]--
	if h.streams[acc] > 0 {
		return
	}
	delete(h.streams, acc)
	var t *time.Timer
	t = time.AfterFunc(h.c.Grace, func() {
		h.presence.Lock()
		defer h.presence.Unlock()
		if h.offline[acc] != t {
			return // reconnected meanwhile
		}
		delete(h.offline, acc)
		h.setOffline(acc)
	})
	h.offline[acc] = t
}

// setOffline writes the offline presence; h.presence is held.
func (h *Hub) setOffline(acc string) {
	if h.c.Presence == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.c.Presence.SetPresence(ctx, acc, false); err != nil {
		h.log.Error("live: presence offline failed", "account", acc, "err", err)
	}
}

// Close ends every subscription (server shutdown) and sets the
// sub-accounts it kept online offline at once, without the grace period.
// Concurrent calls wait for the first to finish.
func (h *Hub) Close() { h.closeOnce.Do(h.close) }

func (h *Hub) close() {
	h.mu.Lock()
	h.closed = true
	for s := range h.subs {
		h.drop(s)
	}
	h.mu.Unlock()
	h.presence.Lock()
	defer h.presence.Unlock()
	for acc, t := range h.offline {
		t.Stop()
		delete(h.offline, acc)
		h.setOffline(acc)
	}
	for acc := range h.streams {
		delete(h.streams, acc)
		h.setOffline(acc)
	}
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}
