package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/ident"
	"aftersale/internal/judgment"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

type readTx = store.ReadTx

// MaxFacts is how many facts one POST /v1/facts may carry.
const MaxFacts = 1000

// ActorBody names who acts: a role and an id (buyer id, shop account id, agent id).
type ActorBody struct {
	Role string `json:"role" required:"true" enum:"buyer,shop_main,shop_sub,agent,system" doc:"buyer, shop_main, shop_sub (needs the platform-task permission, R-ACC-1), agent; system only to open collaborative tasks."`
	ID   string `json:"id" required:"true" minLength:"1" maxLength:"128" doc:"The buyer id, the shop account id or the agent id."`
}

// actorOf resolves the actor from the body, else from the X-Actor header.
func actorOf(body *ActorBody, header string) (task.Actor, error) {
	if body != nil {
		if err := ident.Check("actor.id", body.ID); err != nil {
			return task.Actor{}, err
		}
		return task.Actor{Role: task.Role(body.Role), ID: body.ID}, nil
	}
	if header == "" {
		return task.Actor{}, apperr.Invalid("actor", "", `name the actor: {"actor": {"role": "buyer", "id": "b1"}} in the body, or the header X-Actor: buyer:b1`)
	}
	role, id, ok := strings.Cut(header, ":")
	if !ok || id == "" {
		return task.Actor{}, apperr.Invalid("X-Actor", "", "X-Actor is role:id, e.g. buyer:b1; got %q", header)
	}
	if err := ident.Check("X-Actor", id); err != nil {
		return task.Actor{}, err
	}
	switch task.Role(role) {
	case task.RoleBuyer, task.RoleShopMain, task.RoleShopSub, task.RoleAgent, task.RoleSystem:
	default:
		return task.Actor{}, apperr.Invalid("X-Actor", "", "unknown role %q (buyer, shop_main, shop_sub, agent, system)", role)
	}
	return task.Actor{Role: task.Role(role), ID: id}, nil
}

// --- facts -----------------------------------------------------------------

// FactsRequest is the body of POST /v1/facts.
type FactsRequest struct {
	Facts []commerce.Fact `json:"facts" required:"true" doc:"Up to 1000 facts, applied in order in one transaction. Each fact's id is its own idempotency key."`
}

// factsInput takes the body raw and decodes it once in ingest: huma's schema
// pass would decode up to 1000 facts twice, and the engine validates each
// fact anyway (refusing it alone). documentFactsBody keeps the schema in
// the OpenAPI document.
type factsInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	RawBody        []byte `contentType:"application/json"`
}

// documentFactsBody puts FactsRequest's schema on POST /v1/facts.
func documentFactsBody(api huma.API) {
	op := api.OpenAPI().Paths["/v1/facts"].Post
	op.RequestBody.Required = true
	op.RequestBody.Content = map[string]*huma.MediaType{"application/json": {
		Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[FactsRequest](), true, "FactsRequest")}}
}

// FactItem is the outcome of one fact.
type FactItem struct {
	ID      string   `json:"id"`
	Status  string   `json:"status" enum:"accepted,duplicate,refused"`
	Problem *Problem `json:"problem,omitempty" doc:"Why a refused fact was refused (the same members as an error body)."`
}

// FactsResult is the outcome of a batch, one item per fact in order.
type FactsResult struct {
	Accepted  int        `json:"accepted"`
	Duplicate int        `json:"duplicate"`
	Refused   int        `json:"refused"`
	Results   []FactItem `json:"results"`
}

type factsOutput struct{ Body FactsResult }

func (s *Server) ingest(ctx context.Context, in *factsInput) (*factsOutput, error) {
	lang := langOf(ctx)
	batch, err := decodeFacts(in.RawBody, lang)
	if err != nil {
		return nil, err
	}
	res, err := s.eng.Ingest(ctx, batch.facts)
	if err != nil {
		return nil, err
	}
	res = batch.results(res)
	out := FactsResult{Results: make([]FactItem, len(res))}
	for i, r := range res {
		it := FactItem{ID: r.ID, Status: r.Status}
		switch r.Status {
		case engine.FactAccepted:
			out.Accepted++
		case engine.FactDuplicate:
			out.Duplicate++
		case engine.FactRefused:
			out.Refused++
			if r.Error != nil {
				it.Problem = problemFrom(r.Error, lang)
			}
		}
		out.Results[i] = it
	}
	s.metrics.ObserveFacts(out.Accepted, out.Duplicate, out.Refused)
	return &factsOutput{Body: out}, nil
}

// --- orders ----------------------------------------------------------------

