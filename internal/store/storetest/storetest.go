// Package storetest is the conformance suite every store.Store
// implementation runs (in the manner of River's driver tests): one set of
// behaviours, checked the same way against SQLite and PostgreSQL.
//
// An implementation's test calls Run with a function that opens a fresh,
// empty, migrated store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { … })
//	}
//
// Subtests run in parallel, each on its own store, which Run closes when the
// subtest ends. Times used by the suite have microsecond precision, so a
// store keeping timestamps at microsecond resolution (PostgreSQL timestamptz)
// can pass.
//
// Besides what store.go documents, the suite pins these choices:
//   - a limit of 0 (or less) means "no limit" for EventsAfter, Outbox,
//     Firings and ClaimDue, as it does for TaskFilter.Limit;
//   - TaskFilter.After naming an unknown task is ENOTFOUND (field "after");
//   - UpdateTask of an unknown task is ENOTFOUND; UpdateTask whose Rev is not
//     greater than the stored Rev is ECONFLICT "task.stale" (the optimistic
//     check task.Task.Rev promises); InsertTask of an existing id is ECONFLICT;
//   - an ECONFLICT from InsertTask/UpdateTask leaves the transaction usable
//     (the engine may treat it as a refusal and go on);
//   - every time read back is in UTC, whatever location it was written in;
//   - Event.Data and Message.Payload round-trip byte for byte (empty reads
//     back as nil).
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []suiteCase{
		{"RecordFact", testRecordFact},
		{"Shop", testShop},
		{"Account", testAccount},
		{"Order", testOrder},
		{"UrgedOrders", testUrgedOrders},
		{"Task", testTask},
		{"OneOpenTaskPerOrderAndType", testOneOpenTask},
		{"UpdateTask", testUpdateTask},
		{"TaskFilter", testTaskFilter},
		{"TaskPagination", testTaskPagination},
		{"CountTasks", testCountTasks},
		{"Events", testEvents},
		{"Timers", testTimers},
		{"ClaimDue", testClaimDue},
		{"Firings", testFirings},
		{"Outbox", testOutbox},
		{"Counters", testCounters},
		{"Complaints", testComplaints},
		{"Points", testPoints},
		{"Idempotency", testIdempotency},
		{"TimesInUTC", testTimesInUTC},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"ReadYourWrites", testReadYourWrites},
		{"ViewSnapshot", testViewSnapshot},
		{"ConcurrentUpdates", testConcurrentUpdates},
	}
	tests = append(tests, registered...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// suiteCase is one named conformance check.
type suiteCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// registered holds the cases that files of their own add with register
// (one file per area of the contract: evidence, promises, accounts, …).
var registered []suiteCase

// register adds a conformance case; call it from an init function.
func register(name string, fn func(t *testing.T, s store.Store)) {
	registered = append(registered, suiteCase{name, fn})
}

// t0 is the suite's base time (microsecond precision, UTC).
var t0 = time.Date(2023, 7, 5, 10, 0, 0, 123456000, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

// update runs fn in a write transaction and fails the test on error.
func update(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx)) {
	t.Helper()
	err := s.Update(t.Context(), func(tx store.Tx) error {
		fn(t.Context(), tx)
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a read transaction and fails the test on error.
func view(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.ReadTx)) {
	t.Helper()
	if err := s.View(t.Context(), func(tx store.ReadTx) error {
		fn(t.Context(), tx)
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// must fails the test when err is not nil.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// get returns v or fails the test when err is not nil.
func get[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantCode checks err's apperr code.
func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	if got := apperr.CodeOf(err); got != code {
		t.Errorf("%s: error %v has code %q, want %q", what, err, got, code)
	}
}

// equal compares with reflect.DeepEqual and shows both sides as JSON.
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s:\n got: %s\nwant: %s", what, g, w)
	}
}

// fixtures

func newShop(id string) *commerce.Shop {
	return &commerce.Shop{ID: id, Platform: commerce.Taobao, Industry: "apparel", MainAccount: id + "_main",
		ShipFromRegion: "浙江省", InvoiceMode: commerce.InvoiceUpload}
}

func newOrder(id, shopID, buyerID string) *commerce.Order {
	return &commerce.Order{ID: id, ShopID: shopID, BuyerID: buyerID, BuyerRegion: "上海市",
		Items: []commerce.Item{{SKU: "sku-1", Category: "shoes"}}, PaidFen: 12900,
		PaidAt: at(0), ShipBy: at(48 * time.Hour)}
}

func newTask(id, orderID, shopID, buyerID string, typ task.Type, state task.State, created time.Time) *task.Task {
	return &task.Task{ID: id, Type: typ, State: state, OrderID: orderID, ShopID: shopID, BuyerID: buyerID,
		Platform: "taobao", CreatedAt: created, UpdatedAt: created, PolicyVersion: "taobao-2023.1", Rev: 1}
}

func newEvent(stream string, i int, data string) task.Event {
	e := task.Event{Stream: stream, TaskID: stream, OrderID: "ord_1", ShopID: "shp_1", At: at(time.Duration(i) * time.Minute),
		Actor: task.Actor{Role: task.RoleSystem, ID: "timer"}, Action: fmt.Sprintf("act%d", i),
		From: task.AwaitingSellerReply, To: task.AwaitingSellerAction, Reason: "r", Rule: "R-URG-1",
		PolicyVersion: "v1", Visibility: task.Public}
	if data != "" {
		e.Data = json.RawMessage(data)
	}
	return e
}

func newMessage(i int, payload string) notify.Message {
	m := notify.Message{Kind: notify.KindCard, Recipient: fmt.Sprintf("acc_%d", i), TaskID: "tsk_1", OrderID: "ord_1",
		ShopID: "shp_1", At: at(time.Duration(i) * time.Second), Status: notify.Pending, Rule: "R-NTF-2",
		Reason: "card", PolicyVersion: "v1"}
	if payload != "" {
		m.Payload = json.RawMessage(payload)
	}
	return m
}

func ids(ts []task.Task) []string {
	out := []string{}
	for _, x := range ts {
		out = append(out, x.ID)
	}
	return out
}

// tests

func testRecordFact(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		seen := get[bool](t)(tx.FactSeen(ctx, "f1"))
		if seen {
			t.Error("FactSeen(f1) before recording = true")
		}
		dup := get[bool](t)(tx.RecordFact(ctx, "f1", commerce.FactOrder, at(0), []byte(`{"id":"f1"}`)))
		if dup {
			t.Error("first RecordFact(f1): duplicate = true")
		}
		// Same transaction, same id, other payload: still a duplicate.
		dup = get[bool](t)(tx.RecordFact(ctx, "f1", commerce.FactShipment, at(time.Hour), []byte(`{"other":1}`)))
		if !dup {
			t.Error("second RecordFact(f1) in the same tx: duplicate = false")
		}
		if !get[bool](t)(tx.FactSeen(ctx, "f1")) {
			t.Error("FactSeen(f1) in the recording tx = false")
		}
		// No payload is fine.
		if get[bool](t)(tx.RecordFact(ctx, "f2", commerce.FactPresence, at(0), nil)) {
			t.Error("RecordFact(f2): duplicate = true")
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if !get[bool](t)(tx.RecordFact(ctx, "f1", commerce.FactOrder, at(0), []byte(`{"id":"f1"}`))) {
			t.Error("RecordFact(f1) in a later tx: duplicate = false")
		}
		if get[bool](t)(tx.RecordFact(ctx, "f3", commerce.FactOrder, at(0), []byte(`{}`))) {
			t.Error("RecordFact(f3): duplicate = true")
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		for id, want := range map[string]bool{"f1": true, "f2": true, "f3": true, "f4": false} {
			if got := get[bool](t)(tx.FactSeen(ctx, id)); got != want {
				t.Errorf("FactSeen(%s) = %v, want %v", id, got, want)
			}
		}
		equal(t, "FactsSeen(f1, f4, f3)", get[map[string]bool](t)(tx.FactsSeen(ctx, []string{"f1", "f4", "f3"})),
			map[string]bool{"f1": true, "f3": true})
		equal(t, "FactsSeen(nil)", get[map[string]bool](t)(tx.FactsSeen(ctx, nil)), map[string]bool{})
	})
	// A fact recorded earlier in the same transaction counts as seen.
	update(t, s, func(ctx context.Context, tx store.Tx) {
		get[bool](t)(tx.RecordFact(ctx, "f5", commerce.FactOrder, at(0), nil))
		equal(t, "FactsSeen(f5) in the recording tx", get[map[string]bool](t)(tx.FactsSeen(ctx, []string{"f5"})),
			map[string]bool{"f5": true})
	})
}

func testShop(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		_, err := tx.Shop(ctx, "shp_none")
		wantCode(t, "Shop(unknown)", err, apperr.ENOTFOUND)
	})
	sh := newShop("shp_1")
	sh.SubAccounts = []commerce.Account{{ID: "acc_sub", ShopID: "shp_1", Role: commerce.RoleSub}}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutShop(ctx, sh))
		must(t, tx.PutShop(ctx, newShop("shp_2")))
	})
	if len(sh.SubAccounts) != 1 {
		t.Error("PutShop changed the caller's shop")
	}
	want := *sh
	want.SubAccounts = nil // not stored by PutShop
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Shop(shp_1)", get[*commerce.Shop](t)(tx.Shop(ctx, "shp_1")), &want)
		equal(t, "Shop(shp_2)", get[*commerce.Shop](t)(tx.Shop(ctx, "shp_2")), newShop("shp_2"))
		if as := get[[]commerce.Account](t)(tx.ShopAccounts(ctx, "shp_1")); len(as) != 0 {
			t.Errorf("PutShop stored sub-accounts: %v", as)
		}
	})
	// Upsert.
	changed := newShop("shp_1")
	changed.Platform, changed.Industry, changed.InvoiceMode = commerce.Tmall, "food", commerce.InvoiceAutomatic
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.PutShop(ctx, changed)) })
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Shop(shp_1) after upsert", get[*commerce.Shop](t)(tx.Shop(ctx, "shp_1")), changed)
	})
	// Not found inside a write transaction too.
	update(t, s, func(ctx context.Context, tx store.Tx) {
		_, err := tx.Shop(ctx, "shp_none")
		wantCode(t, "Shop(unknown) in Update", err, apperr.ENOTFOUND)
	})
}

