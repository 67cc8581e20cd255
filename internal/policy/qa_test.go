package policy

import (
	"slices"
	"strings"
	"testing"
)

// The qa section (R-QA-1..4) is checked like every other: bad values and
// regular expressions, examples a pattern or word list does not judge
// invalid, and reason ids used twice are issues with their path.
func TestParseFileIssues_QA(t *testing.T) {
	cases := []struct {
		name     string
		old, new string
		path     string
		msg      string
	}{
		{"R-QA-3 suggest_after zero", "suggest_after: 1d", "suggest_after: 0s", "versions[0].rules.qa.suggest_after", "must be more than 0"},
		{"R-QA-2 negative count", "count: 3, lookback", "count: -1, lookback", "versions[0].rules.qa.invite.count", "must not be negative"},
		{"R-QA-2 unknown pick", "pick: most_recent", "pick: random", "versions[0].rules.qa.invite.pick", `must be one of most_recent, earliest, got "random"`},
		{"R-QA-4 min_length zero", "min_length: 5", "min_length: 0", "versions[0].rules.qa.validity.min_length", "must be at least 1"},
		{"R-QA-4 max below min", "max_length: 200", "max_length: 4", "versions[0].rules.qa.validity.max_length", "must be at least min_length (5)"},
		{"R-QA-4 bad regexp", "pattern: '1[3-9][0-9]{9}'", "pattern: '1[3-9'", "versions[0].rules.qa.validity.patterns[0].pattern", "missing closing ]"},
		{"R-QA-4 example the pattern misses", "examples: [电话13812345678]", "examples: [电话12812345678]", "versions[0].rules.qa.validity.patterns[0].examples[0]", "does not match its example"},
		{"R-QA-4 example the words miss", "examples: [找代购]", "examples: [找代理]", "versions[0].rules.qa.validity.words[0].examples[0]", "no word of the list occurs"},
		{"R-QA-4 reason id twice", "{id: ads,", "{id: phone,", "versions[0].rules.qa.validity.words[0].id", `"phone" is used twice`},
		{"R-QA-4 reason without en", "reason: {zh: 广告, en: ads}", "reason: {zh: 广告}", "versions[0].rules.qa.validity.words[0].reason.en", "missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(validFile, c.old) {
				t.Fatalf("edit %q does not apply", c.old)
			}
			_, issues := ParseFile("t.yaml", []byte(strings.Replace(validFile, c.old, c.new, 1)))
			var paths []string
			for _, is := range issues {
				paths = append(paths, is.Path)
			}
			if !slices.Equal(paths, []string{c.path}) {
				t.Fatalf("paths %q, want %q\nissues: %v", paths, c.path, issues)
			}
			if !strings.Contains(issues[0].Message, c.msg) {
				t.Errorf("message %q, want it to contain %q", issues[0].Message, c.msg)
			}
		})
	}
	if _, issues := ParseFile("t.yaml", []byte(validFile)); len(issues) != 0 {
		t.Fatalf("valid file: %v", issues)
	}
}
