package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/httpapi"
	"aftersale/internal/judgment"
	"aftersale/internal/live"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
	"aftersale/internal/webhook"
)

// Credentials of the authorization matrix.
const (
	cBuyer    = "buyer"
	cMain     = "shop_main"
	cSubYes   = "sub+platform_task"
	cSubNo    = "sub-platform_task"
	cAgent    = "agent"
	cOperator = "operator"
	cPlatform = "platform key"
	cOpKey    = "operator key"
	cNone     = "none"
)

var matrixCreds = []string{cBuyer, cMain, cSubYes, cSubNo, cAgent, cOperator, cPlatform, cOpKey, cNone}

// outcome is what a cell expects: allowed (past authentication and the
// permission table: 2xx, or a refusal of the domain such as 409 task.state),
// or refused with a status and a problem reason.
type outcome struct {
	allowed bool
	status  int
	reason  string
}

var allowed = outcome{allowed: true}

// authReasons are the reasons of refusals by authentication and authorization.
var authReasons = map[string]bool{"auth.missing": true, "auth.invalid": true, "auth.role": true, "auth.csrf": true, "auth.session_expired": true,
	"permission.denied": true, "permission.platform_task": true, "actor.mismatch": true, "not_found": true, "route.not_found": true}

// endpoint is a row of the matrix: a request per credential and who may.
type endpoint struct {
	name         string
	method, path string
	// pathOf, when set, is the path for a credential (for calls that use up
	// what they touch, such as a delete); "" means path.
	pathOf func(cred string) string
	// body for a credential (nil: none); the platform key names an actor.
	body func(cred string) any
	// headers sent with every credential (name, value pairs).
	headers []string
	// xActor is the X-Actor the platform key sends, when the body has no actor.
	xActor string
	// stream: an event stream, whose 200 answer is not read to its end.
	stream bool
	// action is the row of the permission table the call exercises.
	action auth.Action
	// who may; everyone else is refused with the default refusal of their kind.
	may []string
	// exceptions to the default refusals.
	except map[string]outcome
}

// hubEnv is the API (sandbox on) with a running live hub, so that GET
// /v1/stream answers.
func hubEnv(t *testing.T, start time.Time) *liveEnv {
	t.Helper()
	var hub *live.Hub
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	e := newAPIWith(t, start, true, nil, func(c *httpapi.Config) {
		hub = live.New(live.Config{Store: c.Engine.Store(), Presence: c.Engine, Grace: 50 * time.Millisecond})
		c.Engine.OnCommit(hub.Wake)
		if err := hub.Init(ctx); err != nil {
			t.Fatal(err)
		}
		go func() { defer close(done); _ = hub.Run(ctx) }()
		c.Live = httpapi.LiveConfig{Hub: hub, Heartbeat: 100 * time.Millisecond}
	})
	t.Cleanup(func() { // before the server closes: end the streams
		hub.Close()
		cancel()
		<-done
	})
	return &liveEnv{apiEnv: e, hub: hub}
}

// peek sends a request and reads its answer, but not the body of an event
// stream (status and headers only).
func (e *apiEnv) peek(method, path, key string, headers ...string) resp {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, _ := http.NewRequestWithContext(ctx, method, e.srv.URL+path, nil)
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out := resp{Status: res.StatusCode, Header: res.Header}
	if res.Header.Get("Content-Type") != "text/event-stream" {
		out.Body, _ = io.ReadAll(res.Body)
	}
	return out
}

// claimable ingests an order of buyer with a designated-courier promise
// (R-PRM-5), shipped and closed now, so a claim may be filed on it.
func (e *apiEnv) claimable(orderID, shopID, buyer string) {
	e.t.Helper()
	now := e.clock.Now()
	e.facts(commerce.Fact{ID: "order-" + orderID, Type: commerce.FactOrder, At: now, Order: &commerce.Order{ID: orderID, ShopID: shopID,
		BuyerID: buyer, PaidFen: 10000, PaidAt: now, ShipBy: now.Add(72 * time.Hour), Items: []commerce.Item{{SKU: "s"}},
		Promises: []commerce.Promise{{Kind: "designated_courier"}}}},
		commerce.Fact{ID: "ship-" + orderID, Type: commerce.FactShipment, Shipment: &commerce.ShipmentFact{OrderID: orderID, Carrier: "YTO"}},
		commerce.Fact{ID: "close-" + orderID, Type: commerce.FactOrderClosed, OrderClosed: &commerce.OrderClosedFact{OrderID: orderID}})
}

// product ingests product productID of shopID and order orderID of buyer
// for it, paid an hour ago (so the buyer is invited to answer, R-QA-2).
func (e *apiEnv) product(productID, shopID, orderID, buyer string) {
	e.t.Helper()
	f := testkit.OrderFact(orderID, shopID, buyer, e.clock.Now().Add(-time.Hour), e.clock.Now().Add(time.Hour))
	f.Order.Items = []commerce.Item{{SKU: productID + "-M", ProductID: productID}}
	e.facts(commerce.Fact{ID: productID, Type: commerce.FactProduct, Product: &commerce.Product{ID: productID, ShopID: shopID, Title: "T恤"}}, f)
}