func testAccount(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		_, err := tx.Account(ctx, "acc_none")
		wantCode(t, "Account(unknown)", err, apperr.ENOTFOUND)
		if as := get[[]commerce.Account](t)(tx.ShopAccounts(ctx, "shp_none")); len(as) != 0 {
			t.Errorf("ShopAccounts(unknown) = %v", as)
		}
	})
	acc := func(id, shop string, role commerce.AccountRole, perms ...string) *commerce.Account {
		return &commerce.Account{ID: id, ShopID: shop, Role: role, Permissions: perms, SubscribesReminders: true}
	}
	main := acc("acc_a_main", "shp_a", commerce.RoleMain)
	subs := []*commerce.Account{
		acc("acc_a_3", "shp_a", commerce.RoleSub, commerce.PermPlatformTask),
		acc("acc_a_1", "shp_a", commerce.RoleSub),
		acc("acc_a_2", "shp_a", commerce.RoleSub, commerce.PermPlatformTask, "other"),
	}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutAccount(ctx, main))
		for _, a := range subs {
			must(t, tx.PutAccount(ctx, a))
		}
		must(t, tx.PutAccount(ctx, acc("acc_b_1", "shp_b", commerce.RoleMain)))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Account(acc_a_2)", get[*commerce.Account](t)(tx.Account(ctx, "acc_a_2")), subs[2])
		equal(t, "Account(acc_a_main)", get[*commerce.Account](t)(tx.Account(ctx, "acc_a_main")), main)
		want := []commerce.Account{*subs[1], *subs[2], *subs[0], *main} // by id
		equal(t, "ShopAccounts(shp_a)", get[[]commerce.Account](t)(tx.ShopAccounts(ctx, "shp_a")), want)
		if as := get[[]commerce.Account](t)(tx.ShopAccounts(ctx, "shp_b")); len(as) != 1 || as[0].ID != "acc_b_1" {
			t.Errorf("ShopAccounts(shp_b) = %v", as)
		}
	})
	// Upsert: presence changes; an account can move shops.
	online := *subs[1]
	online.Online = true
	moved := *subs[0]
	moved.ShopID = "shp_b"
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutAccount(ctx, &online))
		must(t, tx.PutAccount(ctx, &moved))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Account(acc_a_1) after upsert", get[*commerce.Account](t)(tx.Account(ctx, "acc_a_1")), &online)
		equal(t, "ShopAccounts(shp_a) after move", get[[]commerce.Account](t)(tx.ShopAccounts(ctx, "shp_a")),
			[]commerce.Account{online, *subs[2], *main})
		equal(t, "ShopAccounts(shp_b) after move", get[[]commerce.Account](t)(tx.ShopAccounts(ctx, "shp_b")),
			[]commerce.Account{moved, *acc("acc_b_1", "shp_b", commerce.RoleMain)})
	})
}

// fullOrder sets every projection field.
func fullOrder(id string) *commerce.Order {
	o := newOrder(id, "shp_1", "byr_1")
	o.RemoteArea, o.Presale, o.WorryFree = true, commerce.PresaleStaged, true
	o.Items = append(o.Items, commerce.Item{SKU: "sku-2", Custom: true, Virtual: true})
	o.DelayReport = &commerce.DelayReport{ReportedShipBy: at(72 * time.Hour), FiledAt: at(time.Hour), Approved: true}
	o.ShippedAt, o.Carrier, o.TrackingNo = ptr(at(50*time.Hour)), "SF", "SF123"
	o.LastTrackingAt, o.TrackingStatus, o.SignedAt = ptr(at(60*time.Hour)), commerce.TrackingSigned, ptr(at(60*time.Hour))
	o.RefundedFen, o.RefundedAt = 100, ptr(at(61*time.Hour))
	o.UrgedAt, o.UrgeCount, o.Complaints = ptr(at(2*time.Hour)), 2, 1
	o.Invoice = &commerce.Invoice{RequestedAt: at(3 * time.Hour), FirstDeadline: at(75 * time.Hour),
		SecondTimeoutAt: at(99 * time.Hour), Late: true, IssuedAt: ptr(at(80 * time.Hour)), PolicyVersion: "v2"}
	return o
}

func testOrder(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		_, err := tx.Order(ctx, "ord_none")
		wantCode(t, "Order(unknown)", err, apperr.ENOTFOUND)
	})
	plain, full := newOrder("ord_1", "shp_1", "byr_1"), fullOrder("ord_2")
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutOrder(ctx, plain))
		must(t, tx.PutOrder(ctx, full))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Order(ord_1)", get[*commerce.Order](t)(tx.Order(ctx, "ord_1")), plain)
		equal(t, "Order(ord_2)", get[*commerce.Order](t)(tx.Order(ctx, "ord_2")), full)
	})
	// Upsert: the projection moves on; pointer fields can be cleared.
	next := *full
	next.ShippedAt, next.UrgeCount, next.Invoice, next.ShopID = nil, 3, nil, "shp_9"
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.PutOrder(ctx, &next)) })
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Order(ord_2) after upsert", get[*commerce.Order](t)(tx.Order(ctx, "ord_2")), &next)
		byID := map[string]commerce.Order{}
		for _, o := range get[[]commerce.Order](t)(tx.OrdersByID(ctx, []string{"ord_2", "ord_none", "ord_1"})) {
			byID[o.ID] = o
		}
		equal(t, "OrdersByID", byID, map[string]commerce.Order{"ord_1": *plain, "ord_2": next})
		if os := get[[]commerce.Order](t)(tx.OrdersByID(ctx, nil)); len(os) != 0 {
			t.Errorf("OrdersByID(nil) = %d orders", len(os))
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if os := get[[]commerce.Order](t)(tx.OrdersByID(ctx, []string{"ord_1"})); len(os) != 1 || os[0].ID != "ord_1" {
			t.Errorf("OrdersByID inside Update = %+v", os)
		}
	})
}

// R-URG-3: urged orders are those marked urged and not shipped, by urge time.
func testUrgedOrders(t *testing.T, s store.Store) {
	mk := func(id, shop string, urged *time.Time, shipped *time.Time) *commerce.Order {
		o := newOrder(id, shop, "byr_1")
		o.UrgedAt, o.ShippedAt = urged, shipped
		if urged != nil {
			o.UrgeCount = 1
		}
		return o
	}
	orders := []*commerce.Order{
		mk("ord_late", "shp_a", ptr(at(3*time.Hour)), nil),
		mk("ord_early", "shp_a", ptr(at(1*time.Hour)), nil),
		mk("ord_tie_b", "shp_a", ptr(at(2*time.Hour)), nil),
		mk("ord_tie_a", "shp_a", ptr(at(2*time.Hour)), nil),
		mk("ord_shipped", "shp_a", ptr(at(time.Hour)), ptr(at(4*time.Hour))),
		mk("ord_calm", "shp_a", nil, nil),
		mk("ord_other", "shp_b", ptr(at(time.Hour)), nil),
	}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, o := range orders {
			must(t, tx.PutOrder(ctx, o))
		}
	})
	urged := func(shop string) []string {
		var out []string
		view(t, s, func(ctx context.Context, tx store.ReadTx) {
			for _, o := range get[[]commerce.Order](t)(tx.UrgedOrders(ctx, shop)) {
				out = append(out, o.ID)
			}
		})
		return out
	}
	equal(t, "UrgedOrders(shp_a)", urged("shp_a"), []string{"ord_early", "ord_tie_a", "ord_tie_b", "ord_late"})
	equal(t, "UrgedOrders(shp_b)", urged("shp_b"), []string{"ord_other"})
	equal(t, "UrgedOrders(unknown)", urged("shp_none"), []string(nil))
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		os := get[[]commerce.Order](t)(tx.UrgedOrders(ctx, "shp_a"))
		if len(os) > 0 {
			equal(t, "UrgedOrders(shp_a)[0]", &os[0], orders[1])
		}
	})
	// Shipping one takes it off the list; urging another puts it on.
	shipped := *orders[1]
	shipped.ShippedAt = ptr(at(5 * time.Hour))
	calm := *orders[5]
	calm.UrgedAt = ptr(at(30 * time.Minute))
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutOrder(ctx, &shipped))
		must(t, tx.PutOrder(ctx, &calm))
	})
	equal(t, "UrgedOrders(shp_a) after changes", urged("shp_a"), []string{"ord_calm", "ord_tie_a", "ord_tie_b", "ord_late"})
}

