package policy

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"aftersale/internal/commerce"
)

const checkUsage = `usage: aftersale policy check [--patch] [FILE...]

Checks policy files and prints every problem as "FILE: path: message".
Exits 1 if there is any, 0 (printing "FILE: ok (N versions)") otherwise.
With no FILE it checks the embedded defaults.

A FILE is a complete platform policy: its first version sets every rule,
later versions only the keys they change. With --patch each FILE instead
holds versions to add to the embedded default policy of its platform (as an
operator loads a new version), and is checked together with it.

  --patch   FILEs are versions to add to the embedded defaults
`

// RunCheck runs `aftersale policy check`; args exclude the command words.
// It returns the process exit code.
func RunCheck(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("aftersale policy check", flag.ContinueOnError)
	fl.SetOutput(stderr)
	patch := fl.Bool("patch", false, "each FILE holds versions to add to the embedded defaults")
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), checkUsage)
	}
	if code, done := parseFlags(fl, args, stdout); done {
		return code
	}

	type input struct {
		name string
		data []byte
	}
	var inputs []input
	if fl.NArg() == 0 {
		if *patch {
			fmt.Fprintln(stderr, "aftersale policy check: --patch needs at least one FILE")
			return 2
		}
		for _, p := range []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote} {
			data, err := DefaultSource(p)
			if err != nil {
				fmt.Fprintf(stderr, "aftersale policy check: %v\n", err)
				return 1
			}
			inputs = append(inputs, input{"defaults/" + string(p) + ".yaml", data})
		}
	}
	code := 0
	for _, name := range fl.Args() {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(stdout, "%s: cannot read: %v\n", name, errors.Unwrap(err))
			code = 1
			continue
		}
		inputs = append(inputs, input{name, data})
	}
	for _, in := range inputs {
		var f *File
		var issues []Issue
		if *patch {
			f, issues = ParsePatch(in.name, in.data)
		} else {
			f, issues = ParseFile(in.name, in.data)
		}
		for _, is := range issues {
			fmt.Fprintln(stdout, render(FileIssue{File: in.name, Issue: is}))
		}
		if len(issues) > 0 {
			code = 1
			continue
		}
		if *patch {
			reg, err := Default()
			if err == nil {
				err = reg.Add(f)
			}
			if err != nil {
				code = 1
				var ie *IssueError
				if errors.As(err, &ie) {
					for _, is := range ie.Issues {
						fmt.Fprintln(stdout, render(is))
					}
				} else {
					fmt.Fprintf(stdout, "%s: %v\n", in.name, err)
				}
				continue
			}
		}
		fmt.Fprintf(stdout, "%s: ok (%d versions)\n", in.name, len(f.Versions))
	}
	return code
}

// render prints an issue as "FILE: path: message", adding the line when known.
func render(fi FileIssue) string {
	s := fi.String()
	if fi.Line > 0 && !strings.HasPrefix(fi.Path, "line ") {
		s += fmt.Sprintf(" (line %d)", fi.Line)
	}
	return s
}