type buyerInput struct {
	ID             string `path:"id" doc:"The order id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (e.g. buyer:b1), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           *struct {
		Actor *ActorBody `json:"actor,omitempty" doc:"The buyer of the order."`
	}
}

func (in *buyerInput) actor() (task.Actor, error) {
	var b *ActorBody
	if in.Body != nil {
		b = in.Body.Actor
	}
	return actorOf(b, in.Actor)
}

// UrgeBody is what an urge did.
type UrgeBody struct {
	Outcome string     `json:"outcome" enum:"marked,task_created" doc:"marked: within the shipping deadline, the order is marked urged (R-URG-3); task_created: an urge_shipment task (R-URG-1)."`
	OrderID string     `json:"order_id"`
	Task    *task.Task `json:"task,omitempty"`
}

type urgeOutput struct{ Body UrgeBody }

func (s *Server) urge(ctx context.Context, in *buyerInput) (*urgeOutput, error) {
	a, err := in.actor()
	if err != nil {
		return nil, err
	}
	res, err := s.eng.Urge(ctx, a, in.ID)
	if err != nil {
		return nil, err
	}
	return &urgeOutput{Body: UrgeBody{Outcome: res.Outcome, OrderID: in.ID, Task: res.Task}}, nil
}

// ContactBody answers keep-contacting.
type ContactBody struct {
	OrderID string `json:"order_id"`
	Outcome string `json:"outcome" enum:"chat_card_sent" doc:"The seller gets a chat message card (R-URG-4)."`
}

type contactOutput struct{ Body ContactBody }

func (s *Server) keepContacting(ctx context.Context, in *buyerInput) (*contactOutput, error) {
	a, err := in.actor()
	if err != nil {
		return nil, err
	}
	if err := s.eng.KeepContacting(ctx, a, in.ID); err != nil {
		return nil, err
	}
	return &contactOutput{Body: ContactBody{OrderID: in.ID, Outcome: "chat_card_sent"}}, nil
}

type complaintInput struct {
	ID             string `path:"id" doc:"The order id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (e.g. buyer:b1), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor *ActorBody `json:"actor,omitempty" doc:"The buyer of the order."`
		Kind  string     `json:"kind" required:"true" enum:"shipping,invoice"`
	}
}

type complaintOutput struct{ Body *judgment.Complaint }

func (s *Server) fileComplaint(ctx context.Context, in *complaintInput) (*complaintOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	c, err := s.eng.FileComplaint(ctx, a, in.ID, in.Body.Kind)
	if err != nil {
		return nil, err
	}
	return &complaintOutput{Body: c}, nil
}

