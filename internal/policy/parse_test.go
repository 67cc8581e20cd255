package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// validFile is a small complete policy file; the cases below break it.
const validFile = `platform: taobao
versions:
  - id: taobao/base
    effective_from: 2022-01-01T00:00:00+08:00
    comment: test baseline
    rules:
      timezone: Asia/Shanghai
      tasks:
        enabled: [urge_shipment, logistics_stall]
        reply_deadline: 24h
        seller_action_deadline: 48h
        buyer_confirm_deadline: 72h
        buyer_confirm_timeout: accept
        reminder_before: 2h
      urge:
        exempt_regions:
          - region: "310000"
            from: 2022-04-01T00:00:00+08:00
            until: 2022-06-01T00:00:00+08:00
        honor_delay_reports: true
        exempt_item_flags: [custom, virtual]
        require_complaint: true
        exempt_presale: [staged, full]
      logistics: {stall_after: 48h, stall_after_remote: 72h}
      invoice:
        first_deadline: 10d
        second_timeout_after: 10d
        points_per_case: 0
        points_cap: 6
        points_window: 30d
      notify: {reminder_daily_cap: 10, reminder_on_create: true, card_types: []}
      messages: {agent_message_types: []}
      collaborative: {channels: [card, sms]}
      complaints: {shipping_standard: A, invoice_standard: B}
  - id: taobao/stall
    effective_from: 2022-12-15T00:00:00+08:00
    effective_until:
    rules:
      logistics: {stall_after: 72h, stall_after_remote: 96h}
  - id: taobao/cards
    effective_from: 2023-07-04T00:00:00+08:00
    rules:
      notify:
        card_types: [return_refund, exchange]
`

func TestParseFileValid(t *testing.T) {
	f, issues := ParseFile("t.yaml", []byte(validFile))
	if issues != nil {
		t.Fatalf("issues: %v", issues)
	}
	if f.Platform != "taobao" || len(f.Versions) != 3 || f.Versions[1].Until != nil || f.Versions[0].Comment != "test baseline" {
		t.Fatalf("file: %+v", f)
	}
	r, err := NewRegistry(f)
	if err != nil {
		t.Fatal(err)
	}
	rs := mustAt(t, r, "taobao", at(2022, 5, 1, 0, 0, 0))
	if len(rs.Urge.ExemptRegions) != 1 || !rs.Urge.ExemptRegions[0].Contains(at(2022, 5, 1, 0, 0, 0)) || rs.Urge.ExemptRegions[0].Contains(at(2022, 6, 1, 0, 0, 0)) {
		t.Errorf("exempt regions: %+v", rs.Urge.ExemptRegions)
	}
}

