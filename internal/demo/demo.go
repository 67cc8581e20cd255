// Package demo fills an empty store with a small marketplace, so that a new
// user of `aftersale serve --demo` sees tasks at once: three shops (one per
// platform) with main and sub-accounts, buyers, agents and an operator who
// can sign in, orders, and tasks of several types in every state, with
// complaints, a judgment that cost points, a promise claim and product
// questions.
//
// Everything goes through the engine's write path — facts and commands, as
// the marketplace and its people would send them — on a manual clock that
// starts a few days before now and is moved forward step by step with
// engine.AdvanceTo, so every timer on the way fires at its own due time.
// When seeding ends the clock is at now: some tasks are due within hours,
// others went past their deadline and were escalated.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// Password is the password of every demo login. It is printed at start and
// documented: the demo is for trying the product, never for a deployment.
const Password = "aftersale-demo"

// Login is one demo person.
type Login struct {
	Login   string    `json:"login"`
	Role    auth.Role `json:"role"`
	Subject string    `json:"subject_id"`
	Name    string    `json:"name"`
}

// Logins are the demo's people, in the order they are printed.
var Logins = []Login{
	{"operator", auth.RoleOperator, "", "运营 Operator"},
	{"agent.li", auth.RoleAgent, "a_li", "小二 李"},
	{"agent.wang", auth.RoleAgent, "a_wang", "小二 王"},
	{"tb.main", auth.RoleShopMain, "tb_main", "淘宝店 主账号"},
	{"tb.cs1", auth.RoleShopSub, "tb_cs1", "淘宝店 客服 (platform_task)"},
	{"tb.intern", auth.RoleShopSub, "tb_intern", "淘宝店 实习 (no platform_task)"},
	{"tm.main", auth.RoleShopMain, "tm_main", "天猫店 主账号"},
	{"tm.cs1", auth.RoleShopSub, "tm_cs1", "天猫店 客服 (platform_task)"},
	{"tm.temp", auth.RoleShopSub, "tm_temp", "天猫店 临时 (no platform_task)"},
	{"tt.main", auth.RoleShopMain, "tt_main", "淘特店 主账号"},
	{"tt.cs1", auth.RoleShopSub, "tt_cs1", "淘特店 客服 (platform_task)"},
	{"buyer.1", auth.RoleBuyer, "b1", "买家 1"},
	{"buyer.2", auth.RoleBuyer, "b2", "买家 2"},
	{"buyer.3", auth.RoleBuyer, "b3", "买家 3"},
	{"buyer.4", auth.RoleBuyer, "b4", "买家 4"},
	{"buyer.5", auth.RoleBuyer, "b5", "买家 5"},
	{"buyer.6", auth.RoleBuyer, "b6", "买家 6"},
	{"buyer.7", auth.RoleBuyer, "b7", "买家 7"},
	{"buyer.8", auth.RoleBuyer, "b8", "买家 8"},
	{"buyer.9", auth.RoleBuyer, "b9", "买家 9"},
}

// Shop ids of the demo.
const (
	ShopTaobao = "tb_demo"
	ShopTmall  = "tm_demo"
	ShopTaote  = "tt_demo"
)

// Config is what Seed needs.
type Config struct {
	Store  store.Store
	Policy *policy.Registry // default: the embedded policy
	// Now is where the clock ends (default: the real now).
	Now time.Time
	// Hash is the argon2id cost of the demo passwords (default auth.DefaultParams).
	Hash   auth.Params
	Logger *slog.Logger
}

// Result says what Seed did.
type Result struct {
	// Seeded is false when the store was not empty (nothing was written).
	Seeded bool
	// Why says why not, when Seeded is false.
	Why string
	// Facts, Tasks, People count what was made.
	Facts, Tasks, People int
	// Fired counts timers that fired while the clock moved to now.
	Fired int
}

