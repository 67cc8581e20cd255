package console

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"aftersale/internal/auth"
	"aftersale/internal/task"
)

// Every message key the templates and handlers use exists in zh-CN and en
// (everything a user sees exists in both languages), including the keys
// built from states, types, actions, roles and refusal reasons.
func TestCatalogueComplete(t *testing.T) {
	used := map[string]bool{}
	lit := regexp.MustCompile(`\.(?:T|F) "([a-z_.0-9]+)"|L\.(?:T|F)\("([a-z_.0-9]+)"`)
	add := func(src string) {
		for _, m := range lit.FindAllStringSubmatch(src, -1) {
			if k := m[1] + m[2]; !strings.HasSuffix(k, ".") { // a prefix of built keys, checked below
				used[k] = true
			}
		}
	}
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, p)
		add(string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	gos, _ := filepath.Glob("*.go")
	for _, g := range gos {
		if strings.HasSuffix(g, "_test.go") {
			continue
		}
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		add(string(b))
	}
	for _, s := range task.States {
		used["state."+string(s)] = true
	}
	for _, ty := range task.Types {
		used["type."+string(ty)] = true
	}
	for _, a := range personActions {
		used["do."+string(a)] = true
		used["flash.done."+string(a)] = true
	}
	for _, r := range auth.Roles {
		used["role."+string(r)] = true
	}
	for _, p := range []string{"login", "workbench", "task", "accounts", "queue", "orders", "scorecard", "policy", "diff", "qa", "error"} {
		used["title."+p] = true
	}
	for _, k := range []string{"denied.permission.platform_task", "denied.permission.denied", "flash.urge.marked", "flash.urge.task_created",
		"plat.taobao", "plat.tmall", "plat.taote", "acc.role.main", "acc.role.sub", "qa.by.shop", "qa.by.buyer",
		"evd.default.refused_without_evidence", "evd.default.invalid_evidence", "evd.default.second_round_missed"} {
		used[k] = true
	}
	if len(used) < 150 {
		t.Fatalf("found only %d keys: the extraction is broken", len(used))
	}
	for k := range used {
		m, ok := messages[k]
		if !ok {
			t.Errorf("message %q is used but not in the catalogue", k)
			continue
		}
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language: %q", k, m)
		}
	}
}

// The console's refusal reasons (auth.Check) each have a "why" text.
func TestDeniedReasonsExplained_R_ACC_1(t *testing.T) {
	for _, p := range auth.Permissions {
		if _, ok := messages["denied.permission."+p]; !ok {
			t.Errorf("no explanation for permission.%s", p)
		}
	}
	l := tr{"zh-CN"}
	if got := l.T("denied.permission.platform_task"); !strings.Contains(got, "子账号管理 → 客户服务平台权限 → 服务待办 → 平台任务") {
		t.Fatalf("zh-CN explanation = %q", got)
	}
	if got := (tr{"en"}).T("wb.denied"); !strings.Contains(got, "platform task") {
		t.Fatalf("en = %q", got)
	}
}
