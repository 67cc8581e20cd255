package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

// Not signed in: every page sends to the sign-in page, which signs in
// through the API's sessions; / goes to the console.
func TestSignInRedirectAndPage(t *testing.T) {
	e := newEnv(t)
	anon := &browser{e: e, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p := anon.get("/console/tasks?state=completed")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/login?next="+url.QueryEscape("/console/tasks?state=completed") {
		t.Fatalf("anonymous workbench: %d %s", p.Status, p.Header.Get("Location"))
	}
	must(t, anon.get("/console/login"), http.StatusOK, `id="login-form"`, "登录售后任务中心", `lang="zh-CN"`)
	if p := anon.get("/"); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/" {
		t.Fatalf("/ = %d %s", p.Status, p.Header.Get("Location"))
	}
	// en switch (a cookie), then back.
	sw := anon.get("/console/lang?to=en&back=/console/login")
	if sw.Status != http.StatusSeeOther || !strings.Contains(sw.Header.Get("Set-Cookie"), "aftersale_lang=en") {
		t.Fatalf("lang switch: %d %v", sw.Status, sw.Header)
	}
	// An open redirect is refused: back must stay in the console.
	if sw := anon.get("/console/lang?to=en&back=//evil.example/"); sw.Header.Get("Location") != "/console/" {
		t.Fatalf("lang back to another site: %s", sw.Header.Get("Location"))
	}
}

// The workbench (R-URG-5): state tabs with counts, the urged task under
// 待卖家回复 with type, order, buyer and its deadline, the render time in
// Server-Timing; the urged orders filter lists an order urged within its
// deadline (R-URG-3); en on the switch.
func TestWorkbench_R_URG_5_TabsCountsDeadline_R_URG_3_Filter(t *testing.T) {
	e := newEnv(t)
	e.shop()
	e.lateOrder("o1")
	now := e.clock.Now()
	e.facts(testkit_order("o2", now.Add(24*time.Hour)))
	tk := e.urgedTask("o1")
	if _, err := e.eng.Urge(context.Background(), task.Actor{Role: task.RoleBuyer, ID: "b_o2"}, "o2"); err != nil {
		t.Fatal(err)
	}
	e.person("main1", auth.RoleShopMain, "s1_main")
	b := e.signIn("main1")
	p := b.get("/console/tasks")
	must(t, p, http.StatusOK, "售后任务工作台", `data-state="awaiting_seller_reply">待卖家回复 <span class="n">1</span>`,
		`data-state="completed">已完结 <span class="n">0</span>`, `data-task="`+tk.ID+`"`, "催发货", "o1", "b_o1",
		`data-due="`+tk.DueAt.UTC().Format(time.RFC3339)+`"`, "1d 0h")
	if !strings.HasPrefix(p.Header.Get("Server-Timing"), "render;dur=") {
		t.Fatalf("Server-Timing = %q", p.Header.Get("Server-Timing"))
	}
	// The deadline under 2 hours is highlighted; overdue is said plainly.
	e.clock.Set(tk.DueAt.Add(-90 * time.Minute))
	must(t, b.get("/console/tasks"), http.StatusOK, `class="due soon"`, "1h 30m")
	// The urged orders filter: o2 (within its deadline), not o1 (a task).
	u := b.get("/console/tasks?filter=urged")
	must(t, u, http.StatusOK, "o2", "R-URG-3")
	mustNot(t, u, ">o1<")
	// English.
	b.c.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: "aftersale_lang", Value: "en"}})
	must(t, b.get("/console/tasks"), http.StatusOK, "Awaiting seller reply", "Urge shipment", `lang="en"`)
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

