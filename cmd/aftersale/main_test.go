package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// The README's first command: replaying the example prints the tasks as JSON.
func TestReplayExample(t *testing.T) {
	code, out, stderr := runCLI("replay", "../../examples/urge_shipment_timeout.yaml", "--check")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v struct {
		Tasks []struct {
			State   string `json:"state"`
			Outcome string `json:"outcome"`
		} `json:"tasks"`
		Failed []string `json:"failed_expectations"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(v.Tasks) != 1 || v.Tasks[0].State != "completed" || v.Tasks[0].Outcome != "shipped" || len(v.Failed) != 0 {
		t.Fatalf("unexpected replay result: %+v", v)
	}
}

// A failed expectation makes --check exit 1 and names the step; a scenario
// with an unknown key is refused with its line.
func TestReplayFailures(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	data, err := os.ReadFile("../../examples/urge_shipment_timeout.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(data), "expect: {task: $1, state: completed, outcome: shipped, open_complaints: 0}", "expect: {task: $1, state: platform_intervening}", 1)
	if wrong == string(data) {
		t.Fatal("example changed; update the test")
	}
	if err := os.WriteFile(bad, []byte(wrong), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI("replay", bad, "--check"); code != 1 || !strings.Contains(stderr, "expectation failed") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("name: x\nstart: 2023-08-01T09:00:00+08:00\nshopz: []\n"), 0o644)
	if code, _, stderr := runCLI("replay", unknown); code != 1 || !strings.Contains(stderr, "shopz") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestPolicyAndUsage(t *testing.T) {
	if code, out, stderr := runCLI("policy", "check"); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("policy check of the defaults: exit %d %q %q", code, out, stderr)
	}
	// R-LOG-1: the rules in force before and after 2022-12-15 00:00 +08:00.
	_, before, _ := runCLI("policy", "show", "--platform", "tmall", "--at", "2022-12-14T23:59:59+08:00")
	_, after, _ := runCLI("policy", "show", "--platform", "tmall", "--at", "2022-12-15T00:00:00+08:00")
	if !strings.Contains(before, "stall_after: 48h") || !strings.Contains(after, "stall_after: 72h") {
		t.Fatalf("policy show:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if code, _, stderr := runCLI("nonsense"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("unknown command: exit %d %q", code, stderr)
	}
	if code, out, _ := runCLI("help"); code != 0 || !strings.Contains(out, "aftersale replay") {
		t.Fatalf("help: exit %d", code)
	}
	db := filepath.Join(t.TempDir(), "a.db")
	if code, out, stderr := runCLI("migrate", "--db", db); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: exit %d %q %q", code, out, stderr)
	}
}
