package engine_test

import (
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/scorecard"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

func urge(env *testkit.Env, orderID string) (engine.UrgeResult, error) {
	return env.Engine.Urge(env.Ctx, buyer(buyerOf(orderID)), orderID)
}

func mustUrge(env *testkit.Env, orderID, want string) engine.UrgeResult {
	env.T.Helper()
	res, err := urge(env, orderID)
	if err != nil {
		env.T.Fatalf("urge %s: %v", orderID, err)
	}
	if res.Outcome != want {
		env.T.Fatalf("urge %s: %s, want %s", orderID, res.Outcome, want)
	}
	return res
}

// R-URG-1: an urge after the shipping deadline creates a task (24 h, R-SLA-1);
// at exactly the deadline it only marks the order (R-URG-3).
func TestUrge_R_URG_1_AfterDeadlineCreatesTask(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T08:00:00"))
	addShop(env, "tb", commerce.Taobao)
	shipBy := bj(t, "2023-08-01T10:00:00")
	addOrderShipBy(env, "tb", "o1", shipBy)

	env.AdvanceTo(shipBy)
	mustUrge(env, "o1", "marked")
	if n := len(env.Tasks(store.TaskFilter{OrderID: "o1"})); n != 0 {
		t.Fatalf("%d tasks at exactly ship_by, want 0", n)
	}

	env.AdvanceTo(shipBy.Add(time.Second))
	res := mustUrge(env, "o1", "task_created")
	tk := env.Task(res.Task.ID)
	if tk.Type != task.UrgeShipment || tk.State != task.AwaitingSellerReply || tk.BuyerID != buyerOf("o1") || tk.ShopID != "tb" {
		t.Fatalf("task %+v", tk)
	}
	if tk.DueAt == nil || !tk.DueAt.Equal(shipBy.Add(time.Second+24*time.Hour)) {
		t.Fatalf("due %v, want 24 h after creation", tk.DueAt)
	}
	if ev := env.Events(tk.ID)[0]; ev.Rule != "R-URG-1" || ev.Actor != buyer(buyerOf("o1")) {
		t.Fatalf("create event %+v", ev)
	}
	// a second urge does not open a second task
	_, err := urge(env, "o1")
	wantErr(t, err, apperr.ECONFLICT, "task.open_exists", "", "")
}

// R-URG-1: nothing to urge on a shipped or fully refunded order; only the order's buyer urges.
func TestUrge_R_URG_1_Refusals(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T08:00:00"))
	addShop(env, "tb", commerce.Taobao)
	addOrder(env, "tb", "o1")
	addOrder(env, "tb", "o2")
	addOrder(env, "tb", "o3")
	env.MustIngest(shipFact("ship1", "o1", env.Clock.Now()), refundFact("rf2", "o2", 10000, env.Clock.Now()))
	_, err := urge(env, "o1")
	wantErr(t, err, apperr.ECONFLICT, "order.shipped", "", "R-URG-1")
	_, err = urge(env, "o2")
	wantErr(t, err, apperr.ECONFLICT, "order.refunded", "", "R-URG-1")
	_, err = env.Engine.Urge(env.Ctx, buyer("someone_else"), "o3")
	wantErr(t, err, apperr.EFORBIDDEN, "not_your_order", "", "R-URG-1")
	_, err = env.Engine.Urge(env.Ctx, buyer("b"), "nope")
	wantErr(t, err, apperr.ENOTFOUND, "", "order_id", "")
	if n := len(env.Tasks(store.TaskFilter{})); n != 0 {
		t.Fatalf("%d tasks, want 0", n)
	}
}

// wantExempt asserts an urge is refused under R-URG-2 with reason, and changes nothing.
func wantExempt(t *testing.T, env *testkit.Env, orderID, reason string) {
	t.Helper()
	before := snapshot(env, orderID)
	_, err := urge(env, orderID)
	wantErr(t, err, apperr.ECONFLICT, reason, "", "R-URG-2")
	sameWorld(t, before, snapshot(env, orderID))
}

// exemptRegionPolicy is the Taobao default with an exempt-region window for
// "xinjiang" from 2023-08-01 00:00 until 2023-08-10 00:00 (+08:00).
const exemptRegions = `exempt_regions:
          - region: xinjiang
            from: 2023-08-01T00:00:00+08:00
            until: 2023-08-10T00:00:00+08:00`

// R-URG-2 (1): a buyer address in an exempt region, at a time its window is open.
func TestUrge_R_URG_2_ExemptBuyerRegion(t *testing.T) {
	reg := modifiedRegistry(t, commerce.Taobao, "exempt_regions: []", exemptRegions)
	env := newEnvWith(t, reg, bj(t, "2023-07-31T20:00:00"))
	addShop(env, "tb", commerce.Taobao)
	inXJ := func(o *commerce.Order) { o.BuyerRegion = "xinjiang" }
	shipBy := bj(t, "2023-07-31T21:00:00")
	for _, id := range []string{"before", "start", "inside", "end", "other"} {
		if id == "other" {
			addOrderShipBy(env, "tb", id, shipBy)
		} else {
			addOrderShipBy(env, "tb", id, shipBy, inXJ)
		}
	}
	env.AdvanceTo(bj(t, "2023-07-31T23:59:59"))
	mustUrge(env, "before", "task_created") // window not yet open
	env.AdvanceTo(bj(t, "2023-08-01T00:00:00"))
	wantExempt(t, env, "start", "urge.exempt.region") // from is inclusive
	mustUrge(env, "other", "task_created")            // buyer elsewhere
	env.AdvanceTo(bj(t, "2023-08-09T23:59:59"))
	wantExempt(t, env, "inside", "urge.exempt.region")
	env.AdvanceTo(bj(t, "2023-08-10T00:00:00"))
	mustUrge(env, "end", "task_created") // until is exclusive
}

// R-URG-2 (1): the shop's default ship-from address in an exempt region.
func TestUrge_R_URG_2_ExemptShipFromRegion(t *testing.T) {
	reg := modifiedRegistry(t, commerce.Taobao, "exempt_regions: []", exemptRegions)
	env := newEnvWith(t, reg, bj(t, "2023-08-02T09:00:00"))
	f := testkit.ShopFact("xj", commerce.Taobao)
	f.Shop.ShipFromRegion = "xinjiang"
	env.MustIngest(f)
	addShop(env, "zj", commerce.Taobao)
	addOrder(env, "xj", "o1")
	addOrder(env, "zj", "o2")
	wantExempt(t, env, "o1", "urge.exempt.region")
	mustUrge(env, "o2", "task_created")
	// the default policy has no exempt region: the same order gets a task
	env2 := newEnv(t, bj(t, "2023-08-02T09:00:00"))
	env2.MustIngest(f)
	addOrder(env2, "xj", "o1")
	mustUrge(env2, "o1", "task_created")
}

// R-URG-2 (2): an approved delay report whose reported ship time has not
// passed; not when unapproved, nor after the reported time.
func TestUrge_R_URG_2_DelayReport(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T08:00:00"))
	addShop(env, "tb", commerce.Taobao)
	shipBy := bj(t, "2023-08-01T09:00:00")
	reported := bj(t, "2023-08-03T12:00:00")
	for _, id := range []string{"approved", "unapproved", "passed"} {
		addOrderShipBy(env, "tb", id, shipBy)
		env.MustIngest(commerce.Fact{ID: "dr-" + id, Type: commerce.FactDelayReport,
			DelayReport: &commerce.DelayReportFact{OrderID: id, ReportedShipBy: reported, Approved: id != "unapproved"}})
	}
	env.AdvanceTo(bj(t, "2023-08-02T10:00:00"))
	wantExempt(t, env, "approved", "urge.exempt.delay_report")
	mustUrge(env, "unapproved", "task_created")
	env.AdvanceTo(reported)
	wantExempt(t, env, "approved", "urge.exempt.delay_report") // reported time not passed yet
	env.AdvanceTo(reported.Add(time.Second))
	mustUrge(env, "passed", "task_created")
}

// R-URG-2 (3): custom-made and virtual category items, each on its own.
func TestUrge_R_URG_2_Category(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T08:00:00"))
	addShop(env, "tb", commerce.Taobao)
	shipBy := bj(t, "2023-08-01T09:00:00")
	addOrderShipBy(env, "tb", "custom", shipBy, func(o *commerce.Order) {
		o.Items = append(o.Items, commerce.Item{SKU: "ENGRAVED", Custom: true})
	})
	addOrderShipBy(env, "tb", "virtual", shipBy, func(o *commerce.Order) {
		o.Items = []commerce.Item{{SKU: "CARD", Virtual: true}}
	})
	addOrderShipBy(env, "tb", "plain", shipBy)
	env.AdvanceTo(shipBy.Add(time.Second))
	wantExempt(t, env, "custom", "urge.exempt.category")
	wantExempt(t, env, "virtual", "urge.exempt.category")
	mustUrge(env, "plain", "task_created")
}

// R-URG-2 (4): until 2023-07-15 00:00 +08:00 an order without a complaint gets no
// task; with a complaint it does; from that time the switch is off.
func TestUrge_R_URG_2_NoComplaintSwitch(t *testing.T) {
	env := newEnv(t, bj(t, "2023-07-14T20:00:00"))
	addShop(env, "tb", commerce.Taobao)
	shipBy := bj(t, "2023-07-14T21:00:00")
	for _, id := range []string{"a", "b", "c"} {
		addOrderShipBy(env, "tb", id, shipBy)
	}
	env.AdvanceTo(bj(t, "2023-07-14T23:59:59"))
	wantExempt(t, env, "a", "urge.exempt.no_complaint")
	if _, err := env.Engine.FileComplaint(env.Ctx, buyer(buyerOf("b")), "b", judgment.ComplaintShipping); err != nil {
		t.Fatal(err)
	}
	mustUrge(env, "b", "task_created")
	env.AdvanceTo(bj(t, "2023-07-15T00:00:00"))
	mustUrge(env, "a", "task_created")
	mustUrge(env, "c", "task_created")
}

// R-URG-2 (5): staged and full-payment presale orders get no task until
// 2023-07-15 00:00 +08:00, and do from then.
func TestUrge_R_URG_2_PresaleSwitch(t *testing.T) {
	env := newEnv(t, bj(t, "2023-07-14T20:00:00"))
	addShop(env, "tm", commerce.Tmall)
	shipBy := bj(t, "2023-07-14T21:00:00")
	kinds := map[string]commerce.PresaleKind{"staged1": commerce.PresaleStaged, "full1": commerce.PresaleFull,
		"staged2": commerce.PresaleStaged, "full2": commerce.PresaleFull, "plain": commerce.PresaleNone}
	for _, id := range []string{"staged1", "full1", "staged2", "full2", "plain"} {
		k := kinds[id]
		addOrderShipBy(env, "tm", id, shipBy, func(o *commerce.Order) { o.Presale = k })
		// a complaint, so that exemption (4) is not what refuses
		if _, err := env.Engine.FileComplaint(env.Ctx, buyer(buyerOf(id)), id, judgment.ComplaintShipping); err != nil {
			t.Fatal(err)
		}
	}
	env.AdvanceTo(bj(t, "2023-07-14T23:59:59"))
	wantExempt(t, env, "staged1", "urge.exempt.presale")
	wantExempt(t, env, "full1", "urge.exempt.presale")
	mustUrge(env, "plain", "task_created")
	env.AdvanceTo(bj(t, "2023-07-15T00:00:00"))
	mustUrge(env, "staged2", "task_created")
	mustUrge(env, "full2", "task_created")
}

// R-URG-3: an urge within the shipping deadline creates no task; the order is
// marked "urged" and listed under the shop's urged orders until it ships.
func TestUrge_R_URG_3_WithinDeadlineMarks(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T08:00:00"))
	addShop(env, "tb", commerce.Taobao)
	addShop(env, "other", commerce.Taobao)
	shipBy := bj(t, "2023-08-02T10:00:00")
	addOrderShipBy(env, "tb", "o1", shipBy)
	addOrderShipBy(env, "tb", "o2", shipBy)
	env.Advance(time.Hour)
	mustUrge(env, "o1", "marked")
	o := env.Order("o1")
	if o.UrgedAt == nil || !o.UrgedAt.Equal(env.Clock.Now()) || o.UrgeCount != 1 {
		t.Fatalf("order not marked: %+v", o)
	}
	env.Advance(time.Hour)
	mustUrge(env, "o1", "marked")
	if o := env.Order("o1"); o.UrgeCount != 2 {
		t.Fatalf("urge count %d, want 2", o.UrgeCount)
	}
	urged := urgedOrders(env, "tb")
	if len(urged) != 1 || urged[0].ID != "o1" {
		t.Fatalf("urged orders %+v, want [o1]", urged)
	}
	if n := len(urgedOrders(env, "other")); n != 0 {
		t.Fatalf("other shop lists %d urged orders", n)
	}
	if n := len(env.Tasks(store.TaskFilter{})); n != 0 {
		t.Fatalf("%d tasks, want 0", n)
	}
	evs := env.Events("o1")
	if last := evs[len(evs)-1]; last.Action != "urged" || last.Rule != "R-URG-3" {
		t.Fatalf("order event %+v", last)
	}
	env.MustIngest(shipFact("ship1", "o1", env.Clock.Now()))
	if n := len(urgedOrders(env, "tb")); n != 0 {
		t.Fatalf("a shipped order is still listed as urged")
	}
}

// R-URG-4: after an urge within the deadline, "keep contacting the seller"
// sends the seller a chat card; the reply time counts in the shop's
// per-business-day response-time counters.
func TestUrge_R_URG_4_KeepContacting(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T22:00:00"))
	addShop(env, "tb", commerce.Taobao)
	addOrderShipBy(env, "tb", "o1", bj(t, "2023-08-03T10:00:00"))

	err := env.Engine.KeepContacting(env.Ctx, buyer(buyerOf("o1")), "o1")
	wantErr(t, err, apperr.ECONFLICT, "order.not_urged", "", "R-URG-4")
	if n := len(outboxOf(env, notify.KindChatCard)); n != 0 {
		t.Fatalf("%d chat cards before any urge", n)
	}

	env.AdvanceTo(bj(t, "2023-08-01T23:40:00"))
	mustUrge(env, "o1", "marked")
	err = env.Engine.KeepContacting(env.Ctx, buyer("intruder"), "o1")
	wantErr(t, err, apperr.EFORBIDDEN, "not_your_order", "", "R-URG-4")
	if err := env.Engine.KeepContacting(env.Ctx, buyer(buyerOf("o1")), "o1"); err != nil {
		t.Fatal(err)
	}
	cards := outboxOf(env, notify.KindChatCard)
	if len(cards) != 1 || cards[0].Recipient != "tb_main" || cards[0].OrderID != "o1" || cards[0].Rule != "R-URG-4" || cards[0].Status != notify.Pending {
		t.Fatalf("chat cards %+v", cards)
	}
	// the seller answers 30 minutes later, after Beijing midnight (UTC still 08-01)
	env.Advance(30 * time.Minute)
	env.MustIngest(commerce.Fact{ID: "reply1", Type: commerce.FactChatReply, ChatReply: &commerce.ChatReplyFact{OrderID: "o1"}})
	if ms := counter(env, scorecard.CounterKey("tb", "2023-08-02", scorecard.MetricResponseMS)); ms != (30 * time.Minute).Milliseconds() {
		t.Fatalf("response ms %d, want %d", ms, (30 * time.Minute).Milliseconds())
	}
	if n := counter(env, scorecard.CounterKey("tb", "2023-08-02", scorecard.MetricResponses)); n != 1 {
		t.Fatalf("response count %d, want 1", n)
	}
	if n := counter(env, scorecard.CounterKey("tb", "2023-08-01", scorecard.MetricResponses)); n != 0 {
		t.Fatalf("counted on the UTC day")
	}
	// no card waiting: a second reply is refused and counts nothing
	res := env.Ingest(commerce.Fact{ID: "reply2", Type: commerce.FactChatReply, ChatReply: &commerce.ChatReplyFact{OrderID: "o1"}})
	if res[0].Status != engine.FactRefused || res[0].Error.Reason != "chat_reply.no_card" {
		t.Fatalf("second reply: %+v", res[0])
	}
	if n := counter(env, scorecard.CounterKey("tb", "2023-08-02", scorecard.MetricResponses)); n != 1 {
		t.Fatalf("response count %d after a refused reply", n)
	}
	if n := len(env.Tasks(store.TaskFilter{})); n != 0 {
		t.Fatalf("keep contacting created %d tasks", n)
	}
}

// R-URG-5: the seller works the new task from the task centre's "awaiting
// seller reply" list of its shop.
func TestUrge_R_URG_5_AwaitingReplyList(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T08:00:00"))
	addShop(env, "tb", commerce.Taobao)
	addShop(env, "other", commerce.Taobao)
	addOrder(env, "tb", "o1")
	addOrder(env, "other", "o2")
	res := mustUrge(env, "o1", "task_created")
	mustUrge(env, "o2", "task_created")
	list := env.Tasks(store.TaskFilter{ShopID: "tb", State: task.AwaitingSellerReply})
	if len(list) != 1 || list[0].ID != res.Task.ID {
		t.Fatalf("awaiting_seller_reply list of tb: %+v", list)
	}
	act(env, task.Command{Action: task.ActReply, Actor: shopMain("tb_main"), TaskID: res.Task.ID})
	if n := len(env.Tasks(store.TaskFilter{ShopID: "tb", State: task.AwaitingSellerReply})); n != 0 {
		t.Fatalf("replied task still listed as awaiting reply")
	}
	if list := env.Tasks(store.TaskFilter{ShopID: "tb", State: task.AwaitingSellerAction}); len(list) != 1 || list[0].ID != res.Task.ID {
		t.Fatalf("awaiting_seller_action list: %+v", list)
	}
}
