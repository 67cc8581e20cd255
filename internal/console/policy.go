package console

import (
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
)

func (c *Console) routesPolicy() {
	c.mux.HandleFunc("GET "+Prefix+"/policy", c.page("policy", c.policyPage))
	c.mux.HandleFunc("GET "+Prefix+"/policy/diff", c.page("diff", c.policyDiff))
	c.mux.HandleFunc("POST "+Prefix+"/policy/load", c.page("policy", c.policyLoad))
}

var platforms = []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote}

type versionRow struct {
	policy.Version
	InForce bool
	Future  bool
}

type policyData struct {
	Platform  commerce.Platform
	Platforms []commerce.Platform
	Versions  []versionRow
	Changes   []policy.Change
	Load      bool
	Flash     string
	Issues    []string
	YAML      string
}

// policyPage lists a platform's policy versions with their effective times
// and the timeline of changes, and (operators) the form to load a new
// version with a future start.
func (c *Console) policyPage(q *req) (string, any, error) {
	d, err := c.loadPolicy(q)
	if err != nil {
		return "", nil, err
	}
	return "policy", d, nil
}

func (c *Console) loadPolicy(q *req) (*policyData, error) {
	if err := q.may(auth.ActReadPolicy); err != nil {
		return nil, err
	}
	p := commerce.Platform(q.r.FormValue("platform"))
	if p == "" {
		p = commerce.Taobao
	}
	if !p.Valid() {
		return nil, apperr.Invalid("platform", "", "unknown platform %q (taobao, tmall, taote)", p)
	}
	reg := c.eng.Policy()
	d := &policyData{Platform: p, Platforms: platforms, Changes: reg.Changes(p), Load: q.may(auth.ActLoadPolicy) == nil}
	layers, _ := reg.Layers(p, q.now)
	inForce := map[string]bool{}
	for _, l := range layers {
		inForce[l.ID] = true
	}
	for _, v := range reg.Versions(p) {
		d.Versions = append(d.Versions, versionRow{Version: v, InForce: inForce[v.ID], Future: v.From.After(q.now)})
	}
	return d, nil
}

type diffLine struct {
	A, B    string
	Changed bool
}

type diffData struct {
	Platform commerce.Platform
	A, B     string
	AAt, BAt time.Time
	Lines    []diffLine
	Versions []policy.Version
	Changed  int
}

// policyDiff shows the rules in force at the start of two versions side by
// side, the lines that differ marked (policy.FormatRules: the same text as
// `aftersale policy show`).
func (c *Console) policyDiff(q *req) (string, any, error) {
	if err := q.may(auth.ActReadPolicy); err != nil {
		return "", nil, err
	}
	p := commerce.Platform(q.r.FormValue("platform"))
	if !p.Valid() {
		return "", nil, apperr.Invalid("platform", "", "unknown platform %q", p)
	}
	reg := c.eng.Policy()
	d := &diffData{Platform: p, A: q.r.FormValue("a"), B: q.r.FormValue("b"), Versions: reg.Versions(p)}
	if d.A == "" || d.B == "" {
		if n := len(d.Versions); n >= 2 {
			d.A, d.B = d.Versions[n-2].ID, d.Versions[n-1].ID
		}
	}
	show := func(id string) ([]string, time.Time, error) {
		for _, v := range d.Versions {
			if v.ID != id {
				continue
			}
			rs, err := reg.At(p, v.From)
			if err != nil {
				return nil, v.From, err
			}
			layers, err := reg.Layers(p, v.From)
			if err != nil {
				return nil, v.From, err
			}
			text, err := policy.FormatRules(rs, layers, v.From)
			if err != nil {
				return nil, v.From, err
			}
			lines := strings.Split(strings.TrimRight(string(text), "\n"), "\n")
			return lines, v.From, nil
		}
		return nil, time.Time{}, apperr.NotFound("version", "no %s policy version %q", p, id)
	}
	a, aAt, err := show(d.A)
	if err != nil {
		return "", nil, err
	}
	b, bAt, err := show(d.B)
	if err != nil {
		return "", nil, err
	}
	d.AAt, d.BAt = aAt, bAt
	d.Lines = alignLines(a, b)
	for _, l := range d.Lines {
		if l.Changed {
			d.Changed++
		}
	}
	return "diff", d, nil
}

// alignLines pairs two texts line by line on their longest common
// subsequence, so that inserted or removed lines face blanks.
func alignLines(a, b []string) []diffLine {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, diffLine{A: a[i], B: b[j]})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, diffLine{B: b[j], Changed: true})
			j++
		default:
			out = append(out, diffLine{A: a[i], Changed: true})
			i++
		}
	}
	return out
}

// policyLoad adds an operator's new version to the running registry
// (policy.ParsePatch, then Registry.Add, which re-resolves and revalidates
// the platform's whole policy and changes nothing on a problem), through
// engine.LoadPolicy: every version must start in the future, and the file
// is stored so every replica and restart loads it (docs/api.md, Policy).
func (c *Console) policyLoad(q *req) (string, any, error) {
	if err := q.may(auth.ActLoadPolicy); err != nil {
		return "", nil, err
	}
	if err := form(q.r); err != nil {
		return "", nil, apperr.Invalid("form", "", "unreadable form")
	}
	src := q.r.Form.Get("yaml")
	d, err := c.loadPolicy(q)
	if err != nil {
		return "", nil, err
	}
	d.YAML = src
	res, err := c.eng.LoadPolicy(q.r.Context(), "person:"+q.p.Person.Login, d.Platform, "console/"+string(d.Platform)+".yaml", []byte(src))
	if err != nil {
		if ae, ok := apperr.As(err); ok && apperr.IsApp(err) {
			if is, ok := ae.Data.([]policy.Issue); ok {
				for _, i := range is {
					d.Issues = append(d.Issues, i.String())
				}
			} else {
				d.Issues = append(d.Issues, ae.Message)
			}
			return "policy", d, err
		}
		return "policy", d, err
	}
	f := struct {
		Platform commerce.Platform
		Versions []policy.Version
	}{commerce.Platform(res.Platform), res.Versions}
	c.log.Info("console: policy version loaded", "platform", f.Platform, "by", q.p.Person.Login, "versions", len(f.Versions))
	d2, err := c.loadPolicy(q)
	if err != nil {
		return "", nil, err
	}
	d2.Flash = q.L.T("flash.policy_loaded")
	return "policy", d2, nil
}