// R-ACC-1 (auth.Table: reading tasks needs the platform-task permission
// too): a sub-account without it is told why on the workbench and on the
// task; its action is refused; once the main account grants it on the
// sub-account page, the same sub-account sees the task and the reply form.
func TestSubAccountWithoutPermission_R_ACC_1_ToldWhyThenGranted(t *testing.T) {
	e := newEnv(t)
	e.shop()
	e.lateOrder("o1")
	tk := e.urgedTask("o1")
	e.person("subno", auth.RoleShopSub, "sub_no")
	e.person("main1", auth.RoleShopMain, "s1_main")
	sub := e.signIn("subno")

	// R-ACC-1: the sub-account sees its shop's task, but every form says
	// why it cannot work it (the permission and where it is granted).
	must(t, sub.get("/console/tasks"), http.StatusOK, tk.ID)
	must(t, sub.get("/console/tasks/"+tk.ID), http.StatusOK, `data-denied="reply"`, `data-reason="permission.platform_task"`, "R-ACC-1",
		"子账号管理 → 客户服务平台权限 → 服务待办 → 平台任务")
	// Replying anyway is refused, and the page says why (htmx swaps the
	// task pane with the refusal in it).
	act := sub.post("/console/tasks/"+tk.ID+"/act", url.Values{"action": {"reply"}, "text": {"will ship"}})
	if act.Status != http.StatusOK || !strings.Contains(act.Body, "permission.platform_task") || !strings.Contains(act.Body, "R-ACC-1") {
		t.Fatalf("sub reply: %d\n%s", act.Status, act.Body)
	}
	if got := e.task(tk.ID).State; got != task.AwaitingSellerReply {
		t.Fatalf("refused action changed the task to %s", got)
	}
	// A sub-account cannot manage accounts (the main account's).
	if p := sub.get("/console/accounts"); p.Status != http.StatusForbidden {
		t.Fatalf("sub accounts page: %d", p.Status)
	}

	main := e.signIn("main1")
	acc := main.get("/console/accounts")
	must(t, acc, http.StatusOK, `data-toggle="sub_no"`, `aria-checked="false"`)
	g := main.post("/console/accounts/sub_no/permission", url.Values{"grant": {"true"}})
	must(t, g, http.StatusOK, "已保存")
	granted := sub.get("/console/tasks/" + tk.ID)
	must(t, granted, http.StatusOK, `data-form="reply"`, `data-form="propose_plan"`)
	mustNot(t, granted, `data-denied="reply"`)

	// R-NTF-1: the main account turns a sub-account's reminders on from the same page.
	must(t, main.get("/console/accounts"), http.StatusOK, `data-reminders="sub_no"`)
	must(t, main.post("/console/accounts/sub_no/reminders", url.Values{"on": {"true"}}), http.StatusOK, "已保存", "已订阅")
	if p := sub.post("/console/accounts/sub_no/reminders", url.Values{"on": {"false"}}); p.Status != http.StatusForbidden {
		t.Fatalf("sub changing reminders: %d", p.Status)
	}
}

// CSRF: a cookie-authenticated POST without the session's token is refused
// by the API's middleware before the console runs, and changes nothing;
// with it the reply goes through the engine (R-ST-1).
func TestCSRF_RefusedWithoutToken_R_ST_1_ReplyWithToken(t *testing.T) {
	e := newEnv(t)
	e.shop()
	e.lateOrder("o1")
	tk := e.urgedTask("o1")
	e.person("subok", auth.RoleShopSub, "sub_ok")
	b := e.signIn("subok")
	form := url.Values{"action": {"reply"}, "text": {"shipping today"}}
	no := b.do("POST", "/console/tasks/"+tk.ID+"/act", form, false)
	if no.Status != http.StatusForbidden || !strings.Contains(no.Body, "auth.csrf") {
		t.Fatalf("without CSRF: %d %s", no.Status, no.Body)
	}
	wrong := b.do("POST", "/console/tasks/"+tk.ID+"/act", form, false, "X-CSRF-Token", "not-the-token")
	if wrong.Status != http.StatusForbidden {
		t.Fatalf("wrong CSRF: %d", wrong.Status)
	}
	if got := e.task(tk.ID).State; got != task.AwaitingSellerReply {
		t.Fatalf("refused POST changed the task to %s", got)
	}
	ok := b.post("/console/tasks/"+tk.ID+"/act", form)
	must(t, ok, http.StatusOK, "已回复", `data-state="awaiting_seller_action"`)
	if got := e.task(tk.ID); got.State != task.AwaitingSellerAction || got.Reply == nil || got.Reply.By.ID != "sub_ok" {
		t.Fatalf("after reply: %+v", got)
	}
}

