package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// --upload-grace (issue 12, finding 8) reads AFTERSALE_UPLOAD_GRACE, is 24 h
// by default, a flag wins, less than a minute is refused, and
// docs/config.md has its row.
func TestServeUploadGrace(t *testing.T) {
	none := func(string) string { return "" }
	o, err := parseServe(nil, none, io.Discard)
	if err != nil || o.uploadGrace != 24*time.Hour {
		t.Fatalf("default: %s %v", o.uploadGrace, err)
	}
	env := func(k string) string { return map[string]string{"AFTERSALE_UPLOAD_GRACE": "6h"}[k] }
	if o, err = parseServe(nil, env, io.Discard); err != nil || o.uploadGrace != 6*time.Hour {
		t.Fatalf("from env: %s %v", o.uploadGrace, err)
	}
	if o, err = parseServe([]string{"--upload-grace", "48h"}, env, io.Discard); err != nil || o.uploadGrace != 48*time.Hour {
		t.Fatalf("the flag wins: %s %v", o.uploadGrace, err)
	}
	for _, args := range [][]string{{"--upload-grace", "30s"}, {"--upload-grace", "0s"}, {"--upload-grace", "-1h"}} {
		if _, err := parseServe(args, none, io.Discard); err == nil || !strings.Contains(err.Error(), "--upload-grace") {
			t.Errorf("parseServe(%q): %v, want a refusal naming --upload-grace", args, err)
		}
	}
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "| `--upload-grace` | `AFTERSALE_UPLOAD_GRACE` | `24h` |") {
		t.Error("docs/config.md has no row for --upload-grace")
	}
}
