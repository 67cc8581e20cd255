package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/live"
	"aftersale/internal/notify"
	"aftersale/internal/store"
	"aftersale/internal/task"
	"aftersale/internal/webhook"
)

// LiveConfig connects the API to live delivery.
type LiveConfig struct {
	Hub *live.Hub
	// Webhooks, when set, is woken when a delivery is redelivered.
	Webhooks *webhook.Sender
	// Heartbeat is the interval of the SSE comment that keeps idle
	// connections open through proxies (default 15 s).
	Heartbeat time.Duration
}

func (s *Server) routesLive() {
	api := s.api
	st := op("stream", http.MethodGet, "/v1/stream", "Server-Sent Events for one user: cards, reminders, task events (a signed-in person's own; the platform key names the user)", platformOnly, "live")
	st.Description += " Each event has id: OUTBOX-EVENTS (the sequences delivered so far), event: card, reminder, chat_card, collab_card or task_event, and JSON data. " +
		"Reconnect with Last-Event-ID to get what was missed, then live items, each once. A buyer never gets shop_agent or agent_only items (R-MSG-2). " +
		"A shop sub-account holding a stream is online for cards (R-NTF-2)."
	st.Responses = map[string]*huma.Response{"200": {Description: "text/event-stream", Content: map[string]*huma.MediaType{"text/event-stream": {}}}}
	huma.Register(api, st, s.stream)

	cw := op("create-webhook", http.MethodPost, "/v1/webhooks", "Subscribe a URL to event types (the signing secret is shown once)", anyKey, "webhooks")
	cw.DefaultStatus = http.StatusCreated
	huma.Register(api, cw, s.createWebhook)
	huma.Register(api, op("list-webhooks", http.MethodGet, "/v1/webhooks", "List webhook subscriptions (without secrets)", anyKey, "webhooks"), s.listWebhooks)
	dw := op("delete-webhook", http.MethodDelete, "/v1/webhooks/{id}", "Delete a subscription and its pending deliveries", anyKey, "webhooks")
	dw.DefaultStatus = http.StatusNoContent
	huma.Register(api, dw, s.deleteWebhook)
	huma.Register(api, op("list-webhook-deliveries", http.MethodGet, "/v1/webhooks/deliveries", "Recent webhook deliveries, newest first", anyKey, "webhooks"), s.listDeliveries)
	huma.Register(api, op("list-webhook-dead-letters", http.MethodGet, "/v1/webhooks/dead-letters", "Deliveries whose every attempt failed", anyKey, "webhooks"), s.listDeadLetters)
	huma.Register(api, op("redeliver-webhook", http.MethodPost, "/v1/webhooks/deliveries/{id}/redeliver", "Send a dead (or delivered) delivery again, with a fresh set of attempts", anyKey, "webhooks"), s.redeliver)
}

// --- stream ----------------------------------------------------------------

type streamInput struct {
	Actor       string `header:"X-Actor" doc:"Whose stream, as role:id (buyer:b1, shop_main:acc, shop_sub:acc, agent:a1)."`
	ActorQuery  string `query:"actor" doc:"The same as X-Actor, for clients that cannot set headers (EventSource)."`
	LastEventID string `header:"Last-Event-ID" doc:"The id of the last event received: replay what came after it."`
	LastQuery   string `query:"last_event_id" doc:"The same as Last-Event-ID."`
}

// streamIdentity resolves who a stream is for. A signed-in person's stream
// is their own, from the session: a buyer's, an agent's, a shop account's
// (its shop and, for a sub-account, whether it holds platform_task, read
// on this request, so that holding the stream makes it online for cards,
// R-NTF-2), an operator's the agent view of events; an X-Actor (or
// ?actor=) naming someone else is refused with actor.mismatch. The platform
// key acts for the user X-Actor (or ?actor=) names, as the other
// operations do; a shop account must exist and have the named role.
func (s *Server) streamIdentity(ctx context.Context, header, query string) (live.Identity, error) {
	field := "X-Actor"
	if header == "" {
		header, field = query, "actor"
	}
	if p := principalOf(ctx); p != nil && p.Person != nil {
		return personStream(p, header, field)
	}
	if p := principalOf(ctx); p != nil && p.Person != nil {
		// A signed-in person's stream is their own (the console's live cards).
		a, ok := p.Person.Actor()
		if !ok {
			return live.Identity{}, apperr.Forbidden("role", "", "an operator has no stream")
		}
		header = actorString(a)
	}
	a, err := actorOf(nil, header)
	if err != nil {
		return live.Identity{}, err
	}
	id := live.Identity{Role: a.Role, ID: a.ID}
	switch a.Role {
	case task.RoleBuyer, task.RoleAgent:
		return id, nil
	case task.RoleShopMain, task.RoleShopSub:
		var out live.Identity
		err := s.eng.Store().View(ctx, func(tx store.ReadTx) error {
			if _, err := (viewer{Role: a.Role, ID: a.ID}).shopOf(ctx, tx); err != nil {
				return err
			}
			acc, err := tx.Account(ctx, a.ID)
			if err == nil {
				out = live.IdentityOf(acc)
			}
			return err
		})
		return out, err
	}
	return live.Identity{}, apperr.Forbidden("role", "", "system has no stream")
}