// fullTask sets every field.
func fullTask(id string) *task.Task {
	x := newTask(id, "ord_1", "shp_1", "byr_1", task.Collaborative, task.AwaitingBuyerConfirmation, at(0))
	x.Platform, x.UpdatedAt, x.DueAt = "tmall", at(time.Hour), ptr(at(49*time.Hour))
	x.Reply = &task.Reply{Kind: "plan", Text: "will call", Outcome: "agreed", ContactedAt: ptr(at(30 * time.Minute)),
		Attempts: 2, Evidence: []string{"sha256:aa", "sha256:bb"}, At: at(time.Hour),
		By: task.Actor{Role: task.RoleShopSub, ID: "acc_1"}}
	x.Outcome, x.CompletionPending = "agreed", "agreed"
	x.ComplaintIDs, x.OpenComplaints = []string{"cmp_1", "cmp_2"}, 1
	x.AfterFinalDeadline, x.EvidenceWaived = true, true
	x.Details = map[string]string{"reason": "damaged", "text": "破损"}
	x.Rev = 7
	return x
}

func testTask(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		_, err := tx.Task(ctx, "tsk_none")
		wantCode(t, "Task(unknown)", err, apperr.ENOTFOUND)
		if x := get[*task.Task](t)(tx.OpenTask(ctx, "ord_1", task.UrgeShipment)); x != nil {
			t.Errorf("OpenTask on an empty store = %+v", x)
		}
	})
	full := fullTask("tsk_full")
	plain := newTask("tsk_plain", "ord_2", "shp_1", "byr_1", task.UrgeShipment, task.AwaitingSellerReply, at(time.Minute))
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.InsertTask(ctx, full))
		must(t, tx.InsertTask(ctx, plain))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Task(tsk_full)", get[*task.Task](t)(tx.Task(ctx, "tsk_full")), full)
		equal(t, "Task(tsk_plain)", get[*task.Task](t)(tx.Task(ctx, "tsk_plain")), plain)
		equal(t, "OpenTask(ord_1, collaborative)", get[*task.Task](t)(tx.OpenTask(ctx, "ord_1", task.Collaborative)), full)
		equal(t, "OpenTask(ord_2, urge_shipment)", get[*task.Task](t)(tx.OpenTask(ctx, "ord_2", task.UrgeShipment)), plain)
		if x := get[*task.Task](t)(tx.OpenTask(ctx, "ord_1", task.UrgeShipment)); x != nil {
			t.Errorf("OpenTask(ord_1, urge_shipment) = %s, want nil", x.ID)
		}
		// TasksByID: the ones that exist, unknown ids skipped, any order.
		byID := map[string]task.Task{}
		for _, x := range get[[]task.Task](t)(tx.TasksByID(ctx, []string{"tsk_plain", "tsk_none", "tsk_full"})) {
			byID[x.ID] = x
		}
		if len(byID) != 2 {
			t.Errorf("TasksByID returned %d tasks, want 2", len(byID))
		}
		equal(t, "TasksByID[tsk_full]", byID["tsk_full"], *full)
		equal(t, "TasksByID[tsk_plain]", byID["tsk_plain"], *plain)
		if xs := get[[]task.Task](t)(tx.TasksByID(ctx, nil)); len(xs) != 0 {
			t.Errorf("TasksByID(nil) = %d tasks", len(xs))
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if xs := get[[]task.Task](t)(tx.TasksByID(ctx, []string{"tsk_full"})); len(xs) != 1 || xs[0].ID != "tsk_full" {
			t.Errorf("TasksByID inside Update = %+v", xs)
		}
	})
}

// At most one task of a type is open on an order; completed ones do not count.
func testOneOpenTask(t *testing.T, s store.Store) {
	t1 := newTask("tsk_1", "ord_1", "shp_1", "byr_1", task.UrgeShipment, task.AwaitingSellerReply, at(0))
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.InsertTask(ctx, t1)) })

	// A second open one conflicts; the transaction stays usable.
	t2 := newTask("tsk_2", "ord_1", "shp_1", "byr_1", task.UrgeShipment, task.AwaitingSellerAction, at(time.Minute))
	t3 := newTask("tsk_3", "ord_1", "shp_1", "byr_1", task.LogisticsStall, task.AwaitingSellerReply, at(time.Minute))
	t4 := newTask("tsk_4", "ord_2", "shp_1", "byr_1", task.UrgeShipment, task.AwaitingSellerReply, at(time.Minute))
	update(t, s, func(ctx context.Context, tx store.Tx) {
		wantCode(t, "InsertTask(second open urge_shipment on ord_1)", tx.InsertTask(ctx, t2), apperr.ECONFLICT)
		dupID := *t4
		dupID.ID = "tsk_1"
		wantCode(t, "InsertTask(existing id)", tx.InsertTask(ctx, &dupID), apperr.ECONFLICT)
		must(t, tx.InsertTask(ctx, t3)) // other type, same order
		must(t, tx.InsertTask(ctx, t4)) // same type, other order
		_, err := tx.IncrCounter(ctx, "after_conflict", 1)
		must(t, err)
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		_, err := tx.Task(ctx, "tsk_2")
		wantCode(t, "Task(tsk_2) after conflict", err, apperr.ENOTFOUND)
		equal(t, "Task(tsk_1) after conflicting inserts", get[*task.Task](t)(tx.Task(ctx, "tsk_1")), t1)
		equal(t, "Task(tsk_3)", get[*task.Task](t)(tx.Task(ctx, "tsk_3")), t3)
		if n := get[int64](t)(tx.Counter(ctx, "after_conflict")); n != 1 {
			t.Errorf("counter written after a conflict = %d, want 1", n)
		}
	})

	// Completing the open one allows a new one.
	done := *t1
	done.State, done.Outcome, done.Rev, done.UpdatedAt = task.Completed, "shipped", 2, at(time.Hour)
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.UpdateTask(ctx, &done))
		if x := get[*task.Task](t)(tx.OpenTask(ctx, "ord_1", task.UrgeShipment)); x != nil {
			t.Errorf("OpenTask after completion = %s, want nil", x.ID)
		}
		must(t, tx.InsertTask(ctx, t2))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "OpenTask(ord_1, urge_shipment)", get[*task.Task](t)(tx.OpenTask(ctx, "ord_1", task.UrgeShipment)), t2)
		equal(t, "Task(tsk_1) completed", get[*task.Task](t)(tx.Task(ctx, "tsk_1")), &done)
	})

	// Completed tasks never conflict, with each other or with the open one.
	t5 := newTask("tsk_5", "ord_1", "shp_1", "byr_1", task.UrgeShipment, task.Completed, at(2*time.Hour))
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.InsertTask(ctx, t5)) })

	// Reopening a completed task while another is open conflicts.
	reopened := done
	reopened.State, reopened.Rev = task.PlatformIntervening, 3
	update(t, s, func(ctx context.Context, tx store.Tx) {
		wantCode(t, "UpdateTask(reopen tsk_1 while tsk_2 is open)", tx.UpdateTask(ctx, &reopened), apperr.ECONFLICT)
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Task(tsk_1) after refused reopen", get[*task.Task](t)(tx.Task(ctx, "tsk_1")), &done)
	})
}

