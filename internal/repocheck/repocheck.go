// Package repocheck checks the repository itself: that no file points outside
// it (a clone has nothing there) and that every rule id a file cites is one
// docs/rules.md defines. Its tests run the checks on the working tree, so
// `go test ./...` fails with file:line for each finding.
package repocheck

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// RulesDoc is where the rules are defined, relative to the repository root.
const RulesDoc = "docs/rules.md"

// Finding is one problem, at a file (slash-separated, relative to the root)
// and line (1-based).
type Finding struct {
	File string
	Line int
	Msg  string
}

func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Msg) }

// Root returns the repository root: the nearest directory at or above dir
// that holds go.mod.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repocheck: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// Files lists the repository's files, slash-separated and relative to root:
// what git tracks plus untracked files it does not ignore (so a new file is
// checked before it is committed). Without git (or outside a work tree) it
// walks the tree instead.
func Files(root string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		var files []string
		for name := range strings.SplitSeq(string(out), "\x00") {
			if name == "" {
				continue
			}
			// Deleted but not yet staged: nothing to read.
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(name))); err != nil {
				continue
			}
			files = append(files, name)
		}
		slices.Sort(files)
		return slices.Compact(files), nil
	}
	return Walk(root)
}

// skipDirs are not the project's sources: version control, installed
// packages, build and test outputs.
var skipDirs = map[string]bool{
	".git": true, "node_modules": true, "test-results": true, "playwright-report": true,
	"dist": true, "build": true, "bin": true, "vendor": true,
}

// Walk lists the files under root, skipping skipDirs.
func Walk(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	return files, err
}

// readText returns a file's lines, or ok=false for a binary file.
func readText(root, name string) (lines []string, ok bool, err error) {
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		return nil, false, err
	}
	if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
		return nil, false, nil
	}
	return strings.Split(string(data), "\n"), true, nil
}

var (
	// A path into the folder next to the repository, where the rules, the
	// seed articles and the design notes once were.
	outsideRef = regexp.MustCompile(`\.\./+shared\b|\bshared/+(?:spec|seeds)\b|\bDESIGN\.md\b`)
	// An absolute path on some machine: a home, a work area, a file URL.
	absPath = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.~/-])(/(?:work|home|root|Users|mnt)/)|file:/{2}`)
	// Markdown link targets: [text](target "title") and <img src="…">, <a href="…">.
	mdLink   = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)`)
	htmlLink = regexp.MustCompile(`\b(?:src|href)="([^"]+)"`)
	scheme   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
)

// allowPath on a line lets it name an absolute path (a deployment example).
const allowPath = "repocheck:allow-path"

// Paths reports every line of the files that points outside the repository:
// a reference to the shared folder next to the repository (its spec and
// seeds), an absolute filesystem path, a markdown link whose target resolves above the root, and
// a relative markdown link to a file that does not exist.
func Paths(root string, files []string) ([]Finding, error) {
	var out []Finding
	for _, name := range files {
		lines, ok, err := readText(root, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		md := strings.HasSuffix(name, ".md")
		for i, line := range lines {
			if strings.Contains(line, allowPath) {
				continue
			}
			at := func(msg string) { out = append(out, Finding{name, i + 1, msg}) }
			if m := outsideRef.FindString(line); m != "" {
				at(fmt.Sprintf("%q is outside the repository (the rules are in %s)", m, RulesDoc))
			}
			if m := absPath.FindStringSubmatch(line); m != nil {
				p := m[1]
				if p == "" {
					p = m[0]
				}
				at(fmt.Sprintf("%q is an absolute path on some machine, not in the repository", p))
			}
			if !md {
				continue
			}
			var targets []string
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				targets = append(targets, m[1])
			}
			for _, m := range htmlLink.FindAllStringSubmatch(line, -1) {
				targets = append(targets, m[1])
			}
			for _, t := range targets {
				if msg := checkLink(root, name, t); msg != "" {
					at(msg)
				}
			}
		}
	}
	return out, nil
}

