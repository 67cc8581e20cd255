package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/judgment"
	"aftersale/internal/policy"
	"aftersale/internal/task"
)

// This file runs the service promises (保障服务, seed 004): the time
// promise's automatic compensation (R-PRM-1), buyers' claims under the other
// promises and their judgment (R-PRM-2..6), the per-shop compensation ledger
// and the shop's deposit (保证金), which pays first where the rule says so.
//
// An order's promise terms are the rules in force when it was paid (the
// promise it was sold with): the time promise's rate and bounds and the
// claim windows are read at paid_at, and the entries record that version.

// TimerTimePromise is the order timer of the time promise (subject: the order id).
const TimerTimePromise = "promise_time"

// timePromiseDue is when the time promise's timer fires: the first second
// after the promised instant. Shipping at paid_at + ship_within itself keeps
// the promise (the window is closed at both ends, as the claim windows are),
// so the order is late only after it; a shipment fact that arrives later
// and says the order shipped late is compensated when it arrives.
func timePromiseDue(deadline time.Time) time.Time { return deadline.Add(time.Second) }

// claimRules reads a claim's order, its shop and the promise rules in force
// for it (see promiseRules).
func (x *txn) claimRules(ctx context.Context, c *judgment.Claim) (*commerce.Order, *commerce.Shop, *policy.RuleSet, error) {
	o, err := x.order(ctx, "order_id", c.OrderID)
	if err != nil {
		return nil, nil, nil, err
	}
	shop, r, err := x.promiseRules(ctx, o)
	if err != nil {
		return nil, nil, nil, err
	}
	return o, shop, r, nil
}

// promiseRules returns the rules an order's promises follow: those in force
// at its payment.
func (x *txn) promiseRules(ctx context.Context, o *commerce.Order) (*commerce.Shop, *policy.RuleSet, error) {
	shop, err := x.shop(ctx, o.ShopID)
	if err != nil {
		return nil, nil, err
	}
	r, err := x.rules(shop.Platform, o.PaidAt)
	if err != nil {
		return nil, nil, err
	}
	return shop, r, nil
}

// checkPromises validates an order's promises against the policy: each kind
// is the time promise or one with a claim window, and a promise states its
// own period only where the policy makes the period per promise.
func checkPromises(o *commerce.Order, r *policy.RuleSet) error {
	for i, p := range o.Promises {
		f := fmt.Sprintf("order.promises[%d]", i)
		if p.Kind == commerce.PromiseTime {
			continue
		}
		c, ok := r.Promises.Claims.For(p.Kind)
		if !ok {
			return apperr.Invalid(f+".kind", "", "unknown promise kind %q (want time, %s)", p.Kind, strings.Join(policy.PromiseKinds, ", "))
		}
		if p.PostageBearer != "" && p.Kind != policy.PromiseReturn {
			return apperr.Invalid(f+".postage_bearer", "R-PRM-3", "only a return promise names who pays the return postage, not a %s promise", p.Kind)
		}
		if p.PostageBearer != "" && !slices.Contains(policy.PostageBearers, p.PostageBearer) {
			return apperr.Invalid(f+".postage_bearer", "R-PRM-3", "postage_bearer must be one of %s, got %q", strings.Join(policy.PostageBearers, ", "), p.PostageBearer)
		}
		if p.Period > 0 && !c.PerPromise {
			return apperr.Invalid(f+".period", judgment.PromiseRule(p.Kind), "the %s promise's window is fixed by policy (%s after the order %s); a promise cannot state its own period",
				p.Kind, c.Length, c.From)
		}
	}
	return nil
}

// setTimePromise sets the time promise's timer when an order with one is paid (R-PRM-1).
func (x *txn) setTimePromise(ctx context.Context, o *commerce.Order, r *policy.RuleSet) error {
	deadline, ok := o.TimeDeadline()
	if !ok {
		return nil
	}
	if err := x.setTimer(ctx, task.Timer{Subject: o.ID, Kind: TimerTimePromise, DueAt: timePromiseDue(deadline), SetAt: x.now, PolicyVersion: r.Version}); err != nil {
		return err
	}
	p, _ := o.Promise(commerce.PromiseTime)
	return x.orderEvent(ctx, o, systemActor("fact"), "time_promise_set", judgment.RuleTimePromise, r.Version,
		map[string]any{"ship_within": p.ShipWithin.String(), "ship_by": deadline})
}

