package httpapi

import (
	"context"
	"log/slog"
	"time"

	"aftersale/internal/engine"
)

// DefaultUploadGrace is how long an evidence upload may stay unattached to
// evidence before it is removed (issue 12, finding 8).
const DefaultUploadGrace = 24 * time.Hour

// uploadSweepEvery is how often the uploads never attached are swept, and
// uploadSweepBatch how many one transaction removes at most.
const (
	uploadSweepEvery = time.Hour
	uploadSweepBatch = 200
)

// uploadSweep removes, at start and then hourly, the evidence uploads never
// attached to evidence and older than grace (DefaultUploadGrace when zero).
func uploadSweep(eng *engine.Engine, grace time.Duration, log *slog.Logger) func(context.Context) error {
	if grace <= 0 {
		grace = DefaultUploadGrace
	}
	return func(ctx context.Context) error {
		t := time.NewTicker(uploadSweepEvery)
		defer t.Stop()
		for {
			sweepUploads(ctx, eng, grace, uploadSweepBatch, log)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// sweepUploads removes every upload due (engine.SweepUploads), batch by
// batch, one transaction each, and returns how many it removed.
func sweepUploads(ctx context.Context, eng *engine.Engine, grace time.Duration, batch int, log *slog.Logger) int {
	total := 0
	for {
		n, err := eng.SweepUploads(ctx, grace, batch)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("upload sweep failed", "err", err)
			}
			break
		}
		total += n
		if n < batch {
			break
		}
	}
	if total > 0 {
		log.Info("unattached uploads removed", "uploads", total, "older_than", grace.String())
	}
	return total
}
