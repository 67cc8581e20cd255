package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// RuleChange is one rule whose value differs between two rule sets, named by
// its path of YAML keys ("tasks.reply_deadline", "liability.multiplier").
// Before or After is nil where the rule is absent on that side.
type RuleChange struct {
	Path   string `json:"path"`
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
}

// Diff lists the rules that differ between two rule sets, by path. A list is
// compared whole; maps are compared key by key. Either side may be nil (no
// rules in force).
func Diff(a, b *RuleSet) []RuleChange {
	fa, fb := map[string]any{}, map[string]any{}
	flatten("", asTree(a), fa)
	flatten("", asTree(b), fb)
	paths := map[string]bool{}
	for p := range fa {
		paths[p] = true
	}
	for p := range fb {
		paths[p] = true
	}
	var out []RuleChange
	for p := range paths {
		x, okx := fa[p]
		y, oky := fb[p]
		if okx && oky && reflect.DeepEqual(x, y) {
			continue
		}
		out = append(out, RuleChange{Path: p, Before: x, After: y})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// asTree renders a rule set as the generic tree of its JSON form (the
// version string left out: it always differs).
func asTree(rs *RuleSet) map[string]any {
	if rs == nil {
		return nil
	}
	b, err := json.Marshal(rs)
	if err != nil {
		panic(fmt.Sprintf("policy: rule set does not encode: %v", err))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("policy: rule set does not decode: %v", err))
	}
	delete(m, "version")
	return m
}

func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok {
		if prefix != "" {
			out[prefix] = v
		}
		return
	}
	for k, x := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		flatten(p, x, out)
	}
}