func testUpdateTask(t *testing.T, s store.Store) {
	x := newTask("tsk_1", "ord_1", "shp_1", "byr_1", task.ReturnRefund, task.AwaitingSellerReply, at(0))
	x.DueAt = ptr(at(48 * time.Hour))
	update(t, s, func(ctx context.Context, tx store.Tx) {
		wantCode(t, "UpdateTask(unknown)", tx.UpdateTask(ctx, x), apperr.ENOTFOUND)
		must(t, tx.InsertTask(ctx, x))
	})
	next := fullTask("tsk_1")
	next.OrderID, next.Type, next.ShopID, next.BuyerID = "ord_1", task.ReturnRefund, "shp_1", "byr_1"
	next.State, next.DueAt, next.Rev = task.PlatformIntervening, nil, 2
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.UpdateTask(ctx, next))
		equal(t, "Task(tsk_1) in the updating tx", get[*task.Task](t)(tx.Task(ctx, "tsk_1")), next)
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Task(tsk_1) after update", get[*task.Task](t)(tx.Task(ctx, "tsk_1")), next)
		// The filterable columns follow the projection.
		got := get[[]task.Task](t)(tx.Tasks(ctx, store.TaskFilter{State: task.PlatformIntervening}))
		equal(t, "Tasks(state=platform_intervening)", ids(got), []string{"tsk_1"})
		got = get[[]task.Task](t)(tx.Tasks(ctx, store.TaskFilter{DueBefore: ptr(at(100 * time.Hour))}))
		equal(t, "Tasks(due before) after DueAt cleared", ids(got), []string{})
	})
	// Rev must increase (optimistic check, see task.Task.Rev).
	stale := *next
	stale.Outcome = "stale write"
	update(t, s, func(ctx context.Context, tx store.Tx) {
		wantCode(t, "UpdateTask(same rev)", tx.UpdateTask(ctx, &stale), apperr.ECONFLICT)
		stale.Rev = 1
		wantCode(t, "UpdateTask(older rev)", tx.UpdateTask(ctx, &stale), apperr.ECONFLICT)
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Task(tsk_1) after stale updates", get[*task.Task](t)(tx.Task(ctx, "tsk_1")), next)
	})
}

// taskSet is a varied set of tasks for filter tests.
func taskSet() []*task.Task {
	var out []*task.Task
	shops, buyers, orders := []string{"shp_a", "shp_b"}, []string{"byr_1", "byr_2", "byr_3"}, []string{"ord_1", "ord_2", "ord_3", "ord_4"}
	types := []task.Type{task.UrgeShipment, task.LogisticsStall, task.UrgeInvoice}
	for i := range 24 {
		x := newTask(fmt.Sprintf("tsk_%02d", 23-i), orders[i%4], shops[i%2], buyers[i%3], types[i%3],
			task.States[i%len(task.States)], at(time.Duration(i/3)*time.Minute)) // created_at ties, ids reversed
		if i%4 != 3 {
			x.DueAt = ptr(at(time.Duration(i%5) * time.Hour))
		}
		out = append(out, x)
	}
	// Make (order, type) unique among open tasks by suffixing orders.
	for i, x := range out {
		x.OrderID = fmt.Sprintf("%s_%d", x.OrderID, i)
	}
	return out
}

// matches is the reference implementation of store.TaskFilter (without After and Limit).
func matches(f store.TaskFilter, x *task.Task) bool {
	return (f.ShopID == "" || x.ShopID == f.ShopID) && (f.BuyerID == "" || x.BuyerID == f.BuyerID) &&
		(f.OrderID == "" || x.OrderID == f.OrderID) && (f.Type == "" || x.Type == f.Type) &&
		(f.State == "" || x.State == f.State) &&
		(f.DueBefore == nil || (x.DueAt != nil && x.DueAt.Before(*f.DueBefore)))
}

// expected returns the ids of tasks matching f, ordered by (created_at, id).
func expected(set []*task.Task, f store.TaskFilter) []string {
	var m []*task.Task
	for _, x := range set {
		if matches(f, x) {
			m = append(m, x)
		}
	}
	slices.SortFunc(m, func(a, b *task.Task) int {
		if f.ByDue {
			switch {
			case a.DueAt != nil && b.DueAt == nil:
				return -1
			case a.DueAt == nil && b.DueAt != nil:
				return 1
			case a.DueAt != nil:
				if c := a.DueAt.Compare(*b.DueAt); c != 0 {
					return c
				}
			}
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := []string{}
	for _, x := range m {
		out = append(out, x.ID)
	}
	return out
}

var filters = []store.TaskFilter{
	{},
	{ShopID: "shp_a"},
	{ShopID: "shp_b"},
	{ShopID: "shp_none"},
	{BuyerID: "byr_2"},
	{OrderID: "ord_1_4"},
	{Type: task.LogisticsStall},
	{State: task.AwaitingSellerReply},
	{State: task.Completed},
	{DueBefore: ptr(at(2 * time.Hour))},
	{DueBefore: ptr(at(0))}, // strictly before
	{ShopID: "shp_a", State: task.AwaitingSellerReply},
	{ShopID: "shp_a", BuyerID: "byr_3", Type: task.UrgeShipment},
	{ShopID: "shp_b", DueBefore: ptr(at(3 * time.Hour)), State: task.PlatformIntervening},
	// By deadline, soonest first, tasks without one last (an agent's queue).
	{ByDue: true},
	{ByDue: true, ShopID: "shp_a"},
	{ByDue: true, State: task.PlatformIntervening},
	{ByDue: true, DueBefore: ptr(at(2 * time.Hour))},
}

func loadTaskSet(t *testing.T, s store.Store) []*task.Task {
	set := taskSet()
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, x := range set {
			must(t, tx.InsertTask(ctx, x))
		}
	})
	return set
}

func testTaskFilter(t *testing.T, s store.Store) {
	set := loadTaskSet(t, s)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		for _, f := range filters {
			got := get[[]task.Task](t)(tx.Tasks(ctx, f))
			equal(t, fmt.Sprintf("Tasks(%+v)", f), ids(got), expected(set, f))
		}
		// Whole tasks come back, not just ids.
		got := get[[]task.Task](t)(tx.Tasks(ctx, store.TaskFilter{OrderID: set[5].OrderID}))
		if len(got) == 1 {
			equal(t, "Tasks(order) task", &got[0], set[5])
		}
		// Limit without a cursor takes the first ones.
		f := store.TaskFilter{ShopID: "shp_a", Limit: 3}
		got = get[[]task.Task](t)(tx.Tasks(ctx, f))
		equal(t, "Tasks(shp_a, limit 3)", ids(got), expected(set, store.TaskFilter{ShopID: "shp_a"})[:3])
		// An unknown cursor is an error, not an empty page.
		_, err := tx.Tasks(ctx, store.TaskFilter{After: "tsk_none"})
		wantCode(t, "Tasks(after unknown)", err, apperr.ENOTFOUND)
	})
}

func testTaskPagination(t *testing.T, s store.Store) {
	set := loadTaskSet(t, s)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		for _, f := range filters {
			want := expected(set, f)
			for _, size := range []int{1, 2, 5, 100} {
				var all []string
				page := f
				page.Limit = size
				for range len(set) + 2 {
					got := ids(get[[]task.Task](t)(tx.Tasks(ctx, page)))
					if len(got) > size {
						t.Fatalf("Tasks(%+v) returned %d > limit", page, len(got))
					}
					all = append(all, got...)
					if len(got) < size {
						break
					}
					page.After = got[len(got)-1]
				}
				if all == nil {
					all = []string{}
				}
				equal(t, fmt.Sprintf("pages of %d of Tasks(%+v)", size, f), all, want)
			}
		}
		// A cursor need not match the filter: it is a position in (created_at, id) order.
		all := expected(set, store.TaskFilter{})
		cursor := all[7]
		f := store.TaskFilter{ShopID: "shp_b", After: cursor}
		var want []string
		for _, id := range expected(set, store.TaskFilter{ShopID: "shp_b"}) {
			if slices.Index(all, id) > 7 {
				want = append(want, id)
			}
		}
		if want == nil {
			want = []string{}
		}
		equal(t, "Tasks(shp_b after a shp_a task)", ids(get[[]task.Task](t)(tx.Tasks(ctx, f))), want)
	})
}

func testCountTasks(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if m := get[map[task.State]int](t)(tx.CountTasks(ctx, "")); len(m) != 0 {
			t.Errorf("CountTasks on an empty store = %v", m)
		}
	})
	set := loadTaskSet(t, s)
	count := func(shop string) map[task.State]int {
		m := map[task.State]int{}
		for _, x := range set {
			if shop == "" || x.ShopID == shop {
				m[x.State]++
			}
		}
		return m
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		for _, shop := range []string{"", "shp_a", "shp_b"} {
			equal(t, fmt.Sprintf("CountTasks(%q)", shop), get[map[task.State]int](t)(tx.CountTasks(ctx, shop)), count(shop))
		}
		if m := get[map[task.State]int](t)(tx.CountTasks(ctx, "shp_none")); len(m) != 0 {
			t.Errorf("CountTasks(unknown shop) = %v", m)
		}
	})
}