const showUsage = `usage: aftersale policy show --platform P [--at TIME] [--file FILE] [--patch FILE]...

Prints the rules in force for a platform at a time, as YAML, headed by the
version string and the layers applied (id, effective window, comment).

  --platform  taobao, tmall or taote (may be omitted with --file)
  --at        an RFC 3339 time such as 2023-08-01T10:00:00+08:00 (default: now)
  --file      a complete policy file to use instead of the embedded default
  --patch     a file of versions to add on top (repeatable): preview a new
              version before it starts
`

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// RunShow runs `aftersale policy show`; args exclude the command words. It
// returns the process exit code.
func RunShow(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("aftersale policy show", flag.ContinueOnError)
	fl.SetOutput(stderr)
	platform := fl.String("platform", "", "taobao, tmall or taote")
	atFlag := fl.String("at", "", "RFC 3339 time (default now)")
	file := fl.String("file", "", "complete policy file instead of the embedded default")
	var patches stringList
	fl.Var(&patches, "patch", "file of versions to add on top (repeatable)")
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), showUsage)
	}
	if code, done := parseFlags(fl, args, stdout); done {
		return code
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "aftersale policy show: "+format+"\n", args...)
		return 2
	}
	if fl.NArg() > 0 {
		return fail("unexpected argument %q (see -h)", fl.Arg(0))
	}
	p := commerce.Platform(*platform)
	if *platform != "" && !p.Valid() {
		return fail("--platform %q: want taobao, tmall or taote", *platform)
	}
	at := time.Now() // the CLI is the one place that reads the wall clock
	if *atFlag != "" {
		t, err := parseTime(*atFlag)
		if err != nil {
			return fail("--at: %v", err)
		}
		at = t
	}

	var reg *Registry
	if *file != "" {
		f, code := loadFile(*file, ParseFile, stdout, stderr)
		if f == nil {
			return code
		}
		if *platform == "" {
			p = f.Platform
		} else if f.Platform != p {
			return fail("--file %s is for platform %s, not %s", *file, f.Platform, p)
		}
		var err error
		if reg, err = NewRegistry(f); err != nil {
			fmt.Fprintf(stderr, "aftersale policy show: %v\n", err)
			return 1
		}
	} else {
		if *platform == "" {
			return fail("--platform is required (taobao, tmall or taote)")
		}
		var err error
		if reg, err = Default(); err != nil {
			fmt.Fprintf(stderr, "aftersale policy show: %v\n", err)
			return 1
		}
	}
	for _, name := range patches {
		f, code := loadFile(name, ParsePatch, stdout, stderr)
		if f == nil {
			return code
		}
		if f.Platform != p {
			return fail("--patch %s is for platform %s, not %s", name, f.Platform, p)
		}
		if err := reg.Add(f); err != nil {
			var ie *IssueError
			if errors.As(err, &ie) {
				for _, is := range ie.Issues {
					fmt.Fprintln(stderr, render(is))
				}
			} else {
				fmt.Fprintf(stderr, "aftersale policy show: %v\n", err)
			}
			return 1
		}
	}

	rs, err := reg.At(p, at)
	if err != nil {
		fmt.Fprintf(stderr, "aftersale policy show: %v\n", err)
		return 1
	}
	layers, _ := reg.Layers(p, at)
	out, err := FormatRules(rs, layers, at)
	if err != nil {
		fmt.Fprintf(stderr, "aftersale policy show: %v\n", err)
		return 1
	}
	_, _ = stdout.Write(out)
	return 0
}

// parseFlags parses args; done reports that the command should return code
// (after -h, or on a bad flag).
func parseFlags(fl *flag.FlagSet, args []string, stdout io.Writer) (code int, done bool) {
	err := fl.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fl.SetOutput(stdout)
		fl.Usage()
		return 0, true
	case err != nil:
		return 2, true // the flag package has printed the error and usage
	}
	return 0, false
}

func loadFile(name string, parse func(string, []byte) (*File, []Issue), stdout, stderr io.Writer) (*File, int) {
	data, err := os.ReadFile(name)
	if err != nil {
		fmt.Fprintf(stderr, "aftersale policy show: %v\n", err)
		return nil, 1
	}
	f, issues := parse(name, data)
	for _, is := range issues {
		fmt.Fprintln(stderr, render(FileIssue{File: name, Issue: is}))
	}
	if len(issues) > 0 {
		return nil, 1
	}
	return f, 0
}

// FormatRules renders a resolved rule set as YAML headed by a comment naming
// the version string, the time asked about and every layer applied.
func FormatRules(rs *RuleSet, layers []Version, at time.Time) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# platform: %s\n", rs.Platform)
	fmt.Fprintf(&b, "# at:       %s\n", at.Format(time.RFC3339))
	fmt.Fprintf(&b, "# version:  %s\n", rs.Version)
	b.WriteString("# layers, applied in this order:\n")
	for _, v := range layers {
		until := "(open-ended)"
		if v.Until != nil {
			until = v.Until.Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "#   - %s  from %s  until %s\n", v.ID, v.From.Format(time.RFC3339), until)
		for _, line := range wrap(v.Comment, 72) {
			fmt.Fprintf(&b, "#       %s\n", line)
		}
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(rs); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// wrap breaks text into lines of at most width runes (longer words stay whole).
func wrap(text string, width int) []string {
	var lines []string
	var cur []string
	n := 0
	for _, w := range strings.Fields(text) {
		l := len([]rune(w))
		if n > 0 && n+1+l > width {
			lines = append(lines, strings.Join(cur, " "))
			cur, n = nil, 0
		}
		if n > 0 {
			n++
		}
		cur = append(cur, w)
		n += l
	}
	if len(cur) > 0 {
		lines = append(lines, strings.Join(cur, " "))
	}
	return lines
}