// Empty reports whether the store holds nothing a demo would collide with:
// no task, no event, no outbox message, no person and none of the demo shops.
func Empty(ctx context.Context, st store.Store) (bool, string, error) {
	why := ""
	err := st.View(ctx, func(tx store.ReadTx) error {
		counts, err := tx.CountTasks(ctx, "")
		if err != nil {
			return err
		}
		n := 0
		for _, c := range counts {
			n += c
		}
		if n > 0 {
			why = fmt.Sprintf("it holds %d tasks", n)
			return nil
		}
		out, evs, err := tx.LatestSeqs(ctx)
		if err != nil {
			return err
		}
		if out > 0 || evs > 0 {
			why = "it holds events or outbox messages"
			return nil
		}
		people, err := tx.People(ctx, "")
		if err != nil {
			return err
		}
		if len(people) > 0 {
			why = fmt.Sprintf("it holds %d people", len(people))
			return nil
		}
		for _, id := range []string{ShopTaobao, ShopTmall, ShopTaote} {
			_, err := tx.Shop(ctx, id)
			if err == nil {
				why = "it holds shop " + id
				return nil
			}
			if apperr.CodeOf(err) != apperr.ENOTFOUND {
				return err
			}
		}
		return nil
	})
	return why == "", why, err
}

// Seed fills an empty store with the demo marketplace; on a store that is
// not empty it writes nothing and says why in the result.
func Seed(ctx context.Context, c Config) (Result, error) {
	if c.Policy == nil {
		reg, err := policy.Default()
		if err != nil {
			return Result{}, err
		}
		c.Policy = reg
	}
	if c.Now.IsZero() {
		c.Now = clock.Real{}.Now()
	}
	if c.Hash == (auth.Params{}) {
		c.Hash = auth.DefaultParams
	}
	empty, why, err := Empty(ctx, c.Store)
	if err != nil {
		return Result{}, err
	}
	if !empty {
		return Result{Why: why}, nil
	}
	end := c.Now.UTC().Truncate(time.Second)
	clk := clock.NewManual(end.Add(-start))
	s := &seeder{ctx: ctx, clk: clk, end: end, hash: c.Hash,
		eng: engine.New(engine.Config{Store: c.Store, Policy: c.Policy, Clock: clk, Logger: c.Logger})}
	if err := s.run(); err != nil {
		return s.res, err
	}
	s.res.Seeded = true
	return s.res, nil
}

// start is how long before now the demo's history begins.
const start = 5 * 24 * time.Hour

type seeder struct {
	ctx  context.Context
	eng  *engine.Engine
	clk  *clock.Manual
	end  time.Time
	hash auth.Params
	res  Result
	n    int
}

// to moves the clock to end-ago (never back), firing the timers on the way.
func (s *seeder) to(ago time.Duration) error {
	t := s.end.Add(-ago)
	if !t.After(s.clk.Now()) {
		return nil
	}
	r, err := s.eng.AdvanceTo(s.ctx, s.clk, t)
	s.res.Fired += r.Fired
	return err
}

func (s *seeder) facts(fs ...commerce.Fact) error {
	for i := range fs {
		s.n++
		fs[i].ID = fmt.Sprintf("demo-%04d-%s", s.n, fs[i].Type)
		fs[i].At = s.clk.Now()
	}
	rs, err := s.eng.Ingest(s.ctx, fs)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Status != engine.FactAccepted {
			return fmt.Errorf("demo fact %s: %s %v", r.ID, r.Status, r.Error)
		}
	}
	s.res.Facts += len(fs)
	return nil
}

func (s *seeder) open(typ task.Type, actor task.Actor, orderID string, details map[string]string, refund *task.RefundRequest) (string, error) {
	t, err := s.eng.CreateTask(s.ctx, task.Command{Action: task.ActCreate, Type: typ, Actor: actor, OrderID: orderID, Details: details, Refund: refund})
	if err != nil {
		return "", fmt.Errorf("open %s on %s: %w", typ, orderID, err)
	}
	s.res.Tasks++
	return t.ID, nil
}

