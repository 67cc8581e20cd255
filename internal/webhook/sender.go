package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"aftersale/internal/clock"
	"aftersale/internal/notify"
	"aftersale/internal/seqgap"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// DefaultSchedule is the wait before each retry (the Standard Webhooks
// recommendation): a delivery is attempted at most len(schedule)+1 times,
// then dead-lettered.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Cursor names of the fan-out.
const (
	CursorOutbox = "webhook:outbox"
	CursorEvents = "webhook:events"
)

// Config assembles a sender.
type Config struct {
	Store store.Store
	// Clock times attempts, back-off and signatures (default: real).
	Clock clock.Clock
	// Client sends the requests (default: 10 s timeout, connecting through
	// Guard, no HTTP proxy). A Client given here is used as it is: its
	// transport must do the Guard's checks itself.
	Client *http.Client
	// Guard decides which addresses deliveries may reach (default: public
	// addresses only).
	Guard *Guard
	// Schedule is the back-off before each retry (default DefaultSchedule).
	Schedule []time.Duration
	// Jitter spreads each wait by ± this fraction (default 0.2; negative: none).
	Jitter float64
	// Rand returns a number in [0, 1) for the jitter (default math/rand).
	Rand func() float64
	// Lease is how long a claimed delivery is this sender's (default 1 min;
	// keep it well above the client's timeout; the default client times out
	// at half the lease, at most 10 s). Poll is never longer than Lease.
	Lease time.Duration
	// Batch is how many deliveries one claim takes (default 20).
	Batch int
	// Parallel is how many deliveries of a claimed batch are sent at once
	// (default 8); their outcomes are recorded in one transaction.
	Parallel int
	// Poll is the fallback interval between rounds (default 30 s): other
	// replicas' commits and expired leases are noticed at the latest then.
	Poll time.Duration
	// GapWait is how long the fan-out waits for a missing sequence before
	// moving its cursor past it (default 2 s), counted from when a later
	// sequence was first read, so that all the gaps of a burst age at once;
	// LateWindow is how long such a sequence is still looked for (default
	// 1 min). Re-reading is harmless: deliveries are created idempotently.
	GapWait, LateWindow time.Duration
	// Coalesce is the shortest time between the starts of two rounds that
	// commits woke (default 25 ms; negative: none): under a stream of
	// commits, one round fans out many instead of one round (and one
	// cursor write) per commit.
	Coalesce time.Duration
	// Owner names this sender in leases (default: random).
	Owner  string
	Logger *slog.Logger
}

// Sender fans out and sends webhook deliveries.
type Sender struct {
	c    Config
	log  *slog.Logger
	wake chan struct{}

	mu sync.Mutex
	// By cursor: seen holds the sequences above the cursor this sender has
	// read and fanned out (committed), with when it first read them;
	// skipped the sequences given up recently; blocked whether the cursor
	// waits behind a gap.
	seen    map[string]map[int64]time.Time
	skipped map[string]seqgap.Skipped
	blocked map[string]bool
	retryAt time.Time // earliest retry this sender scheduled
}

// New returns a sender.
func New(c Config) *Sender {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.Parallel <= 0 {
		c.Parallel = 8
	}
	if c.Client == nil {
		// Well inside the lease: an answer that comes after the lease
		// expired could be sent again by another replica meanwhile.
		// Keep as many idle connections per host as requests go out at
		// once: with net/http's default of 2, each parallel batch opened
		// and closed connections, and a busy sender ran out of ephemeral
		// ports (sockets linger in TIME_WAIT), failing deliveries.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(c.Parallel, 8)
		// Connect only where the guard allows, checked on the address
		// dialled; through a proxy it would see only the proxy's.
		if c.Guard == nil {
			c.Guard = &Guard{}
		}
		tr.DialContext, tr.Proxy = c.Guard.DialContext, nil
		c.Client = &http.Client{Timeout: min(10*time.Second, c.Lease/2), Transport: tr}
	}
	if c.Schedule == nil {
		c.Schedule = DefaultSchedule
	}
	if c.Jitter == 0 {
		c.Jitter = 0.2
	}
	if c.Rand == nil {
		c.Rand = mrand.Float64
	}
	if c.Batch <= 0 {
		c.Batch = 20
	}
	if c.Poll <= 0 {
		c.Poll = 30 * time.Second
	}
	// A delivery leased by a replica that died is sent by another at the
	// latest one Poll after its lease expired.
	c.Poll = min(c.Poll, c.Lease)
	if c.GapWait <= 0 {
		c.GapWait = 2 * time.Second
	}
	if c.LateWindow <= 0 {
		c.LateWindow = time.Minute
	}
	if c.Coalesce == 0 {
		c.Coalesce = 25 * time.Millisecond
	}
	if c.Owner == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		c.Owner = "sender_" + hex.EncodeToString(b[:])
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{c: c, log: log, wake: make(chan struct{}, 1), blocked: map[string]bool{},
		seen:    map[string]map[int64]time.Time{CursorOutbox: {}, CursorEvents: {}},
		skipped: map[string]seqgap.Skipped{CursorOutbox: {}, CursorEvents: {}}}
}