// checkLink judges one markdown link target of the file name.
func checkLink(root, name, target string) string {
	if target == "" || strings.HasPrefix(target, "#") || scheme.MatchString(target) {
		return "" // an anchor on the page, or a URL (a file URL is caught as a path)
	}
	if strings.HasPrefix(target, "/") {
		return "" // a URL path of the service (/docs, /metrics); machine paths are caught as paths
	}
	t, _, _ := strings.Cut(target, "#")
	t, _, _ = strings.Cut(t, "?")
	if u, err := url.PathUnescape(t); err == nil {
		t = u
	}
	if t == "" {
		return ""
	}
	rel := path.Clean(path.Join(path.Dir(name), t))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Sprintf("link %q leaves the repository", target)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
		return fmt.Sprintf("link %q: no such file %s in the repository", target, rel)
	}
	return ""
}

var (
	// A rule's definition in docs/rules.md: its own heading.
	ruleDef = regexp.MustCompile(`^###\s+(R-[A-Z]{2,4}-[0-9]+)\s*$`)
	// A citation: R-URG-2, a range R-PRM-2..6, or a family R-LIA-*.
	ruleRef = regexp.MustCompile(`\bR-([A-Z]{2,4})-(\*|[0-9]+(?:\.\.[0-9]+)?)`)
)

// ReservedFamily is the family test fixtures may use: it names no rule.
const ReservedFamily = "TEST"

// Rules reads the rule ids docs/rules.md defines (each a "### R-XXX-N"
// heading) and reports repeated ones.
func Rules(root string) (map[string]bool, []Finding, error) {
	lines, _, err := readText(root, RulesDoc)
	if err != nil {
		return nil, nil, err
	}
	ids := map[string]bool{}
	var out []Finding
	for i, line := range lines {
		m := ruleDef.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if ids[m[1]] {
			out = append(out, Finding{RulesDoc, i + 1, m[1] + " is defined twice"})
		}
		ids[m[1]] = true
	}
	if len(ids) == 0 {
		out = append(out, Finding{RulesDoc, 1, "defines no rule (expected headings like \"### R-URG-1\")"})
	}
	return ids, out, nil
}

// Citation is one rule id a line cites (a range cites each id in it).
type Citation struct {
	Finding          // where; Msg holds the text as written
	IDs     []string // the ids cited; none for a family (R-LIA-*)
	Family  string   // URG in R-URG-2
}

// Citations lists the rule ids the files cite, except in docs/rules.md.
func Citations(root string, files []string) ([]Citation, error) {
	var out []Citation
	for _, name := range files {
		if name == RulesDoc {
			continue
		}
		lines, ok, err := readText(root, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		for i, line := range lines {
			for _, m := range ruleRef.FindAllStringSubmatch(line, -1) {
				c := Citation{Finding: Finding{name, i + 1, m[0]}, Family: m[1]}
				if m[2] != "*" {
					lo, hi, isRange := strings.Cut(m[2], "..")
					a, _ := strconv.Atoi(lo)
					b := a
					if isRange {
						b, _ = strconv.Atoi(hi)
					}
					if b < a || b-a > 50 {
						b = a
					}
					for n := a; n <= b; n++ {
						c.IDs = append(c.IDs, fmt.Sprintf("R-%s-%d", m[1], n))
					}
				}
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// Unknown reports the citations that name a rule (or a family) that ids
// lacks. The reserved family is skipped.
func Unknown(ids map[string]bool, cites []Citation) []Finding {
	families := map[string]bool{}
	for id := range ids {
		families[strings.Split(id, "-")[1]] = true
	}
	var out []Finding
	for _, c := range cites {
		if c.Family == ReservedFamily {
			continue
		}
		if len(c.IDs) == 0 && !families[c.Family] {
			out = append(out, Finding{c.File, c.Line, fmt.Sprintf("%s: no rule of family R-%s-* in %s", c.Msg, c.Family, RulesDoc)})
		}
		for _, id := range c.IDs {
			if !ids[id] {
				out = append(out, Finding{c.File, c.Line, fmt.Sprintf("%s: %s is not a rule of %s", c.Msg, id, RulesDoc)})
			}
		}
	}
	return out
}

// Uncited lists the rules no test file (*_test.go) cites, sorted.
func Uncited(ids map[string]bool, cites []Citation) []string {
	tested := map[string]bool{}
	for _, c := range cites {
		if strings.HasSuffix(c.File, "_test.go") {
			for _, id := range c.IDs {
				tested[id] = true
			}
		}
	}
	var out []string
	for id := range ids {
		if !tested[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
