package engine

import (
	"context"
	"sync"

	"aftersale/internal/commerce"
)

// commitHooks are called after every commit of the write path (live
// delivery wakes on them instead of polling the store).
type commitHooks struct {
	mu sync.RWMutex
	fs []func()
}

func (h *commitHooks) run() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, f := range h.fs {
		f()
	}
}

// OnCommit adds a hook called after each committed write transaction (after
// the store's commit, so what it wrote is visible to new reads). Hooks must
// not block: a typical one does a non-blocking send on a wake-up channel.
func (e *Engine) OnCommit(f func()) {
	e.commits.mu.Lock()
	e.commits.fs = append(e.commits.fs, f)
	e.commits.mu.Unlock()
}

// SetPresence records that a shop account came online or went offline
// (R-NTF-2 sends cards to online sub-accounts). It is the presence fact,
// applied through the same path and recorded under a fresh fact id: the
// live hub calls it when an account's first stream opens and after its
// last one closes.
func (e *Engine) SetPresence(ctx context.Context, accountID string, online bool) error {
	f := commerce.Fact{ID: e.ids.New("prs"), Type: commerce.FactPresence, At: e.clk.Now(),
		Presence: &commerce.PresenceFact{AccountID: accountID, Online: online}}
	res, err := e.Ingest(ctx, []commerce.Fact{f})
	if err != nil {
		return err
	}
	if res[0].Status == FactRefused && res[0].Error != nil {
		return res[0].Error
	}
	return nil
}