// Every broken file reports its problems at the exact path (one issue each
// unless listed).
func TestParseFileIssues(t *testing.T) {
	type edit struct{ old, new string }
	cases := []struct {
		name  string
		edits []edit
		paths []string
		msg   string // part of the first message
	}{
		{"unknown key deep inside",
			[]edit{{"        honor_delay_reports: true\n", "        honor_delay_reports: true\n        honour_delay: false\n"}},
			[]string{"versions[0].rules.urge.honour_delay"}, "unknown key (want one of: exempt_regions, honor_delay_reports"},
		{"unknown key in a patch",
			[]edit{{"      logistics: {stall_after: 72h, stall_after_remote: 96h}", "      logistics: {stall_after: 72h, stall_after_remote: 96h, stall_after_island: 1h}"}},
			[]string{"versions[1].rules.logistics.stall_after_island"}, "unknown key"},
		{"unknown version key",
			[]edit{{"    comment: test baseline\n", "    commment: test baseline\n"}},
			[]string{"versions[0].commment"}, "unknown key (want id, effective_from"},
		{"unknown top-level key",
			[]edit{{"platform: taobao\n", "platform: taobao\nowner: ops\n"}},
			[]string{"owner"}, "unknown key"},
		{"platform inside rules",
			[]edit{{"      timezone: Asia/Shanghai\n", "      timezone: Asia/Shanghai\n      platform: tmall\n"}},
			[]string{"versions[0].rules.platform"}, "set once, at the top"},
		{"bad duration",
			[]edit{{"stall_after: 72h,", "stall_after: 72 hours,"}},
			[]string{"versions[1].rules.logistics.stall_after"}, `bad duration "72 hours"`},
		{"wrong type",
			[]edit{{"        points_cap: 6\n", "        points_cap: six\n"}},
			[]string{"versions[0].rules.invoice.points_cap"}, `want a whole number, got the string "six"`},
		{"list expected",
			[]edit{{"exempt_item_flags: [custom, virtual]", "exempt_item_flags: custom"}},
			[]string{"versions[0].rules.urge.exempt_item_flags"}, "want a list"},
		{"bad time in a region",
			[]edit{{"            from: 2022-04-01T00:00:00+08:00\n", "            from: 2022-04-01\n"}},
			[]string{"versions[0].rules.urge.exempt_regions[0].from"}, "want RFC 3339 with an offset"},
		{"until before from",
			[]edit{{"    effective_until:\n", "    effective_until: 2022-12-14T00:00:00+08:00\n"}},
			[]string{"versions[1].effective_until"}, "is not after effective_from"},
		{"until equal to from",
			[]edit{{"    effective_until:\n", "    effective_until: 2022-12-15T00:00:00+08:00\n"}},
			[]string{"versions[1].effective_until"}, "is not after effective_from"},
		{"bad effective_from",
			[]edit{{"    effective_from: 2023-07-04T00:00:00+08:00\n", "    effective_from: mid-July\n"}},
			[]string{"versions[2].effective_from"}, `bad time "mid-July"`},
		{"duplicate id",
			[]edit{{"  - id: taobao/cards\n", "  - id: taobao/stall\n"}},
			[]string{"versions[2].id"}, `duplicate id "taobao/stall" (also versions[1])`},
		{"missing id",
			[]edit{{"  - id: taobao/cards\n", "  - comment: no id\n"}},
			[]string{"versions[2].id"}, "missing"},
		{"id of another platform",
			[]edit{{"  - id: taobao/cards\n", "  - id: tmall/cards\n"}},
			[]string{"versions[2].id"}, `must start with "taobao/"`},
		{"unknown task type in card_types",
			[]edit{{"card_types: [return_refund, exchange]", "card_types: [return_refund, exchnage]"}},
			[]string{"versions[2].rules.notify.card_types[1]"}, `unknown task type "exchnage"`},
		{"unknown task type in enabled",
			[]edit{{"enabled: [urge_shipment, logistics_stall]", "enabled: [urge_shipment, stalled]"}},
			[]string{"versions[0].rules.tasks.enabled[1]"}, `unknown task type "stalled"`},
		{"unknown task type in reply_deadline_by_type",
			[]edit{{"        reply_deadline: 24h\n", "        reply_deadline: 24h\n        reply_deadline_by_type: {invoice: 12h}\n"}},
			[]string{"versions[0].rules.tasks.reply_deadline_by_type.invoice"}, `unknown task type "invoice"`},
		{"bad item flag and presale kind",
			[]edit{{"[custom, virtual]", "[custom, digital]"}, {"[staged, full]", "[staged, deposit]"}},
			[]string{"versions[0].rules.urge.exempt_item_flags[1]", "versions[0].rules.urge.exempt_presale[1]"}, `unknown item flag "digital"`},
		{"zero duration and cap",
			[]edit{{"        reply_deadline: 24h\n", "        reply_deadline: 0s\n"}, {"reminder_daily_cap: 10", "reminder_daily_cap: 0"}},
			[]string{"versions[0].rules.tasks.reply_deadline", "versions[0].rules.notify.reminder_daily_cap"}, "must be more than 0"},
		{"bad buyer_confirm_timeout",
			[]edit{{"buyer_confirm_timeout: accept", "buyer_confirm_timeout: ignore"}},
			[]string{"versions[0].rules.tasks.buyer_confirm_timeout"}, "must be accept or intervene"},
		{"bad timezone",
			[]edit{{"timezone: Asia/Shanghai", "timezone: Asia/Beijing"}},
			[]string{"versions[0].rules.timezone"}, `unknown time zone "Asia/Beijing"`},
		{"incomplete first version",
			[]edit{{"      logistics: {stall_after: 48h, stall_after_remote: 72h}\n", "      logistics: {stall_after: 48h}\n"}, {"      messages: {agent_message_types: []}\n", ""}},
			[]string{"versions[0].rules.logistics.stall_after_remote", "versions[0].rules.messages"}, "missing: the first version must set every rule"},
		{"later versions alone after the baseline ends",
			[]edit{{"    comment: test baseline\n", "    effective_until: 2024-01-01T00:00:00+08:00\n"}},
			[]string{"versions[1].rules"}, "the rules in force from 2024-01-01T00:00:00+08:00 (taobao/stall+taobao/cards) are incomplete: missing timezone, tasks,"},
		{"gap after the baseline ends",
			[]edit{{"    comment: test baseline\n", "    effective_until: 2022-06-01T00:00:00+08:00\n"}},
			[]string{"versions[0].effective_until", "versions[1].rules"}, "no version is in force from 2022-06-01T00:00:00+08:00 until 2022-12-15T00:00:00+08:00"},
		{"patch starting before the baseline",
			[]edit{{"    effective_from: 2023-07-04T00:00:00+08:00\n", "    effective_from: 2021-07-04T00:00:00+08:00\n"}},
			[]string{"versions[2].rules"}, "the rules in force from 2021-07-04T00:00:00+08:00 (taobao/cards) are incomplete"},
		{"unknown platform",
			[]edit{{"platform: taobao\n", "platform: jd\n"}},
			[]string{"platform"}, `unknown platform "jd"`},
		{"duplicate key",
			[]edit{{"        reply_deadline: 24h\n", "        reply_deadline: 24h\n        reply_deadline: 12h\n"}},
			[]string{"versions[0].rules.tasks.reply_deadline"}, "duplicate key"},
		{"YAML syntax error",
			[]edit{{"    comment: test baseline\n", "    comment: test: baseline\n"}},
			[]string{"line 5"}, "mapping values are not allowed in this context"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := validFile
			for _, e := range c.edits {
				if !strings.Contains(src, e.old) {
					t.Fatalf("edit %q does not apply", e.old)
				}
				src = strings.Replace(src, e.old, e.new, 1)
			}
			_, issues := ParseFile("t.yaml", []byte(src))
			var paths []string
			for _, is := range issues {
				paths = append(paths, is.Path)
			}
			if !slices.Equal(paths, c.paths) {
				t.Fatalf("paths %q, want %q\nissues: %v", paths, c.paths, issues)
			}
			if !strings.Contains(issues[0].Message, c.msg) {
				t.Errorf("message %q, want it to contain %q", issues[0].Message, c.msg)
			}
			if issues[0].Line == 0 {
				t.Errorf("no line for %v", issues[0])
			}
		})
	}
}

