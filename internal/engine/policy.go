package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/store"
)

// This file is the operator's side of policy: previewing and loading a new
// version file at run time. "An operator can load a new version that takes
// effect at a future time" (RULES.md, Policy). A loaded file is stored, so
// every replica and every restart loads it too (SyncPolicies).

// PolicyPreview is what loading a version file does, or would do.
type PolicyPreview struct {
	Platform string           `json:"platform"`
	Name     string           `json:"name"`
	Versions []policy.Version `json:"versions"`
	// Before and After are the platform's timelines of rule changes.
	Before []policy.Change `json:"before"`
	After  []policy.Change `json:"after"`
	// Changes are, at the start of each new version, the rules that differ
	// from what would have been in force then.
	Changes []VersionChanges `json:"changes"`
	// Loaded is true when the file was stored and is in force; false for a preview.
	Loaded bool  `json:"loaded"`
	Seq    int64 `json:"seq,omitempty"`
}

// VersionChanges are the rule changes a version brings at its start.
type VersionChanges struct {
	Version string              `json:"version"`
	At      time.Time           `json:"at"`
	Rules   []policy.RuleChange `json:"rules"`
}

// policySync remembers how far the registry has loaded the stored records.
type policySync struct {
	mu  sync.Mutex
	seq int64
}

// PreviewPolicy checks a version file (a patch: versions that set only the
// rules they change) for a platform and shows what loading it would change,
// without loading it. Every version must start after now.
func (e *Engine) PreviewPolicy(platform commerce.Platform, name string, src []byte) (*PolicyPreview, error) {
	p, _, err := e.previewPolicy(platform, name, src)
	return p, err
}

func (e *Engine) previewPolicy(platform commerce.Platform, name string, src []byte) (*PolicyPreview, *policy.File, error) {
	if !platform.Valid() {
		return nil, nil, apperr.Invalid("platform", "", "unknown platform %q (taobao, tmall, taote)", platform)
	}
	if name == "" {
		name = "operator/" + string(platform) + ".yaml"
	}
	f, issues := policy.ParsePatch(name, src)
	if len(issues) > 0 {
		return nil, nil, policyIssues(issues)
	}
	if f.Platform != platform {
		return nil, nil, apperr.Invalid("platform", "", "the file is for platform %s, not %s", f.Platform, platform)
	}
	now := e.clk.Now()
	for i, v := range f.Versions {
		if !v.From.After(now) {
			return nil, nil, apperr.New(apperr.EINVALID, "policy.not_future", fmt.Sprintf("versions[%d].effective_from", i), "",
				"version %s starts at %s, not after now (%s): a new version takes effect at a future time",
				v.ID, v.From.Format(time.RFC3339), now.Format(time.RFC3339))
		}
	}
	trial, err := policy.NewRegistry(e.pol.Files()...)
	if err != nil {
		return nil, nil, apperr.Internal(err)
	}
	if err := trial.Add(f); err != nil {
		if ie, ok := err.(*policy.IssueError); ok {
			var is []policy.Issue
			for _, fi := range ie.Issues {
				is = append(is, fi.Issue)
			}
			return nil, nil, policyIssues(is)
		}
		return nil, nil, err
	}
	out := &PolicyPreview{Platform: string(platform), Name: name, Versions: f.Versions,
		Before: e.pol.Changes(platform), After: trial.Changes(platform)}
	for _, v := range f.Versions {
		old, _ := e.pol.At(platform, v.From)
		next, _ := trial.At(platform, v.From)
		out.Changes = append(out.Changes, VersionChanges{Version: v.ID, At: v.From, Rules: policy.Diff(old, next)})
	}
	return out, f, nil
}

// policyIssues turns a file's problems into one refusal naming the first
// path and listing all.
func policyIssues(issues []policy.Issue) error {
	msgs := make([]string, len(issues))
	for i, is := range issues {
		msgs[i] = is.String()
	}
	err := apperr.New(apperr.EINVALID, "policy.invalid", issues[0].Path, "", "%s", strings.Join(msgs, "; "))
	err.Data = issues
	return err
}

// LoadPolicy loads a version file for a platform, as PreviewPolicy checks it:
// it is stored (so every replica and restart has it) and added to the rules
// in force. by names the operator.
func (e *Engine) LoadPolicy(ctx context.Context, by string, platform commerce.Platform, name string, src []byte) (*PolicyPreview, error) {
	e.polSync.mu.Lock()
	defer e.polSync.mu.Unlock()
	if _, err := e.syncPoliciesLocked(ctx); err != nil {
		return nil, err
	}
	p, f, err := e.previewPolicy(platform, name, src)
	if err != nil {
		return nil, err
	}
	rec := store.PolicyRecord{Platform: string(platform), Name: p.Name, Source: string(src), LoadedAt: e.clk.Now(), LoadedBy: by}
	if err := e.update(ctx, func(x *txn) error { return x.tx.AppendPolicyRecord(ctx, &rec) }); err != nil {
		return nil, err
	}
	if err := e.pol.Add(f); err != nil {
		// Another replica's file, loaded between our sync and our add, may
		// clash with this one; the stored record then fails on every replica
		// alike and SyncPolicies reports it.
		return nil, apperr.Internal(fmt.Errorf("policy %s stored as record %d but not loaded: %w", p.Name, rec.Seq, err))
	}
	e.polSync.seq = rec.Seq
	p.Loaded, p.Seq = true, rec.Seq
	return p, nil
}

// SyncPolicies loads the stored policy records this engine has not loaded
// yet (those another replica loaded, or all of them after a start). It
// returns how many it loaded.
func (e *Engine) SyncPolicies(ctx context.Context) (int, error) {
	e.polSync.mu.Lock()
	defer e.polSync.mu.Unlock()
	return e.syncPoliciesLocked(ctx)
}

func (e *Engine) syncPoliciesLocked(ctx context.Context) (int, error) {
	var recs []store.PolicyRecord
	if err := e.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		recs, err = tx.PolicyRecords(ctx, e.polSync.seq)
		return err
	}); err != nil {
		return 0, err
	}
	for i, r := range recs {
		f, issues := policy.ParsePatch(r.Name, []byte(r.Source))
		if len(issues) > 0 {
			return i, apperr.Internal(fmt.Errorf("stored policy record %d (%s): %v", r.Seq, r.Name, issues))
		}
		if err := e.pol.Add(f); err != nil {
			return i, apperr.Internal(fmt.Errorf("stored policy record %d (%s): %w", r.Seq, r.Name, err))
		}
		e.polSync.seq = r.Seq
	}
	return len(recs), nil
}