// Wake makes the sender run a round soon; it never blocks (engine.OnCommit).
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run fans out and sends until ctx is done. A request in flight when ctx
// ends is abandoned; its lease expires and another round sends it again.
func (s *Sender) Run(ctx context.Context) error {
	var last time.Time
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
			// Commits come in bursts: one round covers all of a burst.
			if !sleepCtx(ctx, s.c.Coalesce-time.Since(last)) {
				return ctx.Err()
			}
		case <-t.C:
		}
		last = time.Now()
		next := s.c.Poll
		if _, err := s.Round(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Error("webhook: round failed", "err", err)
			next = 5 * time.Second
		}
		s.mu.Lock()
		if !s.retryAt.IsZero() {
			if d := s.retryAt.Sub(s.c.Clock.Now()); d < next {
				next = max(d, 10*time.Millisecond)
			}
		}
		if s.blocked[CursorOutbox] || s.blocked[CursorEvents] {
			next = min(next, s.c.GapWait/4)
		}
		s.mu.Unlock()
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(next)
	}
}

// Round fans out what was committed since the last round and sends every
// due delivery; it returns how many attempts it made.
func (s *Sender) Round(ctx context.Context) (int, error) {
	if err := s.Fanout(ctx); err != nil {
		return 0, err
	}
	n := 0
	for {
		k, err := s.sendDue(ctx)
		n += k
		if err != nil || k < s.c.Batch {
			return n, err
		}
	}
}

const fanPage = 500

// Fanout creates the deliveries of the outbox messages and events after the
// durable cursors, and moves the cursors (in the same transaction).
//
// A round reads the first page after a cursor (where a missing sequence
// may have committed since), then goes on after the highest sequence it
// has read: pages held behind a gap are not read again, and items past
// the gap get their deliveries at once; only the cursor waits.
func (s *Sender) Fanout(ctx context.Context) error {
	for _, name := range []string{CursorOutbox, CursorEvents} {
		from := int64(-1)
		for {
			top, more, err := s.fanoutPage(ctx, name, from)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			s.mu.Lock()
			for seq := range s.seen[name] {
				top = max(top, seq)
			}
			s.mu.Unlock()
			from = top
		}
	}
	return nil
}

type fanItem struct {
	seq   int64
	at    time.Time
	types []string
	event *task.Event
	data  []byte
}

