package console

import (
	"strconv"
	"strings"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/judgment"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// ordersShown is how many of a buyer's orders the page lists.
const ordersShown = 50

func (c *Console) routesBuyer() {
	c.mux.HandleFunc("GET "+Prefix+"/orders", c.page("orders", c.orders))
	c.mux.HandleFunc("POST "+Prefix+"/orders/{id}/{op}", c.page("orders", c.orderOp))
}

// orderRow is one of the buyer's orders with what the buyer may do on it.
type orderRow struct {
	O *commerce.Order
	// Urge: "create" (after the deadline, R-URG-1), "mark" (within it,
	// R-URG-3), or "" with UrgeWhy saying why not (R-URG-2).
	Urge    string
	UrgeWhy *problemView
	// Contact: keep contacting the seller is open (R-URG-4).
	Contact bool
	// Stalled: the stall report entry shows (R-LOG-2); only then.
	Stalled bool
	// Invoice: "request", "chase" or "" (issued, or nothing to do).
	Invoice  string
	Tasks    []task.Task
	Claims   []judgment.Claim
	Promises []string
}

type ordersData struct {
	Orders []orderRow
	Flash  string
	Types  []task.Type // what a buyer may open on an order from this page
	Reason []string    // refund reason codes (R-EVD-5)
}

// orders is the buyer's "my orders": each order with the urge button and
// why it is not available (R-URG-2) or that it only marks the order
// (R-URG-3), the stall report only for a stalled parcel (R-LOG-2), invoice
// request and chase (R-INV-1, R-INV-4), the order's tasks (accept or reject
// a plan on the task's page) and promise claims (R-PRM-1..6).
func (c *Console) orders(q *req) (string, any, error) {
	d, err := c.loadOrders(q)
	if err != nil {
		return "", nil, err
	}
	return "orders", d, nil
}

func (c *Console) loadOrders(q *req) (*ordersData, error) {
	if q.role() != auth.RoleBuyer {
		return nil, apperr.Forbidden("viewer.scope", "", "my orders is a buyer's page")
	}
	v := q.viewer()
	d := &ordersData{Types: []task.Type{task.ReturnRefund, task.Exchange, task.Resend, task.ChangeAddress, task.ProvideReturnAddress,
		task.Repair, task.PostageRefund, task.DeliveryProblem, task.SignedElsewhere}}
	err := c.eng.Store().View(q.ctx, func(tx store.ReadTx) error {
		os, err := tx.BuyerOrders(q.ctx, v.ID, ordersShown)
		if err != nil {
			return err
		}
		shops := map[string]*commerce.Shop{}
		for i := range os {
			o := &os[i]
			row := orderRow{O: o}
			shop, ok := shops[o.ShopID]
			if !ok {
				if shop, err = tx.Shop(q.ctx, o.ShopID); err != nil {
					return err
				}
				shops[o.ShopID] = shop
			}
			r, err := c.eng.Policy().At(shop.Platform, q.now)
			if err != nil {
				return err
			}
			if len(d.Reason) == 0 {
				d.Reason = r.Evidence.ReasonCodes()
			}
			switch out, err := task.EvaluateUrge(o, shop, r, q.now); {
			case err != nil:
				row.UrgeWhy = c.problem(err, q.lang)
			case out == task.UrgeMark:
				row.Urge = "mark"
			default:
				row.Urge = "create"
			}
			row.Contact = o.UrgedAt != nil && !o.Shipped() && o.ChatCardAt == nil
			row.Stalled = task.Stalled(o, r, q.now)
			switch _, err := task.CheckInvoiceChase(o, q.now); {
			case o.Invoice == nil:
				row.Invoice = "request"
			case err == nil:
				row.Invoice = "chase"
			}
			if row.Tasks, err = engine.ListTasksTx(q.ctx, tx, v, store.TaskFilter{OrderID: o.ID}); err != nil {
				return err
			}
			if row.Claims, err = tx.Claims(q.ctx, o.ID); err != nil {
				return err
			}
			for _, p := range o.Promises {
				row.Promises = append(row.Promises, p.Kind)
			}
			d.Orders = append(d.Orders, row)
		}
		return nil
	})
	return d, err
}

// orderOp is a buyer's action on an order, each through the engine's
// command the API calls: urge (R-URG-1..3), keep contacting (R-URG-4),
// stall report (R-LOG-2), invoice request and chase (R-INV-1, R-INV-4),
// opening a request task, and a promise claim (R-PRM-2..6).
func (c *Console) orderOp(q *req) (string, any, error) {
	if err := form(q.r); err != nil {
		return "", nil, apperr.Invalid("form", "", "unreadable form")
	}
	id, op := q.r.PathValue("id"), q.r.PathValue("op")
	get := func(k string) string { return strings.TrimSpace(q.r.Form.Get(k)) }
	flash, err := "", error(nil)
	a := q.actor()
	switch op {
	case "urge":
		if err = q.may(auth.ActUrge); err == nil {
			var res engine.UrgeResult
			if res, err = c.eng.Urge(q.ctx, a, id); err == nil {
				flash = q.L.T("flash.urge." + res.Outcome)
			}
		}
	case "contact":
		if err = q.may(auth.ActKeepContacting); err == nil {
			if err = c.eng.KeepContacting(q.ctx, a, id); err == nil {
				flash = q.L.T("flash.contact")
			}
		}
	case "stall", "chase", "open":
		typ := task.LogisticsStall
		var refund *task.RefundRequest
		if op == "chase" {
			typ = task.UrgeInvoice
		} else if op == "open" {
			typ = task.Type(get("type"))
			if r := get("reason"); r != "" {
				refund = &task.RefundRequest{Reason: r}
			}
		}
		if err = q.may(auth.ActOpenTask); err == nil {
			var t *task.Task
			if t, err = c.eng.CreateTask(q.ctx, task.Command{Actor: a, OrderID: id, Type: typ, Refund: refund,
				Details: map[string]string{"text": get("text")}}); err == nil {
				flash = q.L.F("flash.task_opened", q.L.Type(t.Type))
			}
		}
	case "invoice":
		if err = q.may(auth.ActRequestInvoice); err == nil {
			err = c.ownOrder(q, id)
		}
		if err == nil {
			err = c.ingestOne(q, commerce.Fact{ID: "console:invoice_requested:" + id, Type: commerce.FactInvoiceRequested, At: q.now,
				InvoiceRequested: &commerce.InvoiceRequestedFact{OrderID: id}})
			flash = q.L.T("flash.invoice_requested")
		}
	case "claim":
		if err = q.may(auth.ActFileClaim); err == nil {
			var fen int64
			if s := get("asked_yuan"); s != "" {
				y, perr := strconv.ParseFloat(s, 64)
				if perr != nil || y < 0 {
					err = apperr.Invalid("asked_fen", "R-PRM-1", "the amount asked is a number of yuan, not %q", s)
				}
				fen = int64(y*100 + 0.5)
			}
			if err == nil {
				_, err = c.eng.FileClaim(q.ctx, a, id, engine.ClaimInput{Kind: get("kind"), Description: get("description"), AskedFen: fen})
				flash = q.L.T("flash.claim_filed")
			}
		}
	default:
		err = apperr.NotFound("op", "no order action %q", op)
	}
	d, lerr := c.loadOrders(q)
	if lerr != nil {
		return "", nil, lerr
	}
	if err != nil {
		return "orders", d, err
	}
	d.Flash = flash
	return "orders", d, nil
}

// ownOrder refuses (404) an order that is not the buyer's.
func (c *Console) ownOrder(q *req, id string) error {
	return c.eng.Store().View(q.ctx, func(tx store.ReadTx) error {
		o, err := tx.Order(q.ctx, id)
		if err != nil || o.BuyerID != q.viewer().ID {
			return apperr.NotFound("id", "no order %q", id)
		}
		return nil
	})
}

// ingestOne records one fact through the engine; a refused fact is the error.
func (c *Console) ingestOne(q *req, f commerce.Fact) error {
	res, err := c.eng.Ingest(q.ctx, []commerce.Fact{f})
	if err != nil {
		return err
	}
	if len(res) == 1 && res[0].Status == engine.FactRefused && res[0].Error != nil {
		return res[0].Error
	}
	if len(res) == 1 && res[0].Status == engine.FactDuplicate {
		return apperr.Conflict("fact.duplicate", "", "this was already recorded")
	}
	return nil
}
