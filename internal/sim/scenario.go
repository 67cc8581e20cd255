// Package sim replays scenarios: shops, orders and timed steps (facts,
// buyer/seller/agent actions, clock advances) run on a manual clock against
// a fresh store, with the result printed as stable, diff-able JSON. The
// format is documented in docs/scenarios.md.
package sim

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

// Scenario is a replayable story.
type Scenario struct {
	Name        string          `yaml:"name"`
	Description string          `yaml:"description"`
	Start       time.Time       `yaml:"start"`
	Shops       []commerce.Shop `yaml:"shops"`
	// Online lists sub-accounts that are online from the start (R-NTF-2).
	Online []string         `yaml:"online"`
	Orders []commerce.Order `yaml:"orders"`
	Steps  []Step           `yaml:"steps"`
}

// Step is one timed step. Exactly one of Fact, Do, Expect may be set; a step
// with only At/After/Advance just moves the clock.
type Step struct {
	// At is an absolute time; After is relative to the previous step. The
	// clock moves there first, firing every timer that falls due on the way.
	At      *time.Time       `yaml:"at"`
	After   *policy.Duration `yaml:"after"`
	Advance *policy.Duration `yaml:"advance"`
	Note    string           `yaml:"note"`

	Fact *commerce.Fact `yaml:"fact"`

	// Do is a command: urge, keep_contacting, report_stall, chase_invoice,
	// open_task, act, file_complaint, finish_complaint.
	Do      string            `yaml:"do"`
	Actor   string            `yaml:"actor"` // role:id, e.g. buyer:b1, shop_sub:s1, agent:a1
	Order   string            `yaml:"order"`
	Task    string            `yaml:"task"` // a task id, or $N for the Nth task created
	Type    task.Type         `yaml:"type"`
	Action  task.Action       `yaml:"action"`
	Reply   *task.Reply       `yaml:"reply"`
	Outcome string            `yaml:"outcome"`
	Text    string            `yaml:"text"`
	Details map[string]string `yaml:"details"`
	Kind    string            `yaml:"kind"`      // complaint kind
	Target  string            `yaml:"complaint"` // complaint id or $N for finish_complaint
	Status  string            `yaml:"status"`    // complaint final status

	// Expect checks the state after the step; a failed check is reported in
	// the output and makes replay exit non-zero.
	Expect *Expect `yaml:"expect"`
	// ExpectError, on a command or fact step, says the step must be refused
	// with this rule id or reason (e.g. "R-URG-2" or "urge.exempt.presale").
	ExpectError string `yaml:"expect_error"`
}

// Expect is a check on a task or order.
type Expect struct {
	Task    string     `yaml:"task"`
	State   task.State `yaml:"state"`
	Outcome string     `yaml:"outcome"`
	Order   string     `yaml:"order"`
	Urged   *bool      `yaml:"urged"`
	Tasks   *int       `yaml:"tasks"` // number of tasks so far
}

// Parse reads a scenario, refusing unknown keys.
func Parse(data []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if s.Start.IsZero() {
		return nil, fmt.Errorf("scenario: start is required")
	}
	for i, st := range s.Steps {
		n := 0
		if st.Fact != nil {
			n++
		}
		if st.Do != "" {
			n++
		}
		if st.Expect != nil {
			n++
		}
		if n > 1 {
			return nil, fmt.Errorf("scenario: steps[%d]: a step has one of fact, do, expect", i)
		}
		if st.At != nil && st.After != nil {
			return nil, fmt.Errorf("scenario: steps[%d]: give at or after, not both", i)
		}
		if st.Do != "" && st.Actor == "" && st.Do != "finish_complaint" {
			return nil, fmt.Errorf("scenario: steps[%d]: %s needs an actor (role:id)", i, st.Do)
		}
	}
	return &s, nil
}

// ParseActor reads "role:id".
func ParseActor(s string) (task.Actor, error) {
	role, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return task.Actor{}, fmt.Errorf("actor %q: want role:id (buyer, shop_main, shop_sub, agent, system)", s)
	}
	r := task.Role(role)
	switch r {
	case task.RoleBuyer, task.RoleShopMain, task.RoleShopSub, task.RoleAgent, task.RoleSystem:
	default:
		return task.Actor{}, fmt.Errorf("actor %q: unknown role %q", s, role)
	}
	return task.Actor{Role: r, ID: id}, nil
}
