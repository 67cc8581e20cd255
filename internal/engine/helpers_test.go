package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/clock"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/id"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// beijing is the business time zone of the seeds (+08:00, no DST).
var beijing = time.FixedZone("CST", 8*3600)

// bj parses a Beijing wall-clock time "2006-01-02T15:04:05".
func bj(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02T15:04:05", s, beijing)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

// newEnv is a fresh engine on SQLite with the default policy and the clock at start.
func newEnv(t testing.TB, start time.Time) *testkit.Env { return testkit.New(t, start) }

// newEnvWith is a fresh engine on SQLite with the given policy registry.
func newEnvWith(t testing.TB, reg *policy.Registry, start time.Time) *testkit.Env {
	t.Helper()
	ctx := context.Background()
	st := testkit.OpenStore(t)
	clk := clock.NewManual(start)
	eng := engine.New(engine.Config{Store: st, Policy: reg, Clock: clk, IDs: &id.Sequence{}})
	return &testkit.Env{T: t, Ctx: ctx, Store: st, Engine: eng, Clock: clk, Policy: reg}
}

// modifiedRegistry builds a registry from the embedded defaults where the
// default file of platform p has had old replaced by new (exactly once).
func modifiedRegistry(t testing.TB, p commerce.Platform, old, new string) *policy.Registry {
	t.Helper()
	src, err := policy.DefaultSource(p)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), old); n != 1 {
		t.Fatalf("%s default: %q occurs %d times, want 1", p, old, n)
	}
	mod := strings.Replace(string(src), old, new, 1)
	f, issues := policy.ParseFile("modified/"+string(p)+".yaml", []byte(mod))
	if len(issues) > 0 {
		t.Fatalf("modified %s policy: %v", p, issues)
	}
	files, err := policy.DefaultFiles()
	if err != nil {
		t.Fatal(err)
	}
	var all []*policy.File
	for _, g := range files {
		if g.Platform == p {
			all = append(all, f)
		} else {
			all = append(all, g)
		}
	}
	reg, err := policy.NewRegistry(all...)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	return reg
}

func buyer(id string) task.Actor    { return task.Actor{Role: task.RoleBuyer, ID: id} }
func shopMain(id string) task.Actor { return task.Actor{Role: task.RoleShopMain, ID: id} }
func sub(id string) task.Actor      { return task.Actor{Role: task.RoleShopSub, ID: id} }
func agent(id string) task.Actor    { return task.Actor{Role: task.RoleAgent, ID: id} }
func system(id string) task.Actor   { return task.Actor{Role: task.RoleSystem, ID: id} }

// buyerOf is the buyer id the helpers give an order.
func buyerOf(orderID string) string { return "b_" + orderID }

// subAcc is a sub-account; perm gives it the platform-task permission.
func subAcc(id string, perm, subscribes bool) commerce.Account {
	a := commerce.Account{ID: id, SubscribesReminders: subscribes}
	if perm {
		a.Permissions = []string{commerce.PermPlatformTask}
	}
	return a
}

// addShop ingests a shop (main account <id>_main) with sub-accounts.
func addShop(env *testkit.Env, id string, p commerce.Platform, subs ...commerce.Account) {
	env.T.Helper()
	env.MustIngest(testkit.ShopFact(id, p, subs...))
}

// setOnline ingests a presence fact.
func setOnline(env *testkit.Env, accountID string, online bool) {
	env.T.Helper()
	env.MustIngest(commerce.Fact{ID: fmt.Sprintf("presence-%s-%d", accountID, env.Clock.Now().UnixNano()),
		Type: commerce.FactPresence, Presence: &commerce.PresenceFact{AccountID: accountID, Online: online}})
}

// addOrder ingests an order paid 10 days ago whose shipping deadline passed 9 days ago.
func addOrder(env *testkit.Env, shopID, orderID string) {
	env.T.Helper()
	now := env.Clock.Now()
	env.MustIngest(testkit.OrderFact(orderID, shopID, buyerOf(orderID), now.Add(-10*24*time.Hour), now.Add(-9*24*time.Hour)))
}

// addOrderShipBy ingests an order paid an hour before now with the given shipping deadline.
func addOrderShipBy(env *testkit.Env, shopID, orderID string, shipBy time.Time, mod ...func(*commerce.Order)) {
	env.T.Helper()
	f := testkit.OrderFact(orderID, shopID, buyerOf(orderID), env.Clock.Now().Add(-time.Hour), shipBy)
	for _, m := range mod {
		m(f.Order)
	}
	env.MustIngest(f)
}

func shipFact(id, orderID string, at time.Time) commerce.Fact {
	return commerce.Fact{ID: id, Type: commerce.FactShipment, At: at,
		Shipment: &commerce.ShipmentFact{OrderID: orderID, Carrier: "SF", TrackingNo: "SF" + orderID}}
}

func trackFact(id, orderID, status string, at time.Time) commerce.Fact {
	return commerce.Fact{ID: id, Type: commerce.FactTracking, At: at,
		Tracking: &commerce.TrackingFact{OrderID: orderID, Status: status}}
}

func refundFact(id, orderID string, fen int64, at time.Time) commerce.Fact {
	return commerce.Fact{ID: id, Type: commerce.FactRefund, At: at, Refund: &commerce.RefundFact{OrderID: orderID, AmountFen: fen}}
}

func invoiceRequestFact(id, orderID string, at time.Time) commerce.Fact {
	return commerce.Fact{ID: id, Type: commerce.FactInvoiceRequested, At: at,
		InvoiceRequested: &commerce.InvoiceRequestedFact{OrderID: orderID}}
}

