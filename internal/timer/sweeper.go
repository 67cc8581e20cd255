// Package timer runs the durable deadline sweeper: it sleeps until the
// earliest due timer, wakes early when an earlier one is set, and fires due
// timers in batches through the engine.
package timer

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"aftersale/internal/clock"
	"aftersale/internal/engine"
	"aftersale/internal/store"
)

// Listener tells of timers other replicas set: ListenTimers calls wake with
// a due time each time one commits timers, until ctx is done (it then
// returns ctx's error) or its connection fails (any other error). The
// PostgreSQL store implements it with LISTEN/NOTIFY; a store with one
// process (SQLite) needs none: the engine's OnTimerSet hook is enough.
type Listener interface {
	ListenTimers(ctx context.Context, wake func(due time.Time)) error
}

// Sweeper fires timers at their due time.
type Sweeper struct {
	Engine *engine.Engine
	Clock  clock.Clock
	// Batch is how many timers one transaction fires (default 500).
	Batch int
	// Idle is the longest sleep when no timer is due (default 1 minute); a
	// safety net: Wake is the normal way to learn of new timers.
	Idle time.Duration
	Log  *slog.Logger
	// Remote, when set, wakes the sweeper when another replica sets a timer
	// (Run listens while it runs, and listens again after a failure).
	Remote Listener
	// OnFire, when set, is called after each batch the sweeper fired (metrics).
	OnFire func(engine.FireResult)

	mu   sync.Mutex
	wake chan struct{}
	// Stats.
	fired   int64
	maxLate time.Duration
}

// Wake tells the sweeper a timer was set (it re-reads the earliest due time).
// It is safe to call from any goroutine and never blocks.
func (s *Sweeper) Wake(time.Time) {
	s.mu.Lock()
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	w := s.wake
	s.mu.Unlock()
	select {
	case w <- struct{}{}:
	default:
	}
}

// Stats returns how many timers fired and the largest lateness seen.
func (s *Sweeper) Stats() (fired int64, maxLate time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fired, s.maxLate
}

// Run sweeps until ctx is done.
func (s *Sweeper) Run(ctx context.Context) error {
	batch, idle := s.Batch, s.Idle
	if batch <= 0 {
		batch = 500
	}
	if idle <= 0 {
		idle = time.Minute
	}
	s.Wake(time.Time{})
	s.mu.Lock()
	wake := s.wake
	s.mu.Unlock()
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if s.Remote != nil {
		go s.listen(ctx, log)
	}
	for {
		for {
			res, err := s.Engine.FireDue(ctx, s.Clock.Now(), batch)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				log.Error("timer sweep failed", "err", err)
				break
			}
			s.mu.Lock()
			s.fired += int64(res.Fired + res.Skipped)
			if res.MaxLate > s.maxLate {
				s.maxLate = res.MaxLate
			}
			s.mu.Unlock()
			if s.OnFire != nil && len(res.Lateness) > 0 {
				s.OnFire(res)
			}
			if res.Fired+res.Skipped < batch {
				break
			}
		}
		sleep := idle
		if err := s.Engine.Store().View(ctx, func(tx store.ReadTx) error {
			next, ok, err := tx.NextDue(ctx)
			if err != nil || !ok {
				return err
			}
			if d := next.Sub(s.Clock.Now()); d < sleep {
				sleep = d
			}
			return nil
		}); err != nil && ctx.Err() == nil {
			log.Error("timer lookup failed", "err", err)
		}
		if sleep <= 0 {
			continue
		}
		var changed <-chan struct{}
		if m, ok := s.Clock.(*clock.Manual); ok {
			changed = m.Changed()
			sleep = idle
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-wake:
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// listen runs Remote.ListenTimers until ctx is done, again after a pause
// when it fails. After each (re)start it wakes the sweeper, since timers set
// while nobody listened were not heard.
func (s *Sweeper) listen(ctx context.Context, log *slog.Logger) {
	const pause = time.Second
	for ctx.Err() == nil {
		err := s.Remote.ListenTimers(ctx, s.Wake)
		if ctx.Err() != nil {
			return
		}
		log.Warn("timer wake-up listener failed; listening again", "err", err, "after", pause)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		s.Wake(time.Time{})
	}
}