func testEvents(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if es := get[[]task.Event](t)(tx.EventsAfter(ctx, 0, 0)); len(es) != 0 {
			t.Errorf("EventsAfter on an empty store = %v", es)
		}
	})
	a := []task.Event{newEvent("tsk_a", 1, `{"a": 1,  "b":[1, 2]}`), newEvent("tsk_a", 2, ""), newEvent("tsk_a", 3, `"x"`)}
	b := []task.Event{newEvent("ord_b", 4, `{}`), newEvent("tsk_b", 5, "")}
	a2 := []task.Event{newEvent("tsk_a", 6, `[ ]`)}
	a2[0].Visibility, a2[0].Actor = task.ShopAgent, task.Actor{Role: task.RoleAgent, ID: "agt_1"}
	var last int64
	for _, batch := range [][]task.Event{a, b, a2, nil} {
		update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.AppendEvents(ctx, batch)) })
		for _, e := range batch {
			if e.Seq <= last {
				t.Errorf("AppendEvents: seq %d after %d", e.Seq, last)
			}
			last = e.Seq
		}
	}
	all := slices.Concat(a, b, a2)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Events(tsk_a)", get[[]task.Event](t)(tx.Events(ctx, "tsk_a")), slices.Concat(a, a2))
		equal(t, "Events(ord_b)", get[[]task.Event](t)(tx.Events(ctx, "ord_b")), b[:1])
		if es := get[[]task.Event](t)(tx.Events(ctx, "none")); len(es) != 0 {
			t.Errorf("Events(unknown) = %v", es)
		}
		equal(t, "EventsAfter(0, 0)", get[[]task.Event](t)(tx.EventsAfter(ctx, 0, 0)), all)
		equal(t, "EventsAfter(seq 2, 2)", get[[]task.Event](t)(tx.EventsAfter(ctx, all[1].Seq, 2)), all[2:4])
		equal(t, "EventsAfter(seq 4, 100)", get[[]task.Event](t)(tx.EventsAfter(ctx, all[3].Seq, 100)), all[4:])
		if es := get[[]task.Event](t)(tx.EventsAfter(ctx, last, 10)); len(es) != 0 {
			t.Errorf("EventsAfter(last) = %v", es)
		}
	})
	// Data comes back byte for byte.
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		es := get[[]task.Event](t)(tx.Events(ctx, "tsk_a"))
		if len(es) > 0 && string(es[0].Data) != `{"a": 1,  "b":[1, 2]}` {
			t.Errorf("Event.Data = %q", es[0].Data)
		}
	})
}

func timerList(t *testing.T, s store.Store, subject string) []task.Timer {
	var out []task.Timer
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		out = get[[]task.Timer](t)(tx.Timers(ctx, subject))
	})
	return out
}

func tm(subject, kind string, due time.Duration) task.Timer {
	return task.Timer{Subject: subject, Kind: kind, DueAt: at(due), SetAt: at(0), PolicyVersion: "v1"}
}

func testTimers(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if _, ok, err := tx.NextDue(ctx); err != nil || ok {
			t.Errorf("NextDue on an empty store = ok %v, err %v", ok, err)
		}
	})
	ts := []task.Timer{
		tm("tsk_b", "reply", 2*time.Hour),
		tm("tsk_a", "reply", time.Hour),
		tm("tsk_a", "remind", 2*time.Hour), // ties on due_at sort by subject, then kind
		tm("tsk_a", "action", 2*time.Hour),
		tm("ord_c", "invoice_first", 3*time.Hour),
	}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, x := range ts {
			must(t, tx.SetTimer(ctx, x))
		}
	})
	equal(t, "Timers(all)", timerList(t, s, ""), []task.Timer{ts[1], ts[3], ts[2], ts[0], ts[4]})
	equal(t, "Timers(tsk_a)", timerList(t, s, "tsk_a"), []task.Timer{ts[1], ts[3], ts[2]})
	equal(t, "Timers(unknown)", len(timerList(t, s, "none")), 0)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		due, ok, err := tx.NextDue(ctx)
		if err != nil || !ok || !due.Equal(at(time.Hour)) || due.Location() != time.UTC {
			t.Errorf("NextDue = %v %v %v, want %v", due, ok, err, at(time.Hour))
		}
	})
	// Setting again moves the timer (one per subject and kind).
	moved := tm("tsk_a", "reply", 4*time.Hour)
	moved.SetAt, moved.PolicyVersion = at(time.Minute), "v2"
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.SetTimer(ctx, moved)) })
	equal(t, "Timers(tsk_a) after move", timerList(t, s, "tsk_a"), []task.Timer{ts[3], ts[2], moved})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		due, ok, _ := tx.NextDue(ctx)
		if !ok || !due.Equal(at(2*time.Hour)) {
			t.Errorf("NextDue after move = %v %v, want %v", due, ok, at(2*time.Hour))
		}
	})
	// Stop one, stop a missing one, stop all of a subject.
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.StopTimer(ctx, "tsk_a", "remind"))
		must(t, tx.StopTimer(ctx, "tsk_a", "remind"))
		must(t, tx.StopTimer(ctx, "none", "reply"))
	})
	equal(t, "Timers(tsk_a) after StopTimer", timerList(t, s, "tsk_a"), []task.Timer{ts[3], moved})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.StopTimers(ctx, "tsk_a"))
		must(t, tx.StopTimers(ctx, "none"))
	})
	equal(t, "Timers(all) after StopTimers", timerList(t, s, ""), []task.Timer{ts[0], ts[4]})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.StopTimers(ctx, "tsk_b"))
		must(t, tx.StopTimers(ctx, "ord_c"))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if _, ok, err := tx.NextDue(ctx); err != nil || ok {
			t.Errorf("NextDue with no timers = ok %v, err %v", ok, err)
		}
	})
}

func testClaimDue(t *testing.T, s store.Store) {
	ts := []task.Timer{
		tm("tsk_b", "reply", time.Minute),
		tm("tsk_a", "reply", time.Minute),
		tm("tsk_a", "action", time.Minute),
		tm("tsk_c", "reply", 2*time.Minute),  // due exactly at now
		tm("tsk_d", "reply", 10*time.Minute), // not due
	}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, x := range ts {
			must(t, tx.SetTimer(ctx, x))
		}
	})
	now := at(2 * time.Minute)
	claim := func(n int) (got []task.Timer) {
		update(t, s, func(ctx context.Context, tx store.Tx) {
			got = get[[]task.Timer](t)(tx.ClaimDue(ctx, now, n))
		})
		return got
	}
	// A claim that is rolled back leaves the timers in place.
	errBoom := errors.New("boom")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		got, err := tx.ClaimDue(t.Context(), now, 0)
		if err != nil {
			return err
		}
		if len(got) != 4 {
			t.Errorf("ClaimDue(no limit) claimed %d, want 4", len(got))
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want errBoom", err)
	}
	equal(t, "Timers after rolled-back claim", len(timerList(t, s, "")), len(ts))

	equal(t, "ClaimDue(now, 2)", claim(2), []task.Timer{ts[2], ts[1]})
	equal(t, "Timers after first claim", timerList(t, s, ""), []task.Timer{ts[0], ts[3], ts[4]})
	equal(t, "ClaimDue(now, 10)", claim(10), []task.Timer{ts[0], ts[3]})
	equal(t, "ClaimDue(now, 10) again", len(claim(10)), 0)
	equal(t, "Timers after claims", timerList(t, s, ""), []task.Timer{ts[4]})
	// A claimed timer can be set again.
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.SetTimer(ctx, ts[1])) })
	equal(t, "Timers after re-set", timerList(t, s, ""), []task.Timer{ts[1], ts[4]})
	// ClaimDue sees timers set earlier in the same transaction.
	update(t, s, func(ctx context.Context, tx store.Tx) {
		x := tm("tsk_e", "reply", 0)
		must(t, tx.SetTimer(ctx, x))
		equal(t, "ClaimDue in the setting tx", get[[]task.Timer](t)(tx.ClaimDue(ctx, now, 0)), []task.Timer{x, ts[1]})
	})
	equal(t, "Timers at the end", timerList(t, s, ""), []task.Timer{ts[4]})
}

func testFirings(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if fs := get[[]task.Firing](t)(tx.Firings(ctx, 0)); len(fs) != 0 {
			t.Errorf("Firings on an empty store = %v", fs)
		}
	})
	f := func(subject string, i int) task.Firing {
		return task.Firing{Subject: subject, Kind: "reply", DueAt: at(time.Duration(i) * time.Minute),
			FiredAt: at(time.Duration(i)*time.Minute + 1500*time.Millisecond), Late: 1500 * time.Millisecond}
	}
	first := []task.Firing{f("tsk_z", 1), f("tsk_a", 2), f("tsk_m", 3)}
	second := []task.Firing{f("tsk_b", 4), f("tsk_a", 5)}
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.RecordFirings(ctx, first)) })
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.RecordFirings(ctx, second))
		must(t, tx.RecordFirings(ctx, nil))
	})
	all := slices.Concat(first, second)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Firings(0)", get[[]task.Firing](t)(tx.Firings(ctx, 0)), all)
		equal(t, "Firings(2)", get[[]task.Firing](t)(tx.Firings(ctx, 2)), all[:2])
		equal(t, "Firings(100)", get[[]task.Firing](t)(tx.Firings(ctx, 100)), all)
	})
}

