package task

import (
	"testing"

	"aftersale/internal/policy"
)

// policy cannot import task (task imports policy), so it keeps its own list
// of the 14 type ids (RULES.md §1); the two must agree, in order.
func TestPolicyTaskTypesMatchTaskTypes(t *testing.T) {
	if len(policy.TaskTypes) != len(Types) {
		t.Fatalf("policy knows %d task types, task %d", len(policy.TaskTypes), len(Types))
	}
	for i, typ := range Types {
		if policy.TaskTypes[i] != string(typ) {
			t.Errorf("type %d: policy %q, task %q", i, policy.TaskTypes[i], typ)
		}
	}
	for _, typ := range Types {
		if For(typ) == nil {
			t.Errorf("%s has no lifecycle", typ)
		}
	}
}
