package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
)

// Version is one effective-dated layer of a platform's policy. It is in force
// from From (inclusive) until Until (exclusive; open-ended when nil). Rules
// holds the rule keys it sets, spelled as the yaml tags of RuleSet: the first
// version of a platform sets them all, later versions only the keys they
// change (maps merge recursively, lists and scalars replace).
type Version struct {
	ID      string         `json:"id"`
	From    time.Time      `json:"effective_from"`
	Until   *time.Time     `json:"effective_until,omitempty"`
	Comment string         `json:"comment,omitempty"`
	Rules   map[string]any `json:"rules"`
}

// Contains reports whether t falls in the version's window.
func (v *Version) Contains(t time.Time) bool {
	return !t.Before(v.From) && (v.Until == nil || t.Before(*v.Until))
}

// clone returns a deep copy of v.
func (v Version) clone() Version {
	if v.Until != nil {
		u := *v.Until
		v.Until = &u
	}
	v.Rules = cloneMap(v.Rules)
	return v
}

// File is one platform's policy: its versions in file order.
type File struct {
	// Name is where the file came from (a path, or "defaults/tmall.yaml");
	// it prefixes messages. Optional.
	Name     string            `json:"name,omitempty"`
	Platform commerce.Platform `json:"platform"`
	Versions []Version         `json:"versions"`
}

func (f *File) clone() *File {
	g := &File{Name: f.Name, Platform: f.Platform, Versions: make([]Version, len(f.Versions))}
	for i, v := range f.Versions {
		g.Versions[i] = v.clone()
	}
	return g
}

// Issue is one problem found in a policy file.
type Issue struct {
	// Path locates the problem, e.g. "versions[2].rules.logistics.stall_after";
	// for a YAML syntax error it is "line N".
	Path    string `json:"path"`
	Message string `json:"message"`
	// Line is the line of the file the path points at, when known (0 otherwise).
	Line int `json:"line,omitempty"`
}

// String renders the issue as "path: message".
func (i Issue) String() string {
	if i.Path == "" {
		return i.Message
	}
	return i.Path + ": " + i.Message
}

// FileIssue is an Issue in a named file.
type FileIssue struct {
	File string `json:"file"`
	Issue
}

// String renders the issue as "file: path: message".
func (i FileIssue) String() string {
	if i.File == "" {
		return i.Issue.String()
	}
	return i.File + ": " + i.Issue.String()
}

// IssueError is returned by Registry.Add and NewRegistry when the policy
// would be invalid; the registry is then left unchanged.
type IssueError struct {
	Issues []FileIssue
}

// Error lists every issue, one per line.
func (e *IssueError) Error() string {
	var b strings.Builder
	b.WriteString("invalid policy:")
	for _, i := range e.Issues {
		b.WriteString("\n  ")
		b.WriteString(i.String())
	}
	return b.String()
}

// Unwrap lets apperr.CodeOf classify the error as EINVALID.
func (e *IssueError) Unwrap() error {
	return apperr.Invalid("policy", "", "invalid policy (%d issues)", len(e.Issues))
}

// ParseFile reads a complete policy file: its first version must set every
// rule. It reports every problem found, each with its path; issues is nil
// when the file is valid. Beyond the syntax and the types it resolves every
// time segment of the file and validates the rules in force there (see
// Registry). The File is returned as far as it could be read (nil when the
// YAML itself cannot be read).
func ParseFile(name string, data []byte) (*File, []Issue) {
	return parse(name, data, true)
}

// ParsePatch reads a file of versions meant to be added to a platform's
// existing policy with Registry.Add (e.g. an operator's new version with a
// future start): unlike ParseFile, its first version need not be complete,
// and the rules in force are validated only when it is added.
func ParsePatch(name string, data []byte) (*File, []Issue) {
	return parse(name, data, false)
}

