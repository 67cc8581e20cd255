package sim_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"aftersale/internal/policy"
	"aftersale/internal/sim"
)

var update = flag.Bool("update", false, "rewrite examples/golden/*.json from the current replay output")

const examplesDir = "../../examples"

var goldenDir = filepath.Join(examplesDir, "golden")

// examples returns the scenario files of examples/, sorted.
func examples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scenarios in %s", examplesDir)
	}
	sort.Strings(files)
	return files
}

func exampleName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".yaml")
}

// replay parses and runs one scenario file with the default policy.
func replay(t *testing.T, path string) (*sim.Output, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sim.Parse(data)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	reg, err := policy.Default()
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	out, err := sim.Run(context.Background(), sc, reg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	b, err := out.JSON()
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	return out, b
}

var ruleID = regexp.MustCompile(`R-[A-Z]{2,3}-\d+`)

// TestGolden replays every examples/*.yaml and compares the JSON with
// examples/golden/<name>.json. Run `go test ./internal/sim -update` to
// rewrite the golden files after an intended change, then review the diff.
func TestGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range examples(t) {
		name := exampleName(path)
		seen[name+".json"] = true
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := sim.Parse(data)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !ruleID.MatchString(sc.Description) {
				t.Errorf("the description cites no rule id (R-…)")
			}
			out, got := replay(t, path)
			for _, f := range out.Failed {
				t.Errorf("expectation failed: %s", f)
			}
			golden := filepath.Join(goldenDir, name+".json")
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `go test ./internal/sim -update` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("replay output differs from %s (run `go test ./internal/sim -update` if the change is intended):\n%s",
					golden, firstDiff(string(want), string(got), 3, 12))
			}
		})
	}
	// A golden file without a scenario is stale.
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	for _, f := range files {
		if seen[filepath.Base(f)] {
			continue
		}
		if *update {
			if err := os.Remove(f); err != nil {
				t.Error(err)
			}
			continue
		}
		t.Errorf("%s has no scenario in %s (remove it, or run with -update)", f, examplesDir)
	}
}

// TestReplayDeterministic runs every example twice: the bytes must be identical
// (ids from a sequence, a manual clock, ordered lists).
func TestReplayDeterministic(t *testing.T) {
	for _, path := range examples(t) {
		t.Run(exampleName(path), func(t *testing.T) {
			_, a := replay(t, path)
			_, b := replay(t, path)
			if !bytes.Equal(a, b) {
				t.Errorf("two replays differ:\n%s", firstDiff(string(a), string(b), 3, 12))
			}
		})
	}
}

// firstDiff shows where want and got first differ, unified-diff style
// (- want, + got): up to before lines of context, the differing lines up to
// where the texts agree again (at most max lines a side), then one line of
// context.
func firstDiff(want, got string, before, maxLines int) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	if i == len(wl) && i == len(gl) {
		return "(no difference)"
	}
	// common suffix, not overlapping the common prefix
	s := 0
	for s < len(wl)-i && s < len(gl)-i && wl[len(wl)-1-s] == gl[len(gl)-1-s] {
		s++
	}
	wEnd, gEnd := len(wl)-s, len(gl)-s
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (want %d lines, got %d):\n", i+1, len(wl), len(gl))
	for k := max(0, i-before); k < i; k++ {
		fmt.Fprintf(&b, "  %5d   %s\n", k+1, wl[k])
	}
	side := func(sign string, lines []string, end int) {
		for k := i; k < end && k < i+maxLines; k++ {
			fmt.Fprintf(&b, "%s %5d   %s\n", sign, k+1, lines[k])
		}
		if end-i > maxLines {
			fmt.Fprintf(&b, "%s         … %d more lines\n", sign, end-i-maxLines)
		}
	}
	side("-", wl, wEnd)
	side("+", gl, gEnd)
	if wEnd < len(wl) {
		fmt.Fprintf(&b, "  %5d   %s\n", wEnd+1, wl[wEnd])
	}
	return b.String()
}

func TestFirstDiff(t *testing.T) {
	d := firstDiff("a\nb\nc\n", "a\nB\nc\n", 1, 1)
	for _, s := range []string{"line 2", "      1   a", "-     2   b", "+     2   B", "      3   c"} {
		if !strings.Contains(d, s) {
			t.Errorf("diff lacks %q:\n%s", s, d)
		}
	}
	if d := firstDiff("a\nb\nc\nd\n", "a\nX\nY\nZ\nd\n", 0, 2); !strings.Contains(d, "+         … 1 more lines") || strings.Contains(d, "-     4") {
		t.Errorf("long hunk:\n%s", d)
	}
	if firstDiff("x", "x", 1, 1) != "(no difference)" {
		t.Error("equal texts should show no difference")
	}
}
