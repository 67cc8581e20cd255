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
        modes_by_shop_kind: {individual: [tax_office_proxy], company: [upload, automatic]}
        after_final_issue_within: 24h
      notify: {reminder_daily_cap: 10, reminder_on_create: true, card_types: []}
      messages: {agent_message_types: []}
      collaborative: {channels: [card, sms], contact_channels: [wangwang, phone, sms, other], unreachable_min_attempts: 2}
      complaints:
        shipping_standard: A
        invoice_standard: B
        shipping_upheld:
          compensation:
            rate_bp: 500
            min_fen: 100
            max_fen: 3000
            rounding: half_up
          deposit_first: true
          points: 1
          points_kind: general
      points: {forged_evidence_general: 12, forged_evidence_serious: 48}
      promises:
        time: {rate_bp: 500, min_fen: 100, max_fen: 3000, rounding: half_up}
        claims:
          quality: {from: received, length: 0s, per_promise: false, end_event: receipt_confirmed, deposit_first: false}
          return: {from: received, length: 7d, per_promise: true, end_event: none, deposit_first: false}
          damage_resend: {from: received, length: 7d, per_promise: true, end_event: none, deposit_first: false}
          designated_courier: {from: closed, length: 15d, per_promise: false, end_event: none, deposit_first: true}
          arrival: {from: closed, length: 15d, per_promise: false, end_event: none, deposit_first: true}
        return_postage: {default_bearer: buyer}
        damage_remedy: {choose_within: 48h, resend_within: 48h}
      liability:
        takeover: true
        window: 30d
        multiplier: 5
        average_source: configured
        industry_averages:
          default: {rate: "0.5%", count: 2}
          apparel: {rate: 0.004, count: "1.5"}
      gold:
        criteria:
          - id: invoice_disputes
            shown_from: 2022-12-01T00:00:00+08:00
            assessed_from: 2022-12-16T00:00:00+08:00
            max_count: 0
      scorecard: {window: 30d, dispute_metric: dispute_refund_rate}
      qa:
        suggest_after: 1d
        invite: {count: 3, lookback: 90d, pick: most_recent}
        answer_pictures: {max_count: 9, max_bytes: 5242880, types: [image/png, image/jpeg]}
        validity:
          min_length: 5
          max_length: 200
          patterns: [{id: phone, reason: {zh: 手机号, en: phone}, pattern: '1[3-9][0-9]{9}', examples: [电话13812345678]}]
          words: [{id: ads, reason: {zh: 广告, en: ads}, words: [代购], examples: [找代购]}]
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
		// The judgment sections: points (R-COL-6), promises (R-PRM-*),
		// liability (R-LIA-*), gold (R-GLD-*).
		{"R-COL-6 forged evidence points not positive",
			[]edit{{"forged_evidence_general: 12,", "forged_evidence_general: 0,"}},
			[]string{"versions[0].rules.points.forged_evidence_general"}, "must be more than 0, got 0"},
		{"R-COL-6 points not a number",
			[]edit{{"forged_evidence_serious: 48}", "forged_evidence_serious: 4.8}"}},
			[]string{"versions[0].rules.points.forged_evidence_serious"}, "want a whole number, got the number 4.8"},
		{"R-PRM-1 rate out of range",
			[]edit{{"rate_bp: 500,", "rate_bp: 10001,"}},
			[]string{"versions[0].rules.promises.time.rate_bp"}, "must be from 1 to 10000 basis points"},
		{"R-PRM-1 zero rate",
			[]edit{{"rate_bp: 500,", "rate_bp: 0,"}},
			[]string{"versions[0].rules.promises.time.rate_bp"}, "got 0"},
		{"R-PRM-1 max below min",
			[]edit{{"max_fen: 3000,", "max_fen: 50,"}},
			[]string{"versions[0].rules.promises.time.max_fen"}, "50 is less than min_fen 100"},
		{"R-PRM-1 negative min",
			[]edit{{"min_fen: 100,", "min_fen: -1,"}},
			[]string{"versions[0].rules.promises.time.min_fen"}, "must not be negative"},
		{"R-PRM-1 unknown rounding",
			[]edit{{"rounding: half_up}", "rounding: bankers}"}},
			[]string{"versions[0].rules.promises.time.rounding"}, `must be one of half_up, down, up, got "bankers"`},
		{"R-PRM-1 rounding missing",
			[]edit{{", rounding: half_up}", "}"}},
			[]string{"versions[0].rules.promises.time.rounding"}, "missing: the first version must set every rule"},
		{"R-PRM claim kind missing",
			[]edit{{"          arrival: {from: closed, length: 15d, per_promise: false, end_event: none, deposit_first: true}\n", ""}},
			[]string{"versions[0].rules.promises.claims.arrival"}, "missing: the first version must set every rule"},
		{"R-PRM unknown claim kind",
			[]edit{{"          arrival: {", "          arival: {"}},
			[]string{"versions[0].rules.promises.claims.arival"}, "unknown key (want one of: quality, return, damage_resend, designated_courier, arrival)"},
		{"R-PRM-3 unknown anchor",
			[]edit{{"return: {from: received,", "return: {from: shipped,"}},
			[]string{"versions[0].rules.promises.claims.return.from"}, `must be one of received, closed, got "shipped"`},
		{"R-PRM-2 unknown end event",
			[]edit{{"end_event: receipt_confirmed", "end_event: confirmed"}},
			[]string{"versions[0].rules.promises.claims.quality.end_event"}, `must be one of none, receipt_confirmed, got "confirmed"`},
		{"R-PRM-4 per-promise window without a default",
			[]edit{{"damage_resend: {from: received, length: 7d,", "damage_resend: {from: received, length: 0s,"}},
			[]string{"versions[0].rules.promises.claims.damage_resend.length"}, "it is the default for promises that state no period"},
		{"R-PRM-5 window that never ends",
			[]edit{{"designated_courier: {from: closed, length: 15d,", "designated_courier: {from: closed, length: 0s,"}},
			[]string{"versions[0].rules.promises.claims.designated_courier.length"}, "must be more than 0 when end_event is none"},
		{"R-PRM-6 bad length",
			[]edit{{"arrival: {from: closed, length: 15d,", "arrival: {from: closed, length: half a month,"}},
			[]string{"versions[0].rules.promises.claims.arrival.length"}, `bad duration "half a month"`},
		{"R-PRM-6 negative length",
			[]edit{{"arrival: {from: closed, length: 15d,", "arrival: {from: closed, length: -15d,"}},
			[]string{"versions[0].rules.promises.claims.arrival.length"}, "must not be negative"},
		{"R-PRM-5 deposit_first not a boolean",
			[]edit{{"end_event: none, deposit_first: true}\n          arrival", "end_event: none, deposit_first: yes please}\n          arrival"}},
			[]string{"versions[0].rules.promises.claims.designated_courier.deposit_first"}, "want true or false"},
		{"R-LIA-1 window not whole days",
			[]edit{{"        window: 30d\n", "        window: 36h\n"}},
			[]string{"versions[0].rules.liability.window"}, "must be whole days"},
		{"R-LIA-1 zero window",
			[]edit{{"        window: 30d\n", "        window: 0s\n"}},
			[]string{"versions[0].rules.liability.window"}, "must be more than 0"},
		{"R-LIA-2 zero multiplier",
			[]edit{{"        multiplier: 5\n", "        multiplier: 0\n"}},
			[]string{"versions[0].rules.liability.multiplier"}, "must be more than 0, got 0"},
		{"R-LIA-2 multiplier not a number",
			[]edit{{"        multiplier: 5\n", "        multiplier: five\n"}},
			[]string{"versions[0].rules.liability.multiplier"}, `bad number "five"`},
		{"R-LIA-2 multiplier a list",
			[]edit{{"        multiplier: 5\n", "        multiplier: [5]\n"}},
			[]string{"versions[0].rules.liability.multiplier"}, "want a number such as 5, 0.005"},
		{"R-LIA-2 unknown average source",
			[]edit{{"average_source: configured", "average_source: guessed"}},
			[]string{"versions[0].rules.liability.average_source"}, `must be one of configured, computed, got "guessed"`},
		{"R-LIA-2 configured averages without a default",
			[]edit{{"          default: {rate: \"0.5%\", count: 2}\n", ""}},
			[]string{"versions[0].rules.liability.industry_averages"}, `needs a "default" entry`},
		{"R-LIA-2 bad industry average",
			[]edit{{"apparel: {rate: 0.004, count: \"1.5\"}", "apparel: {rate: \"150%\", count: 0}"}},
			[]string{"versions[0].rules.liability.industry_averages.apparel.rate", "versions[0].rules.liability.industry_averages.apparel.count"}, "must be at most 1 (100%)"},
		{"R-LIA-2 industry average with an exponent",
			[]edit{{"apparel: {rate: 0.004,", "apparel: {rate: 4e-3x,"}},
			[]string{"versions[0].rules.liability.industry_averages.apparel.rate"}, `bad number "4e-3x"`},
		{"R-LIA-2 unknown key in an industry average",
			[]edit{{"apparel: {rate: 0.004,", "apparel: {rat: 0.004,"}},
			[]string{"versions[0].rules.liability.industry_averages.apparel.rat"}, "unknown key (want one of: rate, count)"},
		{"R-GLD-3 unknown criterion",
			[]edit{{"          - id: invoice_disputes\n", "          - id: refund_speed\n"}},
			[]string{"versions[0].rules.gold.criteria[0].id"}, `unknown criterion "refund_speed" (want one of: invoice_disputes)`},
		{"R-GLD-3 criterion listed twice",
			[]edit{{"            max_count: 0\n", "            max_count: 0\n          - {id: invoice_disputes, shown_from: 2023-01-01T00:00:00+08:00, assessed_from: 2023-01-16T00:00:00+08:00, max_count: 1}\n"}},
			[]string{"versions[0].rules.gold.criteria[1].id"}, `"invoice_disputes" is listed twice (also gold.criteria[0])`},
		{"R-GLD-2 shown_from not a period start",
			[]edit{{"shown_from: 2022-12-01T00:00:00+08:00", "shown_from: 2022-12-02T00:00:00+08:00"}},
			[]string{"versions[0].rules.gold.criteria[0].shown_from"}, "is not the start of a half-month period"},
		{"R-GLD-2 assessed_from at UTC midnight, not Beijing midnight",
			[]edit{{"assessed_from: 2022-12-16T00:00:00+08:00", "assessed_from: 2022-12-16T00:00:00Z"}},
			[]string{"versions[0].rules.gold.criteria[0].assessed_from"}, "is not the start of a half-month period (midnight on the 1st or the 16th, Asia/Shanghai)"},
		{"R-GLD-2 assessed before shown",
			[]edit{{"assessed_from: 2022-12-16T00:00:00+08:00", "assessed_from: 2022-12-01T00:00:00+08:00"}},
			[]string{"versions[0].rules.gold.criteria[0].assessed_from"}, "is not after shown_from"},
		{"R-COL-4 unknown dispute metric",
			[]edit{{"dispute_metric: dispute_refund_rate}", "dispute_metric: refund_rate}"}},
			[]string{"versions[0].rules.scorecard.dispute_metric"}, "must be one of dispute_refund_rate, platform_dispute_rate"},
		{"scorecard window in whole days",
			[]edit{{"scorecard: {window: 30d,", "scorecard: {window: 36h,"}},
			[]string{"versions[0].rules.scorecard.window"}, "must be whole days"},
		{"R-GLD-1 negative max_count",
			[]edit{{"            max_count: 0\n", "            max_count: -1\n"}},
			[]string{"versions[0].rules.gold.criteria[0].max_count"}, "must not be negative"},
		{"R-GLD-1 criterion field missing",
			[]edit{{"            max_count: 0\n", ""}},
			[]string{"versions[0].rules.gold.criteria[0].max_count"}, "missing: the first version must set every rule"},
		{"R-GLD bad time",
			[]edit{{"shown_from: 2022-12-01T00:00:00+08:00", "shown_from: December period 1"}},
			[]string{"versions[0].rules.gold.criteria[0].shown_from"}, `bad time "December period 1"`},
		{"new sections checked in patches too",
			[]edit{{"        card_types: [return_refund, exchange]\n", "        card_types: [return_refund, exchange]\n      liability: {multiplier: -5}\n"}},
			[]string{"versions[2].rules.liability.multiplier"}, "must be more than 0, got -5"},
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
