package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
)

// --policy adds an operator's versions (as `policy check --patch` checks
// them) to the embedded defaults; every replica is given the same files.
// R-SLA-1's reply deadline comes from the policy, so a version can change it.
func TestServePolicyFiles_R_SLA_1(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ops.yaml")
	os.WriteFile(good, []byte("platform: taobao\nversions:\n  - id: taobao/ops.1\n    effective_from: 2030-01-01T00:00:00+08:00\n"+
		"    rules: {tasks: {reply_deadline_by_type: {urge_shipment: 30s}}}\n"), 0o600)
	o, err := parseServe([]string{"--policy", good}, func(string) string { return "" }, io.Discard)
	if err != nil || len(o.policyFiles) != 1 {
		t.Fatalf("%+v %v", o, err)
	}
	reg, err := loadPolicy(o.policyFiles, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := reg.At(commerce.Taobao, time.Date(2029, 12, 31, 15, 59, 59, 0, time.UTC))
	after, _ := reg.At(commerce.Taobao, time.Date(2029, 12, 31, 16, 0, 0, 0, time.UTC))
	if d := before.Tasks.ReplyDeadlineFor("urge_shipment"); d != 24*time.Hour {
		t.Errorf("1 s before the version: reply deadline %s, want 24h", d)
	}
	if d := after.Tasks.ReplyDeadlineFor("urge_shipment"); d != 30*time.Second || !strings.Contains(after.Version, "taobao/ops.1") {
		t.Errorf("from the version: reply deadline %s, version %s", d, after.Version)
	}
	// the environment, comma-separated
	o, err = parseServe(nil, func(k string) string { return map[string]string{"AFTERSALE_POLICY_FILES": good + "," + good}[k] }, io.Discard)
	if err != nil || len(o.policyFiles) != 2 {
		t.Fatalf("env: %+v %v", o.policyFiles, err)
	}
	// the same version twice, a bad key, a missing file: refused, naming the problem
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("platform: taobao\nversions:\n  - id: taobao/ops.2\n    effective_from: 2030-01-01T00:00:00+08:00\n    rules: {tasks: {reply_deadline: soon}}\n"), 0o600)
	for _, c := range []struct {
		files []string
		want  string
	}{{[]string{good, good}, "duplicate id"}, {[]string{bad}, "reply_deadline"}, {[]string{filepath.Join(dir, "none.yaml")}, "none.yaml"}} {
		var errb bytes.Buffer
		_, err := loadPolicy(c.files, &errb)
		if err == nil || !strings.Contains(errb.String()+err.Error(), c.want) {
			t.Errorf("%v: err %v, stderr %q; want it to name %q", c.files, err, errb.String(), c.want)
		}
	}
}

// --webhook-lease (env AFTERSALE_WEBHOOK_LEASE) defaults to 1 min; under 1 s is refused.
func TestServeWebhookLease(t *testing.T) {
	o, err := parseServe(nil, func(string) string { return "" }, io.Discard)
	if err != nil || o.webhookLease != time.Minute {
		t.Fatalf("default %s %v", o.webhookLease, err)
	}
	o, err = parseServe(nil, func(k string) string { return map[string]string{"AFTERSALE_WEBHOOK_LEASE": "5s"}[k] }, io.Discard)
	if err != nil || o.webhookLease != 5*time.Second {
		t.Fatalf("env %s %v", o.webhookLease, err)
	}
	o, err = parseServe([]string{"--webhook-lease", "1s"}, func(k string) string { return map[string]string{"AFTERSALE_WEBHOOK_LEASE": "5s"}[k] }, io.Discard)
	if err != nil || o.webhookLease != time.Second {
		t.Fatalf("flag %s %v", o.webhookLease, err)
	}
	if _, err := parseServe([]string{"--webhook-lease", "999ms"}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "webhook-lease") {
		t.Fatalf("999ms accepted: %v", err)
	}
}

// --timers (env AFTERSALE_TIMERS) defaults to on; off makes an API-only
// replica; the flag wins over the environment.
func TestServeTimersFlag(t *testing.T) {
	envOf := func(v string) func(string) string {
		return func(k string) string { return map[string]string{"AFTERSALE_TIMERS": v}[k] }
	}
	for _, c := range []struct {
		args []string
		env  string
		want bool
	}{
		{nil, "", true},
		{nil, "false", false},
		{[]string{"--timers=false"}, "", false},
		{[]string{"--timers=true"}, "false", true},
	} {
		o, err := parseServe(c.args, envOf(c.env), io.Discard)
		if err != nil || o.timers != c.want {
			t.Errorf("args %v env %q: timers %v (%v), want %v", c.args, c.env, o.timers, err, c.want)
		}
	}
}
