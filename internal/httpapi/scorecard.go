package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/judgment"
	"aftersale/internal/scorecard"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// routesScorecard registers shop scorecards and points ledgers (R-LIA-1..3,
// R-GLD-1..3, R-COL-4, R-URG-4, R-INV-3, R-COL-6) and the changes to
// complaints and judgments after the fact: a buyer withdrawing a complaint
// (撤销投诉), an agent overturning a complaint or a judgment.
func (s *Server) routesScorecard() {
	api := s.api
	huma.Register(api, op("shop-scorecard", http.MethodGet, "/v1/shops/{id}/scorecard",
		"A shop's scorecard: liability rate and takeover, dispute rate, response time, gold seller periods", anyKey, "scorecards"), s.shopScorecard)
	huma.Register(api, op("shop-points", http.MethodGet, "/v1/shops/{id}/points",
		"A shop's violation points ledger (违规扣分) with standing totals (R-INV-3, R-COL-6)", anyKey, "scorecards"), s.shopPoints)
	huma.Register(api, op("withdraw-complaint", http.MethodPost, "/v1/complaints/{id}/withdraw",
		"The buyer withdraws a complaint after agreeing with the shop (撤销投诉; R-GLD-1: it stops counting)", platformOnly, "complaints"), s.withdrawComplaint)
	huma.Register(api, op("overturn-complaint", http.MethodPost, "/v1/complaints/{id}/overturn",
		"An agent overturns an upheld complaint; its points are reversed (R-INV-3)", platformOnly, "complaints"), s.overturnComplaint)
	huma.Register(api, op("overturn-judgment", http.MethodPost, "/v1/tasks/{id}/overturn-judgment",
		"An agent overturns a task's judgment; counters are taken back and forged-evidence points reversed (R-LIA-1, R-COL-6)", platformOnly, "tasks"), s.overturnJudgment)
}

type scorecardInput struct {
	ID     string `path:"id" doc:"The shop id."`
	AsOf   string `query:"as_of" doc:"Read the scorecard as of this time (RFC 3339; default now). Windows end with its business day; gold seller periods end with its period."`
	Viewer string `query:"viewer" doc:"Read as role:id (shop_main:acc, shop_sub:acc, agent:a1). A shop account reads only its own shop; buyers may not. Default: agent view."`
}

// Scorecard is a shop's scorecard with the history of its takeover switches.
type Scorecard struct {
	scorecard.Card
	// TakeoverSwitches are every start (R-LIA-2) and stop (R-LIA-3), oldest first.
	TakeoverSwitches []task.Event `json:"takeover_switches"`
}

type scorecardOutput struct{ Body Scorecard }

// shopViewer checks that the viewer may read a shop's standing: agents,
// operators and the shop's own accounts; never buyers.
func shopViewer(ctx context.Context, tx store.ReadTx, raw, shopID string) error {
	v, err := parseViewer(raw)
	if err != nil {
		return err
	}
	if v.buyer() {
		return apperr.New(apperr.EFORBIDDEN, "not_your_shop", "viewer", "", "a buyer does not read a shop's standing")
	}
	if _, err := tx.Shop(ctx, shopID); err != nil {
		return apperr.NotFoundAs(err, "id", "no shop %q", shopID)
	}
	if v.shop() {
		return v.ownShop(ctx, tx, shopID)
	}
	return nil
}

func (s *Server) shopScorecard(ctx context.Context, in *scorecardInput) (*scorecardOutput, error) {
	asOf := s.eng.Clock().Now()
	if in.AsOf != "" {
		t, err := time.Parse(time.RFC3339, in.AsOf)
		if err != nil {
			return nil, apperr.Invalid("as_of", "", "as_of is an RFC 3339 time such as 2023-08-01T10:00:00+08:00, got %q", in.AsOf)
		}
		asOf = t
	}
	var out Scorecard
	err := s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		if err := shopViewer(ctx, tx, in.Viewer, in.ID); err != nil {
			return err
		}
		sw, err := tx.Events(ctx, scorecard.TakeoverStream(in.ID))
		if err != nil {
			return err
		}
		out.TakeoverSwitches = nonNilEvents(sw)
		return nil
	})
	if err != nil {
		return nil, err
	}
	c, err := s.eng.Scorecard(ctx, in.ID, asOf)
	if err != nil {
		return nil, err
	}
	out.Card = *c
	return &scorecardOutput{Body: out}, nil
}

func nonNilEvents(evs []task.Event) []task.Event {
	if evs == nil {
		return []task.Event{}
	}
	return evs
}

type pointsInput struct {
	ID     string `path:"id" doc:"The shop id."`
	Viewer string `query:"viewer" doc:"Read as role:id; a shop account reads only its own shop; buyers may not. Default: agent view."`
}

// PointsLedger is a shop's violation points ledger (违规扣分).
type PointsLedger struct {
	ShopID string `json:"shop_id"`
	// Entries oldest first; a reversal is an entry of its own (ReversalOf).
	Entries []judgment.PointsEntry `json:"entries"`
	// General and Serious are the standing points (charges not reversed).
	General int `json:"general"`
	Serious int `json:"serious"`
}

type pointsOutput struct{ Body PointsLedger }

func (s *Server) shopPoints(ctx context.Context, in *pointsInput) (*pointsOutput, error) {
	out := PointsLedger{ShopID: in.ID}
	err := s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		if err := shopViewer(ctx, tx, in.Viewer, in.ID); err != nil {
			return err
		}
		es, err := tx.Points(ctx, in.ID, time.Time{})
		if err != nil {
			return err
		}
		out.Entries = es
		if out.Entries == nil {
			out.Entries = []judgment.PointsEntry{}
		}
		out.General, out.Serious = judgment.Totals(es, time.Time{}, time.Unix(1<<62, 0))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pointsOutput{Body: out}, nil
}

type complaintChangeInput struct {
	ID             string `path:"id" doc:"The complaint id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id, when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor  *ActorBody `json:"actor,omitempty" doc:"Withdraw: the buyer of the order. Overturn: an agent."`
		Reason string     `json:"reason,omitempty" maxLength:"4000" doc:"Why (required to overturn)."`
	}
}

func (s *Server) withdrawComplaint(ctx context.Context, in *complaintChangeInput) (*complaintOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	c, err := s.eng.WithdrawComplaint(ctx, a, in.ID, in.Body.Reason)
	if err != nil {
		return nil, err
	}
	return &complaintOutput{Body: c}, nil
}

func (s *Server) overturnComplaint(ctx context.Context, in *complaintChangeInput) (*complaintOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	c, err := s.eng.OverturnComplaint(ctx, a, in.ID, in.Body.Reason)
	if err != nil {
		return nil, err
	}
	return &complaintOutput{Body: c}, nil
}

type overturnJudgmentInput struct {
	ID             string `path:"id" doc:"The task id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (an agent), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor  *ActorBody `json:"actor,omitempty" doc:"An agent."`
		Reason string     `json:"reason" required:"true" minLength:"1" maxLength:"4000" doc:"Why the judgment is overturned."`
	}
}

func (s *Server) overturnJudgment(ctx context.Context, in *overturnJudgmentInput) (*taskOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	t, err := s.eng.OverturnJudgment(ctx, a, in.ID, in.Body.Reason)
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: t}, nil
}