func (s *seeder) urge(buyer, orderID string) (string, error) {
	r, err := s.eng.Urge(s.ctx, actor(task.RoleBuyer, buyer), orderID)
	if err != nil {
		return "", fmt.Errorf("urge %s: %w", orderID, err)
	}
	if r.Task == nil {
		return "", nil
	}
	s.res.Tasks++
	return r.Task.ID, nil
}

func (s *seeder) act(taskID string, cmd task.Command) error {
	cmd.TaskID = taskID
	if _, err := s.eng.Act(s.ctx, cmd); err != nil {
		return fmt.Errorf("%s on %s: %w", cmd.Action, taskID, err)
	}
	return nil
}

func actor(r task.Role, id string) task.Actor { return task.Actor{Role: r, ID: id} }

var (
	opKey  = actor("operator", "demo")
	agent1 = actor(task.RoleAgent, "a_li")
	agent2 = actor(task.RoleAgent, "a_wang")
)

func order(id, shop, buyer string, paidAgo, shipWithin time.Duration, end time.Time, sku, product string, fen int64) commerce.Fact {
	paid := end.Add(-paidAgo)
	return commerce.Fact{Type: commerce.FactOrder, Order: &commerce.Order{ID: id, ShopID: shop, BuyerID: buyer, BuyerRegion: "beijing",
		Items: []commerce.Item{{SKU: sku, Category: "apparel", ProductID: product}}, PaidFen: fen, PaidAt: paid, ShipBy: paid.Add(shipWithin)}}
}

func shipment(orderID, no string) commerce.Fact {
	return commerce.Fact{Type: commerce.FactShipment, Shipment: &commerce.ShipmentFact{OrderID: orderID, Carrier: "ZTO", TrackingNo: no}}
}

func tracking(orderID, status string) commerce.Fact {
	f := commerce.Fact{Type: commerce.FactTracking, Tracking: &commerce.TrackingFact{OrderID: orderID, Status: status, Location: "Beijing hub"}}
	if status == commerce.TrackingSigned {
		f.Tracking.SignedRegion = "beijing"
	}
	return f
}

const h = time.Hour

