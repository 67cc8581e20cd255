package policy

import (
	"testing"
	"time"

	"aftersale/internal/commerce"
)

// Diff between the Tmall rules before and after the 2022-12-15 version
// (R-LOG-3: 48/72 h → 72/96 h) names exactly the rules that version changes.
func TestDiff_R_LOG_3(t *testing.T) {
	reg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	bj := time.FixedZone("CST", 8*3600)
	before, err := reg.At(commerce.Tmall, time.Date(2022, 12, 14, 23, 59, 59, 0, bj))
	if err != nil {
		t.Fatal(err)
	}
	after, err := reg.At(commerce.Tmall, time.Date(2022, 12, 15, 0, 0, 0, 0, bj))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]RuleChange{}
	for _, c := range Diff(before, after) {
		got[c.Path] = c
	}
	for _, p := range []string{"logistics.stall_after", "logistics.stall_after_remote"} {
		if _, ok := got[p]; !ok {
			t.Errorf("diff lacks %s: %+v", p, got)
		}
	}
	if len(Diff(after, after)) != 0 {
		t.Error("a rule set differs from itself")
	}
	if d := Diff(nil, after); len(d) == 0 || d[0].Before != nil {
		t.Errorf("diff from nothing: %+v", d[:1])
	}
}