func parse(name string, data []byte, complete bool) (*File, []Issue) {
	p := &yamlReader{lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []Issue{syntaxIssue(err)}
	}
	if len(doc.Content) == 0 {
		return nil, []Issue{{Message: "empty file: want platform and versions"}}
	}
	f := p.file(doc.Content[0])
	f.Name = name
	if len(p.issues) == 0 {
		p.issues = append(p.issues, checkFile(f, complete)...)
	}
	if len(p.issues) == 0 && complete {
		layers := make([]layer, len(f.Versions))
		for i := range f.Versions {
			layers[i] = layer{v: &f.Versions[i], src: name, idx: i}
		}
		var rep reporter
		resolve(f.Platform, layers, &rep)
		for _, fi := range rep.issues {
			p.issues = append(p.issues, fi.Issue)
		}
	}
	if len(p.issues) == 0 {
		return f, nil
	}
	for i := range p.issues {
		p.issues[i].Line = p.lineOf(p.issues[i].Path)
	}
	return f, p.issues
}

var lineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxIssue(err error) Issue {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Issue{Path: "line " + m[1], Message: m[2], Line: n}
	}
	return Issue{Message: strings.TrimPrefix(msg, "yaml: ")}
}

// yamlReader turns the YAML tree into a File, noting the line of every path.
type yamlReader struct {
	issues []Issue
	lines  map[string]int
}

func (p *yamlReader) add(path, format string, args ...any) {
	p.issues = append(p.issues, Issue{Path: path, Message: fmt.Sprintf(format, args...)})
}

// lineOf returns the line of path or of its nearest enclosing path.
func (p *yamlReader) lineOf(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// parentPath strips the last ".key" or "[i]" of a path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// pairs returns the key/value nodes of a mapping, reporting non-string and
// duplicate keys.
func (p *yamlReader) pairs(n *yaml.Node, path string) ([]string, []*yaml.Node) {
	var keys []string
	var vals []*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			p.lines[kp] = k.Line
			p.add(kp, "unsupported key (keys are plain names; YAML merge keys are not supported)")
			continue
		}
		p.lines[kp] = k.Line
		if seen[k.Value] {
			p.add(kp, "duplicate key")
			continue
		}
		seen[k.Value] = true
		keys = append(keys, k.Value)
		vals = append(vals, v)
	}
	return keys, vals
}

// join names the member key under path; a key that is the empty string is
// named `""`, so every issue has a path a person can find.
func join(path, key string) string {
	if key == "" {
		key = `""`
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

func (p *yamlReader) file(root *yaml.Node) *File {
	f := &File{}
	root = deref(root)
	if root == nil || root.Kind != yaml.MappingNode {
		p.add("", "want a mapping with platform and versions")
		return f
	}
	var sawPlatform, sawVersions bool
	keys, vals := p.pairs(root, "")
	for i, k := range keys {
		v := deref(vals[i])
		switch k {
		case "platform":
			sawPlatform = true
			s, ok := p.str(v, k)
			if !ok {
				continue
			}
			f.Platform = commerce.Platform(s)
			if !f.Platform.Valid() {
				p.add(k, "unknown platform %q (want taobao, tmall or taote)", s)
			}
		case "versions":
			sawVersions = true
			if v.Kind != yaml.SequenceNode {
				p.add(k, "want a list of versions, got %s", nodeKind(v))
				continue
			}
			if len(v.Content) == 0 {
				p.add(k, "no versions")
			}
			for j, vn := range v.Content {
				f.Versions = append(f.Versions, p.version(deref(vn), fmt.Sprintf("versions[%d]", j)))
			}
		default:
			p.add(join("", k), "unknown key (want platform, versions)")
		}
	}
	if !sawPlatform {
		p.add("platform", "missing")
	}
	if !sawVersions {
		p.add("versions", "missing")
	}
	return f
}

func (p *yamlReader) version(n *yaml.Node, path string) Version {
	var v Version
	p.lines[path] = n.Line
	if n.Kind != yaml.MappingNode {
		p.add(path, "want a mapping (id, effective_from, effective_until, comment, rules), got %s", nodeKind(n))
		return v
	}
	seen := map[string]bool{}
	keys, vals := p.pairs(n, path)
	for i, k := range keys {
		kp := join(path, k)
		val := deref(vals[i])
		seen[k] = true
		switch k {
		case "id":
			v.ID, _ = p.str(val, kp)
		case "comment":
			if val.Tag != "!!null" {
				v.Comment, _ = p.str(val, kp)
			}
		case "effective_from":
			if t, ok := p.time(val, kp); ok && t != nil {
				v.From = *t
			} else if ok {
				p.add(kp, "missing value: want a time such as 2022-12-15T00:00:00+08:00")
			}
		case "effective_until":
			v.Until, _ = p.time(val, kp)
		case "rules":
			if val.Kind != yaml.MappingNode {
				p.add(kp, "want a mapping of rules, got %s", nodeKind(val))
				continue
			}
			m, _ := p.value(val, kp).(map[string]any)
			v.Rules = m
		default:
			p.add(kp, "unknown key (want id, effective_from, effective_until, comment, rules)")
		}
	}
	for _, k := range []string{"id", "effective_from", "rules"} {
		if !seen[k] {
			p.add(join(path, k), "missing")
		}
	}
	return v
}

func (p *yamlReader) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.add(path, "want a string, got %s", nodeKind(n))
		return "", false
	}
	return n.Value, true
}

