package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/policy"
)

// routesPolicy registers the operator's policy screens: the versions of each
// platform with their effective times, the rules in force at a time, and
// loading a new version with a future start after previewing what it
// changes (RULES.md, Policy).
func (s *Server) routesPolicy() {
	api := s.api
	huma.Register(api, op("list-policies", http.MethodGet, "/v1/policies",
		"Each platform's policy versions with their effective times, and the timeline of rule changes", anyKey, "policy"), s.listPolicies)
	huma.Register(api, op("policy-rules", http.MethodGet, "/v1/policies/{platform}/rules",
		"The rules in force for a platform at a time, and the versions they come from", anyKey, "policy"), s.policyRules)
	huma.Register(api, op("preview-policy", http.MethodPost, "/v1/policies/{platform}/preview",
		"Check a version file and show the rules it would change, without loading it", operatorOnly, "policy"), s.previewPolicy)
	lp := op("load-policy", http.MethodPost, "/v1/policies/{platform}/versions",
		"Load a version file whose versions all start in the future; every replica loads it too", operatorOnly, "policy")
	lp.DefaultStatus = http.StatusCreated
	huma.Register(api, lp, s.loadPolicy)
}

// PlatformPolicy is one platform's versions and timeline.
type PlatformPolicy struct {
	Platform string           `json:"platform"`
	Versions []policy.Version `json:"versions"`
	Timeline []policy.Change  `json:"timeline"`
}

// PolicyList lists every platform's policy.
type PolicyList struct {
	Platforms []PlatformPolicy `json:"platforms"`
}

type policyListOutput struct{ Body PolicyList }

func (s *Server) listPolicies(ctx context.Context, _ *struct{}) (*policyListOutput, error) {
	if _, err := s.eng.SyncPolicies(ctx); err != nil {
		return nil, err
	}
	reg := s.eng.Policy()
	var out PolicyList
	for _, p := range []commerce.Platform{commerce.Taobao, commerce.Tmall, commerce.Taote} {
		out.Platforms = append(out.Platforms, PlatformPolicy{Platform: string(p), Versions: reg.Versions(p), Timeline: reg.Changes(p)})
	}
	return &policyListOutput{Body: out}, nil
}

type policyRulesInput struct {
	Platform string `path:"platform" enum:"taobao,tmall,taote" doc:"The platform."`
	At       string `query:"at" doc:"RFC 3339 time (default now)."`
}

// PolicyRules are the rules in force at a time.
type PolicyRules struct {
	Platform string           `json:"platform"`
	At       time.Time        `json:"at"`
	Layers   []policy.Version `json:"layers"`
	Rules    *policy.RuleSet  `json:"rules"`
}

type policyRulesOutput struct{ Body PolicyRules }

func (s *Server) policyRules(ctx context.Context, in *policyRulesInput) (*policyRulesOutput, error) {
	at := s.eng.Clock().Now()
	if in.At != "" {
		t, err := time.Parse(time.RFC3339, in.At)
		if err != nil {
			return nil, apperr.Invalid("at", "", "at is an RFC 3339 time such as 2023-08-01T10:00:00+08:00, got %q", in.At)
		}
		at = t
	}
	if _, err := s.eng.SyncPolicies(ctx); err != nil {
		return nil, err
	}
	p := commerce.Platform(in.Platform)
	rs, err := s.eng.Policy().At(p, at)
	if err != nil {
		return nil, apperr.NotFound("at", "no rules for %s at %s", p, at.Format(time.RFC3339))
	}
	layers, _ := s.eng.Policy().Layers(p, at)
	return &policyRulesOutput{Body: PolicyRules{Platform: in.Platform, At: at.UTC(), Layers: layers, Rules: rs}}, nil
}

type policyFileInput struct {
	Platform       string `path:"platform" enum:"taobao,tmall,taote" doc:"The platform."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Name   string `json:"name,omitempty" maxLength:"200" doc:"A name for the file, shown with its versions (default operator/<platform>.yaml)."`
		Source string `json:"source" required:"true" minLength:"1" maxLength:"262144" doc:"The version file, in the policy YAML format (docs/policy.md): platform and versions that set only the rules they change; every effective_from after now."`
	}
}

type policyPreviewOutput struct{ Body *engine.PolicyPreview }

func (s *Server) previewPolicy(ctx context.Context, in *policyFileInput) (*policyPreviewOutput, error) {
	if _, err := s.eng.SyncPolicies(ctx); err != nil {
		return nil, err
	}
	p, err := s.eng.PreviewPolicy(commerce.Platform(in.Platform), in.Body.Name, []byte(in.Body.Source))
	if err != nil {
		return nil, err
	}
	return &policyPreviewOutput{Body: p}, nil
}

func (s *Server) loadPolicy(ctx context.Context, in *policyFileInput) (*policyPreviewOutput, error) {
	by := "operator"
	if pr := principalOf(ctx); pr != nil {
		by = string(pr.Role) + ":" + pr.KeyID
	}
	p, err := s.eng.LoadPolicy(ctx, by, commerce.Platform(in.Platform), in.Body.Name, []byte(in.Body.Source))
	if err != nil {
		return nil, err
	}
	return &policyPreviewOutput{Body: p}, nil
}