// R-MSG-1/R-MSG-2 on the task page: the shop may message the agent only
// for the eight types while the platform intervenes; the buyer never sees
// that message nor an agent note; the shop sees its message but not the
// note; the agent sees both, the note marked agents-only.
func TestTaskTimeline_R_MSG_1_R_MSG_2_Visibility(t *testing.T) {
	e := newEnv(t)
	e.shop()
	now := e.clock.Now()
	e.facts(testkit_order("o1", now.Add(24*time.Hour)))
	e.person("buyer1", auth.RoleBuyer, "b_o1")
	e.person("main1", auth.RoleShopMain, "s1_main")
	e.person("agent1", auth.RoleAgent, "a1")
	buyer, main, agent := e.signIn("buyer1"), e.signIn("main1"), e.signIn("agent1")

	// The buyer opens a resend request (an R-MSG-1 type) on "my orders".
	must(t, buyer.post("/console/orders/o1/open", url.Values{"type": {"resend"}, "text": {"box crushed"}}), http.StatusOK, "已创建任务：补发")
	tk := onlyTask(t, e, "o1")
	// Awaiting reply: no "message the agent" (R-MSG-1 is for intervention).
	mustNot(t, main.get("/console/tasks/"+tk.ID), `data-form="message_agent"`)
	must(t, main.post("/console/tasks/"+tk.ID+"/act", url.Values{"action": {"propose_plan"}, "text": {"resend in 3 days"}}), http.StatusOK, "awaiting_buyer_confirmation")
	must(t, buyer.post("/console/tasks/"+tk.ID+"/act", url.Values{"action": {"reject_plan"}}), http.StatusOK, "platform_intervening")
	page := main.get("/console/tasks/" + tk.ID)
	must(t, page, http.StatusOK, `data-form="message_agent"`)
	must(t, main.post("/console/tasks/"+tk.ID+"/act", url.Values{"action": {"message_agent"}, "text": {"SECRET-TO-AGENT"}}), http.StatusOK, "留言已发送给客服")
	must(t, agent.post("/console/tasks/"+tk.ID+"/act", url.Values{"action": {"agent_note"}, "text": {"AGENT-ONLY-NOTE"}}), http.StatusOK)

	bp := buyer.get("/console/tasks/" + tk.ID)
	must(t, bp, http.StatusOK, "reject_plan")
	mustNot(t, bp, "SECRET-TO-AGENT", "AGENT-ONLY-NOTE", `data-form="judge"`)
	sp := main.get("/console/tasks/" + tk.ID)
	must(t, sp, http.StatusOK, "SECRET-TO-AGENT", `<dl class="ev-data"><dt>内容</dt><dd>resend in 3 days</dd>`) // the timeline's data, labelled
	mustNot(t, sp, "AGENT-ONLY-NOTE", "<code>{")                                                              // never raw JSON
	ap := agent.get("/console/tasks/" + tk.ID)
	must(t, ap, http.StatusOK, "SECRET-TO-AGENT", "AGENT-ONLY-NOTE", `class="v-agent_only"`, "仅小二可见", `data-form="judge"`, `data-form="request_evidence"`)
	// The agent queue lists it.
	must(t, agent.get("/console/queue"), http.StatusOK, `data-task="`+tk.ID+`"`)
	// Another buyer does not even learn the task exists.
	e.facts(testkit_order("o9", now.Add(24*time.Hour)))
	e.person("buyer9", auth.RoleBuyer, "b_o9")
	if p := e.signIn("buyer9").get("/console/tasks/" + tk.ID); p.Status != http.StatusNotFound {
		t.Fatalf("another buyer: %d", p.Status)
	}
}

