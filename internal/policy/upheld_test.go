package policy

import (
	"slices"
	"strings"
	"testing"
)

// R-SLA-3: the consequences of an upheld shipping complaint are policy data,
// checked like the rest: a rate of 0..10000 basis points, a cap not below the
// floor, a known rounding, points not negative and of a known kind. Zero
// compensation and zero points are allowed (the platform gives none).
func TestParseFileIssues_R_SLA_3_ShippingUpheld(t *testing.T) {
	const p = "versions[0].rules.complaints.shipping_upheld."
	for _, c := range []struct {
		name, old, new, path string
	}{
		{"rate above 100%", "            rate_bp: 500\n", "            rate_bp: 10001\n", p + "compensation.rate_bp"},
		{"negative rate", "            rate_bp: 500\n", "            rate_bp: -1\n", p + "compensation.rate_bp"},
		{"cap below floor", "            max_fen: 3000\n", "            max_fen: 99\n", p + "compensation.max_fen"},
		{"negative floor", "            min_fen: 100\n", "            min_fen: -1\n", p + "compensation.min_fen"},
		{"unknown rounding", "            rounding: half_up\n", "            rounding: bankers\n", p + "compensation.rounding"},
		{"negative points", "          points: 1\n", "          points: -1\n", p + "points"},
		{"unknown kind", "          points_kind: general\n", "          points_kind: minor\n", p + "points_kind"},
		{"none at all", "            rate_bp: 500\n            min_fen: 100\n            max_fen: 3000\n", "            rate_bp: 0\n            min_fen: 0\n            max_fen: 0\n", ""},
		{"no points", "          points: 1\n", "          points: 0\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if strings.Count(validFile, c.old) != 1 {
				t.Fatalf("edit %q does not apply once", c.old)
			}
			_, issues := ParseFile("t.yaml", []byte(strings.Replace(validFile, c.old, c.new, 1)))
			var paths []string
			for _, is := range issues {
				paths = append(paths, is.Path)
			}
			want := []string{}
			if c.path != "" {
				want = []string{c.path}
			}
			if !slices.Equal(append([]string{}, paths...), want) {
				t.Fatalf("issues %v, want paths %q", issues, want)
			}
		})
	}
}
