package timer_test

import (
	"testing"

	"aftersale/internal/clock"
	"aftersale/internal/engine"
	"aftersale/internal/id"
	"aftersale/internal/testkit"
)

func newEngineWithClock(t *testing.T, env *testkit.Env, clk clock.Clock) *engine.Engine {
	t.Helper()
	return engine.New(engine.Config{Store: env.Store, Policy: env.Policy, Clock: clk, IDs: &id.Sequence{}})
}