type finishInput struct {
	ID             string `path:"id" doc:"The complaint id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (e.g. agent:a1), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor  *ActorBody `json:"actor,omitempty" doc:"An agent."`
		Status string     `json:"status" required:"true" enum:"upheld,withdrawn,dismissed"`
	}
}

func (s *Server) finishComplaint(ctx context.Context, in *finishInput) (*complaintOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	c, err := s.eng.FinishComplaint(ctx, a, in.ID, in.Body.Status)
	if err != nil {
		return nil, err
	}
	return &complaintOutput{Body: c}, nil
}

type urgedInput struct {
	ID     string `path:"id" doc:"The shop id."`
	Viewer string `query:"viewer" doc:"Read as role:id (buyer:b1, shop_main:acc, shop_sub:acc, agent:a1). Default: agent view."`
}

// OrderList is a list of orders.
type OrderList struct {
	Orders []commerce.Order `json:"orders"`
}

type orderListOutput struct{ Body OrderList }

func (s *Server) urgedOrders(ctx context.Context, in *urgedInput) (*orderListOutput, error) {
	v, err := parseViewer(in.Viewer)
	if err != nil {
		return nil, err
	}
	out := OrderList{Orders: []commerce.Order{}}
	err = s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		if v.buyer() {
			return apperr.New(apperr.EFORBIDDEN, "viewer.scope", "viewer", "R-URG-3", "the urged orders filter is the seller's")
		}
		if v.shop() {
			shopID, err := v.shopOf(ctx, tx)
			if err != nil {
				return err
			}
			if shopID != in.ID {
				return apperr.New(apperr.EFORBIDDEN, "not_your_shop", "viewer", "", "account %s does not belong to shop %s", v.ID, in.ID)
			}
		}
		if _, err := tx.Shop(ctx, in.ID); err != nil {
			return apperr.NotFoundAs(err, "id", "no shop %q", in.ID)
		}
		os, err := tx.UrgedOrders(ctx, in.ID)
		if err != nil {
			return err
		}
		if os != nil {
			out.Orders = os
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orderListOutput{Body: out}, nil
}

// --- tasks -----------------------------------------------------------------

type createTaskInput struct {
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id, when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Type    string            `json:"type" required:"true" doc:"One of the 14 task types (urge_shipment … collaborative)."`
		OrderID string            `json:"order_id" required:"true" minLength:"1"`
		Details map[string]string `json:"details,omitempty" doc:"The buyer's request details (reason, text)."`
		Actor   *ActorBody        `json:"actor,omitempty" doc:"The buyer; an agent or system for a collaborative task (R-COL-1)."`
		Refund  *RefundBody       `json:"refund,omitempty" doc:"presale_deposit_refund, return_refund, postage_refund and exchange: the refund reason and the remedy asked (R-EVD-5, R-EVD-3)."`
	}
}

type taskOutput struct{ Body *task.Task }

func (s *Server) createTask(ctx context.Context, in *createTaskInput) (*taskOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	t, err := s.eng.CreateTask(ctx, task.Command{Actor: a, OrderID: in.Body.OrderID, Type: task.Type(in.Body.Type), Details: in.Body.Details,
		Refund: in.Body.Refund.task()})
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: t}, nil
}

// ReplyBody is the seller's reply details.
type ReplyBody struct {
	Text        string     `json:"text,omitempty"`
	ContactedAt *time.Time `json:"contacted_at,omitempty" doc:"Collaborative replies: when the buyer was contacted; after the task's creation (R-COL-3)."`
	Channel     string     `json:"channel,omitempty" maxLength:"256" doc:"Collaborative replies: how the buyer was contacted, one of the policy's collaborative.contact_channels (wangwang, phone, sms, other); optional (R-COL-3)."`
	Attempts    int        `json:"attempts,omitempty" minimum:"0" doc:"Collaborative unreachable replies: contact attempts, at least the policy's collaborative.unreachable_min_attempts (2: 多次联系不上, R-COL-3)."`
	Evidence    []string   `json:"evidence,omitempty" doc:"Evidence references (negotiation or contact evidence)."`
}

type actInput struct {
	ID             string `path:"id" doc:"The task id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id, when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Action   string         `json:"action" required:"true" doc:"reply, propose_plan, refuse, perform, message_agent, collab_agreed, collab_not_agreed, collab_unreachable, accept_plan, reject_plan, resolve, judge, agent_note, provide_evidence, request_evidence, mark_evidence."`
		Actor    *ActorBody     `json:"actor,omitempty" doc:"buyer, shop_main, shop_sub or agent."`
		Reply    *ReplyBody     `json:"reply,omitempty"`
		Outcome  string         `json:"outcome,omitempty" doc:"resolve: how the agent closed the task."`
		Text     string         `json:"text,omitempty" doc:"The reply, message or note text."`
		Judgment *task.Judgment `json:"judgment,omitempty" doc:"judge: whether the seller is liable, and forged evidence (general or serious, R-COL-6)."`
		// Refusal evidence (R-EVD-1..4).
		Evidence         *EvidenceBody        `json:"evidence,omitempty" doc:"refuse, provide_evidence: the evidence given. A refusal whose refund reason requires evidence (from 2022-12-27) without it is refused with evidence.required, listing example evidence (R-EVD-1)."`
		ContinueRefusing bool                 `json:"continue_refusing,omitempty" doc:"refuse: refuse without the required evidence all the same (R-EVD-2); on the intervention that follows the platform opens the buyer's remedy and judges the seller liable (R-EVD-3)."`
		EvidenceRequest  *EvidenceRequestBody `json:"evidence_request,omitempty" doc:"request_evidence: the second round asked (R-EVD-4)."`
		Mark             *MarkBody            `json:"mark,omitempty" doc:"mark_evidence: an agent's finding on an item (R-EVD-3)."`
	}
}

func (s *Server) act(ctx context.Context, in *actInput) (*taskOutput, error) {
	act := task.Action(in.Body.Action)
	if err := s.personMayAct(ctx, in.ID, act); err != nil {
		return nil, err
	}
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	if act == task.ActCreate {
		return nil, apperr.Invalid("action", "", "open tasks with POST /v1/tasks")
	}
	if a.Role == task.RoleSystem {
		return nil, apperr.Forbidden("role", "", "system actions come from facts and timers, not from the API")
	}
	cmd := task.Command{Action: act, Actor: a, TaskID: in.ID, Outcome: in.Body.Outcome, Text: in.Body.Text, Judgment: in.Body.Judgment,
		Evidence: in.Body.Evidence.task(), ContinueRefusing: in.Body.ContinueRefusing, EvidenceRequest: in.Body.EvidenceRequest.task(),
		Mark: in.Body.Mark.task()}
	if r := in.Body.Reply; r != nil {
		cmd.Reply = &task.Reply{Text: r.Text, ContactedAt: r.ContactedAt, Channel: r.Channel, Attempts: r.Attempts, Evidence: r.Evidence}
	}
	t, err := s.eng.Act(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: t}, nil
}