// personStream is a signed-in person's stream identity; named, the actor
// must be the person.
func personStream(p *principal, named, field string) (live.Identity, error) {
	a, acts := p.Person.Actor()
	if named != "" && (!acts || named != actorString(a)) {
		return live.Identity{}, apperr.New(apperr.EFORBIDDEN, "actor.mismatch", field, "",
			"a signed-in %s streams their own items, not %q's", p.Person.Role, named)
	}
	switch {
	case !acts: // an operator: every event, as the agent view of the reads
		return live.Identity{Role: task.RoleAgent, ID: p.Person.ID}, nil
	case p.Person.Role.Shop():
		if p.Account == nil || p.Account.ShopID != p.Person.ShopID {
			return live.Identity{}, apperr.NotFound("id", "no shop account %q", p.Person.SubjectID)
		}
		return live.IdentityOf(p.Account), nil
	}
	return live.Identity{Role: a.Role, ID: a.ID}, nil
}

// parseCursor reads an event id "OUTBOX-EVENTS".
func parseCursor(s string) (o, e int64, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		if o, err = strconv.ParseInt(a, 10, 64); err == nil {
			e, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil || o < 0 || e < 0 {
		return 0, 0, apperr.Invalid("Last-Event-ID", "", "Last-Event-ID is OUTBOX-EVENTS (two sequences, e.g. 12-40), the id of the last event received; got %q", s)
	}
	return o, e, nil
}

func (s *Server) stream(ctx context.Context, in *streamInput) (*huma.StreamResponse, error) {
	hub := s.live.Hub
	if hub == nil {
		return nil, newProblem(http.StatusServiceUnavailable, "unavailable", "live.disabled", "", langOf(ctx), "live delivery is not running on this server")
	}
	id, err := s.streamIdentity(ctx, in.Actor, in.ActorQuery)
	if err != nil {
		return nil, err
	}
	last := in.LastEventID
	if last == "" {
		last = in.LastQuery
	}
	resume := last != ""
	var o, e int64
	if resume {
		if o, e, err = parseCursor(last); err != nil {
			return nil, err
		}
	}
	sub, err := hub.Subscribe(ctx, id)
	if err != nil {
		return nil, err
	}
	if !resume {
		o, e = sub.Start()
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer sub.Close()
		r, w := unwrap(hctx)
		s.serveStream(r, w, hub, sub, id, resume, o, e)
	}}, nil
}

// sseWriter writes SSE frames and tracks the stream's cursor.
type sseWriter struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	o, e int64
	// reminded de-duplicates reminders per task and trigger on this stream.
	reminded map[string]bool
}

func (sw *sseWriter) item(it live.Item) error {
	if it.Msg != nil && it.Msg.Kind == notify.KindReminder {
		k := it.Msg.TaskID + "\x00" + it.Msg.Reason
		if sw.reminded[k] {
			return nil
		}
		if len(sw.reminded) > 10000 {
			clear(sw.reminded)
		}
		sw.reminded[k] = true
	}
	data, err := it.JSON()
	if err != nil {
		return err
	}
	var b strings.Builder
	// A late item (a sequence below one already sent) goes without an id,
	// so the client's Last-Event-ID stays where it was (SSE keeps the last id).
	if !it.Late {
		if it.Source == live.FromOutbox {
			sw.o = max(sw.o, it.Seq)
		} else {
			sw.e = max(sw.e, it.Seq)
		}
		fmt.Fprintf(&b, "id: %d-%d\n", sw.o, sw.e)
	}
	fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", it.Kind(), data)
	if _, err := writeString(sw.w, b.String()); err != nil {
		return err
	}
	return sw.rc.Flush()
}

func writeString(w http.ResponseWriter, s string) (int, error) { return w.Write([]byte(s)) }

func (s *Server) serveStream(r *http.Request, w http.ResponseWriter, hub *live.Hub, sub *live.Sub, id live.Identity, resume bool, o, e int64) {
	ctx := r.Context()
	w = newFrameDeadline(w, s.streamWrite) // each frame gets the write timeout; the stream has none
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sw := &sseWriter{w: w, rc: http.NewResponseController(w), o: o, e: e, reminded: map[string]bool{}}
	if _, err := writeString(w, "retry: 2000\n: connected\n\n"); err != nil {
		return
	}
	if err := sw.rc.Flush(); err != nil {
		return
	}
	var replayed map[live.Source]map[int64]bool
	if resume {
		var err error
		replayed, err = hub.Replay(ctx, id, o, e, sw.item)
		if err != nil {
			s.log.ErrorContext(ctx, "stream replay failed", "err", err)
			return
		}
	}
	cursor := map[live.Source]int64{live.FromOutbox: o, live.FromEvents: e}
	beat := s.live.Heartbeat
	if beat <= 0 {
		beat = 15 * time.Second
	}
	tick := time.NewTicker(beat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			// the hub let go (shutdown, or this stream fell behind): drain what it queued, then end
			for {
				select {
				case it := <-sub.C():
					if sw.item(it) != nil {
						return
					}
				default:
					return
				}
			}
		case <-tick.C:
			if _, err := writeString(w, ": heartbeat\n\n"); err != nil || sw.rc.Flush() != nil {
				return
			}
		case it := <-sub.C():
			if replayed[it.Source][it.Seq] || (!it.Late && it.Seq <= cursor[it.Source]) {
				continue // replayed already, or before the client's Last-Event-ID
			}
			if sw.item(it) != nil {
				return
			}
		}
	}
}

