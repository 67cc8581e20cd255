package policy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
)

// Issue 12, finding 8: the upload quotas are in the evidence section of
// every default (20 files and 50 MiB per task and side, 200 MiB per person
// and business day), and a bad quota is reported by its path.
func TestEvidence_UploadQuotas(t *testing.T) {
	for _, p := range []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote} {
		reg, err := Default()
		if err != nil {
			t.Fatal(err)
		}
		r, err := reg.At(p, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if e := r.Evidence; e.TaskMaxFiles != 20 || e.TaskMaxBytes != 50<<20 || e.PersonDailyMaxBytes != 200<<20 {
			t.Errorf("%s: quotas %d files, %d bytes per task, %d bytes a day", p, e.TaskMaxFiles, e.TaskMaxBytes, e.PersonDailyMaxBytes)
		}
	}
	src, err := DefaultSource(commerce.Taobao)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ old, new, path, msg string }{
		{"task_max_files: 20", "task_max_files: -1", "versions[0].rules.evidence.task_max_files", "must not be negative"},
		{"task_max_bytes: 52428800", "task_max_bytes: -5", "versions[0].rules.evidence.task_max_bytes", "must not be negative"},
		{"task_max_bytes: 52428800", "task_max_bytes: 1000", "versions[0].rules.evidence.task_max_bytes", "at least attachment_max_bytes"},
		{"person_daily_max_bytes: 209715200", "person_daily_max_bytes: 1", "versions[0].rules.evidence.person_daily_max_bytes", "at least attachment_max_bytes"},
	} {
		if strings.Count(string(src), c.old) != 1 {
			t.Fatalf("edit %q does not apply once", c.old)
		}
		_, issues := ParseFile("taobao.yaml", []byte(strings.Replace(string(src), c.old, c.new, 1)))
		var paths []string
		for _, is := range issues {
			paths = append(paths, is.Path)
			if is.Path == c.path && !strings.Contains(is.Message, c.msg) {
				t.Errorf("%s: %q, want it to contain %q", c.path, is.Message, c.msg)
			}
		}
		if !slices.Contains(paths, c.path) {
			t.Errorf("%s: paths %q, want %q", c.new, paths, c.path)
		}
	}
}
