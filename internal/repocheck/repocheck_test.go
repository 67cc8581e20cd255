package repocheck

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// repo returns the repository root and its files.
func repo(t *testing.T) (string, []string) {
	t.Helper()
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(files, "go.mod") || !slices.Contains(files, RulesDoc) {
		t.Fatalf("the file list of %s lacks go.mod or %s (%d files)", root, RulesDoc, len(files))
	}
	return root, files
}

func report(t *testing.T, fs []Finding, what string) {
	t.Helper()
	for _, f := range fs {
		t.Errorf("%s", f)
	}
	if len(fs) > 0 {
		t.Logf("%d %s", len(fs), what)
	}
}

// No file points outside the repository: a clone has nothing there.
func TestNoPathLeavesTheRepository(t *testing.T) {
	root, files := repo(t)
	fs, err := Paths(root, files)
	if err != nil {
		t.Fatal(err)
	}
	report(t, fs, "references outside the repository (the rules are in docs/rules.md; link relative to the file's folder)")
}

// Every rule id cited anywhere (tests, code, policy, examples, docs) is
// defined in docs/rules.md.
func TestCitedRulesAreDefined(t *testing.T) {
	root, files := repo(t)
	ids, fs, err := Rules(root)
	if err != nil {
		t.Fatal(err)
	}
	cites, err := Citations(root, files)
	if err != nil {
		t.Fatal(err)
	}
	report(t, append(fs, Unknown(ids, cites)...), "citations of rules docs/rules.md does not define")
}

// Every rule is covered by a test that cites its id.
func TestEveryRuleIsCitedByATest(t *testing.T) {
	root, files := repo(t)
	ids, _, err := Rules(root)
	if err != nil {
		t.Fatal(err)
	}
	cites, err := Citations(root, files)
	if err != nil {
		t.Fatal(err)
	}
	if missing := Uncited(ids, cites); len(missing) > 0 {
		t.Errorf("no *_test.go cites %s", strings.Join(missing, ", "))
	}
}

// The checks catch what they are for, on a small tree of planted cases.
func TestChecksCatchPlantedCases(t *testing.T) {
	// Built from pieces so that this file does not trip the checks itself.
	up, shared, home, r := "../", "shared", "/"+"home/", "R"+"-"
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module x\n")
	write(RulesDoc, "# Rules\n\n### R-URG-1\n\n### R-URG-2\n\n### R-LIA-1\n")
	write("README.md", strings.Join([]string{
		"[rules](docs/rules.md) and [policy](docs/rules.md#r-urg-1) and [web](https://example.com/" + "home/x)", // fine
		"[spec](" + up + shared + "/spec/" + "RULES.md)",                                                        // 2: the shared folder, and a link above the root
		"see " + shared + "/seeds/000.txt",                                                                      // 3: the shared folder, without ../
		"[up](docs/" + up + up + "elsewhere.md)",                                                                // 4: resolves above the root
		"[gone](docs/missing.md)",                                                                               // 5: no such file
		`<img src="docs/nothing.png">`,                                                                          // 6: no such file
		"logs go to " + home + "me/aftersale.log",                                                               // 7: a machine's path
		"unit file at " + home + "svc <!-- " + allowPath + " -->",                                               // allowed
		"as DESIGN" + ".md says",                                                                                // 9: a file of the shared folder
	}, "\n"))
	write("docs/guide.md", "[readme]("+up+"README.md) [api](/docs) [anchor](#top)\n") // fine
	write("internal/a/a_test.go", strings.Join([]string{
		"// R-URG-1, R-URG-2 and R-LIA-*",
		"// " + r + "URG-3 is a typo",     // 2
		"// " + r + "URG-1..4",            // 3: URG-3 and URG-4 are not rules
		"// " + r + "XYZ-* has no family", // 4
		`// fixture "` + r + ReservedFamily + `-1"`,
	}, "\n"))
	write("examples/e.yaml", "# "+r+"QA-9\n")
	write("node_modules/p/README.md", "[x]("+up+up+up+"y)\n") // skipped by Walk

	files, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(files, "node_modules/p/README.md") {
		t.Errorf("Walk lists node_modules: %v", files)
	}
	if r, err := Root(filepath.Join(root, "internal", "a")); err != nil || r != root {
		t.Errorf("Root from a subfolder = %q, %v; want %q", r, err, root)
	}

	paths, err := Paths(root, files)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range paths {
		got = append(got, f.File+":"+strconv.Itoa(f.Line))
	}
	want := []string{"README.md:2", "README.md:2", "README.md:3", "README.md:4", "README.md:5", "README.md:6", "README.md:7", "README.md:9"}
	if !slices.Equal(got, want) {
		t.Errorf("path findings at %v, want %v:\n%v", got, want, paths)
	}

	ids, dup, err := Rules(root)
	if err != nil || len(dup) > 0 || len(ids) != 3 {
		t.Fatalf("Rules = %v, %v, %v", ids, dup, err)
	}
	cites, err := Citations(root, files)
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, f := range Unknown(ids, cites) {
		got = append(got, f.File+":"+strconv.Itoa(f.Line)+" "+f.Msg)
	}
	want = []string{
		"internal/a/a_test.go:2 " + r + "URG-3: " + r + "URG-3 is not a rule of docs/rules.md",
		"internal/a/a_test.go:3 " + r + "URG-1..4: " + r + "URG-3 is not a rule of docs/rules.md",
		"internal/a/a_test.go:3 " + r + "URG-1..4: " + r + "URG-4 is not a rule of docs/rules.md",
		"internal/a/a_test.go:4 " + r + "XYZ-*: no rule of family " + r + "XYZ-* in docs/rules.md",
		"examples/e.yaml:1 " + r + "QA-9: " + r + "QA-9 is not a rule of docs/rules.md",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("unknown ids:\n got %q\nwant %q", got, want)
	}
	if u := Uncited(ids, cites); !slices.Equal(u, []string{"R-LIA-1"}) {
		t.Errorf("Uncited = %v, want [R-LIA-1] (a family does not cite its rules)", u)
	}

	write(RulesDoc, "### R-URG-1\n### R-URG-1\n")
	if _, dup, _ := Rules(root); len(dup) != 1 || dup[0].Line != 2 {
		t.Errorf("a rule defined twice: %v", dup)
	}
}