// The authorization matrix: every role (buyer, shop main, sub-account with
// and without platform_task, agent, operator), the platform and operator
// keys, and no credentials, against every operation of the API: allowed,
// or refused with the right status and problem type. Sub-accounts without
// platform_task are refused task work and task, evidence, claim and
// compensation reads naming the permission (R-ACC-1). The test fails when
// an operation of the OpenAPI document or a row of auth.Table has no row here.
func TestAuthorizationMatrix_R_ACC_1(t *testing.T) {
	e := hubEnv(t, bj(t, "2023-08-01T10:00:00"))
	e.shop("tb", commerce.Taobao, subAcc("tb_yes", true), subAcc("tb_no", false), subAcc("tb_x", false))
	e.pastOrder("tb", "o1")
	e.shop("tm", commerce.Tmall)
	e.pastOrder("tm", "oc")
	hook := map[string]any{"url": "http://192.0.2.1:9/hook", "events": []string{"*"}, "audience": "platform"}
	var hooks []string // one whose delivery is redelivered, one to delete per allowed credential
	for range 4 {
		var h struct{ ID string }
		e.ok(e.req(http.MethodPost, "/v1/webhooks", operatorKey, hook), http.StatusCreated, &h)
		hooks = append(hooks, h.ID)
	}
	tk := e.createTask("return_refund", "o1")
	resetMe := e.person("reset.me", auth.RoleBuyer, "b_reset") // whose password operators reset
	var att task.Attachment                                    // the buyer's file of a public evidence item
	e.ok(e.upload(tk.ID, "buyer:"+buyerOf("o1"), png), http.StatusCreated, &att)
	e.ok(e.post("/v1/tasks/"+tk.ID+"/evidence", map[string]any{"actor": actor("buyer", buyerOf("o1")),
		"evidence": map[string]any{"description": "the parcel", "attachments": []string{att.ID}}}), http.StatusOK, nil)
	var items evidenceListJSON
	e.ok(e.get("/v1/tasks/"+tk.ID+"/evidence"), http.StatusOK, &items)
	if len(items.Items) != 1 {
		t.Fatalf("evidence %+v", items)
	}
	item := items.Items[0].ID
	var cmp struct{ ID string }
	e.ok(e.post("/v1/orders/o1/complaints", map[string]any{"actor": actor("buyer", buyerOf("o1")), "kind": "shipping"}), http.StatusCreated, &cmp)
	e.claimable("op", "tb", buyerOf("o1"))
	claim := map[string]any{"kind": "designated_courier", "description": "another courier", "asked_fen": 500}
	var clm judgment.Claim
	e.ok(e.post("/v1/orders/op/claims", map[string]any{"actor": actor("buyer", buyerOf("o1")), "kind": "designated_courier",
		"description": "another courier", "asked_fen": 500}), http.StatusCreated, &clm)
	e.product("p1", "tb", "oq", buyerOf("o1"))
	var q questionJSON
	e.ok(e.post("/v1/products/p1/questions", map[string]any{"actor": actor("buyer", "b_asker"), "text": "这件T恤洗了会缩水吗？"}), http.StatusCreated, &q)
	if !q.Valid || q.Invited != 1 {
		t.Fatalf("question %+v", q)
	}
	var pictured struct {
		ID string `json:"id"`
	}
	e.ok(e.post("/v1/questions/"+q.ID+"/answers", map[string]any{"actor": actor("shop_main", "tb_main"), "text": "附质检报告",
		"pictures": []map[string]any{{"name": "report.png", "data": []byte(png)}}}), http.StatusCreated, &pictured)
	if err := webhook.New(webhook.Config{Store: e.st, Clock: e.clock}).Fanout(t.Context()); err != nil {
		t.Fatal(err)
	}
	var dl struct{ Deliveries []struct{ ID string } }
	e.ok(e.req(http.MethodGet, "/v1/webhooks/deliveries?subscription_id="+hooks[0], operatorKey, nil), http.StatusOK, &dl)
	if len(dl.Deliveries) == 0 {
		t.Fatal("no webhook delivery to redeliver")
	}

	e.person("m.buyer", auth.RoleBuyer, buyerOf("o1"))
	e.person("m.main", auth.RoleShopMain, "tb_main")
	e.person("m.yes", auth.RoleShopSub, "tb_yes")
	e.person("m.no", auth.RoleShopSub, "tb_no")
	e.person("m.agent", auth.RoleAgent, "a1")
	e.person("m.op", auth.RoleOperator, "")
	tokens := map[string]string{cPlatform: platformKey, cOpKey: operatorKey, cNone: ""}
	for cred, login := range map[string]string{cBuyer: "m.buyer", cMain: "m.main", cSubYes: "m.yes", cSubNo: "m.no", cAgent: "m.agent", cOperator: "m.op"} {
		tokens[cred] = e.session(login).Token
	}

	withActor := func(role, id string, rest map[string]any) func(string) any {
		return func(cred string) any {
			b := map[string]any{}
			for k, v := range rest {
				b[k] = v
			}
			if cred == cPlatform {
				b["actor"] = actor(role, id)
			}
			return b
		}
	}
	taskAct := func(action, role, id string, extra map[string]any) func(string) any {
		b := map[string]any{"action": action}
		for k, v := range extra {
			b[k] = v
		}
		return withActor(role, id, b)
	}
	buyer := withActor("buyer", buyerOf("o1"), nil)
	seller := []string{cMain, cSubYes, cPlatform}
	sides := []string{cBuyer, cMain, cSubYes, cAgent, cPlatform}
	agentOrKey := []string{cAgent, cPlatform}
	noPerm := map[string]outcome{cSubNo: {status: 403, reason: "permission.platform_task"}}
	n := 0
	uniq := func(prefix string) func(string) any {
		return func(cred string) any {
			n++
			return map[string]any{"login": fmt.Sprintf("%s.%d", prefix, n), "password": testPassword, "role": "agent", "subject_id": fmt.Sprintf("ag%d", n)}
		}
	}
	sub := func(cred string) any {
		n++
		b := map[string]any{"account_id": fmt.Sprintf("tb_new%d", n), "login": fmt.Sprintf("tb.new%d", n), "password": testPassword}
		if cred == cPlatform {
			b["actor"] = actor("shop_main", "tb_main")
		}
		return b
	}
	readers := []string{cBuyer, cMain, cSubYes, cAgent, cOperator, cPlatform, cOpKey}
	// R-ACC-1: a sub-account without the platform-task permission sees its
	// shop's tasks; working them needs the permission.
	taskReaders := append(slices.Clone(readers), cSubNo)
	everyone := []string{cBuyer, cMain, cSubYes, cSubNo, cAgent, cOperator, cPlatform, cOpKey}
	staff := []string{cMain, cSubYes, cSubNo, cAgent, cOperator, cPlatform, cOpKey}
	webhookAdmins := []string{cOperator, cPlatform, cOpKey}
	deleteHook := map[string]string{cOperator: hooks[1], cPlatform: hooks[2], cOpKey: hooks[3]}
	actions := "/v1/tasks/" + tk.ID + "/actions"
	evidence := map[string]any{"evidence": map[string]any{"description": "photo of the parcel"}}

	rows := []endpoint{
		{name: "ingest facts", method: "POST", path: "/v1/facts", body: func(string) any { return map[string]any{"facts": []any{}} }, action: auth.ActIngestFacts, may: []string{cPlatform}},
		{name: "urge", method: "POST", path: "/v1/orders/o1/urge", body: buyer, action: auth.ActUrge, may: []string{cBuyer, cPlatform}},
		{name: "keep contacting", method: "POST", path: "/v1/orders/o1/keep-contacting", body: buyer, action: auth.ActKeepContacting, may: []string{cBuyer, cPlatform}},
		{name: "file complaint", method: "POST", path: "/v1/orders/o1/complaints", body: withActor("buyer", buyerOf("o1"), map[string]any{"kind": "invoice"}), action: auth.ActFileComplaint, may: []string{cBuyer, cPlatform}},
		{name: "file claim", method: "POST", path: "/v1/orders/op/claims", body: withActor("buyer", buyerOf("o1"), claim), action: auth.ActFileClaim, may: []string{cBuyer, cPlatform}},
		{name: "get claim", method: "GET", path: "/v1/claims/" + clm.ID, action: auth.ActReadClaims, may: readers, except: noPerm},
		{name: "judge claim", method: "POST", path: "/v1/claims/" + clm.ID + "/judge", body: withActor("agent", "a1", map[string]any{"upheld": false, "reason": "same courier"}),
			action: auth.ActJudgeClaim, may: agentOrKey},
		{name: "claim remedy", method: "POST", path: "/v1/claims/" + clm.ID + "/remedy", body: withActor("shop_main", "tb_main", map[string]any{"remedy": "resend"}),
			action: auth.ActClaimRemedy, may: seller, except: noPerm},
		{name: "ship resend", method: "POST", path: "/v1/claims/" + clm.ID + "/resend", body: withActor("shop_main", "tb_main", map[string]any{"tracking_no": "SF1"}),
			action: auth.ActClaimRemedy, may: seller, except: noPerm},
		{name: "compensation", method: "GET", path: "/v1/shops/tb/compensation", action: auth.ActReadCompensation, may: []string{cMain, cSubYes, cAgent, cOperator, cPlatform, cOpKey}, except: noPerm},
		{name: "scorecard", method: "GET", path: "/v1/shops/tb/scorecard", action: auth.ActReadStanding, may: staff},
		{name: "points", method: "GET", path: "/v1/shops/tb/points", action: auth.ActReadStanding, may: staff},
		{name: "open task", method: "POST", path: "/v1/tasks", body: func(cred string) any {
			if cred == cAgent { // agents open collaborative tasks (R-COL-1), on a Tmall order
				return map[string]any{"type": "collaborative", "order_id": "oc"}
			}
			return withActor("buyer", buyerOf("o1"), map[string]any{"type": "resend", "order_id": "o1"})(cred)
		}, action: auth.ActOpenTask, may: []string{cBuyer, cAgent, cPlatform}},
		{name: "upload attachment", method: "POST", path: "/v1/tasks/" + tk.ID + "/attachments?name=p.png", body: func(string) any { return png },
			headers: []string{"Content-Type", "application/octet-stream"}, xActor: "buyer:" + buyerOf("o1"),
			action: auth.TaskAction(task.ActProvideEvidence), may: sides, except: noPerm},
		{name: "provide evidence", method: "POST", path: "/v1/tasks/" + tk.ID + "/evidence", body: withActor("buyer", buyerOf("o1"), evidence),
			action: auth.TaskAction(task.ActProvideEvidence), may: sides, except: noPerm},
		{name: "provide_evidence", method: "POST", path: actions, body: taskAct("provide_evidence", "buyer", buyerOf("o1"), evidence),
			action: auth.TaskAction(task.ActProvideEvidence), may: sides, except: noPerm},
		{name: "get attachment", method: "GET", path: "/v1/attachments/" + att.ID, action: auth.ActReadTasks, may: taskReaders},
		{name: "list evidence", method: "GET", path: "/v1/tasks/" + tk.ID + "/evidence", action: auth.ActReadTasks, may: taskReaders},
		{name: "reply", method: "POST", path: actions, body: taskAct("reply", "shop_main", "tb_main", nil), action: auth.TaskAction(task.ActReply), may: seller, except: noPerm},
		{name: "propose plan", method: "POST", path: actions, body: taskAct("propose_plan", "shop_main", "tb_main", map[string]any{"text": "plan"}), action: auth.TaskAction(task.ActProposePlan), may: seller, except: noPerm},
		{name: "accept plan", method: "POST", path: actions, body: taskAct("accept_plan", "buyer", buyerOf("o1"), nil), action: auth.TaskAction(task.ActAcceptPlan), may: []string{cBuyer, cPlatform}},
		{name: "reject plan", method: "POST", path: actions, body: taskAct("reject_plan", "buyer", buyerOf("o1"), nil), action: auth.TaskAction(task.ActRejectPlan), may: []string{cBuyer, cPlatform}},
		{name: "refuse", method: "POST", path: actions, body: taskAct("refuse", "shop_main", "tb_main", map[string]any{"text": "no"}), action: auth.TaskAction(task.ActRefuse), may: seller, except: noPerm},
		{name: "message agent", method: "POST", path: actions, body: taskAct("message_agent", "shop_main", "tb_main", map[string]any{"text": "hi"}), action: auth.TaskAction(task.ActMessage), may: seller, except: noPerm},
		{name: "perform", method: "POST", path: actions, body: taskAct("perform", "shop_main", "tb_main", nil), action: auth.TaskAction(task.ActPerform), may: seller, except: noPerm},
		{name: "collab agreed", method: "POST", path: actions, body: taskAct("collab_agreed", "shop_main", "tb_main", nil), action: auth.TaskAction(task.ActCollabAgreed), may: seller, except: noPerm},
		{name: "collab not agreed", method: "POST", path: actions, body: taskAct("collab_not_agreed", "shop_main", "tb_main", nil), action: auth.TaskAction(task.ActCollabNotAgreed), may: seller, except: noPerm},
		{name: "collab unreachable", method: "POST", path: actions, body: taskAct("collab_unreachable", "shop_main", "tb_main", nil), action: auth.TaskAction(task.ActCollabUnreachable), may: seller, except: noPerm},
		{name: "request_evidence", method: "POST", path: actions, body: taskAct("request_evidence", "agent", "a1", map[string]any{"evidence_request": map[string]any{"sides": []string{"buyer"}}}),
			action: auth.TaskAction(task.ActRequestEvidence), may: agentOrKey},
		{name: "request evidence", method: "POST", path: "/v1/tasks/" + tk.ID + "/evidence/requests", body: withActor("agent", "a1", map[string]any{"request": map[string]any{"sides": []string{"buyer"}}}),
			action: auth.TaskAction(task.ActRequestEvidence), may: agentOrKey},
		{name: "mark_evidence", method: "POST", path: actions, body: taskAct("mark_evidence", "agent", "a1", map[string]any{"mark": map[string]any{"item_id": item, "valid": false}}),
			action: auth.TaskAction(task.ActMarkEvidence), may: agentOrKey},
		{name: "mark evidence", method: "POST", path: "/v1/tasks/" + tk.ID + "/evidence/" + item + "/mark", body: withActor("agent", "a1", map[string]any{"valid": false}),
			action: auth.TaskAction(task.ActMarkEvidence), may: agentOrKey},
		{name: "agent note", method: "POST", path: actions, body: taskAct("agent_note", "agent", "a1", map[string]any{"text": "n"}), action: auth.TaskAction(task.ActAgentNote), may: agentOrKey},
		{name: "judge", method: "POST", path: actions, body: taskAct("judge", "agent", "a1", map[string]any{"judgment": map[string]any{"liable": true}}), action: auth.TaskAction(task.ActJudge), may: agentOrKey},
		{name: "resolve", method: "POST", path: actions, body: taskAct("resolve", "agent", "a1", map[string]any{"outcome": "refunded"}), action: auth.TaskAction(task.ActResolve), may: agentOrKey},
		{name: "overturn judgment", method: "POST", path: "/v1/tasks/" + tk.ID + "/overturn-judgment", body: withActor("agent", "a1", map[string]any{"reason": "appeal"}),
			action: auth.ActOverturnJudgment, may: agentOrKey},
		{name: "finish complaint", method: "POST", path: "/v1/complaints/" + cmp.ID + "/finish", body: withActor("agent", "a1", map[string]any{"status": "upheld"}), action: auth.ActFinishComplaint, may: agentOrKey},
		{name: "withdraw complaint", method: "POST", path: "/v1/complaints/" + cmp.ID + "/withdraw", body: withActor("buyer", buyerOf("o1"), map[string]any{"reason": "agreed"}),
			action: auth.ActWithdrawComplaint, may: []string{cBuyer, cPlatform}},
		{name: "overturn complaint", method: "POST", path: "/v1/complaints/" + cmp.ID + "/overturn", body: withActor("agent", "a1", map[string]any{"reason": "appeal"}),
			action: auth.ActOverturnComplaint, may: agentOrKey},
		{name: "list tasks", method: "GET", path: "/v1/tasks", action: auth.ActReadTasks, may: taskReaders},
		{name: "get task", method: "GET", path: "/v1/tasks/" + tk.ID, action: auth.ActReadTasks, may: taskReaders},
		{name: "urged orders", method: "GET", path: "/v1/shops/tb/urged-orders", action: auth.ActReadUrged, may: staff},
		{name: "ask question", method: "POST", path: "/v1/products/p1/questions", body: withActor("buyer", buyerOf("o1"), map[string]any{"text": "能机洗吗？"}),
			action: auth.ActAsk, may: []string{cBuyer, cPlatform}},
		{name: "product questions", method: "GET", path: "/v1/products/p1/questions", action: auth.ActReadQuestions, may: everyone},
		{name: "get question", method: "GET", path: "/v1/questions/" + q.ID, action: auth.ActReadQuestions, may: everyone},
		{name: "answer picture", method: "GET", path: "/v1/questions/" + q.ID + "/answers/" + pictured.ID + "/pictures/0", action: auth.ActReadQuestions, may: everyone},
		{name: "answer question", method: "POST", path: "/v1/questions/" + q.ID + "/answers", body: withActor("shop_main", "tb_main", map[string]any{"text": "不会缩水"}),
			action: auth.ActAnswer, may: []string{cBuyer, cMain, cPlatform}},
		{name: "shop questions", method: "GET", path: "/v1/shops/tb/questions", action: auth.ActReadShopQuestions, may: []string{cMain, cAgent, cOperator, cPlatform, cOpKey}},
		{name: "subscribe", method: "POST", path: "/v1/accounts/tb_main/subscriptions", body: withActor("shop_main", "tb_main", map[string]any{"topic": "ask_everyone", "on": true}),
			action: auth.ActSubscribe, may: []string{cMain, cPlatform}},
		{name: "stream", method: "GET", path: "/v1/stream", stream: true, xActor: "buyer:" + buyerOf("o1"), action: auth.ActStream,
			may: []string{cBuyer, cMain, cSubYes, cSubNo, cAgent, cOperator, cPlatform}},
		{name: "create webhook", method: "POST", path: "/v1/webhooks", body: func(string) any { return hook }, action: auth.ActManageWebhooks, may: webhookAdmins},
		{name: "list webhooks", method: "GET", path: "/v1/webhooks", action: auth.ActManageWebhooks, may: webhookAdmins},
		{name: "delete webhook", method: "DELETE", path: "/v1/webhooks/" + hooks[0], pathOf: func(cred string) string {
			if id := deleteHook[cred]; id != "" {
				return "/v1/webhooks/" + id
			}
			return ""
		},
			action: auth.ActManageWebhooks, may: webhookAdmins},
		{name: "deliveries", method: "GET", path: "/v1/webhooks/deliveries", action: auth.ActManageWebhooks, may: webhookAdmins},
		{name: "dead letters", method: "GET", path: "/v1/webhooks/dead-letters", action: auth.ActManageWebhooks, may: webhookAdmins},
		{name: "redeliver", method: "POST", path: "/v1/webhooks/deliveries/" + dl.Deliveries[0].ID + "/redeliver", action: auth.ActManageWebhooks, may: webhookAdmins},
		{name: "sandbox clock", method: "GET", path: "/v1/sandbox/clock", action: auth.ActSandboxClock, may: []string{cOperator, cOpKey}},
		{name: "sandbox advance", method: "POST", path: "/v1/sandbox/clock/advance", body: func(string) any { return map[string]any{"by": "1s"} }, action: auth.ActSandboxClock, may: []string{cOperator, cOpKey}},
		{name: "list policies", method: "GET", path: "/v1/policies", action: auth.ActReadPolicy, may: []string{cAgent, cOperator, cPlatform, cOpKey}},
		{name: "policy rules", method: "GET", path: "/v1/policies/tmall/rules", action: auth.ActReadPolicy, may: []string{cAgent, cOperator, cPlatform, cOpKey}},
		{name: "preview policy", method: "POST", path: "/v1/policies/tmall/preview", body: policyFile, action: auth.ActLoadPolicy, may: []string{cOperator, cOpKey}},
		{name: "load policy", method: "POST", path: "/v1/policies/tmall/versions", body: policyFile, action: auth.ActLoadPolicy, may: []string{cOperator, cOpKey}},
		{name: "me", method: "GET", path: "/v1/me", action: auth.ActSelf, may: everyone},
		{name: "list people", method: "GET", path: "/v1/people", action: auth.ActManagePeople, may: []string{cOperator, cOpKey}},
		{name: "reset password", method: "PUT", path: "/v1/people/" + resetMe.ID + "/password", body: func(string) any { return map[string]any{"new_password": "long enough pass"} },
			action: auth.ActManagePeople, may: []string{cOperator, cOpKey}},
		{name: "change password", method: "PUT", path: "/v1/me/password", // a wrong current password: refused, but past the permission check
			body: func(string) any {
				return map[string]any{"current_password": "not the password", "new_password": "long enough pass"}
			},
			action: auth.ActChangePassword, may: []string{cBuyer, cMain, cSubYes, cSubNo, cAgent, cOperator},
			except: map[string]outcome{cPlatform: {status: 422, reason: "session.none"}, cOpKey: {status: 422, reason: "session.none"}}},
		{name: "create person", method: "POST", path: "/v1/people", body: uniq("made"), action: auth.ActManagePeople, may: []string{cOperator, cOpKey}},
		{name: "list accounts", method: "GET", path: "/v1/shops/tb/accounts", action: auth.ActReadAccounts, may: []string{cMain, cAgent, cOperator, cPlatform, cOpKey}},
		{name: "create sub-account", method: "POST", path: "/v1/shops/tb/accounts", body: sub, action: auth.ActManageAccounts, may: []string{cMain, cPlatform}},
		{name: "set reminders", method: "PUT", path: "/v1/accounts/tb_x/reminders", body: func(string) any { return map[string]any{"on": true} }, xActor: "shop_main:tb_main", action: auth.ActManageAccounts, may: []string{cMain, cPlatform}},
		{name: "grant permission", method: "PUT", path: "/v1/accounts/tb_x/permissions/platform_task", xActor: "shop_main:tb_main", action: auth.ActManageAccounts, may: []string{cMain, cPlatform}},
		{name: "revoke permission", method: "DELETE", path: "/v1/accounts/tb_x/permissions/platform_task", xActor: "shop_main:tb_main", action: auth.ActManageAccounts, may: []string{cMain, cPlatform}},
	}

	expect := func(row endpoint, cred string) outcome {
		if o, ok := row.except[cred]; ok {
			return o
		}
		for _, c := range row.may {
			if c == cred {
				return allowed
			}
		}
		switch cred {
		case cNone:
			return outcome{status: 401, reason: "auth.missing"}
		case cPlatform, cOpKey:
			return outcome{status: 403, reason: "auth.role"}
		}
		return outcome{status: 403, reason: "permission.denied"}
	}

	covered, exercised := map[string]bool{}, map[auth.Action]bool{}
	for _, row := range rows {
		covered[row.method+" "+routeOf(row.path)] = true
		exercised[row.action] = true
		var line []string
		for _, cred := range matrixCreds {
			var body any
			if row.body != nil {
				body = row.body(cred)
			}
			hs := append([]string(nil), row.headers...)
			if cred == cPlatform && row.xActor != "" {
				hs = append(hs, "X-Actor", row.xActor)
			}
			path := row.path
			if row.pathOf != nil && row.pathOf(cred) != "" {
				path = row.pathOf(cred)
			}
			var r resp
			if row.stream {
				r = e.peek(row.method, path, tokens[cred], hs...)
			} else {
				r = e.req(row.method, path, tokens[cred], body, hs...)
			}
			line = append(line, fmt.Sprintf("%s=%d", cred, r.Status))
			want := expect(row, cred)
			var p problem
			if r.Status >= 400 {
				json.Unmarshal(r.Body, &p)
			}
			if want.allowed {
				if r.Status == 401 || r.Status >= 500 || (r.Status >= 400 && (authReasons[p.Reason] || p.Reason == "role")) {
					t.Errorf("%s as %s: %d %s, want allowed", row.name, cred, r.Status, r.Body)
				}
				continue
			}
			if r.Status != want.status || p.Reason != want.reason || p.Type != httpapi.ProblemBase+want.reason || p.Title == "" {
				t.Errorf("%s as %s: %d %s, want %d %s", row.name, cred, r.Status, r.Body, want.status, want.reason)
			}
		}
		t.Logf("%-18s %s", row.name, strings.Join(line, " "))
	}
	// every operation of the API is in the matrix (sign-in and sign-out are tested on their own)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	e.ok(e.req(http.MethodGet, "/openapi.json", "", nil), http.StatusOK, &doc)
	for path, ops := range doc.Paths {
		for m := range ops {
			k := strings.ToUpper(m) + " " + path
			if !covered[k] && k != "POST /v1/sessions" && k != "DELETE /v1/sessions" && path != "/healthz" && path != "/readyz" {
				t.Errorf("operation %s is not in the authorization matrix", k)
			}
		}
	}
	// and every row of the permission table is exercised (the console's own
	// rows, which have no API operation, by internal/console's tests)
	for _, en := range auth.Table {
		if !exercised[en.Action] && !strings.HasPrefix(en.Doc, "console:") {
			t.Errorf("permission table row %s (%s) is not exercised by the matrix", en.Action, en.Doc)
		}
	}
}

