package policy

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
)

//go:embed defaults/*.yaml
var defaultsFS embed.FS

// Registry holds the policy versions of every platform and answers "which
// rules are in force for platform p at time t". It precomputes the resolved
// RuleSet of every segment between boundary times, so At is a binary search.
// A Registry is safe for concurrent use: At reads an immutable snapshot
// without locking; Add builds a new snapshot and swaps it in. The zero
// Registry is empty and ready to use.
type Registry struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[snapshot]
}

type snapshot struct {
	files []*File
	plats [3]*platIndex // by slot(platform)
}

// platIndex is the resolved timeline of one platform.
type platIndex struct {
	layers []layer
	starts []time.Time // segment starts, ascending
	segs   []segment
}

var emptySnapshot = &snapshot{}

// load returns the current snapshot; the zero Registry is empty.
func (r *Registry) load() *snapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	return emptySnapshot
}

// platform returns the snapshot's index of platform p, or nil when p is
// unknown or has no policy loaded.
func (s *snapshot) platform(p commerce.Platform) *platIndex {
	if i := slot(p); i >= 0 {
		return s.plats[i]
	}
	return nil
}

func slot(p commerce.Platform) int {
	switch p {
	case commerce.Taobao:
		return 0
	case commerce.Tmall:
		return 1
	case commerce.Taote:
		return 2
	}
	return -1
}

// NewRegistry builds a registry from files, added in order (so a platform's
// complete file comes before any patch files for it).
func NewRegistry(files ...*File) (*Registry, error) {
	r := &Registry{}
	for _, f := range files {
		if err := r.Add(f); err != nil {
			return nil, err
		}
	}
	return r, nil
}

var defaults struct {
	once  sync.Once
	files []*File
	err   error
}

// DefaultFiles returns the embedded default policy files (one per platform,
// named "defaults/<platform>.yaml"), parsed. The result is a fresh copy.
func DefaultFiles() ([]*File, error) {
	defaults.once.Do(func() {
		names, err := fs.Glob(defaultsFS, "defaults/*.yaml")
		if err != nil {
			defaults.err = err
			return
		}
		sort.Strings(names)
		for _, name := range names {
			data, err := defaultsFS.ReadFile(name)
			if err != nil {
				defaults.err = err
				return
			}
			f, issues := ParseFile(name, data)
			if issues != nil {
				e := &IssueError{}
				for _, is := range issues {
					e.Issues = append(e.Issues, FileIssue{File: name, Issue: is})
				}
				defaults.err = e
				return
			}
			defaults.files = append(defaults.files, f)
		}
	})
	if defaults.err != nil {
		return nil, defaults.err
	}
	out := make([]*File, len(defaults.files))
	for i, f := range defaults.files {
		out[i] = f.clone()
	}
	return out, nil
}

// DefaultSource returns the text of the embedded default file of a platform.
func DefaultSource(p commerce.Platform) ([]byte, error) {
	data, err := defaultsFS.ReadFile(path.Join("defaults", string(p)+".yaml"))
	if err != nil {
		return nil, apperr.NotFound("platform", "no default policy for platform %q", p)
	}
	return data, nil
}

// Default returns a new registry loaded with the embedded default policy of
// every platform. Each call returns an independent registry.
func Default() (*Registry, error) {
	files, err := DefaultFiles()
	if err != nil {
		return nil, err
	}
	return NewRegistry(files...)
}