func invoiceIssuedFact(id, orderID string, at time.Time) commerce.Fact {
	return commerce.Fact{ID: id, Type: commerce.FactInvoiceIssued, At: at,
		InvoiceIssued: &commerce.InvoiceIssuedFact{OrderID: orderID}}
}

// openTask opens a task of typ on a new order of shop, meeting whatever the
// type needs first (a passed shipping deadline, a stalled parcel, an invoice
// request, a complaint while R-URG-2 (4) is in force).
func openTask(env *testkit.Env, shopID, orderID string, typ task.Type) *task.Task {
	env.T.Helper()
	addOrder(env, shopID, orderID)
	now := env.Clock.Now()
	b := buyer(buyerOf(orderID))
	switch typ {
	case task.UrgeShipment:
		shop := readShop(env, shopID)
		r, err := env.Policy.At(shop.Platform, now)
		if err != nil {
			env.T.Fatal(err)
		}
		if r.Urge.RequireComplaint {
			if _, err := env.Engine.FileComplaint(env.Ctx, b, orderID, judgment.ComplaintShipping); err != nil {
				env.T.Fatalf("complaint: %v", err)
			}
		}
		res, err := env.Engine.Urge(env.Ctx, b, orderID)
		if err != nil {
			env.T.Fatalf("urge %s: %v", orderID, err)
		}
		if res.Outcome != "task_created" {
			env.T.Fatalf("urge %s: %s, want task_created", orderID, res.Outcome)
		}
		return res.Task
	case task.LogisticsStall:
		env.MustIngest(shipFact("ship-"+orderID, orderID, now.Add(-5*24*time.Hour)))
	case task.UrgeInvoice:
		env.MustIngest(invoiceRequestFact("invreq-"+orderID, orderID, now.Add(-24*time.Hour)))
	}
	actor := b
	if typ == task.Collaborative {
		actor = agent("xiaoer")
	}
	tk, err := env.Engine.CreateTask(env.Ctx, task.Command{Actor: actor, OrderID: orderID, Type: typ})
	if err != nil {
		env.T.Fatalf("create %s on %s: %v", typ, orderID, err)
	}
	return tk
}

func readShop(env *testkit.Env, id string) *commerce.Shop {
	env.T.Helper()
	var s *commerce.Shop
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { s, err = tx.Shop(env.Ctx, id); return }); err != nil {
		env.T.Fatal(err)
	}
	return s
}

func counter(env *testkit.Env, key string) int64 {
	env.T.Helper()
	var n int64
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { n, err = tx.Counter(env.Ctx, key); return }); err != nil {
		env.T.Fatal(err)
	}
	return n
}

func urgedOrders(env *testkit.Env, shopID string) []commerce.Order {
	env.T.Helper()
	var os []commerce.Order
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { os, err = tx.UrgedOrders(env.Ctx, shopID); return }); err != nil {
		env.T.Fatal(err)
	}
	return os
}

// allEvents is every event of the store, in order.
func allEvents(env *testkit.Env) []task.Event {
	env.T.Helper()
	var evs []task.Event
	if err := env.Store.View(env.Ctx, func(tx store.ReadTx) (err error) { evs, err = tx.EventsAfter(env.Ctx, 0, 1<<30); return }); err != nil {
		env.T.Fatal(err)
	}
	return evs
}

// world is what a refusal must leave unchanged.
type world struct {
	Events  int
	Outbox  int
	Timers  []task.Timer
	Tasks   []task.Task
	Order   *commerce.Order
	Counter map[string]int64
}

// snapshot captures the store's events, outbox, timers, tasks and one order.
func snapshot(env *testkit.Env, orderID string) world {
	env.T.Helper()
	w := world{Events: len(allEvents(env)), Outbox: len(env.Outbox()), Timers: env.Timers(""), Tasks: env.Tasks(store.TaskFilter{})}
	if orderID != "" {
		w.Order = env.Order(orderID)
	}
	return w
}

func sameWorld(t testing.TB, before, after world) {
	t.Helper()
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("a refusal changed the store:\nbefore %+v\nafter  %+v", before, after)
	}
}

// wantErr asserts err is an application error with the given code, reason
// (if not empty), field (if not empty) and rule (if not empty).
func wantErr(t testing.TB, err error, code apperr.Code, reason, field, rule string) *apperr.Error {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok {
		t.Fatalf("want a %s refusal (reason %q field %q rule %q), got %v", code, reason, field, rule, err)
	}
	if ae.Code != code || (reason != "" && ae.Reason != reason) || (field != "" && ae.Field != field) || (rule != "" && ae.Rule != rule) {
		t.Fatalf("refusal %+v; want code %s reason %q field %q rule %q", ae, code, reason, field, rule)
	}
	return ae
}

// outboxOf filters the outbox by kind.
func outboxOf(env *testkit.Env, kind notify.Kind) []notify.Message {
	env.T.Helper()
	var out []notify.Message
	for _, m := range env.Outbox() {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// act runs a command and fails the test on error.
func act(env *testkit.Env, cmd task.Command) *task.Task {
	env.T.Helper()
	tk, err := env.Engine.Act(env.Ctx, cmd)
	if err != nil {
		env.T.Fatalf("%s on %s by %s: %v", cmd.Action, cmd.TaskID, cmd.Actor.ID, err)
	}
	return tk
}

func wantState(env *testkit.Env, taskID string, s task.State) *task.Task {
	env.T.Helper()
	tk := env.Task(taskID)
	if tk.State != s {
		env.T.Fatalf("task %s (%s) is %s, want %s", taskID, tk.Type, tk.State, s)
	}
	return tk
}

func timerKinds(ts []task.Timer) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Kind)
	}
	return out
}
