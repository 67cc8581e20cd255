package sim_test

import (
	"context"
	"strings"
	"testing"

	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/sim"
)

// head is a minimal valid scenario without steps.
const head = `name: t
description: test
start: 2023-08-01T09:00:00+08:00
shops:
  - {id: s1, platform: tmall, main_account: m1, sub_accounts: [{id: sub1, permissions: [platform_task], subscribes_reminders: true}]}
orders:
  - {id: o1, shop_id: s1, buyer_id: b1, items: [{sku: A}], paid_fen: 1000,
     paid_at: 2023-07-29T10:00:00+08:00, ship_by: 2023-07-31T10:00:00+08:00}
`

func TestParseAcceptsValid(t *testing.T) {
	sc, err := sim.Parse([]byte(head + `steps:
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
    note: just time
  - fact: {type: shipment, shipment: {order_id: o1, carrier: SF, tracking_no: X1}}
  - expect: {task: $1, state: completed, outcome: shipped, outbox: [{kind: reminder, recipient: sub1, count: 1}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 6 || sc.Steps[2].Do != "act" || sc.Steps[2].Action != "reply" {
		t.Fatalf("steps decoded wrongly: %+v", sc.Steps)
	}
}

// TestParseRefuses: unknown keys, keys a step does not use, and steps that
// cannot run are refused before anything runs, naming the step and line.
func TestParseRefuses(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown top-level key", head + "nmae: x\n", `unknown key "nmae" in the scenario`},
		{"unknown step key", head + "steps:\n  - do: urge\n    acter: buyer:b1\n    order: o1\n", `unknown key "acter" in a step`},
		{"unknown payload key", head + "steps:\n  - fact: {type: shipment, shipment: {order: o1}}\n", `unknown key "order" in the shipment payload`},
		{"unknown reply key", head + "steps:\n  - do: act\n    task: $1\n    action: collab_agreed\n    actor: shop_main:m1\n    reply: {contact: x}\n", `unknown key "contact" in reply`},
		{"unknown expect key", head + "steps:\n  - expect: {tsk: $1}\n", `unknown key "tsk" in expect`},
		{"unknown shop key", strings.Replace(head, "main_account: m1", "main_acount: m1", 1), `unknown key "main_acount" in a shop`},
		{"missing start", strings.Replace(head, "start: 2023-08-01T09:00:00+08:00\n", "", 1), "start is required"},
		{"second document", head + "---\nname: again\n", "one YAML document per file"},
		{"at and after", head + "steps:\n  - at: 2023-08-01T10:00:00+08:00\n    after: 1h\n", "step 1 (line 10): give at or after, not both"},
		{"negative after", head + "steps:\n  - after: -1h\n", "after -1h is negative"},
		{"fact and do", head + "steps:\n  - do: urge\n    actor: buyer:b1\n    order: o1\n    fact: {type: shipment, shipment: {order_id: o1}}\n", "a step has one of fact, do, expect"},
		{"unknown command", head + "steps:\n  - do: ship\n    actor: buyer:b1\n", `unknown command do: "ship"`},
		{"missing actor", head + "steps:\n  - do: urge\n    order: o1\n", "do: urge needs actor"},
		{"missing order", head + "steps:\n  - do: urge\n    actor: buyer:b1\n", "do: urge needs order"},
		{"key unused by command", head + "steps:\n  - do: urge\n    actor: buyer:b1\n    order: o1\n    action: reply\n", "do: urge does not take action"},
		{"bad actor", head + "steps:\n  - do: urge\n    actor: b1\n    order: o1\n", `actor "b1": want role:id`},
		{"unknown role", head + "steps:\n  - do: urge\n    actor: seller:m1\n    order: o1\n", `unknown role "seller"`},
		{"unknown action", head + "steps:\n  - do: act\n    task: $1\n    action: approve\n    actor: agent:a1\n", `"approve" is not an action of any task family`},
		{"create via act", head + "steps:\n  - do: act\n    task: $1\n    action: create\n    actor: agent:a1\n", "create a task with"},
		{"bad task reference", head + "steps:\n  - do: act\n    task: $0\n    action: reply\n    actor: shop_main:m1\n", `task "$0": a reference is $1`},
		{"unknown task type", head + "steps:\n  - do: open_task\n    type: refund\n    actor: buyer:b1\n    order: o1\n", `unknown task type "refund"`},
		{"finish without status", head + "steps:\n  - do: finish_complaint\n    complaint: $1\n", "do: finish_complaint needs status"},
		{"unknown fact type", head + "steps:\n  - fact: {type: delivered}\n", `fact: unknown type "delivered"`},
		{"fact without payload", head + "steps:\n  - fact: {type: shipment}\n", "exactly one payload"},
		{"fact missing field", head + "steps:\n  - fact: {type: refund, refund: {order_id: o1}}\n", "amount_fen must be positive"},
		{"expect_error on a clock step", head + "steps:\n  - after: 1h\n    expect_error: R-SLA-1\n", "a clock step (no fact, do or expect) does not take expect_error"},
		{"expect_error on an expect step", head + "steps:\n  - expect: {tasks: 0}\n    expect_error: R-SLA-1\n", "an expect step does not take expect_error"},
		{"empty expect", head + "steps:\n  - expect: {}\n", "expect: checks nothing"},
		{"state without task", head + "steps:\n  - expect: {state: completed}\n", "need task"},
		{"task without check", head + "steps:\n  - expect: {task: $1, tasks: 1}\n", "nothing to check on it"},
		{"unknown state", head + "steps:\n  - expect: {task: $1, state: done}\n", `unknown state "done"`},
		{"urged without order", head + "steps:\n  - expect: {urged: true}\n", "need order"},
		{"outbox without count", head + "steps:\n  - expect: {outbox: [{kind: reminder}]}\n", "outbox[0]: count is required"},
		{"bad policy patch", head + "policy:\n  - platform: tmall\n    versions:\n      - id: tmall/x\n        effective_from: 2023-01-01T00:00:00+08:00\n        rules: {urge: {exempt_region: []}}\n", "scenario policy[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sim.Parse([]byte(c.yaml))
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, c.want)
			}
		})
	}
}

func run(t *testing.T, yaml string) *sim.Output {
	t.Helper()
	sc, err := sim.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	reg, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sim.Run(context.Background(), sc, reg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return out
}

// TestRunExpectations: expect_error must match the refusal's rule or
// reason; an unexpected refusal or acceptance and a failed check are
// reported in failed_expectations, and the replay goes on.
func TestRunExpectations(t *testing.T) {
	out := run(t, head+`steps:
  - at: 2023-08-01T10:00:00+08:00
    do: chase_invoice
    actor: buyer:b1
    order: o1
    note: refused, and no expect_error
  - do: chase_invoice
    actor: buyer:b1
    order: o1
    expect_error: R-INV-4
    note: refused by R-INV-1, not R-INV-4
  - do: chase_invoice
    actor: buyer:b1
    order: o1
    expect_error: invoice.not_requested
    note: matched by reason
  - do: chase_invoice
    actor: buyer:b1
    order: o1
    expect_error: R-INV-1
    note: matched by rule
  - do: urge
    actor: buyer:b1
    order: o1
    expect_error: R-URG-2
    note: accepted, but a refusal was expected
  - expect: {task: $1, state: completed, tasks: 2}
  - expect: {task: $1, state: awaiting_seller_reply}
`)
	want := []string{
		"step 1: refused unexpectedly (conflict [R-INV-1]",
		"step 2: refused by R-INV-1/invoice.not_requested, expected R-INV-4",
		"step 5: expected a refusal (R-URG-2), but it was accepted",
		"step 6: want 2 tasks, have 1; task tsk_000001 is awaiting_seller_reply, want completed",
	}
	if len(out.Failed) != len(want) {
		t.Fatalf("failed expectations:\n%s\nwant %d", strings.Join(out.Failed, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(out.Failed[i], w) {
			t.Errorf("failed[%d] = %q\nwant prefix %q", i, out.Failed[i], w)
		}
	}
	if len(out.Refusals) != 4 {
		t.Errorf("%d refusals, want 4", len(out.Refusals))
	}
	if out.Steps[6].Result != "ok" || !strings.HasPrefix(out.Steps[5].Result.(string), "failed: ") {
		t.Errorf("expect step results: %v, %v", out.Steps[5].Result, out.Steps[6].Result)
	}
}

// TestRunTimersFireInOrder: a long clock step fires every timer due on the
// way at its own due time, in due order (reminder 2 h before, then the
// reply deadline, R-NTF-1 and R-SLA-1).
func TestRunTimersFireInOrder(t *testing.T) {
	out := run(t, head+`steps:
  - at: 2023-08-01T10:00:00+08:00
    do: urge
    actor: buyer:b1
    order: o1
  - after: 10d
`)
	if len(out.Firings) != 2 {
		t.Fatalf("firings: %+v", out.Firings)
	}
	r, d := out.Firings[0], out.Firings[1]
	if r.Kind != "remind" || d.Kind != "reply" {
		t.Fatalf("order: %s then %s", r.Kind, d.Kind)
	}
	for _, f := range out.Firings {
		if !f.FiredAt.Equal(f.DueAt) || f.Late != 0 {
			t.Errorf("%s fired at %s, due %s", f.Kind, f.FiredAt, f.DueAt)
		}
	}
	if got := out.Steps[1].Fired; got == nil || got.Fired != 2 {
		t.Errorf("step 2 fired %+v, want 2", got)
	}
	if !out.End.Equal(out.Steps[1].At) {
		t.Errorf("end %s, want the last step's time %s", out.End, out.Steps[1].At)
	}
}

func TestRunRefusesGoingBack(t *testing.T) {
	sc, err := sim.Parse([]byte(head + "steps:\n  - at: 2023-08-01T10:00:00+08:00\n  - at: 2023-08-01T09:30:00+08:00\n"))
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := policy.Default()
	_, err = sim.Run(context.Background(), sc, reg)
	if err == nil || !strings.Contains(err.Error(), "step 2: time") || !strings.Contains(err.Error(), "steps move forward") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunBadReference(t *testing.T) {
	sc, err := sim.Parse([]byte(head + "steps:\n  - do: act\n    task: $3\n    action: reply\n    actor: shop_main:m1\n"))
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := policy.Default()
	_, err = sim.Run(context.Background(), sc, reg)
	if err == nil || !strings.Contains(err.Error(), `task reference "$3": 0 tasks exist so far`) {
		t.Fatalf("err = %v", err)
	}
}

// TestRunPolicyPatch: a scenario's policy patch applies to its own replay
// only; the caller's registry is unchanged (R-URG-2 (1) exempt regions).
func TestRunPolicyPatch(t *testing.T) {
	yaml := strings.Replace(head, "items: [{sku: A}]", "buyer_region: tibet, items: [{sku: A}]", 1) + `policy:
  - platform: tmall
    versions:
      - id: tmall/test.exempt
        effective_from: 2023-07-20T00:00:00+08:00
        rules: {urge: {exempt_regions: [{region: tibet, from: 2023-07-20T00:00:00+08:00}]}}
steps:
  - do: urge
    actor: buyer:b1
    order: o1
    expect_error: urge.exempt.region
`
	sc, err := sim.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := policy.Default()
	out, err := sim.Run(context.Background(), sc, reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Failed) > 0 {
		t.Fatalf("failed: %v", out.Failed)
	}
	for _, v := range reg.Versions(commerce.Tmall) {
		if v.ID == "tmall/test.exempt" {
			t.Fatal("the scenario's patch leaked into the caller's registry")
		}
	}
}

// TestRunOrderFact: orders added by a fact step appear in the output.
func TestRunOrderFact(t *testing.T) {
	out := run(t, head+`steps:
  - fact:
      type: order
      order: {id: o2, shop_id: s1, buyer_id: b2, items: [{sku: B}], paid_fen: 500,
              paid_at: 2023-08-01T08:00:00+08:00, ship_by: 2023-08-02T08:00:00+08:00}
  - do: file_complaint
    actor: buyer:b2
    order: o2
    kind: shipping
  - expect: {complaint: $1, complaint_status: open, complaint_kind: shipping}
`)
	if len(out.Failed) > 0 {
		t.Fatalf("failed: %v", out.Failed)
	}
	if len(out.Orders) != 2 || out.Orders[1].ID != "o2" || len(out.Complaints) != 1 {
		t.Fatalf("orders %d, complaints %d", len(out.Orders), len(out.Complaints))
	}
}