func TestIssueString(t *testing.T) {
	is := Issue{Path: "versions[2].rules.logistics.stall_after", Message: "bad duration"}
	if is.String() != "versions[2].rules.logistics.stall_after: bad duration" {
		t.Error(is.String())
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunCheck(t *testing.T) {
	good := writeTemp(t, "good.yaml", validFile)
	broken := writeTemp(t, "broken.yaml", strings.Replace(strings.Replace(validFile,
		"stall_after: 72h,", "stall_after: 3 days,", 1),
		"[return_refund, exchange]", "[return_refund, haircut]", 1))
	var out, errb bytes.Buffer
	if code := RunCheck([]string{good, broken}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	got := out.String()
	for _, want := range []string{
		good + ": ok (3 versions)\n",
		broken + `: versions[1].rules.logistics.stall_after: bad duration "3 days"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// Type errors stop before resolution, so the card type is reported once
	// the duration is fixed.
	broken2 := writeTemp(t, "broken2.yaml", strings.Replace(validFile, "[return_refund, exchange]", "[return_refund, haircut]", 1))
	out.Reset()
	if code := RunCheck([]string{broken2}, &out, &errb); code != 1 || !strings.Contains(out.String(), broken2+`: versions[2].rules.notify.card_types[1]: unknown task type "haircut"`) {
		t.Errorf("exit %d:\n%s", code, out.String())
	}

	// The embedded defaults, with no FILE and from disk.
	out.Reset()
	if code := RunCheck(nil, &out, &errb); code != 0 {
		t.Fatalf("defaults: exit %d\n%s", code, out.String())
	}
	if want := "defaults/taobao.yaml: ok (4 versions)\ndefaults/tmall.yaml: ok (5 versions)\ndefaults/taote.yaml: ok (4 versions)\n"; out.String() != want {
		t.Errorf("defaults output:\n%s", out.String())
	}
	src, _ := DefaultSource("tmall")
	out.Reset()
	if code := RunCheck([]string{writeTemp(t, "tmall.yaml", string(src))}, &out, &errb); code != 0 {
		t.Errorf("tmall.yaml from disk: exit %d\n%s", code, out.String())
	}

	// --patch checks a version against the defaults.
	patch := writeTemp(t, "ops.yaml", "platform: tmall\nversions:\n  - id: tmall/2022.12.15\n    effective_from: 2024-01-01T00:00:00+08:00\n    rules: {logistics: {stall_after: 10h}}\n")
	out.Reset()
	if code := RunCheck([]string{"--patch", patch}, &out, &errb); code != 1 || !strings.Contains(out.String(), patch+`: versions[0].id: duplicate id "tmall/2022.12.15": already loaded from defaults/tmall.yaml`) {
		t.Errorf("--patch duplicate: exit %d\n%s", code, out.String())
	}
	okPatch := writeTemp(t, "ops2.yaml", "platform: tmall\nversions:\n  - id: tmall/2024.1\n    effective_from: 2024-01-01T00:00:00+08:00\n    rules: {logistics: {stall_after: 10h}}\n")
	out.Reset()
	if code := RunCheck([]string{"--patch", okPatch}, &out, &errb); code != 0 || out.String() != okPatch+": ok (1 versions)\n" {
		t.Errorf("--patch ok: exit %d\n%s", code, out.String())
	}

	// Missing file, help, bad flag.
	out.Reset()
	if code := RunCheck([]string{filepath.Join(t.TempDir(), "none.yaml")}, &out, &errb); code != 1 || !strings.Contains(out.String(), "cannot read") {
		t.Errorf("missing file: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := RunCheck([]string{"-h"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "usage: aftersale policy check") {
		t.Errorf("-h: exit %d\n%s", code, out.String())
	}
	errb.Reset()
	if code := RunCheck([]string{"--nope"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "flag provided but not defined: -nope") {
		t.Errorf("bad flag: exit %d\n%s", code, errb.String())
	}
}

func TestRunShow(t *testing.T) {
	var out, errb bytes.Buffer
	code := RunShow([]string{"--platform", "tmall", "--at", "2023-08-01T10:00:00+08:00"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := out.String()
	for _, want := range []string{
		"# version:  tmall/2022.1+tmall/2022.12.15+tmall/2022.12.16+tmall/2023.7.4+tmall/2023.7.15\n",
		"#   - tmall/2022.12.15  from 2022-12-15T00:00:00+08:00  until (open-ended)\n",
		"#       R-LOG-1, R-LOG-3 (seed 001)",
		"platform: tmall\n",
		"  stall_after: 72h\n",
		"  stall_after_remote: 96h\n",
		"  points_per_case: 1\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}

	// Before 2022-12-15 (R-LOG-1): 48h.
	out.Reset()
	if code := RunShow([]string{"--platform=taobao", "--at=2022-12-14T23:59:59+08:00"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "# version:  taobao/2022.1\n") || !strings.Contains(out.String(), "  stall_after: 48h\n") {
		t.Errorf("exit %d:\n%s", code, out.String())
	}

	// --file and --patch: preview an operator's version.
	file := writeTemp(t, "t.yaml", validFile)
	patch := writeTemp(t, "p.yaml", "platform: taobao\nversions:\n  - id: taobao/2030\n    effective_from: 2030-01-01T00:00:00+08:00\n    rules: {logistics: {stall_after: 5h}}\n")
	out.Reset()
	if code := RunShow([]string{"--file", file, "--patch", patch, "--at", "2030-01-01T00:00:00+08:00"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "# version:  taobao/base+taobao/stall+taobao/cards+taobao/2030\n") || !strings.Contains(out.String(), "  stall_after: 5h\n") {
		t.Errorf("exit %d:\n%s%s", code, out.String(), errb.String())
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--at", "2023-01-01T00:00:00+08:00"}, "--platform is required"},
		{[]string{"--platform", "jd"}, `--platform "jd": want taobao, tmall or taote`},
		{[]string{"--platform", "tmall", "--at", "yesterday"}, `--at: bad time "yesterday"`},
		{[]string{"--platform", "tmall", "extra"}, `unexpected argument "extra"`},
		{[]string{"--platform", "tmall", "--file", file}, "is for platform taobao, not tmall"},
		{[]string{"--bogus"}, "flag provided but not defined"},
	} {
		errb.Reset()
		if code := RunShow(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errb.String(), c.want)
		}
	}
	errb.Reset()
	if code := RunShow([]string{"--platform", "tmall", "--at", "2021-01-01T00:00:00+08:00"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no tmall policy version is in force") {
		t.Errorf("before the first version: exit %d %q", code, errb.String())
	}
	out.Reset()
	if code := RunShow([]string{"-h"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "usage: aftersale policy show") {
		t.Errorf("-h: exit %d", code)
	}
}
