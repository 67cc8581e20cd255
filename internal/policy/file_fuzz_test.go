package policy_test

// Fuzz target for policy files, what `aftersale policy check` and an
// operator's load of a new version read:
//
//	go test ./internal/policy -run '^$' -fuzz '^FuzzPolicyFile$' -fuzztime 10m
//
// The seeds are the embedded defaults (one file per platform, without their
// comment lines: a smaller input is mutated and minimized faster), a patch
// adding a version, and testdata/fuzz/FuzzPolicyFile; `go test ./...` runs
// them as a plain test.

import (
	"errors"
	"strings"
	"testing"

	"aftersale/internal/commerce"
	"aftersale/internal/policy"
)

// policyPatchSeed is a patch as an operator loads it: a version that starts later.
const policyPatchSeed = `platform: tmall
versions:
  - id: tmall/2031.1
    effective_from: 2031-01-01T00:00:00+08:00
    effective_until: 2031-06-01T00:00:00+08:00
    comment: a longer stall threshold for a trial
    rules:
      logistics: {stall_after: 96h}
      notify: {reminder_daily_cap: 12}
`

// FuzzPolicyFile reads the input as a complete policy file and as a patch,
// checking:
//
//   - reading never panics;
//   - every issue has a message, and names its path unless the document
//     as a whole is unreadable (YAML syntax, empty, not a mapping), whose
//     issue is then the only one (an empty key, as in `"": 1`, is named
//     `""`);
//   - a complete file without issues is for a known platform, builds a
//     registry, and every version's start has rules in force there;
//   - a patch without issues is added to the defaults or refused with an
//     *policy.IssueError whose issues each name the file and a path, and a
//     refused patch leaves the registry as it was.
func FuzzPolicyFile(f *testing.F) {
	for _, p := range []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote} {
		src, err := policy.DefaultSource(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(withoutComments(src))
	}
	f.Add([]byte(policyPatchSeed))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, issues := policy.ParseFile("fuzz.yaml", data)
		checkIssues(t, "complete", file, issues)
		if issues == nil {
			if file == nil || !file.Platform.Valid() || len(file.Versions) == 0 {
				t.Fatalf("accepted a file without platform or versions: %+v", file)
			}
			reg, err := policy.NewRegistry(file)
			if err != nil {
				t.Fatalf("an accepted file does not build a registry: %v", err)
			}
			for i, v := range file.Versions {
				if _, err := reg.At(file.Platform, v.From); err != nil {
					t.Fatalf("versions[%d] (%s) starts at %s but no rules are in force there: %v", i, v.ID, v.From, err)
				}
			}
		}

		patch, issues := policy.ParsePatch("fuzz.yaml", data)
		checkIssues(t, "patch", patch, issues)
		if issues != nil {
			return
		}
		reg, err := policy.Default()
		if err != nil {
			t.Fatal(err)
		}
		before := len(reg.Versions(patch.Platform))
		err = reg.Add(patch)
		if err == nil {
			if got := len(reg.Versions(patch.Platform)); got != before+len(patch.Versions) {
				t.Fatalf("added %d versions to %d, registry has %d", len(patch.Versions), before, got)
			}
			return
		}
		var ie *policy.IssueError
		if !errors.As(err, &ie) || len(ie.Issues) == 0 {
			t.Fatalf("Add refused a patch with %T %v, want an *policy.IssueError with issues", err, err)
		}
		for _, is := range ie.Issues {
			if is.File == "" || is.Path == "" || is.Message == "" {
				t.Fatalf("Add issue %+v: want the file, a path and a message", is)
			}
		}
		if got := len(reg.Versions(patch.Platform)); got != before {
			t.Fatalf("a refused patch changed the registry: %d versions, had %d", got, before)
		}
	})
}

// checkIssues checks the issues of one reading of a file.
func checkIssues(t *testing.T, how string, f *policy.File, issues []policy.Issue) {
	t.Helper()
	if issues != nil && len(issues) == 0 {
		t.Fatalf("%s: an empty, non-nil issue list", how)
	}
	for _, is := range issues {
		if strings.TrimSpace(is.Message) == "" {
			t.Fatalf("%s: issue without a message: %+v", how, is)
		}
		if is.Path == "" && len(issues) > 1 {
			t.Fatalf("%s: issue without a path among %d: %+v (all: %+v)", how, len(issues), is, issues)
		}
		if is.Path == "" && f != nil && (f.Platform != "" || len(f.Versions) > 0) {
			t.Fatalf("%s: issue without a path in a readable file: %+v", how, is)
		}
	}
}

// withoutComments drops the lines of src that hold only a comment.
func withoutComments(src []byte) []byte {
	var b strings.Builder
	for line := range strings.Lines(string(src)) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
		}
	}
	return []byte(b.String())
}