// fanoutPage fans out one page read after the cursor (from < 0) or after
// from, whichever is higher; top is the page's highest sequence and more
// whether the page was full.
func (s *Sender) fanoutPage(ctx context.Context, name string, from int64) (top int64, more bool, err error) {
	var read []int64 // sequences read, marked seen once committed
	now := time.Now()
	err = s.c.Store.Update(ctx, func(tx store.Tx) error {
		read = read[:0]
		low, err := tx.Cursor(ctx, name) // locked: one fan-out at a time per cursor
		if err != nil {
			return err
		}
		// New items are read from the cursor; sequences given up recently
		// are looked for in a read of their own, so that a page of items
		// already fanned out never stands in the way of new ones.
		s.mu.Lock()
		late, watching := s.skipped[name].From()
		s.mu.Unlock()
		items, n, err := s.readItems(ctx, tx, name, max(low, from))
		if err != nil {
			return err
		}
		more = n == fanPage
		if n > 0 {
			top = items[n-1].seq
		}
		if watching && from < 0 {
			old, _, err := s.readItems(ctx, tx, name, late)
			if err != nil {
				return err
			}
			s.mu.Lock()
			for _, it := range old {
				if _, ok := s.skipped[name][it.seq]; ok {
					items = append(items, it)
				}
			}
			s.mu.Unlock()
		}
		if len(items) == 0 {
			return nil
		}
		for _, it := range items {
			read = append(read, it.seq)
		}
		subs, err := tx.WebhookSubscriptions(ctx)
		if err != nil {
			return err
		}
		at := s.c.Clock.Now()
		var ds []notify.Delivery
		src := "outbox"
		if name == CursorEvents {
			src = "events"
		}
		s.mu.Lock()
		done := s.seen[name]
		for _, it := range items {
			if _, ok := done[it.seq]; ok && it.seq > low {
				continue // fanned out by an earlier round (read again behind a gap)
			}
			for i := range subs {
				sub := &subs[i]
				typ := match(sub, it.types)
				if typ == "" || (name == CursorOutbox && sub.Audience != notify.AudiencePlatform) || (it.event != nil && !allowed(sub, it.event)) {
					continue
				}
				body, err := json.Marshal(Payload{Type: typ, Timestamp: it.at, Data: it.data})
				if err != nil {
					s.mu.Unlock()
					return err
				}
				ds = append(ds, notify.Delivery{ID: fmt.Sprintf("msg_%s_%s_%d", sub.ID, src, it.seq), SubscriptionID: sub.ID,
					EventType: typ, Source: src, Seq: it.seq, Status: notify.DeliveryPending, NextAt: at,
					CreatedAt: at, UpdatedAt: at, Body: body})
			}
		}
		s.mu.Unlock()
		if n, err := tx.InsertWebhookDeliveries(ctx, ds); err != nil {
			return err
		} else if n > 0 {
			s.log.Debug("webhook: deliveries created", "n", n, "source", src)
		}
		return tx.SetCursor(ctx, name, s.advance(name, low, read, now))
	})
	if err == nil {
		s.mu.Lock()
		for _, seq := range read {
			if _, ok := s.seen[name][seq]; !ok {
				s.seen[name][seq] = now
			}
		}
		s.mu.Unlock()
	}
	return top, more, err
}

// readItems reads a page of the cursor's log after a sequence; n is how many
// rows the page held.
func (s *Sender) readItems(ctx context.Context, tx store.Tx, name string, after int64) (items []fanItem, n int, err error) {
	if name == CursorOutbox {
		ms, err := tx.Outbox(ctx, after, fanPage)
		if err != nil {
			return nil, 0, err
		}
		for i := range ms {
			m := &ms[i]
			data, err := json.Marshal(m)
			if err != nil {
				return nil, 0, err
			}
			items = append(items, fanItem{seq: m.Seq, at: m.At, types: messageTypes(m), data: data})
		}
		return items, len(ms), nil
	}
	evs, err := tx.EventsAfter(ctx, after, fanPage)
	if err != nil {
		return nil, 0, err
	}
	for i := range evs {
		e := &evs[i]
		data, err := json.Marshal(e)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, fanItem{seq: e.Seq, at: e.At, types: eventTypes(e), event: e, data: data})
	}
	return items, len(evs), nil
}

// advance returns where the cursor can move from low, given the sequences
// just read: over every sequence read (now or in an earlier round), and
// past a gap once the first sequence after it was read GapWait ago (see
// live's tail: a rolled-back sequence never shows up; a late one is still
// read while in skipped).
func (s *Sender) advance(name string, low int64, read []int64, now time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen, skipped := s.seen[name], s.skipped[name]
	first := map[int64]time.Time{} // sequences above low, with when first read
	for seq, at := range seen {
		if seq > low {
			first[seq] = at
		}
	}
	for _, seq := range read {
		delete(skipped, seq)
		if _, ok := first[seq]; !ok && seq > low {
			first[seq] = now
		}
	}
	keys := seqgap.Sorted(first)
	low, gaveUp := seqgap.Advance(low, keys, func(seq int64) time.Time { return first[seq] }, now, s.c.GapWait)
	skipped.Add(gaveUp, now)
	for seq := range seen {
		if seq <= low {
			delete(seen, seq)
		}
	}
	s.blocked[name] = len(keys) > 0 && keys[len(keys)-1] > low
	skipped.Expire(now, s.c.LateWindow)
	return low
}