// time reads an optional RFC 3339 time; null gives nil.
func (p *yamlReader) time(n *yaml.Node, path string) (*time.Time, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, true
	}
	if n.Kind != yaml.ScalarNode {
		p.add(path, "want a time such as 2022-12-15T00:00:00+08:00, got %s", nodeKind(n))
		return nil, false
	}
	t, err := parseTime(n.Value)
	if err != nil {
		p.add(path, "%v", err)
		return nil, false
	}
	return &t, true
}

// parseTime parses an RFC 3339 time with an explicit offset.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q: want RFC 3339 with an offset, e.g. 2022-12-15T00:00:00+08:00", s)
	}
	return t, nil
}

// value converts a YAML node to plain Go values (map[string]any, []any,
// string, int, float64, bool, nil), the form Version.Rules holds.
// Timestamps stay strings; the rule decoder parses them.
func (p *yamlReader) value(n *yaml.Node, path string) any {
	n = deref(n)
	if n == nil {
		return nil
	}
	if _, ok := p.lines[path]; !ok {
		p.lines[path] = n.Line
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		keys, vals := p.pairs(n, path)
		for i, k := range keys {
			m[k] = p.value(vals[i], join(path, k))
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = p.value(c, fmt.Sprintf("%s[%d]", path, i))
		}
		return l
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!timestamp":
			return n.Value
		case "!!null":
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			p.add(path, "%v", err)
			return nil
		}
		return v
	}
	return nil
}

func nodeKind(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing (null)"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported node"
}

// checkFile validates a File's structure and each version's rules on their
// own (types, unknown keys, durations); with complete it also requires the
// first version to set every rule. It does not resolve segments.
func checkFile(f *File, complete bool) []Issue {
	var issues []Issue
	add := func(path, format string, args ...any) {
		issues = append(issues, Issue{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if !f.Platform.Valid() {
		add("platform", "unknown platform %q (want taobao, tmall or taote)", f.Platform)
	}
	if len(f.Versions) == 0 {
		add("versions", "no versions")
	}
	ids := map[string]int{}
	for i := range f.Versions {
		v := &f.Versions[i]
		path := fmt.Sprintf("versions[%d]", i)
		switch {
		case v.ID == "":
			add(path+".id", "missing: every version needs an id")
		case f.Platform.Valid() && !strings.HasPrefix(v.ID, string(f.Platform)+"/"):
			add(path+".id", "id %q must start with %q", v.ID, string(f.Platform)+"/")
		}
		if j, ok := ids[v.ID]; ok && v.ID != "" {
			add(path+".id", "duplicate id %q (also versions[%d])", v.ID, j)
		} else {
			ids[v.ID] = i
		}
		if v.From.IsZero() {
			add(path+".effective_from", "missing")
		}
		if v.Until != nil && !v.From.IsZero() && !v.Until.After(v.From) {
			add(path+".effective_until", "%s is not after effective_from %s", v.Until.Format(time.RFC3339), v.From.Format(time.RFC3339))
		}
		if v.Rules == nil {
			continue
		}
		var scratch RuleSet
		d := &decoder{}
		d.rules(v.Rules, &scratch)
		for _, is := range d.issues {
			add(join(path+".rules", is.Path), "%s", is.Message)
		}
		if complete && i == 0 && len(d.issues) == 0 {
			for _, m := range missingRules(v.Rules) {
				add(path+".rules."+m, "missing: the first version must set every rule")
			}
		}
	}
	return issues
}