// timePromiseFired handles the time promise's timer: the order was not
// shipped within the promised time after payment, so the buyer is
// compensated (R-PRM-1), once.
func (x *txn) timePromiseFired(ctx context.Context, tm task.Timer) error {
	o, err := x.loadOrder(ctx, tm.Subject)
	if err != nil {
		return err
	}
	deadline, ok := o.TimeDeadline()
	if !ok || o.TimeCompensated != "" || (o.ShippedAt != nil && !o.ShippedAt.After(deadline)) {
		return nil
	}
	return x.compensateTime(ctx, o, deadline, "not shipped by "+deadline.Format(time.RFC3339))
}

// compensateTime writes the time promise's compensation for an order not
// shipped by its deadline (R-PRM-1): policy rate of the amount actually
// paid, bounded by the policy's floor and cap.
//
// The amount actually paid (实交额, "该商品实交额的5%") is what was paid less
// what had been refunded when the promise was broken: a refunded part was
// not transacted, so it earns no compensation; a fully refunded order earns
// none (it is recorded on the order's history, with no ledger entry).
func (x *txn) compensateTime(ctx context.Context, o *commerce.Order, deadline time.Time, why string) error {
	shop, r, err := x.promiseRules(ctx, o)
	if err != nil {
		return err
	}
	paid := o.ActuallyPaidFen()
	amount := judgment.TimeCompensation(paid, r.Promises)
	if amount == 0 {
		return x.orderEvent(ctx, o, systemActor("platform"), "time_promise_broken", judgment.RuleTimePromise, r.Version,
			map[string]any{"ship_by": deadline, "actually_paid_fen": paid, "amount_fen": 0, "reason": why + "; nothing actually paid"})
	}
	e, err := x.compensate(ctx, shop, o, r, commerce.PromiseTime, judgment.RuleTimePromise, "", amount, why)
	if err != nil {
		return err
	}
	o.TimeCompensated = e.ID
	if err := x.putOrder(ctx, o); err != nil {
		return err
	}
	return x.orderEvent(ctx, o, systemActor("platform"), "time_promise_broken", judgment.RuleTimePromise, r.Version,
		map[string]any{"ship_by": deadline, "actually_paid_fen": paid, "amount_fen": amount, "entry_id": e.ID})
}

// compensate appends a compensation entry for the order's buyer, paid from
// the shop's deposit first up to its balance when the promise's rule says so
// (R-PRM-5, R-PRM-6), the rest by the shop. The deposit never goes negative.
func (x *txn) compensate(ctx context.Context, shop *commerce.Shop, o *commerce.Order, r *policy.RuleSet, kind, rule, claimID string, amount int64, why string) (*judgment.CompensationEntry, error) {
	e := judgment.CompensationEntry{ShopID: shop.ID, OrderID: o.ID, BuyerID: o.BuyerID, Rule: rule, Kind: kind,
		ClaimID: claimID, AmountFen: amount, Reason: why, PolicyVersion: r.Version}
	return x.pay(ctx, e, judgment.PayFromDeposit(kind, r.Promises))
}

// pay appends compensation entry e (its id and time filled in) for
// e.AmountFen, paid from the shop's deposit first up to its balance when
// depositFirst (R-PRM-5, R-PRM-6, R-SLA-3), the rest by the shop. The
// deposit never goes negative.
func (x *txn) pay(ctx context.Context, e judgment.CompensationEntry, depositFirst bool) (*judgment.CompensationEntry, error) {
	var bal int64
	if depositFirst {
		var err error
		if bal, err = x.tx.Deposit(ctx, e.ShopID); err != nil {
			return nil, err
		}
	}
	fromDeposit, byShop := judgment.SplitPayment(e.AmountFen, bal, depositFirst)
	if fromDeposit > 0 {
		if _, err := x.tx.AddDeposit(ctx, e.ShopID, -fromDeposit); err != nil {
			return nil, err
		}
	}
	e.ID, e.At, e.FromDepositFen, e.ByShopFen = x.e.ids.New("pay"), x.now, fromDeposit, byShop
	if err := x.tx.AppendCompensation(ctx, []judgment.CompensationEntry{e}); err != nil {
		return nil, err
	}
	return &e, nil
}