// sendDue claims up to Batch due deliveries and attempts each.
func (s *Sender) sendDue(ctx context.Context) (int, error) {
	start := time.Now()
	var ds []notify.Delivery
	subs := map[string]*notify.Subscription{}
	err := s.c.Store.Update(ctx, func(tx store.Tx) error {
		// Read the clock once the transaction has begun: a lease counted
		// from before a wait for a connection could lapse as it is taken.
		now := s.c.Clock.Now()
		var err error
		if ds, err = tx.ClaimWebhookDeliveries(ctx, now, now.Add(s.c.Lease), s.c.Owner, s.c.Batch); err != nil {
			return err
		}
		all, err := tx.WebhookSubscriptions(ctx)
		for i := range all {
			subs[all[i].ID] = &all[i]
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	claimed := time.Now()
	outs := make([]outcome, len(ds))
	sem := make(chan struct{}, s.c.Parallel)
	var wg sync.WaitGroup
	for i := range ds {
		o := &outs[i]
		o.d, o.sub = &ds[i], subs[ds[i].SubscriptionID]
		if o.sub == nil {
			o.errText = "subscription deleted"
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o.status, o.errText = s.post(ctx, o.d, o.sub)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return 0, ctx.Err() // abandoned: the leases expire and they are sent again
	}
	posted := time.Now()
	if err := s.record(ctx, outs); err != nil {
		return 0, err
	}
	if len(ds) > 0 {
		s.log.Debug("webhook: batch sent", "n", len(ds), "claim", claimed.Sub(start), "post", posted.Sub(claimed), "record", time.Since(posted))
	}
	return len(ds), nil
}

// outcome is one attempt's result: the HTTP status (0 when there was no
// answer) and an error text for a failure.
type outcome struct {
	d       *notify.Delivery
	sub     *notify.Subscription
	status  int
	errText string
}

// record stores the outcomes of a batch's attempts in one transaction, each
// only if its lease is still this sender's.
func (s *Sender) record(ctx context.Context, outs []outcome) error {
	now := s.c.Clock.Now()
	return s.c.Store.Update(ctx, func(tx store.Tx) error {
		for _, o := range outs {
			cur, err := tx.WebhookDelivery(ctx, o.d.ID) // locked on PostgreSQL
			if err != nil {
				return err
			}
			if cur.LeaseOwner != s.c.Owner || cur.Status != notify.DeliveryPending {
				s.log.Warn("webhook: lease lost before the outcome was recorded", "delivery", o.d.ID)
				continue
			}
			cur.Attempts++
			cur.LastStatus, cur.LastError, cur.UpdatedAt = o.status, o.errText, now
			cur.LeaseOwner, cur.LeaseUntil = "", nil
			switch {
			case o.status >= 200 && o.status < 300:
				cur.Status, cur.DeliveredAt = notify.DeliverySucceeded, &now
			case o.sub == nil || cur.Attempts > len(s.c.Schedule):
				cur.Status = notify.DeliveryDead
			default:
				cur.NextAt = now.Add(s.backoff(cur.Attempts))
				s.mu.Lock()
				if s.retryAt.IsZero() || cur.NextAt.Before(s.retryAt) || !s.retryAt.After(now) {
					s.retryAt = cur.NextAt
				}
				s.mu.Unlock()
			}
			if err := tx.PutWebhookDelivery(ctx, cur); err != nil {
				return err
			}
		}
		return nil
	})
}

// backoff is the wait after the attempt-th failed attempt: the schedule's
// entry spread by ± Jitter.
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.c.Schedule[min(attempt, len(s.c.Schedule))-1]
	if s.c.Jitter > 0 {
		d = time.Duration(math.Round(float64(d) * (1 + s.c.Jitter*(2*s.c.Rand()-1))))
	}
	return d
}

// post sends the delivery, signed; it returns the HTTP status (0 when there
// was no answer) and an error text for a failure.
func (s *Sender) post(ctx context.Context, d *notify.Delivery, sub *notify.Subscription) (int, string) {
	ts := s.c.Clock.Now()
	sig, err := Sign(sub.Secret, d.ID, ts, d.Body)
	if err != nil {
		return 0, err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "aftersale-webhooks/1")
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.c.Client.Do(req)
	if err != nil {
		var ue interface{ Timeout() bool }
		if errors.As(err, &ue) && ue.Timeout() {
			return 0, "timeout"
		}
		return 0, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, "HTTP " + strconv.Itoa(resp.StatusCode)
}

// sleepCtx waits d (nothing when d <= 0); false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
