package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"aftersale/internal/engine"
	"aftersale/internal/httpapi"
)

// The operator's policy screens over HTTP (RULES.md, Policy): a version file
// with a future start is previewed (the rules it changes, nothing loaded),
// loaded (201), then in force from its start; one starting now is refused
// naming the path; a broken one is refused with every problem by path.
func TestPolicy_PreviewLoadOverHTTP(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-20T10:00:00"), false)
	src := "platform: tmall\nversions:\n  - id: tmall/ops.9\n    effective_from: 2023-09-01T00:00:00+08:00\n    rules:\n      logistics: {stall_after: 60h}\n"
	var pv engine.PolicyPreview
	e.ok(e.req(http.MethodPost, "/v1/policies/tmall/preview", operatorKey, map[string]any{"source": src}), http.StatusOK, &pv)
	if pv.Loaded || len(pv.Changes) != 1 || pv.Changes[0].Rules[0].Path != "logistics.stall_after" {
		t.Fatalf("preview %+v", pv)
	}
	var rules httpapi.PolicyRules
	e.ok(e.req(http.MethodGet, "/v1/policies/tmall/rules?at=2023-09-01T00:00:00%2B08:00", operatorKey, nil), http.StatusOK, &rules)
	if strings.Contains(rules.Rules.Version, "ops.9") {
		t.Fatal("preview loaded the version")
	}
	e.ok(e.req(http.MethodPost, "/v1/policies/tmall/versions", operatorKey, map[string]any{"source": src, "name": "ops/sept.yaml"}), http.StatusCreated, &pv)
	if !pv.Loaded || pv.Seq == 0 {
		t.Fatalf("load %+v", pv)
	}
	e.ok(e.req(http.MethodGet, "/v1/policies/tmall/rules?at=2023-09-01T00:00:00%2B08:00", operatorKey, nil), http.StatusOK, &rules)
	if !strings.HasSuffix(rules.Rules.Version, "+tmall/ops.9") || rules.Layers[len(rules.Layers)-1].ID != "tmall/ops.9" {
		t.Fatalf("rules at the start %s %+v", rules.Rules.Version, rules.Layers)
	}
	var list httpapi.PolicyList
	e.ok(e.req(http.MethodGet, "/v1/policies", operatorKey, nil), http.StatusOK, &list)
	found := false
	for _, p := range list.Platforms {
		for _, v := range p.Versions {
			found = found || v.ID == "tmall/ops.9"
		}
	}
	if len(list.Platforms) != 3 || !found {
		t.Fatalf("list %+v", list)
	}
	now := strings.Replace(strings.Replace(src, "2023-09-01T00:00:00", "2023-08-20T10:00:00", 1), "ops.9", "ops.10", 1)
	e.wantProblem(e.req(http.MethodPost, "/v1/policies/tmall/versions", operatorKey, map[string]any{"source": now}),
		http.StatusUnprocessableEntity, "policy.not_future", "", "versions[0].effective_from")
	broken := strings.Replace(strings.Replace(src, "60h", "sixty", 1), "ops.9", "ops.11", 1)
	e.wantProblem(e.req(http.MethodPost, "/v1/policies/tmall/preview", operatorKey, map[string]any{"source": broken}),
		http.StatusUnprocessableEntity, "policy.invalid", "", "versions[0].rules.logistics.stall_after")
}