// promiseFact runs what an order fact means for the promises: a shipment
// stops the time promise's timer — compensating a late shipment the timer
// has not caught yet, and reversing the compensation when a shipment in
// time is reported after the timer fired (R-PRM-1); an order that closes
// unshipped no longer has anything to ship.
func (x *txn) promiseFact(ctx context.Context, o *commerce.Order, f *commerce.Fact) error {
	deadline, ok := o.TimeDeadline()
	if !ok {
		return nil
	}
	switch f.Type {
	case commerce.FactShipment:
		if err := x.tx.StopTimer(ctx, o.ID, TimerTimePromise); err != nil {
			return err
		}
		late := o.ShippedAt.After(deadline)
		switch {
		case late && o.TimeCompensated == "":
			return x.compensateTime(ctx, o, deadline, "shipped at "+o.ShippedAt.Format(time.RFC3339)+", after "+deadline.Format(time.RFC3339))
		case !late && o.TimeCompensated != "":
			return x.reverseTime(ctx, o, deadline)
		}
	case commerce.FactOrderClosed:
		if !o.Shipped() {
			return x.tx.StopTimer(ctx, o.ID, TimerTimePromise)
		}
	}
	return nil
}

// reverseTime reverses a time-promise compensation written by the timer
// when the shipment fact, arriving later, says the order shipped in time.
func (x *txn) reverseTime(ctx context.Context, o *commerce.Order, deadline time.Time) error {
	shop, r, err := x.promiseRules(ctx, o)
	if err != nil {
		return err
	}
	es, err := x.tx.Compensation(ctx, shop.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(es, func(e judgment.CompensationEntry) bool { return e.ID == o.TimeCompensated })
	if i < 0 {
		return apperr.Internal(fmt.Errorf("order %s: compensation entry %s not in shop %s's ledger", o.ID, o.TimeCompensated, shop.ID))
	}
	rev := es[i].Reversal(x.e.ids.New("pay"), x.now, "shipped at "+o.ShippedAt.Format(time.RFC3339)+", by "+deadline.Format(time.RFC3339), r.Version)
	if rev.FromDepositFen < 0 {
		if _, err := x.tx.AddDeposit(ctx, shop.ID, -rev.FromDepositFen); err != nil {
			return err
		}
	}
	if err := x.tx.AppendCompensation(ctx, []judgment.CompensationEntry{rev}); err != nil {
		return err
	}
	o.TimeCompensated = ""
	if err := x.putOrder(ctx, o); err != nil {
		return err
	}
	return x.orderEvent(ctx, o, systemActor("platform"), "time_compensation_reversed", judgment.RuleTimePromise, r.Version,
		map[string]any{"entry_id": rev.ID, "reverses": rev.ReversalOf, "amount_fen": rev.AmountFen})
}

// depositFact tops up a shop's deposit.
func (x *txn) depositFact(ctx context.Context, f *commerce.Fact) (func() error, error) {
	d := *f.Deposit
	shop, err := x.shop(ctx, d.ShopID)
	if err != nil {
		return nil, apperr.NotFoundAs(err, "deposit.shop_id", "no shop %q", d.ShopID)
	}
	r, err := x.factRules(shop.Platform, f.At, "at")
	if err != nil {
		return nil, err
	}
	// The balance stays within commerce.MaxFen, so no sum of amounts overflows.
	cur, err := x.tx.Deposit(ctx, d.ShopID)
	if err != nil {
		return nil, err
	}
	if cur > commerce.MaxFen-d.AmountFen {
		return nil, apperr.Invalid("deposit.amount_fen", "R-PRM-5", "the deposit of shop %s would be %d fen + %d fen; a balance is at most %d fen",
			d.ShopID, cur, d.AmountFen, commerce.MaxFen)
	}
	return func() error {
		bal, err := x.tx.AddDeposit(ctx, d.ShopID, d.AmountFen)
		if err != nil {
			return err
		}
		ev := task.Event{Stream: DepositStream(shop.ID), ShopID: shop.ID, At: x.now, Actor: systemActor("fact"), Action: "deposit_topped_up",
			Reason: "fact " + f.ID, PolicyVersion: r.Version, Visibility: task.ShopAgent}
		ev.Data, _ = json.Marshal(map[string]any{"amount_fen": d.AmountFen, "balance_fen": bal})
		return x.tx.AppendEvents(ctx, []task.Event{ev})
	}, nil
}

// DepositStream names the event stream of a shop's deposit.
func DepositStream(shopID string) string { return "deposit:" + shopID }

// ClaimInput is a buyer's claim under a promise (R-PRM-2..6).
type ClaimInput struct {
	// Kind is the promise claimed under.
	Kind string `json:"kind"`
	// Description says what went wrong.
	Description string `json:"description"`
	// AskedFen is the compensation asked for, in fen (0: none named).
	AskedFen int64 `json:"asked_fen,omitempty"`
	// PostageFen, on a return claim only, is the return postage in fen
	// (R-PRM-3); the promise's bearer pays it when the claim is upheld.
	PostageFen int64 `json:"postage_fen,omitempty"`
}

// claimFacts are the order's times a promise's claim window depends on.
// Receipt is the signing for the parcel; an order whose receipt was
// confirmed without a signed tracking update counts as received then.
func claimFacts(o *commerce.Order, p commerce.Promise) judgment.ClaimFacts {
	f := judgment.ClaimFacts{ReceivedAt: o.SignedAt, ReceiptConfirmedAt: o.ReceiptConfirmedAt, ClosedAt: o.ClosedAt, PromisedPeriod: p.Period.D()}
	if f.ReceivedAt == nil {
		f.ReceivedAt = o.ReceiptConfirmedAt
	}
	return f
}

// FileClaim records a buyer's claim under a promise on an order. It is
// accepted only when the promise is on the order, inside the promise's claim
// window (R-PRM-2..6: refused outside it with ECONFLICT naming the rule and
// the window), and when no claim under the same promise is open or upheld.
func (e *Engine) FileClaim(ctx context.Context, buyer task.Actor, orderID string, in ClaimInput) (*judgment.Claim, error) {
	var c *judgment.Claim
	err := e.update(ctx, func(x *txn) error {
		rule := judgment.PromiseRule(in.Kind)
		o, _, _, err := x.buyerOrder(ctx, buyer, orderID, rule, "file a claim on")
		if err != nil {
			return err
		}
		switch {
		case in.Kind == commerce.PromiseTime:
			return apperr.Invalid("kind", judgment.RuleTimePromise, "the time promise compensates by itself when the order ships late; there is no claim to file")
		case rule == "":
			return apperr.Invalid("kind", "", "unknown promise kind %q (want one of %s)", in.Kind, strings.Join(policy.PromiseKinds, ", "))
		case strings.TrimSpace(in.Description) == "":
			return apperr.Invalid("description", rule, "say what went wrong")
		case in.AskedFen < 0:
			return apperr.Invalid("asked_fen", rule, "asked_fen must not be negative, got %d", in.AskedFen)
		case in.PostageFen < 0:
			return apperr.Invalid("postage_fen", rule, "postage_fen must not be negative, got %d", in.PostageFen)
		case in.PostageFen > 0 && in.Kind != policy.PromiseReturn:
			return apperr.Invalid("postage_fen", rule, "only a return claim states return postage (R-PRM-3), not a %s claim", in.Kind)
		}
		if err := commerce.CheckFen("asked_fen", in.AskedFen); err != nil {
			return err
		}
		if err := commerce.CheckFen("postage_fen", in.PostageFen); err != nil {
			return err
		}
		if err := commerce.CheckText("description", in.Description, commerce.MaxText); err != nil {
			return err
		}
		p, ok := o.Promise(in.Kind)
		if !ok {
			return apperr.Conflict("promise.not_on_order", rule, "order %s carries no %s promise", o.ID, in.Kind)
		}
		_, r, err := x.promiseRules(ctx, o)
		if err != nil {
			return err
		}
		facts := claimFacts(o, p)
		if err := judgment.CheckClaim(in.Kind, x.now, facts, r.Promises); err != nil {
			return err
		}
		from, until, err := judgment.ClaimWindow(in.Kind, facts, r.Promises)
		if err != nil {
			return err
		}
		prev, err := x.tx.Claims(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, pc := range prev {
			if pc.Kind != in.Kind {
				continue
			}
			switch pc.Status {
			case judgment.ClaimOpen:
				return apperr.Conflict("claim.open_exists", rule, "claim %s under the %s promise of order %s is still open", pc.ID, in.Kind, o.ID)
			case judgment.ClaimUpheld:
				return apperr.Conflict("claim.upheld", rule, "claim %s under the %s promise of order %s was upheld already", pc.ID, in.Kind, o.ID)
			}
		}
		c = &judgment.Claim{ID: x.e.ids.New("clm"), OrderID: o.ID, ShopID: o.ShopID, BuyerID: o.BuyerID, Kind: in.Kind, Rule: rule,
			Description: in.Description, AskedFen: in.AskedFen, Status: judgment.ClaimOpen, FiledAt: x.now,
			WindowFrom: from, WindowUntil: until, PolicyVersion: r.Version}
		data := map[string]any{"claim_id": c.ID, "kind": c.Kind, "asked_fen": c.AskedFen}
		if in.Kind == policy.PromiseReturn {
			// R-PRM-3: the bearer is the promise's, else the policy's default.
			c.PostageBearer, c.PostageFen = p.PostageBearer, in.PostageFen
			if c.PostageBearer == "" {
				c.PostageBearer = r.Promises.ReturnPostage.DefaultBearer
			}
			data["postage_bearer"], data["postage_fen"] = c.PostageBearer, c.PostageFen
		}
		if err := x.tx.PutClaim(ctx, c); err != nil {
			return err
		}
		return x.orderEvent(ctx, o, buyer, "claim_filed", rule, r.Version, data)
	})
	return c, err
}

// ClaimJudgment is an agent's decision on a claim.
type ClaimJudgment struct {
	// Upheld: the claim stands (维权成立) and compensation is written.
	Upheld bool `json:"upheld"`
	// AmountFen is the compensation awarded on an upheld claim; nil = the
	// amount asked. Not given on a rejected claim.
	AmountFen *int64 `json:"amount_fen,omitempty"`
	// Reason is the agent's reason.
	Reason string `json:"reason,omitempty"`
}

// JudgeClaim records an agent's decision on an open claim. An upheld claim
// writes a compensation entry citing its rule, order and claim, paid from
// the shop's deposit first up to its balance where the rule says so
// (R-PRM-5, R-PRM-6), the rest by the shop.
func (e *Engine) JudgeClaim(ctx context.Context, agent task.Actor, claimID string, j ClaimJudgment) (*judgment.Claim, error) {
	var c *judgment.Claim
	err := e.update(ctx, func(x *txn) error {
		if agent.Role != task.RoleAgent {
			return apperr.Forbidden("role", "", "only an agent judges claims")
		}
		var err error
		if c, err = x.tx.Claim(ctx, claimID); err != nil {
			return apperr.NotFoundAs(err, "claim_id", "no claim %q", claimID)
		}
		if c.Judged() {
			return apperr.Conflict("claim.judged", c.Rule, "claim %s was already judged %s", c.ID, c.Status)
		}
		award := c.AskedFen
		switch {
		case !j.Upheld && j.AmountFen != nil:
			return apperr.Invalid("amount_fen", c.Rule, "a rejected claim awards nothing")
		case j.Upheld && j.AmountFen != nil:
			award = *j.AmountFen
		}
		postage := judgment.PostageCharge(c.PostageBearer, c.PostageFen)
		if j.Upheld && (award < 0 || award == 0 && postage == 0) {
			// An upheld return claim whose postage the shop bears may award
			// nothing beyond the postage (R-PRM-3).
			return apperr.Invalid("amount_fen", c.Rule, "an upheld claim awards compensation: give amount_fen > 0 (the claim asked %d)", c.AskedFen)
		}
		if j.Upheld && award == 0 && c.Kind == policy.PromiseDamageResend {
			return apperr.Invalid("amount_fen", c.Rule, "an upheld damage claim names the compensation the shop may choose instead of a resend: give amount_fen > 0")
		}
		if err := commerce.CheckFen("amount_fen", award); err != nil {
			return err
		}
		o, shop, r, err := x.claimRules(ctx, c)
		if err != nil {
			return err
		}
		now := x.now
		c.JudgedAt, c.JudgedBy, c.Reason = &now, agent.ID, j.Reason
		data := map[string]any{"claim_id": c.ID, "kind": c.Kind}
		switch {
		case j.Upheld && c.Kind == policy.PromiseDamageResend:
			// R-PRM-4: the shop chooses a resend or the compensation awarded
			// by its deadline; nothing is paid until then.
			due := x.now.Add(r.Promises.DamageRemedy.ChooseWithin.D())
			c.Status, c.AwardedFen, c.RemedyDueAt = judgment.ClaimUpheld, award, &due
			if err := x.setTimer(ctx, task.Timer{Subject: c.ID, Kind: TimerClaimRemedy, DueAt: timePromiseDue(due), SetAt: x.now, PolicyVersion: r.Version}); err != nil {
				return err
			}
			data["amount_fen"], data["remedy_due_at"] = award, due
		case j.Upheld:
			c.Status, c.AwardedFen = judgment.ClaimUpheld, award
			if award > 0 {
				en, err := x.compensate(ctx, shop, o, r, c.Kind, c.Rule, c.ID, award, "claim "+c.ID+" upheld")
				if err != nil {
					return err
				}
				c.EntryID = en.ID
				data["entry_id"] = en.ID
			}
			data["amount_fen"] = award
			if postage > 0 {
				// R-PRM-3: the shop bears the return postage; the buyer is repaid it.
				en, err := x.compensate(ctx, shop, o, r, c.Kind, c.Rule, c.ID, postage, "claim "+c.ID+" upheld: return postage borne by the shop")
				if err != nil {
					return err
				}
				c.PostageEntryID = en.ID
				data["postage_entry_id"] = en.ID
			}
			if c.PostageBearer != "" {
				data["postage_bearer"], data["postage_fen"], data["postage_charged_fen"] = c.PostageBearer, c.PostageFen, postage
			}
		default:
			c.Status = judgment.ClaimRejected
		}
		data["status"] = c.Status
		if err := x.tx.PutClaim(ctx, c); err != nil {
			return err
		}
		ev := task.Event{Stream: o.ID, OrderID: o.ID, ShopID: o.ShopID, At: x.now, Actor: agent, Action: "claim_judged",
			Reason: j.Reason, Rule: c.Rule, PolicyVersion: r.Version, Visibility: task.Public}
		ev.Data, _ = json.Marshal(data)
		return x.tx.AppendEvents(ctx, []task.Event{ev})
	})
	return c, err
}

// Claim timers (subject: the claim id) of an upheld damage claim (R-PRM-4).
const (
	// TimerClaimRemedy fires one second after the shop's deadline to choose
	// a resend or compensation.
	TimerClaimRemedy = "claim_remedy"
	// TimerClaimResend fires one second after a chosen resend's deadline to ship.
	TimerClaimResend = "claim_resend"
)

// shopClaim reads a claim the shop answers (a remedy, a resend) and checks
// that actor works for its shop (claimShop).
func (x *txn) shopClaim(ctx context.Context, actor task.Actor, claimID string) (*judgment.Claim, error) {
	c, err := x.tx.Claim(ctx, claimID)
	if err != nil {
		return nil, apperr.NotFoundAs(err, "claim_id", "no claim %q", claimID)
	}
	if err := x.claimShop(ctx, actor, c); err != nil {
		return nil, err
	}
	return c, nil
}

// claimShop checks that actor works for the claim's shop: its main account,
// or a sub-account with the platform-task permission (R-ACC-1).
func (x *txn) claimShop(ctx context.Context, actor task.Actor, c *judgment.Claim) error {
	if actor.Role != task.RoleShopMain && actor.Role != task.RoleShopSub {
		return apperr.Forbidden("role", "R-PRM-4", "only the shop answers an upheld claim, not a %s", actor.Role)
	}
	acc, err := x.shopAccount(ctx, actor, c.ShopID)
	if err != nil {
		return err
	}
	if (actor.Role == task.RoleShopMain) != (acc.Role == commerce.RoleMain) {
		return apperr.Forbidden("role", "", "account %s is a %s account, not %s", actor.ID, acc.Role, actor.Role)
	}
	if !acc.Has(commerce.PermPlatformTask) {
		return apperr.Forbidden("permission.platform_task", "R-ACC-1",
			"sub-account %s lacks the platform-task permission (子账号管理 → 客户服务平台权限 → 服务待办 → 平台任务)", actor.ID)
	}
	return nil
}

// claimEvent appends an event about claim c to its order's history.
func (x *txn) claimEvent(ctx context.Context, o *commerce.Order, c *judgment.Claim, actor task.Actor, action, version string, data map[string]any) error {
	data["claim_id"] = c.ID
	return x.orderEvent(ctx, o, actor, action, c.Rule, version, data)
}

// ChooseRemedy records the shop's choice of remedy on an upheld damage claim
// (R-PRM-4), by the deadline the judgment set: compensation pays the awarded
// amount now; a resend expects a shipment within the policy's
// promises.damage_remedy.resend_within, or the platform compensates.
func (e *Engine) ChooseRemedy(ctx context.Context, actor task.Actor, claimID, remedy string) (*judgment.Claim, error) {
	var c *judgment.Claim
	err := e.update(ctx, func(x *txn) error {
		var err error
		if c, err = x.shopClaim(ctx, actor, claimID); err != nil {
			return err
		}
		if err := judgment.CheckRemedyChoice(c, remedy, x.now); err != nil {
			return err
		}
		if err := x.tx.StopTimer(ctx, c.ID, TimerClaimRemedy); err != nil {
			return err
		}
		return x.setRemedy(ctx, c, actor, remedy, judgment.RemedyByShop, "chosen by the shop")
	})
	return c, err
}

// setRemedy applies remedy to claim c: compensation writes the awarded
// amount to the ledger (the deposit first where the promise says so); a
// resend sets its deadline and timer.
func (x *txn) setRemedy(ctx context.Context, c *judgment.Claim, actor task.Actor, remedy, by, why string) error {
	o, shop, r, err := x.claimRules(ctx, c)
	if err != nil {
		return err
	}
	now := x.now
	c.Remedy, c.RemedyBy, c.RemedyAt = remedy, by, &now
	data := map[string]any{"remedy": remedy, "remedy_by": by, "reason": why}
	switch remedy {
	case judgment.RemedyCompensation:
		en, err := x.compensate(ctx, shop, o, r, c.Kind, c.Rule, c.ID, c.AwardedFen, "claim "+c.ID+" upheld: compensation ("+why+")")
		if err != nil {
			return err
		}
		c.EntryID = en.ID
		data["amount_fen"], data["entry_id"] = c.AwardedFen, en.ID
	case judgment.RemedyResend:
		due := x.now.Add(r.Promises.DamageRemedy.ResendWithin.D())
		c.ResendDueAt = &due
		if err := x.setTimer(ctx, task.Timer{Subject: c.ID, Kind: TimerClaimResend, DueAt: timePromiseDue(due), SetAt: x.now, PolicyVersion: r.Version}); err != nil {
			return err
		}
		data["resend_due_at"] = due
	}
	if err := x.tx.PutClaim(ctx, c); err != nil {
		return err
	}
	return x.claimEvent(ctx, o, c, actor, "claim_remedy_set", r.Version, data)
}

// ShipResend records the shipment of a resend the shop chose for an upheld
// damage claim (R-PRM-4), by its deadline (at the deadline is in time).
func (e *Engine) ShipResend(ctx context.Context, actor task.Actor, claimID, trackingNo string) (*judgment.Claim, error) {
	var c *judgment.Claim
	err := e.update(ctx, func(x *txn) error {
		var err error
		if c, err = x.shopClaim(ctx, actor, claimID); err != nil {
			return err
		}
		trackingNo = strings.TrimSpace(trackingNo)
		if trackingNo == "" {
			return apperr.Invalid("tracking_no", "R-PRM-4", "a resend names its tracking number")
		}
		if err := commerce.CheckText("tracking_no", trackingNo, commerce.MaxShortText); err != nil {
			return err
		}
		if err := judgment.CheckResend(c, x.now); err != nil {
			return err
		}
		if err := x.tx.StopTimer(ctx, c.ID, TimerClaimResend); err != nil {
			return err
		}
		o, _, r, err := x.claimRules(ctx, c)
		if err != nil {
			return err
		}
		now := x.now
		c.ResendShippedAt, c.ResendTracking = &now, trackingNo
		if err := x.tx.PutClaim(ctx, c); err != nil {
			return err
		}
		return x.claimEvent(ctx, o, c, actor, "claim_resend_shipped", r.Version,
			map[string]any{"tracking_no": trackingNo, "resend_due_at": *c.ResendDueAt})
	})
	return c, err
}

// claimRemedyFired handles TimerClaimRemedy: the shop chose no remedy by its
// deadline, so the platform pays the awarded compensation (R-PRM-4).
func (x *txn) claimRemedyFired(ctx context.Context, tm task.Timer) error {
	c, err := x.tx.Claim(ctx, tm.Subject)
	if err != nil {
		return err
	}
	if c.Remedy != "" {
		return nil
	}
	return x.setRemedy(ctx, c, systemActor("platform"), judgment.RemedyCompensation, judgment.RemedyByPlatform,
		"no remedy chosen by "+c.RemedyDueAt.Format(time.RFC3339))
}

// claimResendFired handles TimerClaimResend: the resend did not ship by its
// deadline, so the platform pays the awarded compensation instead (R-PRM-4).
func (x *txn) claimResendFired(ctx context.Context, tm task.Timer) error {
	c, err := x.tx.Claim(ctx, tm.Subject)
	if err != nil {
		return err
	}
	if c.Remedy != judgment.RemedyResend || c.ResendShippedAt != nil {
		return nil
	}
	return x.setRemedy(ctx, c, systemActor("platform"), judgment.RemedyCompensation, judgment.RemedyByPlatform,
		"resend not shipped by "+c.ResendDueAt.Format(time.RFC3339))
}

// shopInvoiceMode checks a shop fact's invoice mode against its kind and
// fills in the default (R-INV-6): a shop that states its kind may use only
// the modes policy invoice.modes_by_shop_kind gives that kind (individual:
// the tax-office proxy; company: upload or automatic), the first by default.
// A shop that states no kind keeps any mode, upload by default (facts of
// older clients).
func (x *txn) shopInvoiceMode(s *commerce.Shop, f *commerce.Fact) error {
	if s.Kind == "" {
		if s.InvoiceMode == "" {
			s.InvoiceMode = commerce.InvoiceUpload
		}
		return nil
	}
	at := f.At
	if at.IsZero() {
		at = x.now
	}
	r, err := x.factRules(s.Platform, at, "at")
	if err != nil {
		return err
	}
	modes := r.Invoice.ModesByShopKind[s.Kind]
	if s.InvoiceMode == "" && len(modes) > 0 {
		s.InvoiceMode = commerce.InvoiceMode(modes[0])
		return nil
	}
	if !slices.Contains(modes, string(s.InvoiceMode)) {
		return apperr.Invalid("shop.invoice_mode", "R-INV-6", "a %s shop issues invoices by %s, not %s (policy %s)",
			s.Kind, strings.Join(modes, " or "), s.InvoiceMode, r.Version)
	}
	return nil
}
