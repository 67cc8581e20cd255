package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/ident"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// Fact result statuses.
const (
	FactAccepted  = "accepted"
	FactDuplicate = "duplicate"
	FactRefused   = "refused"
)

// FactResult is the outcome of one fact of a batch.
type FactResult struct {
	ID     string        `json:"id"`
	Status string        `json:"status"`
	Error  *apperr.Error `json:"error,omitempty"`
}

// Ingest applies a batch of facts in one transaction (group commit). Each
// fact is accepted, answered as a duplicate (its id was seen before, in this
// batch or earlier), or refused with an error that names the field and rule;
// a refused fact changes nothing. A system error aborts the whole batch.
//
// Two replicas ingesting the same fact at once: the second to record it
// learns from the store that the first committed it (store.ErrRace), and
// the whole batch runs again, now answering that fact as a duplicate.
func (e *Engine) Ingest(ctx context.Context, facts []commerce.Fact) ([]FactResult, error) {
	for attempt := 1; ; attempt++ {
		res, err := e.ingestOnce(ctx, facts)
		if errors.Is(err, store.ErrRace) && attempt < maxRaceAttempts {
			continue
		}
		return res, err
	}
}

// maxRaceAttempts bounds the runs of a batch that loses races: a run after a
// lost race sees the winner's facts, so a second run normally settles it.
const maxRaceAttempts = 5