// The judgment form and the scorecard: the agent judges the shop liable
// with forged evidence (general) → the liable count (R-LIA-1) and 12 points
// (R-COL-6) show on the shop's scorecard page, with the chart.
func TestJudgeLiable_R_LIA_1_R_COL_6_ScorecardUpdates(t *testing.T) {
	e := newEnv(t)
	e.shop()
	e.lateOrder("o1")
	tk := e.urgedTask("o1")
	e.person("main1", auth.RoleShopMain, "s1_main")
	e.person("buyer1", auth.RoleBuyer, "b_o1")
	e.person("agent1", auth.RoleAgent, "a1")
	main, buyer, agent := e.signIn("main1"), e.signIn("buyer1"), e.signIn("agent1")
	before := main.get("/console/scorecard")
	must(t, before, http.StatusOK, `data-liable="0"`, `data-points="0"`, "<svg")

	must(t, main.post("/console/tasks/"+tk.ID+"/act", url.Values{"action": {"propose_plan"}, "text": {"ship tomorrow"}}), http.StatusOK)
	must(t, buyer.post("/console/tasks/"+tk.ID+"/act", url.Values{"action": {"reject_plan"}}), http.StatusOK, "platform_intervening")
	// A judgment needs the liable choice (apperr in place, nothing changed).
	bad := agent.post("/console/tasks/"+tk.ID+"/act", url.Values{"action": {"judge"}, "forged": {"massive"}})
	must(t, bad, http.StatusOK, "R-COL-6")
	if bad.Header.Get("X-Console-Problem") == "" || e.task(tk.ID).State != task.PlatformIntervening {
		t.Fatalf("bad judgment not refused in place: %v", bad.Header)
	}
	must(t, agent.post("/console/tasks/"+tk.ID+"/act", url.Values{"action": {"judge"}, "liable": {"true"}, "forged": {"general"}}), http.StatusOK, "已判定")
	after := main.get("/console/scorecard")
	must(t, after, http.StatusOK, `data-liable="1"`, `data-points="12"`, "R-COL-6")
	// Agents pick the shop; an unknown one is 404.
	must(t, agent.get("/console/scorecard?shop=s1"), http.StatusOK, `data-liable="1"`)
	if p := agent.get("/console/scorecard?shop=nope"); p.Status != http.StatusNotFound {
		t.Fatalf("unknown shop: %d", p.Status)
	}
	// A buyer has no scorecard (auth.Table).
	if p := buyer.get("/console/scorecard"); p.Status != http.StatusForbidden {
		t.Fatalf("buyer scorecard: %d", p.Status)
	}
}

// The buyer's orders: within the deadline urging only marks (R-URG-3);
// an exempt order says why no task (R-URG-2, presale before mid-July is
// policy; here a custom item); past the deadline it creates the task
// (R-URG-1); no stall report for a parcel that is not stalled (R-LOG-2).
func TestBuyerOrders_R_URG_1_2_3_R_LOG_2(t *testing.T) {
	e := newEnv(t)
	e.shop()
	now := e.clock.Now()
	within := testkit_order("o1", now.Add(24*time.Hour))
	custom := testkit_order("o2", now.Add(-24*time.Hour))
	custom.Order.BuyerID, custom.Order.Items[0].Custom = "b_o1", true
	late := testkit_order("o3", now.Add(-24*time.Hour))
	late.Order.BuyerID = "b_o1"
	e.facts(within, custom, late)
	e.person("buyer1", auth.RoleBuyer, "b_o1")
	b := e.signIn("buyer1")
	p := b.get("/console/orders")
	must(t, p, http.StatusOK, `data-urge="mark"`, "R-URG-3", `data-urge-why="urge.exempt.category"`, "R-URG-2", `data-urge="create"`)
	mustNot(t, p, `data-op="stall"`)
	must(t, b.post("/console/orders/o1/urge", nil), http.StatusOK, "已标记为催发货")
	must(t, b.post("/console/orders/o3/urge", nil), http.StatusOK, "已生成催发货任务")
	if tk := onlyTask(t, e, "o3"); tk.Type != task.UrgeShipment {
		t.Fatalf("o3 task %+v", tk)
	}
	// Another buyer's order cannot be urged from here (the engine's check).
	ref := b.post("/console/orders/o9/urge", nil)
	if ref.Header.Get("X-Console-Problem") == "" {
		t.Fatalf("urging an unknown order: %d %v", ref.Status, ref.Header)
	}
}