func testOutbox(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if ms := get[[]notify.Message](t)(tx.Outbox(ctx, 0, 0)); len(ms) != 0 {
			t.Errorf("Outbox on an empty store = %v", ms)
		}
	})
	first := []notify.Message{newMessage(1, `{"card": {"order": "ord_1"}}`), newMessage(2, "")}
	first[1].Status, first[1].Kind, first[1].Reason = notify.Suppressed, notify.KindReminder, "daily cap"
	second := []notify.Message{newMessage(3, `[1,2]`), newMessage(4, `null`), newMessage(5, "")}
	var last int64
	for _, batch := range [][]notify.Message{first, second, nil} {
		update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.AppendOutbox(ctx, batch)) })
		for _, m := range batch {
			if m.Seq <= last {
				t.Errorf("AppendOutbox: seq %d after %d", m.Seq, last)
			}
			last = m.Seq
		}
	}
	all := slices.Concat(first, second)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Outbox(0, 0)", get[[]notify.Message](t)(tx.Outbox(ctx, 0, 0)), all)
		equal(t, "Outbox(0, 2)", get[[]notify.Message](t)(tx.Outbox(ctx, 0, 2)), all[:2])
		equal(t, "Outbox(seq 2, 2)", get[[]notify.Message](t)(tx.Outbox(ctx, all[1].Seq, 2)), all[2:4])
		equal(t, "Outbox(seq 4, 10)", get[[]notify.Message](t)(tx.Outbox(ctx, all[3].Seq, 10)), all[4:])
		if ms := get[[]notify.Message](t)(tx.Outbox(ctx, last, 10)); len(ms) != 0 {
			t.Errorf("Outbox(last) = %v", ms)
		}
	})
}

func testCounters(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if n := get[int64](t)(tx.Counter(ctx, "remind:acc_1:2023-07-05")); n != 0 {
			t.Errorf("Counter(never incremented) = %d", n)
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for i, want := range []int64{1, 2, 3} {
			if n := get[int64](t)(tx.IncrCounter(ctx, "remind:acc_1:2023-07-05", 1)); n != want {
				t.Errorf("IncrCounter #%d = %d, want %d", i, n, want)
			}
		}
		if n := get[int64](t)(tx.IncrCounter(ctx, "score:shp_1:2023-07-05:late", 5)); n != 5 {
			t.Errorf("IncrCounter(other key, 5) = %d", n)
		}
		if n := get[int64](t)(tx.Counter(ctx, "remind:acc_1:2023-07-05")); n != 3 {
			t.Errorf("Counter in the incrementing tx = %d", n)
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if n := get[int64](t)(tx.IncrCounter(ctx, "remind:acc_1:2023-07-05", -2)); n != 1 {
			t.Errorf("IncrCounter(-2) = %d, want 1", n)
		}
		if n := get[int64](t)(tx.IncrCounter(ctx, "fresh", 0)); n != 0 {
			t.Errorf("IncrCounter(fresh, 0) = %d, want 0", n)
		}
		if n := get[int64](t)(tx.IncrCounter(ctx, "neg", -4)); n != -4 {
			t.Errorf("IncrCounter(neg, -4) = %d, want -4", n)
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		for key, want := range map[string]int64{"remind:acc_1:2023-07-05": 1, "score:shp_1:2023-07-05:late": 5, "neg": -4, "fresh": 0} {
			if n := get[int64](t)(tx.Counter(ctx, key)); n != want {
				t.Errorf("Counter(%s) = %d, want %d", key, n, want)
			}
		}
	})
}

// The points ledger is append-only, read per shop from a time, by (at, id).
func testPoints(t *testing.T, s store.Store) {
	e := func(id, shop string, d time.Duration, n int) judgment.PointsEntry {
		return judgment.PointsEntry{ID: id, ShopID: shop, Points: n, Kind: judgment.PointsGeneral, Rule: judgment.RuleInvoicePoints,
			TaskID: "tsk_" + id, ComplaintID: "cmp_" + id, At: at(d), PolicyVersion: "v1"}
	}
	a1, a2, a3, b1 := e("pts_1", "shp_a", time.Hour, 1), e("pts_2", "shp_a", 2*time.Hour, 1), e("pts_3", "shp_a", 3*time.Hour, 12), e("pts_4", "shp_b", time.Hour, 1)
	rev := a2.Reversal("pts_5", at(4*time.Hour), "v2")
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.AppendPoints(ctx, []judgment.PointsEntry{a3, a1, b1}))
		must(t, tx.AppendPoints(ctx, []judgment.PointsEntry{a2, rev}))
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Points(shp_a, 0)", get[[]judgment.PointsEntry](t)(tx.Points(ctx, "shp_a", at(0))), []judgment.PointsEntry{a1, a2, a3, rev})
		equal(t, "Points(shp_a, 2h)", get[[]judgment.PointsEntry](t)(tx.Points(ctx, "shp_a", at(2*time.Hour))), []judgment.PointsEntry{a2, a3, rev})
		equal(t, "Points(shp_b, 0)", get[[]judgment.PointsEntry](t)(tx.Points(ctx, "shp_b", at(0))), []judgment.PointsEntry{b1})
		if ps := get[[]judgment.PointsEntry](t)(tx.Points(ctx, "shp_none", at(0))); len(ps) != 0 {
			t.Errorf("Points(shp_none) = %+v", ps)
		}
	})
	err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.AppendPoints(context.Background(), []judgment.PointsEntry{a1})
	})
	wantCode(t, "AppendPoints(repeated id)", err, apperr.ECONFLICT)
}

func testComplaints(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		_, err := tx.Complaint(ctx, "cmp_none")
		wantCode(t, "Complaint(unknown)", err, apperr.ENOTFOUND)
		if cs := get[[]judgment.Complaint](t)(tx.Complaints(ctx, "ord_1")); len(cs) != 0 {
			t.Errorf("Complaints on an empty store = %v", cs)
		}
	})
	c := func(id, order string, filed time.Duration) *judgment.Complaint {
		return &judgment.Complaint{ID: id, Kind: judgment.ComplaintShipping, OrderID: order, ShopID: "shp_1", TaskID: "tsk_1",
			Status: judgment.ComplaintOpen, FiledBy: "platform", FiledAt: at(filed), Standard: "R-SLA-3", PolicyVersion: "v1"}
	}
	cs := []*judgment.Complaint{c("cmp_1", "ord_1", 3*time.Hour), c("cmp_2", "ord_1", time.Hour), c("cmp_3", "ord_2", 0),
		c("cmp_0", "ord_1", 2*time.Hour)}
	cs[3].Kind, cs[3].FiledBy, cs[3].TaskID = judgment.ComplaintInvoice, "byr_1", ""
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, x := range cs {
			must(t, tx.PutComplaint(ctx, x))
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Complaint(cmp_0)", get[*judgment.Complaint](t)(tx.Complaint(ctx, "cmp_0")), cs[3])
		equal(t, "Complaints(ord_1)", get[[]judgment.Complaint](t)(tx.Complaints(ctx, "ord_1")),
			[]judgment.Complaint{*cs[1], *cs[3], *cs[0]})
		equal(t, "Complaints(ord_2)", get[[]judgment.Complaint](t)(tx.Complaints(ctx, "ord_2")), []judgment.Complaint{*cs[2]})
	})
	done := *cs[1]
	done.Status, done.FinishedAt = judgment.ComplaintUpheld, ptr(at(5*time.Hour))
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.PutComplaint(ctx, &done)) })
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Complaint(cmp_2) after upsert", get[*judgment.Complaint](t)(tx.Complaint(ctx, "cmp_2")), &done)
		equal(t, "Complaints(ord_1) after upsert", len(get[[]judgment.Complaint](t)(tx.Complaints(ctx, "ord_1"))), 3)
	})
}

func testIdempotency(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if _, ok, err := tx.Idempotent(ctx, "key_1"); err != nil || ok {
			t.Errorf("Idempotent(unknown) = ok %v, err %v", ok, err)
		}
	})
	resp := []byte(`{"task_id": "tsk_1", "state":"awaiting_seller_reply"}`)
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutIdempotent(ctx, "key_1", resp))
		got, ok, err := tx.Idempotent(ctx, "key_1")
		if err != nil || !ok || string(got) != string(resp) {
			t.Errorf("Idempotent(key_1) in the putting tx = %q %v %v", got, ok, err)
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		got, ok, err := tx.Idempotent(ctx, "key_1")
		if err != nil || !ok || string(got) != string(resp) {
			t.Errorf("Idempotent(key_1) = %q %v %v, want %q", got, ok, err, resp)
		}
		if _, ok, _ := tx.Idempotent(ctx, "key_2"); ok {
			t.Error("Idempotent(key_2) = ok")
		}
	})
}