func (e *Engine) ingestOnce(ctx context.Context, facts []commerce.Fact) ([]FactResult, error) {
	res := make([]FactResult, len(facts))
	// Each fact is validated once, before the store sees any of its ids: a
	// malformed fact (an id PostgreSQL cannot even compare) is its own
	// refusal, never a fault of the batch's reads.
	invalid := make([]error, len(facts))
	for i := range facts {
		invalid[i] = facts[i].Validate()
	}
	err := e.update(ctx, func(x *txn) error {
		if len(facts) > 1 {
			if err := x.prefetch(ctx, facts, invalid); err != nil {
				return err
			}
		}
		for i := range facts {
			f := &facts[i]
			res[i] = FactResult{ID: f.ID, Status: FactAccepted}
			if !ident.Valid(f.ID) {
				res[i].ID = "" // the refusal names the id field; the id is not echoed
			}
			err := x.ingest(ctx, f, invalid[i])
			switch {
			case err == errDuplicate:
				res[i].Status = FactDuplicate
			case err != nil:
				ae, ok := apperr.As(err)
				if !ok || !apperr.IsApp(err) {
					return err
				}
				res[i].Status, res[i].Error = FactRefused, ae
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

var errDuplicate = apperr.Conflict("fact.duplicate", "", "fact id already accepted")

// ingest applies a fact that f.Validate answered invalid for. Every check
// comes before the first write, so a refusal leaves the transaction as it
// was. A fact whose id was accepted before is a duplicate even if it is
// invalid now (a resend of a fact accepted before a limit was added).
func (x *txn) ingest(ctx context.Context, f *commerce.Fact, invalid error) error {
	if f.ID != "" && ident.Valid(f.ID) {
		seen, err := x.factSeen(ctx, f.ID)
		if err != nil {
			return err
		}
		if seen {
			return errDuplicate
		}
	}
	if invalid != nil {
		return invalid
	}
	f.At = f.At.UTC()
	if f.At.After(x.now.Add(x.e.skew)) {
		return apperr.Invalid("at", "", "fact time %s is in the future (now %s)", f.At.Format(time.RFC3339), x.now.Format(time.RFC3339))
	}
	var apply func() error
	var err error
	switch f.Type {
	case commerce.FactShop:
		apply, err = x.shopFact(ctx, f)
	case commerce.FactAccount:
		apply, err = x.accountFact(ctx, f)
	case commerce.FactPresence:
		apply, err = x.presenceFact(ctx, f)
	case commerce.FactOrder:
		apply, err = x.orderFact(ctx, f)
	case commerce.FactDeposit:
		apply, err = x.depositFact(ctx, f)
	case commerce.FactProduct:
		apply, err = x.productFact(ctx, f)
	default:
		apply, err = x.orderUpdateFact(ctx, f)
	}
	if err != nil {
		return err
	}
	if err := apply(); err != nil {
		return err
	}
	payload, err := json.Marshal(f)
	if err != nil {
		return err
	}
	dup, err := x.tx.RecordFact(ctx, f.ID, f.Type, f.At, payload)
	if err != nil {
		return err
	}
	if dup && f.ID != "" {
		// Another transaction (another replica) recorded it after this one
		// read it as new: what was just applied must not commit.
		return fmt.Errorf("fact %q: %w", f.ID, store.ErrRace)
	}
	if x.seen != nil {
		x.seen[f.ID] = true
	}
	return nil
}

func (x *txn) shopFact(ctx context.Context, f *commerce.Fact) (func() error, error) {
	s := *f.Shop
	subs := s.SubAccounts
	s.SubAccounts = nil
	if err := x.shopInvoiceMode(&s, f); err != nil {
		return nil, err
	}
	old, err := x.tx.Shop(ctx, s.ID)
	if err != nil && apperr.CodeOf(err) != apperr.ENOTFOUND {
		return nil, err
	}
	if old != nil && old.Platform != s.Platform {
		return nil, apperr.Invalid("shop.platform", "", "shop %s is on %s; a shop's platform never changes", s.ID, old.Platform)
	}
	accs := []commerce.Account{{ID: s.MainAccount, ShopID: s.ID, Role: commerce.RoleMain}}
	for _, a := range subs {
		a.ShopID, a.Role = s.ID, commerce.RoleSub
		accs = append(accs, a)
	}
	for i := range accs {
		prev, err := x.tx.Account(ctx, accs[i].ID)
		if err != nil && apperr.CodeOf(err) != apperr.ENOTFOUND {
			return nil, err
		}
		if prev != nil {
			if prev.ShopID != s.ID {
				return nil, apperr.Invalid("shop.sub_accounts", "", "account %s belongs to shop %s", prev.ID, prev.ShopID)
			}
			accs[i].Online = prev.Online
		}
	}
	return func() error {
		if err := x.tx.PutShop(ctx, &s); err != nil {
			return err
		}
		if err := x.countShop(ctx, old, &s); err != nil {
			return err
		}
		delete(x.shops, s.ID)
		for i := range accs {
			if err := x.tx.PutAccount(ctx, &accs[i]); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func (x *txn) accountFact(ctx context.Context, f *commerce.Fact) (func() error, error) {
	a := *f.Account
	if _, err := x.shop(ctx, a.ShopID); err != nil {
		return nil, apperr.NotFound("account.shop_id", "no shop %q", a.ShopID)
	}
	prev, err := x.tx.Account(ctx, a.ID)
	if err != nil && apperr.CodeOf(err) != apperr.ENOTFOUND {
		return nil, err
	}
	if prev != nil {
		if prev.ShopID != a.ShopID {
			return nil, apperr.Invalid("account.shop_id", "", "account %s belongs to shop %s", a.ID, prev.ShopID)
		}
		a.Online = prev.Online
	}
	return func() error { return x.tx.PutAccount(ctx, &a) }, nil
}

func (x *txn) presenceFact(ctx context.Context, f *commerce.Fact) (func() error, error) {
	a, err := x.tx.Account(ctx, f.Presence.AccountID)
	if err != nil {
		return nil, apperr.NotFoundAs(err, "presence.account_id", "no account %q", f.Presence.AccountID)
	}
	a.Online = f.Presence.Online
	return func() error { return x.tx.PutAccount(ctx, a) }, nil
}

func (x *txn) orderFact(ctx context.Context, f *commerce.Fact) (func() error, error) {
	o := *f.Order
	shop, err := x.shop(ctx, o.ShopID)
	if err != nil {
		return nil, apperr.NotFoundAs(err, "order.shop_id", "no shop %q", o.ShopID)
	}
	if _, err := x.loadOrder(ctx, o.ID); err == nil {
		return nil, apperr.Conflict("order.exists", "", "order %s already exists", o.ID)
	} else if apperr.CodeOf(err) != apperr.ENOTFOUND {
		return nil, err
	}
	if f.At.Before(o.PaidAt) {
		return nil, apperr.Invalid("at", "", "out of order: the order fact (%s) is before its paid_at (%s)", f.At.Format(time.RFC3339), o.PaidAt.UTC().Format(time.RFC3339))
	}
	o.PaidAt, o.ShipBy = o.PaidAt.UTC(), o.ShipBy.UTC()
	// projection fields are never taken from the fact
	o.DelayReport, o.ShippedAt, o.Carrier, o.TrackingNo, o.LastTrackingAt, o.TrackingStatus = nil, nil, "", "", nil, ""
	o.SignedAt, o.RefundedFen, o.RefundedAt, o.UrgedAt, o.UrgeCount, o.ChatCardAt, o.Complaints, o.Invoice = nil, 0, nil, nil, 0, nil, 0, nil
	o.TakenOverAt = nil
	o.ReceiptConfirmedAt, o.ClosedAt, o.TimeCompensated = nil, nil, ""
	// The order's rules are those in force when it was paid: a time no
	// policy version covers is the fact's fault, refused before any write.
	var pr *policy.RuleSet
	r, err := x.factRules(shop.Platform, o.PaidAt, "order.paid_at")
	if err != nil {
		return nil, err
	}
	if len(o.Promises) > 0 {
		pr = r
		if err := checkPromises(&o, pr); err != nil {
			return nil, err
		}
	}
	products, err := x.orderProducts(ctx, &o)
	if err != nil {
		return nil, err
	}
	return func() error {
		if err := x.putOrder(ctx, &o); err != nil {
			return err
		}
		if pr != nil {
			if err := x.setTimePromise(ctx, &o, pr); err != nil {
				return err
			}
		}
		if err := products(); err != nil {
			return err
		}
		return x.orderCreated(ctx, &o, shop)
	}, nil
}

// orderUpdateFact applies facts about an existing order and the task
// consequences they have.
func (x *txn) orderUpdateFact(ctx context.Context, f *commerce.Fact) (func() error, error) {
	oid := f.OrderID()
	o, err := x.loadOrder(ctx, oid)
	if err != nil {
		return nil, apperr.NotFoundAs(err, string(f.Type)+".order_id", "no order %q", oid)
	}
	shop, err := x.shop(ctx, o.ShopID)
	if err != nil {
		return nil, err
	}
	next := cloneOrder(o)
	if err := commerce.ApplyToOrder(next, f); err != nil {
		return nil, err
	}
	var respMs int64 = -1
	if f.Type == commerce.FactChatReply {
		if o.ChatCardAt == nil {
			return nil, apperr.Conflict("chat_reply.no_card", "R-URG-4", "no chat card is waiting for a reply on order %s", oid)
		}
		if f.At.Before(*o.ChatCardAt) {
			return nil, apperr.Invalid("at", "R-URG-4", "out of order: the reply (%s) is before the chat card (%s)", f.At.Format(time.RFC3339), o.ChatCardAt.Format(time.RFC3339))
		}
		respMs = f.At.Sub(*o.ChatCardAt).Milliseconds()
		next.ChatCardAt = nil
	}
	return func() error {
		switch f.Type {
		case commerce.FactInvoiceRequested:
			if err := x.invoiceRequested(ctx, next, shop, f); err != nil {
				return err
			}
		case commerce.FactInvoiceIssued:
			if err := x.invoiceIssued(ctx, next, shop, f); err != nil {
				return err
			}
		case commerce.FactChatReply:
			if err := x.recordResponse(ctx, next, shop, f, respMs); err != nil {
				return err
			}
		}
		if err := x.putOrder(ctx, next); err != nil {
			return err
		}
		if err := x.promiseFact(ctx, next, f); err != nil {
			return err
		}
		return x.factConsequences(ctx, next, f)
	}, nil
}

// movesTasks reports whether a fact may move tasks (see factConsequences).
func movesTasks(f *commerce.Fact) bool {
	switch f.Type {
	case commerce.FactShipment, commerce.FactRefund, commerce.FactInvoiceIssued:
		return true
	case commerce.FactTracking:
		return f.Tracking != nil && f.Tracking.Status == commerce.TrackingSigned
	}
	return false
}

// factConsequences runs the task transitions a fact causes: shipping or a
// full refund completes urge_shipment (R-ST-3), signing completes a stall
// report, issuing completes urge_invoice (R-INV-5), refunds complete refund tasks.
func (x *txn) factConsequences(ctx context.Context, o *commerce.Order, f *commerce.Fact) error {
	type hit struct {
		typ task.Type
		act task.Action
	}
	var hits []hit
	switch f.Type {
	case commerce.FactShipment:
		hits = []hit{{task.UrgeShipment, task.ActShipped}}
	case commerce.FactRefund:
		hits = []hit{{task.PresaleDepositRefund, task.ActRefunded}, {task.ReturnRefund, task.ActRefunded}, {task.PostageRefund, task.ActRefunded}}
		if o.FullyRefunded() {
			hits = append(hits, hit{task.UrgeShipment, task.ActRefunded}, hit{task.LogisticsStall, task.ActRefunded})
		}
	case commerce.FactTracking:
		if f.Tracking.Status == commerce.TrackingSigned {
			hits = []hit{{task.LogisticsStall, task.ActSigned}}
		}
	case commerce.FactInvoiceIssued:
		hits = []hit{{task.UrgeInvoice, task.ActInvoiceIssued}}
	}
	if len(hits) == 0 {
		return nil
	}
	// One read of the order's tasks, instead of one per task type the fact
	// may touch; none in a batch, which read them with its orders.
	ts, ok := x.openTasks[o.ID]
	if ok {
		ts = slices.Clone(ts)
	} else {
		var err error
		if ts, err = x.tx.Tasks(ctx, store.TaskFilter{OrderID: o.ID}); err != nil {
			return err
		}
	}
	for _, h := range hits {
		for i := range ts {
			t := &ts[i]
			if t.Type != h.typ || !t.State.Open() {
				continue
			}
			cmd := task.Command{Action: h.act, Actor: systemActor("fact"), TaskID: t.ID, Reason: "fact " + f.ID}
			in, d, err := x.decide(ctx, t, o, cmd)
			if apperr.IsApp(err) {
				// the task's lifecycle does not take this fact in its state: not an error of the fact
				continue
			}
			if err != nil {
				return err
			}
			if _, err := x.persist(ctx, in, &d, o); err != nil {
				return err
			}
		}
	}
	return nil
}

func cloneOrder(o *commerce.Order) *commerce.Order {
	c := *o
	if o.Invoice != nil {
		inv := *o.Invoice
		c.Invoice = &inv
	}
	if o.DelayReport != nil {
		d := *o.DelayReport
		c.DelayReport = &d
	}
	return &c
}