// run is the demo's history; each step reads as the marketplace's day.
func (s *seeder) run() error {
	e := s.end
	steps := []func() error{
		s.setup,
		// 5 days ago: orders are paid.
		func() error {
			return s.facts(
				order("tb-1001", ShopTaobao, "b1", 120*h, 48*h, e, "TEE-M", "p-tee", 9900),
				order("tb-1004", ShopTaobao, "b4", 120*h, 48*h, e, "COAT-M", "", 39900),
				order("tb-1005", ShopTaobao, "b5", 120*h, 48*h, e, "SCARF-1", "", 12900),
				order("tb-1006", ShopTaobao, "b6", 120*h, 48*h, e, "HAT-2", "", 5900),
				order("tb-1007", ShopTaobao, "b1", 120*h, 48*h, e, "BAG-1", "", 25900),
				order("tm-2001", ShopTmall, "b2", 120*h, 48*h, e, "SERUM", "p-serum", 32900),
				order("tm-2002", ShopTmall, "b3", 120*h, 48*h, e, "CREAM", "p-serum", 25900),
				order("tm-2003", ShopTmall, "b4", 120*h, 48*h, e, "SHADE-02", "", 18900),
				order("tm-2004", ShopTmall, "b7", 120*h, 48*h, e, "SHADE-05", "", 18900),
				order("tt-3001", ShopTaote, "b6", 120*h, 48*h, e, "MUG-1", "", 2900),
				order("tt-3003", ShopTaote, "b8", 120*h, 48*h, e, "FAN-1", "", 15900),
			)
		},
		func() error {
			f := order("tm-2005", ShopTmall, "b5", 120*h, 48*h, e, "SERUM", "p-serum", 32900)
			f.Order.Promises = []commerce.Promise{{Kind: "designated_courier"}}
			return s.facts(f)
		},
		// Shipments that went well, and one parcel that stalls (tb-1004).
		func() error { return s.to(110 * h) },
		func() error {
			return s.facts(shipment("tb-1004", "ZT1004"), shipment("tb-1005", "ZT1005"), shipment("tb-1006", "ZT1006"),
				shipment("tb-1007", "ZT1007"), shipment("tm-2002", "ZT2002"), shipment("tm-2003", "ZT2003"),
				shipment("tm-2004", "ZT2004"), shipment("tm-2005", "ZT2005"), shipment("tt-3003", "ZT3003"))
		},
		// Invoices asked for (R-INV-1).
		func() error {
			return s.facts(commerce.Fact{Type: commerce.FactInvoiceRequested, InvoiceRequested: &commerce.InvoiceRequestedFact{OrderID: "tb-1007"}})
		},
		func() error { return s.to(100 * h) },
		s.collaborativeJudged,
		func() error { return s.to(96 * h) },
		func() error {
			return s.facts(tracking("tb-1005", commerce.TrackingInTransit), tracking("tm-2003", commerce.TrackingSigned),
				tracking("tm-2004", commerce.TrackingSigned), tracking("tm-2005", commerce.TrackingSigned), tracking("tt-3003", commerce.TrackingSigned))
		},
		s.exchanges,
		s.urges,
		s.claim,
		s.refunds,
		s.questions,
		s.recent,
		func() error { return s.to(0) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// setup: shops, accounts, products, a deposit, and the people who sign in.
func (s *seeder) setup() error {
	shop := func(id string, p commerce.Platform, industry, main string, subs ...commerce.Account) commerce.Fact {
		return commerce.Fact{Type: commerce.FactShop, Shop: &commerce.Shop{ID: id, Platform: p, Industry: industry, MainAccount: main,
			ShipFromRegion: "zhejiang", InvoiceMode: commerce.InvoiceUpload, SubAccounts: subs}}
	}
	cs := func(id string) commerce.Account {
		return commerce.Account{ID: id, Permissions: []string{commerce.PermPlatformTask}, SubscribesReminders: true}
	}
	if err := s.facts(
		shop(ShopTaobao, commerce.Taobao, "apparel", "tb_main", cs("tb_cs1"), commerce.Account{ID: "tb_intern"}),
		shop(ShopTmall, commerce.Tmall, "beauty", "tm_main", cs("tm_cs1"), commerce.Account{ID: "tm_temp"}),
		shop(ShopTaote, commerce.Taote, "home", "tt_main", cs("tt_cs1")),
		commerce.Fact{Type: commerce.FactPresence, Presence: &commerce.PresenceFact{AccountID: "tb_cs1", Online: true}},
		commerce.Fact{Type: commerce.FactPresence, Presence: &commerce.PresenceFact{AccountID: "tm_cs1", Online: true}},
		commerce.Fact{Type: commerce.FactProduct, Product: &commerce.Product{ID: "p-tee", ShopID: ShopTaobao, Title: "纯棉T恤"}},
		commerce.Fact{Type: commerce.FactProduct, Product: &commerce.Product{ID: "p-serum", ShopID: ShopTmall, Title: "保湿精华"}},
		commerce.Fact{Type: commerce.FactDeposit, Deposit: &commerce.DepositFact{ShopID: ShopTmall, AmountFen: 100000}},
	); err != nil {
		return err
	}
	for _, l := range Logins {
		hash, err := auth.HashPassword(Password, s.hash)
		if err != nil {
			return err
		}
		p := &auth.Person{Login: l.Login, Name: l.Name, Role: l.Role, SubjectID: l.Subject, PasswordHash: hash}
		if err := s.eng.CreatePerson(s.ctx, opKey, p); err != nil {
			return fmt.Errorf("person %s: %w", l.Login, err)
		}
		s.res.People++
	}
	if _, err := s.eng.Subscribe(s.ctx, actor(task.RoleShopMain, "tb_main"), "tb_main", "ask_everyone", true); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	return nil
}

// collaborativeJudged: a Tmall collaborative task (R-COL-1) the shop answers
// "unreachable" with contact evidence (R-COL-3); the agent finds the
// evidence forged and judges the shop liable, which costs points (R-COL-6).
func (s *seeder) collaborativeJudged() error {
	id, err := s.open(task.Collaborative, actor(task.RoleSystem, "collab"), "tm-2002", map[string]string{"buyer_request": "过敏，要求退款"}, nil)
	if err != nil {
		return err
	}
	if err := s.to(98 * h); err != nil {
		return err
	}
	contacted := s.clk.Now().Add(-30 * time.Minute)
	if err := s.act(id, task.Command{Action: task.ActCollabUnreachable, Actor: actor(task.RoleShopSub, "tm_cs1"),
		Reply: &task.Reply{ContactedAt: &contacted, Attempts: 3, Text: "三次电话未接通", Evidence: []string{"call-log.png"}}}); err != nil {
		return err
	}
	if err := s.to(97 * h); err != nil {
		return err
	}
	return s.act(id, task.Command{Action: task.ActJudge, Actor: agent1, Text: "通话记录与运营商记录不符",
		Judgment: &task.Judgment{Liable: true, Forged: task.ForgedGeneral}})
}

// exchanges: a Tmall exchange whose plan the buyer accepted and the shop
// carried out, and one whose plan waits for the buyer.
func (s *seeder) exchanges() error {
	done, err := s.open(task.Exchange, actor(task.RoleBuyer, "b7"), "tm-2004", map[string]string{"reason": "色号不对"}, nil)
	if err != nil {
		return err
	}
	if err := s.to(95 * h); err != nil {
		return err
	}
	for _, c := range []task.Command{
		{Action: task.ActProposePlan, Actor: actor(task.RoleShopSub, "tm_cs1"), Text: "寄回后换 05 号色"},
		{Action: task.ActAcceptPlan, Actor: actor(task.RoleBuyer, "b7")},
		{Action: task.ActPerform, Actor: actor(task.RoleShopMain, "tm_main"), Text: "新货已发出 ZT2104"},
	} {
		if err := s.act(done, c); err != nil {
			return err
		}
	}
	if err := s.to(50 * h); err != nil {
		return err
	}
	waiting, err := s.open(task.Exchange, actor(task.RoleBuyer, "b4"), "tm-2003", map[string]string{"reason": "尺码偏小"}, nil)
	if err != nil {
		return err
	}
	if err := s.to(49 * h); err != nil {
		return err
	}
	return s.act(waiting, task.Command{Action: task.ActProposePlan, Actor: actor(task.RoleShopSub, "tm_cs1"), Text: "请寄回，收到后换大一码"})
}

// claim: a designated-courier claim (R-PRM-5) waiting for an agent.
func (s *seeder) claim() error {
	if err := s.facts(commerce.Fact{Type: commerce.FactReceiptConfirmed, ReceiptConfirmed: &commerce.ReceiptConfirmedFact{OrderID: "tm-2005"}},
		commerce.Fact{Type: commerce.FactOrderClosed, OrderClosed: &commerce.OrderClosedFact{OrderID: "tm-2005"}}); err != nil {
		return err
	}
	if err := s.to(30 * h); err != nil {
		return err
	}
	_, err := s.eng.FileClaim(s.ctx, actor(task.RoleBuyer, "b5"), "tm-2005",
		engine.ClaimInput{Kind: "designated_courier", Description: "承诺顺丰，实际发了中通", AskedFen: 1500})
	if err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	return nil
}

// refunds: "not received" refund requests, a reason whose refusal needs
// evidence (R-EVD-1, R-EVD-5). One refusal comes with evidence and goes to
// an agent; the other continues without it, so the platform opens the
// refund and judges the shop liable (R-EVD-2, R-EVD-3).
func (s *seeder) refunds() error {
	if err := s.to(28 * h); err != nil {
		return err
	}
	withEv, err := s.open(task.ReturnRefund, actor(task.RoleBuyer, "b5"), "tb-1005", map[string]string{"text": "一直没收到"},
		&task.RefundRequest{Reason: "not_received", Remedy: "refund_only"})
	if err != nil {
		return err
	}
	without, err := s.open(task.ReturnRefund, actor(task.RoleBuyer, "b6"), "tb-1006", map[string]string{"text": "物流显示签收但我没收到"},
		&task.RefundRequest{Reason: "not_received", Remedy: "refund_only"})
	if err != nil {
		return err
	}
	if err := s.to(26 * h); err != nil {
		return err
	}
	// Refusing without evidence is refused and names the example evidence.
	err = s.act(withEv, task.Command{Action: task.ActRefuse, Actor: actor(task.RoleShopSub, "tb_cs1"), Text: "快递显示已签收"})
	if ae, ok := apperr.As(err); !ok || ae.Reason != "evidence.required" {
		return fmt.Errorf("demo: a refusal without evidence answered %v, want evidence.required", err)
	}
	if err := s.act(withEv, task.Command{Action: task.ActRefuse, Actor: actor(task.RoleShopSub, "tb_cs1"), Text: "快递显示已签收",
		Evidence: &task.EvidenceInput{Description: "签收底单与物流轨迹截图", Visibility: task.ShopAgent}}); err != nil {
		return err
	}
	return s.act(without, task.Command{Action: task.ActRefuse, Actor: actor(task.RoleShopMain, "tb_main"), Text: "不同意退款", ContinueRefusing: true})
}

// urges: urge shipment after the deadline (R-URG-1). One shop stays
// silent past 24 h, so the platform intervenes and files a complaint
// (R-SLA-3, R-SLA-4); the other replies it will ship (R-ST-1).
func (s *seeder) urges() error {
	if err := s.to(40 * h); err != nil {
		return err
	}
	if _, err := s.urge("b1", "tb-1001"); err != nil { // silent: overdue at 24 h
		return err
	}
	id, err := s.urge("b6", "tt-3001")
	if err != nil {
		return err
	}
	if err := s.to(39 * h); err != nil {
		return err
	}
	return s.act(id, task.Command{Action: task.ActReply, Actor: actor(task.RoleShopSub, "tt_cs1"), Text: "仓库补货中，明天发出"})
}

// questions: 问大家 — a valid question a past buyer answered (R-QA-2), one
// unanswered, and one the system judged not valid (R-QA-4).
func (s *seeder) questions() error {
	if err := s.to(22 * h); err != nil {
		return err
	}
	q, err := s.eng.Ask(s.ctx, actor(task.RoleBuyer, "b9"), "p-tee", "这件T恤洗了会缩水吗？")
	if err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	if _, err := s.eng.Ask(s.ctx, actor(task.RoleBuyer, "b9"), "p-tee", "想要的加我微信 vx:abc123 代购更便宜"); err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	if err := s.to(20 * h); err != nil {
		return err
	}
	if _, err := s.eng.Answer(s.ctx, actor(task.RoleBuyer, "b1"), q.ID, "洗了三次没缩，放心买"); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if _, err := s.eng.Ask(s.ctx, actor(task.RoleBuyer, "b8"), "p-serum", "敏感肌可以用吗？"); err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	return nil
}

// recent: the last day — tasks due within hours, a stalled parcel, an
// invoice chase, a buyer's complaint, an agent finishing a complaint.
func (s *seeder) recent() error {
	if err := s.facts(order("tb-1002", ShopTaobao, "b2", 90*h, 48*h, s.end, "TEE-L", "p-tee", 9900),
		order("tb-1003", ShopTaobao, "b3", 20*h, 48*h, s.end, "TEE-S", "p-tee", 9900),
		order("tt-3002", ShopTaote, "b7", 70*h, 48*h, s.end, "LAMP-1", "", 8900)); err != nil {
		return err
	}
	urgeTT, err := s.urge("b7", "tt-3002") // due in about 4 h
	if err != nil {
		return err
	}
	if err := s.to(19 * h); err != nil {
		return err
	}
	if _, err := s.urge("b3", "tb-1003"); err != nil { // within the deadline: marked only
		return err
	}
	if _, err := s.urge("b2", "tb-1002"); err != nil { // due in about 5 h
		return err
	}
	if err := s.to(14 * h); err != nil {
		return err
	}
	stall, err := s.open(task.LogisticsStall, actor(task.RoleBuyer, "b4"), "tb-1004", map[string]string{"reason": "三天没有物流更新"}, nil)
	if err != nil {
		return err
	}
	if err := s.to(12 * h); err != nil {
		return err
	}
	if err := s.act(stall, task.Command{Action: task.ActReply, Actor: actor(task.RoleShopSub, "tb_cs1"), Text: "已联系快递，今天会更新"}); err != nil {
		return err
	}
	if _, err := s.eng.FileComplaint(s.ctx, actor(task.RoleBuyer, "b7"), "tt-3002", "shipping"); err != nil {
		return fmt.Errorf("complaint: %w", err)
	}
	if err := s.to(8 * h); err != nil {
		return err
	}
	// The silent shop's complaint (filed at its 24 h timeout) is upheld.
	if err := s.finishComplaints("tb-1001", "upheld"); err != nil {
		return err
	}
	// tt-3001 ships: its urge task completes.
	if err := s.to(6 * h); err != nil {
		return err
	}
	if err := s.facts(shipment("tt-3001", "ZT3001")); err != nil {
		return err
	}
	// tt-3003: repair plan rejected by the buyer, the platform intervenes.
	rep, err := s.open(task.Repair, actor(task.RoleBuyer, "b8"), "tt-3003", map[string]string{"reason": "风扇不转"}, nil)
	if err != nil {
		return err
	}
	if err := s.to(5 * h); err != nil {
		return err
	}
	if err := s.act(rep, task.Command{Action: task.ActProposePlan, Actor: actor(task.RoleShopMain, "tt_main"), Text: "寄回维修，运费自理"}); err != nil {
		return err
	}
	if err := s.act(rep, task.Command{Action: task.ActRejectPlan, Actor: actor(task.RoleBuyer, "b8"), Text: "质量问题运费应由商家承担"}); err != nil {
		return err
	}
	if err := s.act(rep, task.Command{Action: task.ActMessage, Actor: actor(task.RoleShopMain, "tt_main"), Text: "买家使用不当"}); err != nil {
		return err
	}
	if err := s.to(3 * h); err != nil {
		return err
	}
	if _, err := s.open(task.UrgeInvoice, actor(task.RoleBuyer, "b1"), "tb-1007", map[string]string{"reason": "报销急用"}, nil); err != nil {
		return err
	}
	if _, err := s.open(task.Collaborative, agent2, "tm-2001", map[string]string{"buyer_request": "赠品漏发"}, nil); err != nil {
		return err
	}
	if urgeTT == "" {
		return errors.New("demo: the urge on tt-3002 created no task")
	}
	return s.act(urgeTT, task.Command{Action: task.ActAgentNote, Actor: agent1, Text: "买家已投诉，关注发货"})
}

func (s *seeder) finishComplaints(orderID, status string) error {
	var ids []string
	if err := s.eng.Store().View(s.ctx, func(tx store.ReadTx) error {
		cs, err := tx.Complaints(s.ctx, orderID)
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return err
	}); err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("demo: no complaint on %s", orderID)
	}
	for _, id := range ids {
		if _, err := s.eng.FinishComplaint(s.ctx, agent2, id, status); err != nil {
			return fmt.Errorf("finish complaint %s: %w", id, err)
		}
	}
	return nil
}