// Every time comes back in UTC, equal to what was written in another zone.
func testTimesInUTC(t *testing.T, s store.Store) {
	cst := time.FixedZone("CST", 8*3600)
	in := func(x time.Time) time.Time { return x.In(cst) }

	o := fullOrder("ord_1")
	fillTimes(reflect.ValueOf(o).Elem(), cst)
	x := fullTask("tsk_1")
	fillTimes(reflect.ValueOf(x).Elem(), cst)
	c := &judgment.Complaint{ID: "cmp_1", OrderID: "ord_1", Status: judgment.ComplaintOpen}
	fillTimes(reflect.ValueOf(c).Elem(), cst)
	evs := []task.Event{newEvent("tsk_1", 1, "")}
	evs[0].At = in(evs[0].At)
	ms := []notify.Message{newMessage(1, "")}
	ms[0].At = in(ms[0].At)
	timer := tm("tsk_1", "reply", time.Hour)
	timer.DueAt, timer.SetAt = in(timer.DueAt), in(timer.SetAt)
	firing := task.Firing{Subject: "tsk_1", Kind: "reply", DueAt: in(at(time.Hour)), FiredAt: in(at(2 * time.Hour)), Late: time.Hour}

	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.PutOrder(ctx, o))
		must(t, tx.InsertTask(ctx, x))
		must(t, tx.PutComplaint(ctx, c))
		must(t, tx.AppendEvents(ctx, evs))
		must(t, tx.AppendOutbox(ctx, ms))
		must(t, tx.SetTimer(ctx, timer))
		must(t, tx.RecordFirings(ctx, []task.Firing{firing}))
	})
	if o.PaidAt.Location() != cst || x.CreatedAt.Location() != cst {
		t.Error("the store changed the location of the caller's times")
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		check := func(what string, got, want any) {
			t.Helper()
			if n := nonUTC(reflect.ValueOf(got)); n > 0 {
				t.Errorf("%s: %d times are not in UTC", what, n)
			}
			w := reflect.New(reflect.TypeOf(want).Elem())
			w.Elem().Set(reflect.ValueOf(want).Elem())
			deepUTC(w.Elem())
			equal(t, what, got, w.Interface())
		}
		check("Order", get[*commerce.Order](t)(tx.Order(ctx, "ord_1")), o)
		check("Task", get[*task.Task](t)(tx.Task(ctx, "tsk_1")), x)
		check("Complaint", get[*judgment.Complaint](t)(tx.Complaint(ctx, "cmp_1")), c)
		check("Events", ptr(get[[]task.Event](t)(tx.Events(ctx, "tsk_1"))), &evs)
		check("Outbox", ptr(get[[]notify.Message](t)(tx.Outbox(ctx, 0, 0))), &ms)
		check("Timers", ptr(get[[]task.Timer](t)(tx.Timers(ctx, ""))), &[]task.Timer{timer})
		check("Firings", ptr(get[[]task.Firing](t)(tx.Firings(ctx, 0))), &[]task.Firing{firing})
		due, _, _ := tx.NextDue(ctx)
		if due.Location() != time.UTC || !due.Equal(timer.DueAt) {
			t.Errorf("NextDue = %v, want %v in UTC", due, timer.DueAt)
		}
		// Filters compare instants, not zone-local text.
		got := get[[]task.Task](t)(tx.Tasks(ctx, store.TaskFilter{DueBefore: ptr(x.DueAt.Add(time.Microsecond).UTC())}))
		equal(t, "Tasks(due before, zoned)", ids(got), []string{"tsk_1"})
		got = get[[]task.Task](t)(tx.Tasks(ctx, store.TaskFilter{DueBefore: ptr(in(*x.DueAt))}))
		equal(t, "Tasks(due before itself, zoned)", ids(got), []string{})
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		got := get[[]task.Timer](t)(tx.ClaimDue(ctx, in(timer.DueAt), 0))
		if len(got) != 1 || got[0].DueAt.Location() != time.UTC {
			t.Errorf("ClaimDue(zoned now) = %v", got)
		}
	})
}

// fillTimes sets every time reachable from v (allocating nil pointers to
// structs and times) to distinct microsecond instants in loc.
func fillTimes(v reflect.Value, loc *time.Location) {
	n := 0
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch {
		case v.Type() == reflect.TypeFor[time.Time]():
			n++
			v.Set(reflect.ValueOf(at(time.Duration(n) * 61 * time.Minute).In(loc)))
		case v.Kind() == reflect.Pointer && (v.Type().Elem().Kind() == reflect.Struct):
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			walk(v.Elem())
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case v.Kind() == reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(v)
}

// deepUTC converts every time reachable from the settable v to UTC.
func deepUTC(v reflect.Value) {
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			c := reflect.New(v.Type().Elem())
			c.Elem().Set(v.Elem())
			deepUTC(c.Elem())
			v.Set(c)
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				deepUTC(v.Field(i))
			}
		}
	case v.Kind() == reflect.Slice:
		if !v.IsNil() {
			c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(c, v)
			for i := range c.Len() {
				deepUTC(c.Index(i))
			}
			v.Set(c)
		}
	}
}

// nonUTC counts times reachable from v that are not in UTC.
func nonUTC(v reflect.Value) int {
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		if v.Interface().(time.Time).Location() != time.UTC {
			return 1
		}
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			return nonUTC(v.Elem())
		}
	case v.Kind() == reflect.Struct:
		n := 0
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				n += nonUTC(v.Field(i))
			}
		}
		return n
	case v.Kind() == reflect.Slice:
		n := 0
		for i := range v.Len() {
			n += nonUTC(v.Index(i))
		}
		return n
	}
	return 0
}

// writeEverything writes one of each kind of thing.
func writeEverything(ctx context.Context, t *testing.T, tx store.Tx, n int) {
	t.Helper()
	sfx := fmt.Sprint(n)
	if dup := get[bool](t)(tx.RecordFact(ctx, "fct_"+sfx, commerce.FactOrder, at(0), []byte(`{}`))); dup {
		t.Errorf("RecordFact(fct_%s) = duplicate", sfx)
	}
	must(t, tx.PutShop(ctx, newShop("shp_"+sfx)))
	must(t, tx.PutAccount(ctx, &commerce.Account{ID: "acc_" + sfx, ShopID: "shp_" + sfx, Role: commerce.RoleMain}))
	o := newOrder("ord_"+sfx, "shp_"+sfx, "byr_1")
	o.UrgedAt = ptr(at(time.Hour))
	must(t, tx.PutOrder(ctx, o))
	must(t, tx.InsertTask(ctx, newTask("tsk_"+sfx, "ord_"+sfx, "shp_"+sfx, "byr_1", task.UrgeShipment, task.AwaitingSellerReply, at(0))))
	must(t, tx.AppendEvents(ctx, []task.Event{newEvent("tsk_"+sfx, 1, `{}`)}))
	must(t, tx.SetTimer(ctx, tm("tsk_"+sfx, "reply", time.Hour)))
	must(t, tx.RecordFirings(ctx, []task.Firing{{Subject: "tsk_" + sfx, Kind: "reply", DueAt: at(0), FiredAt: at(0)}}))
	must(t, tx.AppendOutbox(ctx, []notify.Message{newMessage(1, "")}))
	_, err := tx.IncrCounter(ctx, "ctr_"+sfx, 1)
	must(t, err)
	must(t, tx.PutComplaint(ctx, &judgment.Complaint{ID: "cmp_" + sfx, OrderID: "ord_" + sfx, FiledAt: at(0), Status: judgment.ComplaintOpen}))
	must(t, tx.PutIdempotent(ctx, "idem_"+sfx, []byte("resp")))
}

// checkNothing checks that nothing writeEverything(n) writes is visible.
func checkNothing(t *testing.T, s store.Store, n int) {
	t.Helper()
	sfx := fmt.Sprint(n)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if get[bool](t)(tx.FactSeen(ctx, "fct_"+sfx)) {
			t.Error("fact survived the rollback")
		}
		_, err := tx.Shop(ctx, "shp_"+sfx)
		wantCode(t, "Shop after rollback", err, apperr.ENOTFOUND)
		_, err = tx.Account(ctx, "acc_"+sfx)
		wantCode(t, "Account after rollback", err, apperr.ENOTFOUND)
		if as := get[[]commerce.Account](t)(tx.ShopAccounts(ctx, "shp_"+sfx)); len(as) != 0 {
			t.Error("accounts survived the rollback")
		}
		_, err = tx.Order(ctx, "ord_"+sfx)
		wantCode(t, "Order after rollback", err, apperr.ENOTFOUND)
		if os := get[[]commerce.Order](t)(tx.UrgedOrders(ctx, "shp_"+sfx)); len(os) != 0 {
			t.Error("urged order survived the rollback")
		}
		_, err = tx.Task(ctx, "tsk_"+sfx)
		wantCode(t, "Task after rollback", err, apperr.ENOTFOUND)
		if x := get[*task.Task](t)(tx.OpenTask(ctx, "ord_"+sfx, task.UrgeShipment)); x != nil {
			t.Error("open task survived the rollback")
		}
		if ts := get[[]task.Task](t)(tx.Tasks(ctx, store.TaskFilter{ShopID: "shp_" + sfx})); len(ts) != 0 {
			t.Error("tasks survived the rollback")
		}
		if m := get[map[task.State]int](t)(tx.CountTasks(ctx, "shp_"+sfx)); len(m) != 0 {
			t.Errorf("task counts survived the rollback: %v", m)
		}
		if es := get[[]task.Event](t)(tx.Events(ctx, "tsk_"+sfx)); len(es) != 0 {
			t.Error("events survived the rollback")
		}
		if ts := get[[]task.Timer](t)(tx.Timers(ctx, "tsk_"+sfx)); len(ts) != 0 {
			t.Error("timers survived the rollback")
		}
		if get[int64](t)(tx.Counter(ctx, "ctr_"+sfx)) != 0 {
			t.Error("counter survived the rollback")
		}
		_, err = tx.Complaint(ctx, "cmp_"+sfx)
		wantCode(t, "Complaint after rollback", err, apperr.ENOTFOUND)
		if _, ok, _ := tx.Idempotent(ctx, "idem_"+sfx); ok {
			t.Error("idempotency key survived the rollback")
		}
	})
}

