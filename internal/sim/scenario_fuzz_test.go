package sim_test

// Fuzz target for scenario files, what `aftersale replay FILE` reads:
//
//	go test ./internal/sim -run '^$' -fuzz '^FuzzScenario$' -fuzztime 10m
//
// The seeds are a few examples/*.yaml, a small scenario with a policy patch
// and testdata/fuzz/FuzzScenario; `go test ./...` runs them as a plain test.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aftersale/internal/policy"
	"aftersale/internal/sim"
)

// scenarioFuzzExamples are the examples seeding FuzzScenario: each family's
// commands, a policy patch, facts and expectations.
var scenarioFuzzExamples = []string{
	"urge_shipment_timeout.yaml", "urge_exemptions.yaml", "logistics_stall.yaml", "product_qa.yaml",
}

// scenarioFuzzSeed is a small scenario with most kinds of step.
const scenarioFuzzSeed = `name: fuzz seed
description: an urge, a reply, a shipment, under a policy patch
start: 2023-08-01T09:00:00+08:00
shops:
  - {id: s1, platform: tmall, main_account: m1, sub_accounts: [{id: sub1, permissions: [platform_task], subscribes_reminders: true}]}
online: [sub1]
orders:
  - {id: o1, shop_id: s1, buyer_id: b1, items: [{sku: A}], paid_fen: 1000,
     paid_at: 2023-07-29T10:00:00+08:00, ship_by: 2023-07-31T10:00:00+08:00}
policy:
  - platform: tmall
    versions:
      - id: tmall/fuzz
        effective_from: 2023-08-01T00:00:00+08:00
        rules: {logistics: {stall_after: 96h}}
steps:
  - at: 2023-08-01T10:00:00+08:00
    do: urge
    actor: buyer:b1
    order: o1
  - expect: {task: $1, state: awaiting_seller_reply, tasks: 1}
  - after: 1h
    do: act
    task: $1
    action: reply
    actor: shop_sub:sub1
    text: shipping today
  - advance: 30m
  - fact: {type: shipment, shipment: {order_id: o1, carrier: SF, tracking_no: X1}}
  - expect: {task: $1, state: completed}
`

// scenarioFuzzMaxSteps bounds what one input replays, to keep it fast.
const scenarioFuzzMaxSteps = 40

// FuzzScenario parses the input as a scenario and replays what it accepts:
//
//   - parsing never panics, and a refusal is an error saying "scenario:";
//   - an accepted scenario has a start, and replaying it never panics;
//   - a replay is deterministic: a second replay gives the same output bytes
//     (or the same error); its output encodes as JSON.
func FuzzScenario(f *testing.F) {
	for _, name := range scenarioFuzzExamples {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(scenarioFuzzSeed))
	reg, err := policy.Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := sim.Parse(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "scenario: ") {
				t.Fatalf("refusal %q does not say scenario:", err)
			}
			return
		}
		if sc.Start.IsZero() {
			t.Fatalf("accepted a scenario without a start")
		}
		if len(sc.Steps) > scenarioFuzzMaxSteps || len(sc.Orders) > scenarioFuzzMaxSteps || len(sc.Shops) > scenarioFuzzMaxSteps {
			return
		}
		a, errA := replayJSON(t, data, reg)
		b, errB := replayJSON(t, data, reg)
		if errA != errB {
			t.Fatalf("two replays end differently: %q, then %q", errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("two replays differ:\n%s\n%s", a, b)
		}
	})
}

// replayJSON parses and replays data (sim.Run may change the scenario) and
// returns the output as JSON, or the replay's error text.
func replayJSON(t *testing.T, data []byte, reg *policy.Registry) ([]byte, string) {
	t.Helper()
	sc, err := sim.Parse(data)
	if err != nil {
		t.Fatalf("parsed once, not twice: %v", err)
	}
	out, err := sim.Run(context.Background(), sc, reg)
	if err != nil {
		if err.Error() == "" {
			t.Fatal("a replay failed with an empty error")
		}
		return nil, err.Error()
	}
	j, err := json.Marshal(out)
	if err != nil {
		t.Fatalf("replay output does not encode: %v", err)
	}
	return j, ""
}