type listInput struct {
	State     string    `query:"state" doc:"awaiting_seller_reply, awaiting_seller_action, awaiting_buyer_confirmation, platform_intervening, completed."`
	Type      string    `query:"type" doc:"A task type."`
	ShopID    string    `query:"shop_id"`
	BuyerID   string    `query:"buyer_id"`
	OrderID   string    `query:"order_id"`
	DueBefore time.Time `query:"due_before" doc:"Keep tasks whose deadline is before this time (RFC 3339)."`
	Limit     int       `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	Cursor    string    `query:"cursor" doc:"The next_cursor of the previous page (the last task id it returned)."`
	Order     string    `query:"order" enum:"created,due" default:"created" doc:"created: by creation time; due: by deadline, soonest first, tasks without a deadline last (the agents' intervention queue: state=platform_intervening&order=due)."`
	Viewer    string    `query:"viewer" doc:"Read as role:id (buyer:b1, shop_main:acc, shop_sub:acc, agent:a1). Default: agent view. A buyer sees only their tasks, a shop account only its shop's."`
}

// TaskList is a page of tasks ordered by (created_at, id), or by deadline
// with order=due.
type TaskList struct {
	Tasks      []task.Task `json:"tasks"`
	NextCursor string      `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page."`
}

// taskListOutput is a TaskList written as the store holds its tasks
// (store.TaskJSONReader): a page of 50 tasks is neither decoded nor encoded
// again, and huma writes the bytes as they are. documentTaskList gives it
// TaskList's schema in the OpenAPI document.
type taskListOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// documentTaskList puts TaskList's schema on GET /v1/tasks's answer.
func documentTaskList(api huma.API) {
	r := api.OpenAPI().Paths["/v1/tasks"].Get.Responses["200"]
	r.Content = map[string]*huma.MediaType{"application/json": {
		Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[TaskList](), true, "TaskList")}}
	r.Headers = nil
}

type rawTaskList struct {
	tasks      []json.RawMessage
	nextCursor string
}

// MarshalJSON writes the page as TaskList would be written.
func (l rawTaskList) MarshalJSON() ([]byte, error) {
	n := 32
	for _, t := range l.tasks {
		n += len(t) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"tasks":[`...)
	for i, t := range l.tasks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, t...)
	}
	b = append(b, ']')
	if l.nextCursor != "" {
		c, err := json.Marshal(l.nextCursor)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"next_cursor":`...)
		b = append(b, c...)
	}
	return append(b, '}'), nil
}