// Add adds a file's versions to its platform's policy: typically an
// operator's new version with a future start, or a first complete file for a
// platform. It replaces nothing: a version id already known is an error. The
// whole policy of the platform is re-resolved and revalidated; on any
// problem Add returns an *IssueError and the registry is unchanged. The
// registry keeps its own copy of f.
func (r *Registry) Add(f *File) error {
	if f == nil {
		return apperr.Invalid("file", "", "no file")
	}
	f = f.clone()
	name := f.Name
	fail := func(is []Issue) error {
		e := &IssueError{}
		for _, i := range is {
			e.Issues = append(e.Issues, FileIssue{File: name, Issue: i})
		}
		return e
	}
	if is := checkFile(f, false); len(is) > 0 {
		return fail(is)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.load()
	known := map[string]string{}
	for _, g := range old.files {
		if g.Platform == f.Platform {
			for _, v := range g.Versions {
				known[v.ID] = g.Name
			}
		}
	}
	var dup []Issue
	for i, v := range f.Versions {
		if src, ok := known[v.ID]; ok {
			dup = append(dup, Issue{Path: fmt.Sprintf("versions[%d].id", i), Message: fmt.Sprintf("duplicate id %q: already loaded from %s", v.ID, src)})
		}
	}
	if len(dup) > 0 {
		return fail(dup)
	}
	return r.commit(old, append(append([]*File(nil), old.files...), f), f.Platform)
}

// commit re-resolves platform p over files and, if valid, swaps in a new
// snapshot. The caller holds r.mu.
func (r *Registry) commit(old *snapshot, files []*File, p commerce.Platform) error {
	var layers []layer
	for _, g := range files {
		if g.Platform != p {
			continue
		}
		for i := range g.Versions {
			layers = append(layers, layer{v: &g.Versions[i], src: g.Name, idx: i})
		}
	}
	var rep reporter
	segs := resolve(p, layers, &rep)
	if len(rep.issues) > 0 {
		return &IssueError{Issues: rep.issues}
	}
	pi := &platIndex{layers: layers, segs: segs, starts: make([]time.Time, len(segs))}
	for i, sg := range segs {
		pi.starts[i] = sg.from
	}
	next := &snapshot{files: files, plats: old.plats}
	next.plats[slot(p)] = pi
	r.snap.Store(next)
	return nil
}

// SetUntil announces the end of a version whose end was left open (R-LOG-3:
// "end to be announced"): from until on, the version no longer applies and
// the rules beneath it come back, while later versions still apply. A version
// that already has an end is not changed (ECONFLICT). The policy is
// revalidated; on a problem the registry is unchanged.
func (r *Registry) SetUntil(p commerce.Platform, id string, until time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.load()
	for fi, g := range old.files {
		if g.Platform != p {
			continue
		}
		for vi, v := range g.Versions {
			if v.ID != id {
				continue
			}
			if v.Until != nil {
				return apperr.Conflict("policy.until_set", "", "version %s already ends at %s", id, v.Until.Format(time.RFC3339))
			}
			if !until.After(v.From) {
				return apperr.Invalid("effective_until", "", "%s is not after the start of %s (%s)", until.Format(time.RFC3339), id, v.From.Format(time.RFC3339))
			}
			files := append([]*File(nil), old.files...)
			g = g.clone()
			u := until
			g.Versions[vi].Until = &u
			files[fi] = g
			return r.commit(old, files, p)
		}
	}
	return apperr.NotFound("version", "no %s policy version %q", p, id)
}

// At returns the rules in force for platform p at time t. The result is
// shared and immutable: callers must not modify it. It is an error when p
// has no policy or no version is in force at t.
func (r *Registry) At(p commerce.Platform, t time.Time) (*RuleSet, error) {
	seg, err := r.load().segment(p, t)
	if err != nil {
		return nil, err
	}
	return seg.rs, nil
}

// segment finds the segment in force for p at t.
func (s *snapshot) segment(p commerce.Platform, t time.Time) (*segment, error) {
	i := slot(p)
	if i < 0 {
		return nil, apperr.NotFound("platform", "unknown platform %q", p)
	}
	pi := s.plats[i]
	if pi == nil {
		return nil, apperr.NotFound("platform", "no policy loaded for platform %q", p)
	}
	j := pi.search(t)
	if j < 0 || pi.segs[j].rs == nil {
		return nil, apperr.NotFound("policy", "no %s policy version is in force at %s", p, t.Format(time.RFC3339))
	}
	return &pi.segs[j], nil
}

// search returns the index of the segment containing t, or -1 when t is
// before the first.
func (pi *platIndex) search(t time.Time) int {
	lo, hi := 0, len(pi.starts) // find the first start after t
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if pi.starts[m].After(t) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo - 1
}

// Layers returns the versions in force for platform p at time t, in the
// order they are applied (copies).
func (r *Registry) Layers(p commerce.Platform, t time.Time) ([]Version, error) {
	seg, err := r.load().segment(p, t)
	if err != nil {
		return nil, err
	}
	out := make([]Version, len(seg.layers))
	for i, v := range seg.layers {
		out[i] = v.clone()
	}
	return out, nil
}

// Versions returns every version of platform p in the order they were loaded
// (copies).
func (r *Registry) Versions(p commerce.Platform) []Version {
	pi := r.load().platform(p)
	if pi == nil {
		return nil
	}
	out := make([]Version, len(pi.layers))
	for i, l := range pi.layers {
		out[i] = l.v.clone()
	}
	return out
}

// Files returns the files loaded, in the order they were added (copies).
func (r *Registry) Files() []*File {
	files := r.load().files
	out := make([]*File, len(files))
	for i, f := range files {
		out[i] = f.clone()
	}
	return out
}

// Change is a time at which the rules of a platform change.
type Change struct {
	At      time.Time `json:"at"`
	Version string    `json:"version"` // the version string in force from At ("" if none)
}

// Changes lists the times at which platform p's rules change, in order, with
// the version string in force from each: the timeline an operator previews.
func (r *Registry) Changes(p commerce.Platform) []Change {
	pi := r.load().platform(p)
	if pi == nil {
		return nil
	}
	out := make([]Change, len(pi.segs))
	for i, sg := range pi.segs {
		out[i].At = sg.from
		if sg.rs != nil {
			out[i].Version = sg.rs.Version
		}
	}
	return out
}