// Operators load a policy version with a future start; a past start and a
// broken rule are refused with the reasons, changing nothing; agents read
// versions and diffs but may not load (auth.Table).
func TestPolicyScreens_LoadFutureVersion(t *testing.T) {
	e := newEnv(t)
	e.person("op1", auth.RoleOperator, "")
	e.person("agent1", auth.RoleAgent, "a1")
	op, agent := e.signIn("op1"), e.signIn("agent1")
	must(t, op.get("/console/policy?platform=taobao"), http.StatusOK, "生效中", "待公布")
	n := len(e.eng.Policy().Versions(commerce.Taobao))
	yaml := func(id, from, reply string) url.Values {
		return url.Values{"platform": {"taobao"}, "yaml": {"platform: taobao\nversions:\n  - id: " + id + "\n    effective_from: " + from +
			"\n    rules:\n      tasks:\n        reply_deadline: " + reply + "\n"}}
	}
	past := op.post("/console/policy/load", yaml("taobao/past", "2020-01-01T00:00:00+08:00", "48h"))
	must(t, past, http.StatusOK, "effective_from")
	if len(e.eng.Policy().Versions(commerce.Taobao)) != n {
		t.Fatal("a past version was loaded")
	}
	broken := op.post("/console/policy/load", yaml("taobao/broken", "2030-01-01T00:00:00+08:00", "-5h"))
	if broken.Header.Get("X-Console-Problem") == "" || len(e.eng.Policy().Versions(commerce.Taobao)) != n {
		t.Fatalf("a broken version was loaded: %v", broken.Header)
	}
	okp := op.post("/console/policy/load", yaml("taobao/2030", "2030-01-01T00:00:00+08:00", "48h"))
	must(t, okp, http.StatusOK, "已加载新规则版本", "taobao/2030", "待生效")
	if len(e.eng.Policy().Versions(commerce.Taobao)) != n+1 {
		t.Fatal("the version was not loaded")
	}
	d := agent.get("/console/policy/diff?platform=taobao&a=" + e.eng.Policy().Versions(commerce.Taobao)[n-1].ID + "&b=taobao/2030")
	must(t, d, http.StatusOK, `class="ch"`, "48h")
	if p := agent.post("/console/policy/load", yaml("taobao/agent", "2031-01-01T00:00:00+08:00", "48h")); p.Status != http.StatusForbidden {
		t.Fatalf("agent load: %d", p.Status)
	}
}

// Static assets are embedded and served; htmx and its SSE extension are
// vendored files (no CDN).
func TestStaticAssetsEmbedded(t *testing.T) {
	e := newEnv(t)
	b := &browser{e: e, c: http.DefaultClient}
	for _, f := range []string{"htmx-2.0.11.min.js", "htmx-ext-sse-2.2.4.min.js", "console.js", "console.css"} {
		p := b.get("/console/static/" + f)
		if p.Status != http.StatusOK || len(p.Body) < 100 {
			t.Fatalf("%s: %d (%d bytes)", f, p.Status, len(p.Body))
		}
	}
	e.person("buyer1", auth.RoleBuyer, "b1")
	page := e.signIn("buyer1").get("/console/orders")
	must(t, page, http.StatusOK, `src="/console/static/htmx-2.0.11.min.js"`, `sse-connect="/v1/stream"`)
	mustNot(t, page, "https://", "http://")
}
