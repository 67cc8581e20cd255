package policy

import (
	"slices"
	"strings"
	"testing"
)

// R-PRM-3, R-PRM-4, R-COL-3, R-QA-2: the return postage's default bearer,
// the damage remedy's deadlines, the collaborative reply's contact channels
// and minimum attempts and an answer's pictures are policy data, checked: a
// known bearer, deadlines of more than 0, at least one channel, at least 1
// attempt, a picture count not negative (0: none), a size above 0, a type.
func TestParseFileIssues_R_PRM_3_4_R_COL_3(t *testing.T) {
	for _, c := range []struct {
		name, old, new, path string
	}{
		{"unknown bearer", "default_bearer: buyer", "default_bearer: courier", "versions[0].rules.promises.return_postage.default_bearer"},
		{"shop bears", "default_bearer: buyer", "default_bearer: shop", ""},
		{"no time to choose", "choose_within: 48h", "choose_within: 0s", "versions[0].rules.promises.damage_remedy.choose_within"},
		{"no time to resend", "resend_within: 48h", "resend_within: 0s", "versions[0].rules.promises.damage_remedy.resend_within"},
		{"one second to resend", "resend_within: 48h", "resend_within: 1s", ""},
		{"no channels", "contact_channels: [wangwang, phone, sms, other]", "contact_channels: []", "versions[0].rules.collaborative.contact_channels"},
		{"zero attempts", "unreachable_min_attempts: 2", "unreachable_min_attempts: 0", "versions[0].rules.collaborative.unreachable_min_attempts"},
		{"one attempt", "unreachable_min_attempts: 2", "unreachable_min_attempts: 1", ""},
		// R-QA-2: an answer's pictures.
		{"negative picture count", "max_count: 9,", "max_count: -1,", "versions[0].rules.qa.answer_pictures.max_count"},
		{"no pictures allowed", "max_count: 9,", "max_count: 0,", ""},
		{"zero picture bytes", "max_bytes: 5242880, types", "max_bytes: 0, types", "versions[0].rules.qa.answer_pictures.max_bytes"},
		{"no picture types", "types: [image/png, image/jpeg]}", "types: []}", "versions[0].rules.qa.answer_pictures.types"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if strings.Count(validFile, c.old) != 1 {
				t.Fatalf("edit %q does not apply once", c.old)
			}
			_, issues := ParseFile("t.yaml", []byte(strings.Replace(validFile, c.old, c.new, 1)))
			paths := []string{}
			for _, is := range issues {
				paths = append(paths, is.Path)
			}
			want := []string{}
			if c.path != "" {
				want = []string{c.path}
			}
			if !slices.Equal(paths, want) {
				t.Fatalf("issues %v, want paths %q", issues, want)
			}
		})
	}
}