func testRollbackOnError(t *testing.T, s store.Store) {
	// Something committed before, to check it is untouched.
	update(t, s, func(ctx context.Context, tx store.Tx) { writeEverything(ctx, t, tx, 1) })
	var before struct {
		events, outbox, firings int
		next                    time.Time
	}
	count := func() (e, o, f int, next time.Time) {
		view(t, s, func(ctx context.Context, tx store.ReadTx) {
			e = len(get[[]task.Event](t)(tx.EventsAfter(ctx, 0, 0)))
			o = len(get[[]notify.Message](t)(tx.Outbox(ctx, 0, 0)))
			f = len(get[[]task.Firing](t)(tx.Firings(ctx, 0)))
			next, _, _ = tx.NextDue(ctx)
		})
		return
	}
	before.events, before.outbox, before.firings, before.next = count()

	refusal := apperr.Conflict("test.refused", "R-TEST-1", "refused")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		ctx := t.Context()
		writeEverything(ctx, t, tx, 2)
		// Changes to what was committed before.
		_, err := tx.IncrCounter(ctx, "ctr_1", 10)
		must(t, err)
		o := newOrder("ord_1", "shp_1", "byr_1")
		o.UrgeCount = 99
		must(t, tx.PutOrder(ctx, o))
		must(t, tx.StopTimers(ctx, "tsk_1"))
		must(t, tx.SetTimer(ctx, tm("tsk_x", "reply", -time.Hour)))
		x := get[*task.Task](t)(tx.Task(ctx, "tsk_1"))
		x.State, x.Rev = task.Completed, x.Rev+1
		must(t, tx.UpdateTask(ctx, x))
		return fmt.Errorf("wrapped: %w", refusal)
	})
	if !errors.Is(err, refusal) || apperr.CodeOf(err) != apperr.ECONFLICT {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	checkNothing(t, s, 2)
	e, o, f, next := count()
	equal(t, "events, outbox, firings, next due after rollback", []any{e, o, f, next},
		[]any{before.events, before.outbox, before.firings, before.next})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if n := get[int64](t)(tx.Counter(ctx, "ctr_1")); n != 1 {
			t.Errorf("Counter(ctr_1) after rollback = %d, want 1", n)
		}
		if o := get[*commerce.Order](t)(tx.Order(ctx, "ord_1")); o.UrgeCount != 0 {
			t.Errorf("Order(ord_1) changed by a rolled-back tx: %+v", o)
		}
		if ts := get[[]task.Timer](t)(tx.Timers(ctx, "tsk_1")); len(ts) != 1 {
			t.Errorf("Timers(tsk_1) after rollback = %v", ts)
		}
		if x := get[*task.Task](t)(tx.Task(ctx, "tsk_1")); x.State != task.AwaitingSellerReply || x.Rev != 1 {
			t.Errorf("Task(tsk_1) changed by a rolled-back tx: %+v", x)
		}
	})
	// The store is still usable, and the same writes now succeed.
	update(t, s, func(ctx context.Context, tx store.Tx) { writeEverything(ctx, t, tx, 2) })
}

func testRollbackOnPanic(t *testing.T, s store.Store) {
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the panic from fn", p)
			}
		}()
		_ = s.Update(t.Context(), func(tx store.Tx) error {
			writeEverything(t.Context(), t, tx, 1)
			panic("boom")
		})
	}()
	checkNothing(t, s, 1)
	update(t, s, func(ctx context.Context, tx store.Tx) { writeEverything(ctx, t, tx, 1) })
	// View passes fn's error through too.
	errView := errors.New("view failed")
	if err := s.View(t.Context(), func(store.ReadTx) error { return errView }); !errors.Is(err, errView) {
		t.Errorf("View returned %v, want fn's error", err)
	}
}

func testReadYourWrites(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		o := newOrder("ord_1", "shp_1", "byr_1")
		must(t, tx.PutOrder(ctx, o))
		equal(t, "Order in the writing tx", get[*commerce.Order](t)(tx.Order(ctx, "ord_1")), o)
		evs := []task.Event{newEvent("tsk_1", 1, "")}
		must(t, tx.AppendEvents(ctx, evs))
		equal(t, "Events in the writing tx", get[[]task.Event](t)(tx.Events(ctx, "tsk_1")), evs)
		ms := []notify.Message{newMessage(1, "")}
		must(t, tx.AppendOutbox(ctx, ms))
		equal(t, "Outbox in the writing tx", get[[]notify.Message](t)(tx.Outbox(ctx, 0, 0)), ms)
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if _, err := tx.Order(ctx, "ord_1"); err != nil {
			t.Errorf("View does not see the committed order: %v", err)
		}
	})
}

// View reads one snapshot: a commit during it is not seen.
func testViewSnapshot(t *testing.T, s store.Store) {
	update(t, s, func(ctx context.Context, tx store.Tx) {
		_, err := tx.IncrCounter(ctx, "c", 1)
		must(t, err)
		must(t, tx.PutOrder(ctx, newOrder("ord_1", "shp_1", "byr_1")))
	})
	err := s.View(t.Context(), func(tx store.ReadTx) error {
		ctx := t.Context()
		if n := get[int64](t)(tx.Counter(ctx, "c")); n != 1 {
			t.Errorf("Counter = %d, want 1", n)
		}
		done := make(chan error, 1)
		go func() {
			done <- s.Update(t.Context(), func(tx store.Tx) error {
				if _, err := tx.IncrCounter(t.Context(), "c", 1); err != nil {
					return err
				}
				return tx.PutOrder(t.Context(), newOrder("ord_2", "shp_1", "byr_1"))
			})
		}()
		if err := <-done; err != nil {
			t.Errorf("Update during a View: %v", err)
		}
		if n := get[int64](t)(tx.Counter(ctx, "c")); n != 1 {
			t.Errorf("Counter in the same View after a commit = %d, want 1", n)
		}
		if _, err := tx.Order(ctx, "ord_2"); apperr.CodeOf(err) != apperr.ENOTFOUND {
			t.Errorf("View sees an order committed after it started: %v", err)
		}
		return nil
	})
	must(t, err)
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if n := get[int64](t)(tx.Counter(ctx, "c")); n != 2 {
			t.Errorf("Counter in a later View = %d, want 2", n)
		}
	})
}

// Several goroutines update at once: all succeed and nothing is lost.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- s.Update(t.Context(), func(tx store.Tx) error {
					ctx := t.Context()
					if _, err := tx.IncrCounter(ctx, "total", 1); err != nil {
						return err
					}
					if _, err := tx.IncrCounter(ctx, fmt.Sprintf("worker_%d", w), 1); err != nil {
						return err
					}
					if dup, err := tx.RecordFact(ctx, fmt.Sprintf("fct_%d_%d", w, i), commerce.FactOrder, at(0), nil); err != nil || dup {
						return fmt.Errorf("RecordFact: dup %v, err %v", dup, err)
					}
					return tx.AppendEvents(ctx, []task.Event{newEvent("stream", i, "")})
				})
				errs <- s.View(t.Context(), func(tx store.ReadTx) error {
					_, err := tx.Counter(t.Context(), "total")
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update or View: %v", err)
		}
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if n := get[int64](t)(tx.Counter(ctx, "total")); n != workers*each {
			t.Errorf("Counter(total) = %d, want %d", n, workers*each)
		}
		for w := range workers {
			if n := get[int64](t)(tx.Counter(ctx, fmt.Sprintf("worker_%d", w))); n != each {
				t.Errorf("Counter(worker_%d) = %d, want %d", w, n, each)
			}
		}
		es := get[[]task.Event](t)(tx.Events(ctx, "stream"))
		if len(es) != workers*each {
			t.Errorf("%d events, want %d", len(es), workers*each)
		}
		for i := 1; i < len(es); i++ {
			if es[i].Seq <= es[i-1].Seq {
				t.Errorf("event seq %d after %d", es[i].Seq, es[i-1].Seq)
			}
		}
	})
}