// --- webhooks --------------------------------------------------------------

// WebhookRequest creates a subscription.
type WebhookRequest struct {
	URL         string   `json:"url" required:"true" doc:"Where to POST (http or https)."`
	Events      []string `json:"events" required:"true" minItems:"1" doc:"Event types: task.created, task.state_changed, task.completed, task.updated, order.updated, complaint.filed, complaint.finished, points.charged, card, reminder, chat_card, collab_card, collab_sms; or * for all."`
	Audience    string   `json:"audience,omitempty" enum:"platform,public" doc:"public (default): buyer-facing, public events only, never shop_agent or agent_only content (R-MSG-2); platform: everything."`
	Description string   `json:"description,omitempty" maxLength:"500"`
}

type createWebhookInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           WebhookRequest
}

type subscriptionOutput struct{ Body *notify.Subscription }

func (s *Server) createWebhook(ctx context.Context, in *createWebhookInput) (*subscriptionOutput, error) {
	sub, err := webhook.NewSubscription(in.Body.URL, in.Body.Events, notify.Audience(in.Body.Audience), in.Body.Description, s.eng.Clock().Now())
	if err != nil {
		return nil, err
	}
	if err := s.live.Webhooks.Guard().CheckURL(ctx, sub.URL); err != nil {
		return nil, err // loopback, private and the like: not without --webhook-allow
	}
	if err := webhook.Create(ctx, s.eng.Store(), sub); err != nil {
		return nil, err
	}
	return &subscriptionOutput{Body: sub}, nil
}

// SubscriptionList lists webhook subscriptions.
type SubscriptionList struct {
	Subscriptions []notify.Subscription `json:"subscriptions"`
}

type subscriptionListOutput struct{ Body SubscriptionList }

func (s *Server) listWebhooks(ctx context.Context, _ *struct{}) (*subscriptionListOutput, error) {
	subs, err := webhook.List(ctx, s.eng.Store())
	if err != nil {
		return nil, err
	}
	if subs == nil {
		subs = []notify.Subscription{}
	}
	return &subscriptionListOutput{Body: SubscriptionList{Subscriptions: subs}}, nil
}

type webhookIDInput struct {
	ID             string `path:"id"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
}

func (s *Server) deleteWebhook(ctx context.Context, in *webhookIDInput) (*struct{}, error) {
	if err := webhook.Delete(ctx, s.eng.Store(), in.ID); err != nil {
		return nil, err
	}
	return nil, nil
}

type deliveriesInput struct {
	SubscriptionID string `query:"subscription_id"`
	Status         string `query:"status" enum:"pending,succeeded,dead"`
	Limit          int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

// DeliveryList lists webhook deliveries, newest first.
type DeliveryList struct {
	Deliveries []notify.Delivery `json:"deliveries"`
}

type deliveryListOutput struct{ Body DeliveryList }

func (s *Server) deliveries(ctx context.Context, f store.WebhookFilter) (*deliveryListOutput, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	ds, err := webhook.Deliveries(ctx, s.eng.Store(), f)
	if err != nil {
		return nil, err
	}
	if ds == nil {
		ds = []notify.Delivery{}
	}
	return &deliveryListOutput{Body: DeliveryList{Deliveries: ds}}, nil
}

func (s *Server) listDeliveries(ctx context.Context, in *deliveriesInput) (*deliveryListOutput, error) {
	return s.deliveries(ctx, store.WebhookFilter{SubscriptionID: in.SubscriptionID, Status: notify.DeliveryStatus(in.Status), Limit: in.Limit})
}

type deadInput struct {
	SubscriptionID string `query:"subscription_id"`
	Limit          int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

func (s *Server) listDeadLetters(ctx context.Context, in *deadInput) (*deliveryListOutput, error) {
	return s.deliveries(ctx, store.WebhookFilter{SubscriptionID: in.SubscriptionID, Status: notify.DeliveryDead, Limit: in.Limit})
}

type deliveryOutput struct{ Body *notify.Delivery }

func (s *Server) redeliver(ctx context.Context, in *webhookIDInput) (*deliveryOutput, error) {
	d, err := webhook.Redeliver(ctx, s.eng.Store(), in.ID, s.eng.Clock().Now())
	if err != nil {
		return nil, err
	}
	if s.live.Webhooks != nil {
		s.live.Webhooks.Wake()
	}
	return &deliveryOutput{Body: d}, nil
}