func (s *Server) listTasks(ctx context.Context, in *listInput) (*taskListOutput, error) {
	v, err := parseViewer(in.Viewer)
	if err != nil {
		return nil, err
	}
	if in.State != "" && !validState(task.State(in.State)) {
		return nil, apperr.Invalid("state", "", "unknown state %q", in.State)
	}
	if in.Type != "" && !task.Type(in.Type).Valid() {
		return nil, apperr.Invalid("type", "", "unknown task type %q", in.Type)
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 50
	}
	f := store.TaskFilter{State: task.State(in.State), Type: task.Type(in.Type), ShopID: in.ShopID, BuyerID: in.BuyerID,
		OrderID: in.OrderID, After: in.Cursor, Limit: limit + 1, ByDue: in.Order == "due"}
	if !in.DueBefore.IsZero() {
		d := in.DueBefore.UTC()
		f.DueBefore = &d
	}
	var ts []json.RawMessage
	err = s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		var err error
		f, err := engine.ScopeTaskFilter(ctx, tx, engine.Viewer(v), f)
		if err != nil {
			return err
		}
		ts, err = tx.TasksJSON(ctx, f)
		if apperr.CodeOf(err) == apperr.ENOTFOUND {
			return apperr.Invalid("cursor", "", "unknown cursor %q: pass the next_cursor of a previous page", in.Cursor)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := rawTaskList{tasks: ts}
	if len(ts) > limit {
		var last struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(ts[limit-1], &last); err != nil {
			return nil, apperr.Internal(fmt.Errorf("task list cursor: %w", err))
		}
		out.tasks, out.nextCursor = ts[:limit], last.ID
	}
	b, err := out.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return &taskListOutput{ContentType: "application/json", Body: b}, nil
}

func validState(s task.State) bool {
	for _, x := range task.States {
		if x == s {
			return true
		}
	}
	return false
}

type getTaskInput struct {
	ID     string `path:"id" doc:"The task id."`
	Viewer string `query:"viewer" doc:"Read as role:id. A buyer never sees shop_agent or agent_only events (R-MSG-2); a shop account never sees agent_only ones; agents see all. Default: agent view."`
}

// TaskDetail is a task with the history its viewer may see and its running timers.
type TaskDetail struct {
	Task   *task.Task   `json:"task"`
	Events []task.Event `json:"events" doc:"The task's history, oldest first, filtered by the viewer's visibility."`
	Timers []task.Timer `json:"timers" doc:"The running timers (deadlines) of the task."`
}

type taskDetailOutput struct{ Body TaskDetail }

func (s *Server) getTask(ctx context.Context, in *getTaskInput) (*taskDetailOutput, error) {
	v, err := parseViewer(in.Viewer)
	if err != nil {
		return nil, err
	}
	tv, err := s.eng.ReadTask(ctx, engine.Viewer(v), in.ID)
	if err != nil {
		return nil, err
	}
	out := TaskDetail{Task: tv.Task, Events: tv.Events, Timers: tv.Timers}
	return &taskDetailOutput{Body: out}, nil
}

// --- sandbox ---------------------------------------------------------------

// ClockBody is the sandbox clock.
type ClockBody struct {
	Now     time.Time `json:"now" doc:"The sandbox time after the call."`
	Fired   int       `json:"fired" doc:"Timers fired by this advance, each at its own due time."`
	Skipped int       `json:"skipped" doc:"Timers whose task no longer took the timeout (recorded, not an error)."`
}

type clockOutput struct{ Body ClockBody }

func (s *Server) sandboxOff(ctx context.Context) error {
	if s.sandbox == nil {
		return newProblem(http.StatusNotFound, "not_found", "sandbox.disabled", "", langOf(ctx), "the sandbox endpoints exist only when the server runs with --sandbox")
	}
	return nil
}

func (s *Server) sandboxClock(ctx context.Context, _ *struct{}) (*clockOutput, error) {
	if err := s.sandboxOff(ctx); err != nil {
		return nil, err
	}
	return &clockOutput{Body: ClockBody{Now: s.sandbox.Now()}}, nil
}

type advanceInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		To *time.Time `json:"to,omitempty" doc:"Move the clock to this time (RFC 3339)."`
		By string     `json:"by,omitempty" doc:"Or move it by this duration: 90m, 24h, 10d, 1d12h."`
	}
}

func (s *Server) sandboxAdvance(ctx context.Context, in *advanceInput) (*clockOutput, error) {
	if err := s.sandboxOff(ctx); err != nil {
		return nil, err
	}
	if (in.Body.To == nil) == (in.Body.By == "") {
		return nil, apperr.Invalid("to", "", `give exactly one of "to" (a time) or "by" (a duration such as 24h)`)
	}
	var res engine.FireResult
	var now time.Time
	run := func(ctx context.Context) error {
		target := time.Time{}
		if in.Body.To != nil {
			target = in.Body.To.UTC()
		} else {
			d, err := parseDuration(in.Body.By)
			if err != nil {
				return apperr.Invalid("by", "", "%v", err)
			}
			if d < 0 {
				return apperr.New(apperr.EINVALID, "sandbox.clock_backwards", "by", "", "the sandbox clock never runs back (by %s)", in.Body.By)
			}
			target = s.sandbox.Now().Add(d)
		}
		if target.Before(s.sandbox.Now()) {
			return apperr.New(apperr.EINVALID, "sandbox.clock_backwards", "to", "", "the sandbox clock is at %s; it never runs back to %s",
				s.sandbox.Now().Format(time.RFC3339Nano), target.Format(time.RFC3339Nano))
		}
		var err error
		if res, err = s.eng.AdvanceTo(ctx, s.sandbox, target); err != nil {
			return err
		}
		now = s.sandbox.Now()
		if idemOf(ctx) != nil {
			// An advance that fired nothing opened no transaction: open one so
			// that an Idempotency-Key is taken and a repeat does not move the clock again.
			return s.eng.Store().Update(ctx, func(store.Tx) error { return nil })
		}
		return nil
	}
	var err error
	if s.st != nil {
		err = s.st.advance(ctx, run)
	} else {
		err = run(ctx)
	}
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "sandbox clock advanced", "now", now, "fired", res.Fired, "skipped", res.Skipped)
	return &clockOutput{Body: ClockBody{Now: now, Fired: res.Fired, Skipped: res.Skipped}}, nil
}
