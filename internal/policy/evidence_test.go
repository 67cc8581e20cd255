package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
)

// R-EVD-1, R-EVD-5: on every platform the evidence requirement starts at
// 2022-12-27 00:00 Asia/Shanghai: a reason requiring evidence does so from
// that instant, not one second before; a reason that does not never does.
func TestEvidence_R_EVD_1_StartsAt20221227(t *testing.T) {
	reg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	start := time.Date(2022, 12, 27, 0, 0, 0, 0, sh)
	for _, p := range []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote} {
		for _, at := range []time.Time{start.Add(-time.Second), start, start.AddDate(1, 0, 0)} {
			r, err := reg.At(p, at)
			if err != nil {
				t.Fatal(err)
			}
			want := !at.Before(start)
			for _, reason := range []string{"not_received", "quality_issue", "not_as_described", "damaged_in_transit", "missing_parts", "seven_day_no_reason"} {
				if got := r.Evidence.RequiresEvidence(reason, at); got != want {
					t.Errorf("%s %s at %s: requires %v, want %v", p, reason, at.Format(time.RFC3339), got, want)
				}
				row, _ := r.Evidence.Reason(reason)
				if len(row.Examples) == 0 || row.Name.ZH == "" || row.Name.EN == "" {
					t.Errorf("%s %s: row %+v lacks names or examples", p, reason, row)
				}
			}
			if r.Evidence.RequiresEvidence("changed_mind", at) {
				t.Errorf("%s: changed_mind requires evidence at %s", p, at)
			}
			if r.Evidence.SecondRoundDeadline.D() != 72*time.Hour || r.Evidence.AttachmentMaxBytes != 5<<20 {
				t.Errorf("%s: second round %s, max %d", p, r.Evidence.SecondRoundDeadline, r.Evidence.AttachmentMaxBytes)
			}
		}
	}
}

// R-EVD-5: a bad row of the scenario table is reported by its path.
func TestEvidence_R_EVD_5_BadRowsReportedByPath(t *testing.T) {
	src, err := DefaultSource(commerce.Taobao)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ old, new, path, msg string }{
		{"            name: {zh-CN: 未收到货, en: Not received}\n", "            name: {zh-CN: 未收到货, en: \"\"}\n",
			"versions[0].rules.evidence.reasons.not_received.name.en", "must not be empty"},
		{"          changed_mind:\n            name: {zh-CN: 不想要了/拍错了, en: Changed mind or ordered by mistake}\n            required_on_refusal: false\n",
			"          changed_mind:\n            name: {zh-CN: 不想要了/拍错了, en: Changed mind or ordered by mistake}\n            required_on_refusal: true\n",
			"versions[0].rules.evidence.reasons.changed_mind.examples", "needs at least one example"},
		{"second_round_deadline: 72h", "second_round_deadline: 0h", "versions[0].rules.evidence.second_round_deadline", "must be more than 0"},
		{"attachment_types: [image/png,", "attachment_types: [text/html,", "versions[0].rules.evidence.attachment_types[0]", `unknown content type "text/html"`},
		{"          wrong_item:\n", "          Wrong-Item:\n", "versions[0].rules.evidence.reasons.Wrong-Item", "lower-case letters"},
		{"            required_on_refusal: true\n            examples:\n              - {zh-CN: 物流签收凭证",
			"            required_on_refusal: yes please\n            examples:\n              - {zh-CN: 物流签收凭证",
			"versions[0].rules.evidence.reasons.not_received.required_on_refusal", "want true or false"},
	}
	for _, c := range cases {
		if strings.Count(string(src), c.old) != 1 {
			t.Fatalf("edit %q does not apply once", c.old)
		}
		mod := strings.Replace(string(src), c.old, c.new, 1)
		_, issues := ParseFile("taobao.yaml", []byte(mod))
		var paths []string
		for _, is := range issues {
			paths = append(paths, is.Path)
		}
		if !slices.Contains(paths, c.path) {
			t.Fatalf("%s: paths %q, want %q", c.new, paths, c.path)
		}
		for _, is := range issues {
			if is.Path == c.path && !strings.Contains(is.Message, c.msg) {
				t.Errorf("%s: %q, want it to contain %q", c.path, is.Message, c.msg)
			}
		}
		// and `aftersale policy check FILE` says so, exiting 1
		f := filepath.Join(t.TempDir(), "taobao.yaml")
		if err := os.WriteFile(f, []byte(mod), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := RunCheck([]string{f}, &out, &errOut); code != 1 || !strings.Contains(out.String()+errOut.String(), c.path) {
			t.Fatalf("policy check: code %d, output %s%s; want 1 naming %s", code, out.String(), errOut.String(), c.path)
		}
	}
}

// R-EVD-5: policy show prints the table.
func TestEvidence_R_EVD_5_Shown(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := RunShow([]string{"--platform", "tmall", "--at", "2023-01-01T00:00:00+08:00"}, &out, &errOut); code != 0 {
		t.Fatalf("show: %d %s", code, errOut.String())
	}
	for _, want := range []string{"evidence:", "required_from: 2022-12-27T00:00:00+08:00", "not_received:", "zh-CN: 未收到货", "second_round_deadline: 72h"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show lacks %q", want)
		}
	}
}