// routeOf maps a concrete path to its OpenAPI template.
func routeOf(p string) string {
	p, _, _ = strings.Cut(p, "?")
	collections := map[string]bool{"tasks": true, "orders": true, "complaints": true, "shops": true, "accounts": true, "claims": true,
		"questions": true, "products": true, "attachments": true, "webhooks": true, "deliveries": true, "people": true}
	words := map[string]bool{"accounts": true, "deliveries": true, "dead-letters": true, "requests": true}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		switch {
		case i == 0 || s == "" || words[s]:
		case collections[parts[i-1]]:
			parts[i] = "{id}"
		case parts[i-1] == "permissions":
			parts[i] = "{permission}"
		case parts[i-1] == "evidence":
			parts[i] = "{item}"
		case parts[i-1] == "policies":
			parts[i] = "{platform}"
		case parts[i-1] == "answers":
			parts[i] = "{answer}"
		case parts[i-1] == "pictures":
			parts[i] = "{n}"
		}
	}
	return strings.Join(parts, "/")
}

// Tenant isolation on every read and write: shop A's people see only shop
// A's tasks (the listing filter is forced; another shop's filter is
// refused), a direct GET of shop B's task is 404 like an unknown id, and
// acting on it is 404 too; buyer B sees only their own tasks and cannot
// see or act on buyer A's order. The same for evidence, files, claims,
// compensation, scorecards, points, shop questions and subscriptions
// (404 like an unknown id, nothing changed). R-MSG-2 holds for a
// signed-in buyer.
func TestTenantIsolation(t *testing.T) {
	e := newAPI(t, bj(t, "2023-08-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.shop("tm", commerce.Tmall, subAcc("tm_s1", false))
	e.pastOrder("tb", "oa")
	e.pastOrder("tm", "ob")
	ta, tb := e.createTask("return_refund", "oa"), e.createTask("return_refund", "ob")
	e.person("shop.a", auth.RoleShopMain, "tb_main")
	e.person("buyer.a", auth.RoleBuyer, buyerOf("oa"))
	e.person("buyer.b", auth.RoleBuyer, buyerOf("ob"))
	shopA, buyerA, buyerB := e.session("shop.a").Token, e.session("buyer.a").Token, e.session("buyer.b").Token
	// shop B's and buyer B's other data: evidence with a file on task B, a
	// claim, a complaint, a question on shop B's product
	var attB task.Attachment
	e.ok(e.upload(tb.ID, "buyer:"+buyerOf("ob"), png), http.StatusCreated, &attB)
	e.ok(e.post("/v1/tasks/"+tb.ID+"/evidence", map[string]any{"actor": actor("buyer", buyerOf("ob")),
		"evidence": map[string]any{"description": "crushed box", "attachments": []string{attB.ID}}}), http.StatusOK, nil)
	e.claimable("obc", "tm", buyerOf("ob"))
	var clmB, cmpB struct{ ID, Status string }
	e.ok(e.post("/v1/orders/obc/claims", map[string]any{"actor": actor("buyer", buyerOf("ob")), "kind": "designated_courier", "description": "another courier"}),
		http.StatusCreated, &clmB)
	e.ok(e.post("/v1/orders/ob/complaints", map[string]any{"actor": actor("buyer", buyerOf("ob")), "kind": "shipping"}), http.StatusCreated, &cmpB)
	e.product("p9", "tm", "oq9", "b_q9")
	e.ok(e.post("/v1/products/p9/questions", map[string]any{"actor": actor("buyer", buyerOf("ob")), "text": "这件T恤洗了会缩水吗？"}), http.StatusCreated, nil)
	var before httpapi.TaskDetail
	e.ok(e.get("/v1/tasks/"+tb.ID), http.StatusOK, &before)

	ids := func(tok, q string) string {
		t.Helper()
		var l httpapi.TaskList
		e.ok(e.req(http.MethodGet, "/v1/tasks"+q, tok, nil), http.StatusOK, &l)
		var out []string
		for _, x := range l.Tasks {
			out = append(out, x.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids(shopA, ""); got != ta.ID {
		t.Fatalf("shop A lists %s, want %s", got, ta.ID)
	}
	if got := ids(buyerB, ""); got != tb.ID {
		t.Fatalf("buyer B lists %s, want %s", got, tb.ID)
	}
	if got := ids(shopA, "?state=awaiting_seller_reply"); got != ta.ID {
		t.Fatalf("shop A with a filter lists %s", got)
	}
	e.wantProblem(e.req(http.MethodGet, "/v1/tasks?shop_id=tm", shopA, nil), http.StatusForbidden, "viewer.scope", "", "shop_id")
	e.wantProblem(e.req(http.MethodGet, "/v1/tasks?buyer_id="+buyerOf("oa"), buyerB, nil), http.StatusForbidden, "viewer.scope", "", "buyer_id")
	e.wantProblem(e.req(http.MethodGet, "/v1/tasks?viewer=shop_main:tm_main", shopA, nil), http.StatusForbidden, "actor.mismatch", "", "viewer")

	// another tenant's task: 404 exactly like an unknown id
	// (the same bytes, in either language: neither the status nor the text
	// tells that the id exists)
	unknown := map[string][]byte{}
	for _, lang := range []string{"zh-CN", "en"} {
		r := e.req(http.MethodGet, "/v1/tasks/tsk_999999", shopA, nil, "Accept-Language", lang)
		e.wantProblem(r, http.StatusNotFound, "not_found", "", "id")
		unknown[lang] = r.Body
	}
	notFound := func(who, method, path string, body any, headers ...string) {
		t.Helper()
		for lang, want := range unknown {
			r := e.req(method, path, who, body, append(headers, "Accept-Language", lang)...)
			e.wantProblem(r, http.StatusNotFound, "not_found", "", "id")
			if !bytes.Equal(r.Body, want) {
				t.Fatalf("%s %s (%s) answers\n%s\nbut an unknown id answers\n%s", method, path, lang, r.Body, want)
			}
		}
	}
	notFound(shopA, http.MethodGet, "/v1/tasks/"+tb.ID, nil)
	notFound(buyerB, http.MethodGet, "/v1/tasks/"+ta.ID, nil)
	notFound(shopA, http.MethodPost, "/v1/tasks/"+tb.ID+"/actions", map[string]any{"action": "reply"})
	notFound(buyerB, http.MethodPost, "/v1/tasks/"+ta.ID+"/actions", map[string]any{"action": "accept_plan"})
	notFound(buyerB, http.MethodPost, "/v1/orders/oa/urge", map[string]any{})
	notFound(buyerB, http.MethodPost, "/v1/orders/oa/complaints", map[string]any{"kind": "shipping"})
	notFound(buyerB, http.MethodPost, "/v1/tasks", map[string]any{"type": "resend", "order_id": "oa"})
	notFound(shopA, http.MethodGet, "/v1/shops/tm/urged-orders", nil)
	notFound(shopA, http.MethodGet, "/v1/shops/tm/accounts", nil)
	notFound(shopA, http.MethodPut, "/v1/accounts/tm_s1/permissions/platform_task", nil)
	// the reads and writes of the other areas: another tenant's evidence,
	// files, claims, compensation, scorecard, points, shop questions and
	// subscriptions are 404 like unknown ones, and so are evidence given to,
	// and claims and withdrawals on, another tenant's task, order or complaint
	for _, tok := range []string{shopA, buyerA} {
		notFound(tok, http.MethodGet, "/v1/tasks/"+tb.ID+"/evidence", nil)
		notFound(tok, http.MethodGet, "/v1/attachments/"+attB.ID, nil)
		notFound(tok, http.MethodGet, "/v1/claims/"+clmB.ID, nil)
		notFound(tok, http.MethodPost, "/v1/tasks/"+tb.ID+"/evidence", map[string]any{"evidence": map[string]any{"description": "mine"}})
		notFound(tok, http.MethodPost, "/v1/tasks/"+tb.ID+"/actions", map[string]any{"action": "provide_evidence", "evidence": map[string]any{"description": "mine"}})
		notFound(tok, http.MethodPost, "/v1/tasks/"+tb.ID+"/attachments?name=x.png", png, "Content-Type", "application/octet-stream")
	}
	notFound(shopA, http.MethodGet, "/v1/tasks/tsk_999999/evidence", nil) // an unknown task: the same answer
	notFound(shopA, http.MethodGet, "/v1/attachments/att_999999", nil)
	notFound(shopA, http.MethodGet, "/v1/claims/clm_999999", nil)
	for _, read := range []string{"compensation", "scorecard", "points", "questions"} {
		notFound(shopA, http.MethodGet, "/v1/shops/tm/"+read, nil)
		notFound(shopA, http.MethodGet, "/v1/shops/nope/"+read, nil)
	}
	notFound(shopA, http.MethodPost, "/v1/accounts/tm_main/subscriptions", map[string]any{"topic": "ask_everyone", "on": true})
	notFound(buyerA, http.MethodPost, "/v1/orders/obc/claims", map[string]any{"kind": "designated_courier", "description": "x"})
	notFound(buyerA, http.MethodPost, "/v1/complaints/"+cmpB.ID+"/withdraw", map[string]any{"reason": "agreed"})
	// issue 12: every endpoint that takes an id answers another tenant's
	// object and an unknown one the same bytes even when the request would
	// meet a conflict or a validation refusal on the object (an open task
	// of the type, an unknown kind, a sub-account), so neither tells that
	// the object exists, nor what it holds
	for _, p := range []struct {
		who, method, path, unknown string
		body, unknownBody          any
	}{
		{buyerB, http.MethodPost, "/v1/tasks", "", map[string]any{"type": "return_refund", "order_id": "oa"}, map[string]any{"type": "return_refund", "order_id": "o_nope"}},
		{buyerB, http.MethodPost, "/v1/tasks", "", map[string]any{"type": "no_such_type", "order_id": "oa"}, map[string]any{"type": "no_such_type", "order_id": "o_nope"}},
		{buyerB, http.MethodPost, "/v1/orders/oa/urge", "/v1/orders/o_nope/urge", map[string]any{}, nil},
		{buyerB, http.MethodPost, "/v1/orders/oa/keep-contacting", "/v1/orders/o_nope/keep-contacting", map[string]any{}, nil},
		{buyerB, http.MethodPost, "/v1/orders/oa/complaints", "/v1/orders/o_nope/complaints", map[string]any{"kind": "invoice"}, nil},
		{buyerA, http.MethodPost, "/v1/orders/obc/claims", "/v1/orders/o_nope/claims", map[string]any{"kind": "time", "description": "late"}, nil},
		{buyerA, http.MethodPost, "/v1/orders/obc/claims", "/v1/orders/o_nope/claims", map[string]any{"kind": "designated_courier", "description": "  "}, nil},
		{buyerA, http.MethodPost, "/v1/complaints/" + cmpB.ID + "/withdraw", "/v1/complaints/cmp_nope/withdraw", map[string]any{"reason": "agreed"}, nil},
		{buyerA, http.MethodPost, "/v1/tasks/" + tb.ID + "/actions", "/v1/tasks/tsk_nope/actions", map[string]any{"action": "accept_plan"}, nil},
		{buyerA, http.MethodPost, "/v1/tasks/" + tb.ID + "/evidence", "/v1/tasks/tsk_nope/evidence",
			map[string]any{"evidence": map[string]any{"description": "mine", "attachments": []string{attB.ID, attB.ID}}}, nil},
		{shopA, http.MethodPost, "/v1/tasks/" + tb.ID + "/actions", "/v1/tasks/tsk_nope/actions", map[string]any{"action": "perform"}, nil},
		{shopA, http.MethodGet, "/v1/tasks/" + tb.ID + "/evidence", "/v1/tasks/tsk_nope/evidence", nil, nil},
		{shopA, http.MethodGet, "/v1/attachments/" + attB.ID, "/v1/attachments/att_nope", nil, nil},
		{shopA, http.MethodGet, "/v1/claims/" + clmB.ID, "/v1/claims/clm_nope", nil, nil},
		{shopA, http.MethodPost, "/v1/accounts/tm_s1/subscriptions", "/v1/accounts/nope/subscriptions", map[string]any{"topic": "ask_everyone", "on": true}, nil},
		{shopA, http.MethodPut, "/v1/accounts/tm_s1/permissions/platform_task", "/v1/accounts/nope/permissions/platform_task", nil, nil},
		{shopA, http.MethodDelete, "/v1/accounts/tm_s1/permissions/platform_task", "/v1/accounts/nope/permissions/platform_task", nil, nil},
		{shopA, http.MethodPut, "/v1/accounts/tm_s1/reminders", "/v1/accounts/nope/reminders", map[string]any{"on": false}, nil},
		{shopA, http.MethodGet, "/v1/shops/tm/accounts", "/v1/shops/nope/accounts", nil, nil},
		{shopA, http.MethodPost, "/v1/shops/tm/accounts", "/v1/shops/nope/accounts", map[string]any{"account_id": "tm_s1", "login": "dup.login", "password": testPassword}, nil},
	} {
		path, body := p.unknown, p.unknownBody
		if path == "" {
			path = p.path
		}
		if body == nil {
			body = p.body
		}
		notFound(p.who, p.method, p.path, p.body)
		notFound(p.who, p.method, path, body)
	}

	// and the console's pages and forms: the same status, problem and page
	// for another tenant's object as for an unknown id, in either language
	// (the page echoes the id the person typed, in its links: that is
	// replaced by a placeholder before comparing)
	type consoleAnswer struct {
		status        int
		kind, problem string
		body          string
	}
	consoleAsk := func(who, method, path, form, id, lang string) consoleAnswer {
		t.Helper()
		var body any
		hs := []string{"Accept-Language", lang}
		if method == http.MethodPost {
			body, hs = form, append(hs, "Content-Type", "application/x-www-form-urlencoded")
		}
		r := e.req(method, path+"?lang="+lang, who, body, hs...)
		return consoleAnswer{status: r.Status, kind: r.Header.Get("Content-Type"), problem: r.Header.Get("X-Console-Problem"),
			body: strings.ReplaceAll(string(r.Body), id, "{id}")}
	}
	for _, p := range []struct {
		who, method, form string
		path, id, unknown string // path has {id}: the other tenant's id, then the unknown one
	}{
		{shopA, http.MethodGet, "", "/console/tasks/{id}", tb.ID, "tsk_nope"},
		{buyerB, http.MethodGet, "", "/console/tasks/{id}", ta.ID, "tsk_nope"},
		{shopA, http.MethodGet, "", "/console/attachments/{id}", attB.ID, "att_nope"},
		{buyerA, http.MethodGet, "", "/console/attachments/{id}", attB.ID, "att_nope"},
		{shopA, http.MethodPost, "action=reply&text=hi", "/console/tasks/{id}/act", tb.ID, "tsk_nope"},
		{buyerA, http.MethodPost, "action=provide_evidence&evidence_description=x&attachments=" + attB.ID, "/console/tasks/{id}/act", tb.ID, "tsk_nope"},
		{shopA, http.MethodPost, "", "/console/tasks/{id}/attachments", tb.ID, "tsk_nope"},
		{shopA, http.MethodPost, "", "/console/tasks/{id}/invoice", tb.ID, "tsk_nope"},
		{buyerB, http.MethodPost, "", "/console/orders/{id}/urge", "oa", "o_nope"},
		{buyerB, http.MethodPost, "", "/console/orders/{id}/contact", "oa", "o_nope"},
		{buyerB, http.MethodPost, "type=return_refund", "/console/orders/{id}/open", "oa", "o_nope"},
		{buyerB, http.MethodPost, "type=no_such_type", "/console/orders/{id}/open", "oa", "o_nope"},
		{buyerB, http.MethodPost, "", "/console/orders/{id}/stall", "oa", "o_nope"},
		{buyerB, http.MethodPost, "", "/console/orders/{id}/chase", "oa", "o_nope"},
		{buyerB, http.MethodPost, "", "/console/orders/{id}/invoice", "oa", "o_nope"},
		{buyerA, http.MethodPost, "kind=designated_courier&description=x", "/console/orders/{id}/claim", "obc", "o_nope"},
		{buyerA, http.MethodPost, "kind=time&description=x", "/console/orders/{id}/claim", "obc", "o_nope"},
		{shopA, http.MethodPost, "grant=true", "/console/accounts/{id}/permission", "tm_s1", "nope"},
		{shopA, http.MethodPost, "on=false", "/console/accounts/{id}/reminders", "tm_s1", "nope"},
	} {
		for _, lang := range []string{"zh-CN", "en"} {
			other := consoleAsk(p.who, p.method, strings.ReplaceAll(p.path, "{id}", p.id), p.form, p.id, lang)
			unk := consoleAsk(p.who, p.method, strings.ReplaceAll(p.path, "{id}", p.unknown), p.form, p.unknown, lang)
			if other != unk {
				t.Errorf("%s %s (%s): another tenant's %s answers\n%d %s %q\n%s\nbut an unknown id answers\n%d %s %q\n%s", p.method, p.path, lang, p.id,
					other.status, other.kind, other.problem, other.body, unk.status, unk.kind, unk.problem, unk.body)
				continue
			}
			if other.status != http.StatusNotFound && other.problem != "not_found" { // an error page, or a form's page with the problem
				t.Errorf("%s %s (%s): %d %q, want not found\n%s", p.method, p.path, lang, other.status, other.problem, other.body)
			}
		}
	}

	// product questions are public: anyone reads them
	var ql questionListJSON
	e.ok(e.req(http.MethodGet, "/v1/products/p9/questions", shopA, nil), http.StatusOK, &ql)
	if len(ql.Questions) != 1 {
		t.Fatalf("product questions %+v", ql)
	}

	// nothing changed on shop B's side
	var d httpapi.TaskDetail
	e.ok(e.get("/v1/tasks/"+tb.ID), http.StatusOK, &d)
	if d.Task.State != task.AwaitingSellerReply || len(d.Events) != len(before.Events) {
		t.Fatalf("shop B's task changed: %+v, %d events (was %d)", d.Task, len(d.Events), len(before.Events))
	}
	var items evidenceListJSON
	e.ok(e.get("/v1/tasks/"+tb.ID+"/evidence"), http.StatusOK, &items)
	if len(items.Items) != 1 {
		t.Fatalf("shop B's evidence: %+v", items)
	}
	e.ok(e.get("/v1/claims/"+clmB.ID), http.StatusOK, &clmB)
	if clmB.Status != "open" {
		t.Fatalf("buyer B's claim: %+v", clmB)
	}
	var subscribed bool
	if err := e.st.View(t.Context(), func(tx store.ReadTx) (err error) {
		subscribed, err = tx.Subscribed(t.Context(), "tm_main", "ask_everyone")
		return err
	}); err != nil || subscribed {
		t.Fatalf("shop A subscribed shop B's main account: %v %v", subscribed, err)
	}

	// R-MSG-2 for signed-in people: the buyer never sees the shop's message
	// to the agent nor the agent's note; the shop sees its message, not the note
	e.ok(e.req(http.MethodPost, "/v1/tasks/"+ta.ID+"/actions", shopA, map[string]any{"action": "refuse", "text": "no"}), http.StatusOK, nil)
	e.ok(e.req(http.MethodPost, "/v1/tasks/"+ta.ID+"/actions", shopA, map[string]any{"action": "message_agent", "text": "for the agent"}), http.StatusOK, nil)
	e.ok(e.action(ta.ID, map[string]any{"action": "agent_note", "actor": actor("agent", "a1"), "text": "internal"}), http.StatusOK, nil)
	seen := func(tok string) string {
		var d httpapi.TaskDetail
		e.ok(e.req(http.MethodGet, "/v1/tasks/"+ta.ID, tok, nil), http.StatusOK, &d)
		var out []string
		for _, ev := range d.Events {
			out = append(out, ev.Action)
		}
		return strings.Join(out, ",")
	}
	if got := seen(buyerA); got != "create,refuse" {
		t.Fatalf("buyer sees %s", got)
	}
	if got := seen(shopA); got != "create,refuse,message_agent" {
		t.Fatalf("shop sees %s", got)
	}
	e.wantProblem(e.req(http.MethodGet, "/v1/tasks/"+ta.ID+"?viewer="+url.QueryEscape("agent:a1"), buyerA, nil), http.StatusForbidden, "actor.mismatch", "", "viewer")
}

// R-MSG-2 on every read path that returns events or evidence, for people
// signed in: the shop's refusal evidence (shop_agent), its message to the
// agent (shop_agent) and the agent's note and evidence (agent_only) never
// reach the buyer — not in the task's history, the task list, the evidence
// list, the file, nor the stream's Last-Event-ID replay; the shop sees its
// own but not the agent's; the agent sees all. The scorecard, whose
// takeover switches are shop_agent, is never a buyer's. (Webhooks with a
// public audience: TestWebhooks_R_MSG_2_PublicAudience.)
func TestVisibility_R_MSG_2_EveryReadPath(t *testing.T) {
	e := hubEnv(t, bj(t, "2023-08-01T10:00:00"))
	e.shop("tb", commerce.Taobao)
	tk := e.refundTask("return_refund", "o1", "damaged_in_transit")
	e.person("v.buyer", auth.RoleBuyer, buyerOf("o1"))
	e.person("v.shop", auth.RoleShopMain, "tb_main")
	e.person("v.agent", auth.RoleAgent, "a1")
	buyer, shop, agent := e.session("v.buyer").Token, e.session("v.shop").Token, e.session("v.agent").Token
	const shopSecret, msgSecret, noteSecret, agentEvidence = "SHOP-ONLY-PHOTO", "SHOP-TO-AGENT", "AGENT-NOTE", "AGENT-EVIDENCE"

	var shopAtt task.Attachment
	e.ok(e.req(http.MethodPost, "/v1/tasks/"+tk.ID+"/attachments?name=seal.png", shop, png, "Content-Type", "application/octet-stream"), http.StatusCreated, &shopAtt)
	e.ok(e.req(http.MethodPost, "/v1/tasks/"+tk.ID+"/actions", shop, map[string]any{"action": "refuse", "text": "sent intact",
		"evidence": map[string]any{"description": shopSecret, "attachments": []string{shopAtt.ID}, "visibility": "shop_agent"}}), http.StatusOK, nil)
	e.ok(e.req(http.MethodPost, "/v1/tasks/"+tk.ID+"/actions", shop, map[string]any{"action": "message_agent", "text": msgSecret}), http.StatusOK, nil)
	e.ok(e.req(http.MethodPost, "/v1/tasks/"+tk.ID+"/actions", agent, map[string]any{"action": "agent_note", "text": noteSecret}), http.StatusOK, nil)
	e.ok(e.req(http.MethodPost, "/v1/tasks/"+tk.ID+"/evidence", agent, map[string]any{"evidence": map[string]any{"description": agentEvidence}}), http.StatusOK, nil)
	e.ok(e.req(http.MethodPost, "/v1/tasks/"+tk.ID+"/evidence", buyer, map[string]any{"evidence": map[string]any{"description": "box crushed"}}), http.StatusOK, nil)

	// what each read path answers each person, as text
	reads := func(tok string) map[string]string {
		out := map[string]string{}
		for name, path := range map[string]string{"task": "/v1/tasks/" + tk.ID, "list": "/v1/tasks", "evidence": "/v1/tasks/" + tk.ID + "/evidence"} {
			r := e.req(http.MethodGet, path, tok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", path, r.Status, r.Body)
			}
			out[name] = string(r.Body)
		}
		var evs []string
		for _, ev := range e.openSSE("/v1/stream", "Authorization", "Bearer "+tok, "Last-Event-ID", "0-0").drain(300 * time.Millisecond) {
			evs = append(evs, string(ev.Data))
		}
		out["stream replay"] = strings.Join(evs, "\n")
		return out
	}
	want := map[string]map[string]bool{ // who sees which secret
		"buyer": {},
		"shop":  {shopSecret: true, msgSecret: true},
		"agent": {shopSecret: true, msgSecret: true, noteSecret: true, agentEvidence: true},
	}
	for who, tok := range map[string]string{"buyer": buyer, "shop": shop, "agent": agent} {
		got := reads(tok)
		for _, secret := range []string{shopSecret, msgSecret, noteSecret, agentEvidence} {
			seen := false
			for _, path := range []string{"task", "evidence", "stream replay"} {
				seen = seen || strings.Contains(got[path], secret)
			}
			if seen != want[who][secret] {
				t.Errorf("%s sees %s: %v, want %v", who, secret, seen, want[who][secret])
			}
			if strings.Contains(got["list"], secret) {
				t.Errorf("the task list shows %s to %s", secret, who)
			}
		}
		if who != "buyer" {
			continue
		}
		var d httpapi.TaskDetail
		json.Unmarshal([]byte(got["task"]), &d)
		var items evidenceListJSON
		json.Unmarshal([]byte(got["evidence"]), &items)
		if len(d.Events) == 0 || len(items.Items) != 1 {
			t.Fatalf("the buyer's reads: %d events, %d items", len(d.Events), len(items.Items))
		}
		for _, ev := range d.Events {
			if ev.Visibility != task.Public {
				t.Errorf("the buyer's history has a %s event %s", ev.Visibility, ev.Action)
			}
		}
		if strings.Count(got["stream replay"], `"action":"provide_evidence"`) != 1 || strings.Contains(got["stream replay"], `"visibility":"shop_agent"`) ||
			strings.Contains(got["stream replay"], `"visibility":"agent_only"`) {
			t.Errorf("the buyer's stream replay: %s", got["stream replay"])
		}
	}
	// the shop's file: 404 to the buyer (as an unknown one), served to the shop and the agent
	e.wantProblem(e.req(http.MethodGet, "/v1/attachments/"+shopAtt.ID, buyer, nil), http.StatusNotFound, "not_found", "", "id")
	for _, tok := range []string{shop, agent} {
		if r := e.req(http.MethodGet, "/v1/attachments/"+shopAtt.ID, tok, nil); r.Status != http.StatusOK || string(r.Body) != png {
			t.Errorf("the shop's file: %d", r.Status)
		}
	}
	// the scorecard's takeover switches are shop_agent: never a buyer's
	e.wantProblem(e.req(http.MethodGet, "/v1/shops/tb/scorecard", buyer, nil), http.StatusForbidden, "permission.denied", "", "")
	e.wantProblem(e.get("/v1/shops/tb/scorecard?viewer=buyer:"+buyerOf("o1")), http.StatusForbidden, "not_your_shop", "", "viewer")
	e.ok(e.req(http.MethodGet, "/v1/shops/tb/scorecard", shop, nil), http.StatusOK, nil)
}

// R-NTF-2 with sessions: a sub-account's browser session holding GET
// /v1/stream (the cookie alone, no key, no X-Actor) makes it online, and
// it gets the card of a new return_refund task; a sub-account without the
// permission is online too but gets no card; when its last stream closes
// it goes offline after the grace period. A person's stream is their own:
// X-Actor or ?actor= naming someone else is refused, naming oneself is fine.
func TestStream_R_NTF_2_SessionIsOnline(t *testing.T) {
	e := hubEnv(t, bj(t, "2023-08-01T10:00:00"))
	e.shop("tm", commerce.Tmall, subAcc("s1", true), subAcc("s3", false))
	e.order("tm", "o1", e.clock.Now().Add(48*time.Hour))
	e.person("s1.login", auth.RoleShopSub, "s1")
	e.person("s3.login", auth.RoleShopSub, "s3")
	s1, s3 := e.session("s1.login").Token, e.session("s3.login").Token
	if e.online("s1") || e.online("s3") {
		t.Fatal("online before any stream")
	}
	e.wantProblem(e.peek(http.MethodGet, "/v1/stream", s1, "X-Actor", "shop_sub:s3"), http.StatusForbidden, "actor.mismatch", "", "X-Actor")
	e.wantProblem(e.peek(http.MethodGet, "/v1/stream?actor=shop_main:tm_main", s1), http.StatusForbidden, "actor.mismatch", "", "actor")
	if e.online("s3") {
		t.Fatal("a refused stream made s3 online")
	}
	c1 := e.openSSE("/v1/stream", "Cookie", httpapi.SessionCookie+"="+s1) // a browser's EventSource
	c3 := e.openSSE("/v1/stream?actor=shop_sub:s3", "Authorization", "Bearer "+s3)
	if !e.online("s1") || !e.online("s3") {
		t.Fatalf("online while holding a stream: s1 %v, s3 %v", e.online("s1"), e.online("s3"))
	}
	tk := e.createTask("return_refund", "o1")
	if ev := c1.next("card"); field(t, ev, "task_id") != tk.ID || field(t, ev, "recipient") != "s1" || field(t, ev, "rule") != "R-NTF-2" {
		t.Fatalf("s1's card: %s", ev.Data)
	}
	c3.none("card", 300*time.Millisecond)
	c1.close()
	e.waitOnline("s1", false)
	c3.close()
	e.waitOnline("s3", false)
}

// policyFile is a version file starting in 2099, with an id per credential
// so that each allowed load is a new version.
func policyFile(cred string) any {
	id := strings.NewReplacer(" ", "-", "+", "plus").Replace(cred)
	return map[string]any{"source": "platform: tmall\nversions:\n  - id: tmall/matrix-" + id +
		"\n    effective_from: 2099-01-01T00:00:00+08:00\n    rules:\n      logistics: {stall_after: 60h}\n"}
}
