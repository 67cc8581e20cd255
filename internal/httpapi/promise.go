package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"aftersale/internal/apperr"
	"aftersale/internal/engine"
	"aftersale/internal/judgment"
	"aftersale/internal/store"
)

// routesPromise registers the service-promise endpoints (保障服务,
// R-PRM-1..6): buyers' claims, their judgment by agents, and a shop's
// compensation ledger with its deposit. Deposit top-ups are facts (type
// deposit, POST /v1/facts).
func (s *Server) routesPromise() {
	api := s.api
	fc := op("file-claim", http.MethodPost, "/v1/orders/{id}/claims", "The buyer files a claim under a promise on the order, inside its window (R-PRM-2..6)", platformOnly, "promises")
	fc.DefaultStatus = http.StatusCreated
	huma.Register(api, fc, s.fileClaim)
	huma.Register(api, op("judge-claim", http.MethodPost, "/v1/claims/{id}/judge", "An agent upholds or rejects a claim; upheld writes compensation, from the deposit first where the rule says so (R-PRM-5, R-PRM-6)", platformOnly, "promises"), s.judgeClaim)
	huma.Register(api, op("claim-remedy", http.MethodPost, "/v1/claims/{id}/remedy", "The shop chooses an upheld damage claim's remedy, resend or compensation, by its deadline (R-PRM-4)", platformOnly, "promises"), s.claimRemedy)
	huma.Register(api, op("ship-resend", http.MethodPost, "/v1/claims/{id}/resend", "The shop ships the resend it chose for an upheld damage claim, by its deadline (R-PRM-4)", platformOnly, "promises"), s.shipResend)
	huma.Register(api, op("get-claim", http.MethodGet, "/v1/claims/{id}", "A claim", anyKey, "promises"), s.getClaim)
	huma.Register(api, op("shop-compensation", http.MethodGet, "/v1/shops/{id}/compensation", "A shop's compensation ledger and deposit balance (R-PRM-1..6)", anyKey, "promises"), s.shopCompensation)
}

type fileClaimInput struct {
	ID             string `path:"id" doc:"The order id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (e.g. buyer:b1), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor       *ActorBody `json:"actor,omitempty" doc:"The buyer of the order."`
		Kind        string     `json:"kind" required:"true" doc:"The promise claimed under: quality (R-PRM-2), return (R-PRM-3), damage_resend (R-PRM-4), designated_courier (R-PRM-5), arrival (R-PRM-6)."`
		Description string     `json:"description" required:"true" maxLength:"4000" doc:"What went wrong."`
		AskedFen    int64      `json:"asked_fen,omitempty" doc:"The compensation asked for, in fen."`
		PostageFen  int64      `json:"postage_fen,omitempty" doc:"Return claims only: the return postage, in fen; charged to the shop when upheld if the promise's postage_bearer is shop (R-PRM-3)."`
	}
}

type claimOutput struct{ Body *judgment.Claim }

func (s *Server) fileClaim(ctx context.Context, in *fileClaimInput) (*claimOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	c, err := s.eng.FileClaim(ctx, a, in.ID, engine.ClaimInput{Kind: in.Body.Kind, Description: in.Body.Description, AskedFen: in.Body.AskedFen, PostageFen: in.Body.PostageFen})
	if err != nil {
		return nil, err
	}
	return &claimOutput{Body: c}, nil
}

type judgeClaimInput struct {
	ID             string `path:"id" doc:"The claim id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (e.g. agent:a1), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor     *ActorBody `json:"actor,omitempty" doc:"An agent."`
		Upheld    bool       `json:"upheld" required:"true" doc:"true: the claim stands (维权成立) and compensation is written; false: rejected."`
		AmountFen *int64     `json:"amount_fen,omitempty" doc:"Upheld: the compensation awarded, in fen (default: the amount asked)."`
		Reason    string     `json:"reason,omitempty" maxLength:"4000"`
	}
}

func (s *Server) judgeClaim(ctx context.Context, in *judgeClaimInput) (*claimOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	c, err := s.eng.JudgeClaim(ctx, a, in.ID, engine.ClaimJudgment{Upheld: in.Body.Upheld, AmountFen: in.Body.AmountFen, Reason: in.Body.Reason})
	if err != nil {
		return nil, err
	}
	return &claimOutput{Body: c}, nil
}

type claimRemedyInput struct {
	ID             string `path:"id" doc:"The claim id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (e.g. shop_main:tb_main), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor  *ActorBody `json:"actor,omitempty" doc:"The claim's shop: its main account or a sub-account with the platform-task permission."`
		Remedy string     `json:"remedy" required:"true" enum:"resend,compensation" doc:"resend (补寄: ship again within promises.damage_remedy.resend_within) or compensation (the amount awarded, paid now)."`
	}
}

func (s *Server) claimRemedy(ctx context.Context, in *claimRemedyInput) (*claimOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	c, err := s.eng.ChooseRemedy(ctx, a, in.ID, in.Body.Remedy)
	if err != nil {
		return nil, err
	}
	return &claimOutput{Body: c}, nil
}

type shipResendInput struct {
	ID             string `path:"id" doc:"The claim id."`
	Actor          string `header:"X-Actor" doc:"Who acts, as role:id (e.g. shop_main:tb_main), when the body has no actor."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Apply at most once; a repeat returns the stored response."`
	Body           struct {
		Actor      *ActorBody `json:"actor,omitempty" doc:"The claim's shop."`
		TrackingNo string     `json:"tracking_no" required:"true" maxLength:"256" doc:"The resend's tracking number."`
	}
}

func (s *Server) shipResend(ctx context.Context, in *shipResendInput) (*claimOutput, error) {
	a, err := actorOf(in.Body.Actor, in.Actor)
	if err != nil {
		return nil, err
	}
	c, err := s.eng.ShipResend(ctx, a, in.ID, in.Body.TrackingNo)
	if err != nil {
		return nil, err
	}
	return &claimOutput{Body: c}, nil
}

type getClaimInput struct {
	ID     string `path:"id" doc:"The claim id."`
	Viewer string `query:"viewer" doc:"Read as role:id. A buyer reads only their claims, a shop account only its shop's. Default: agent view."`
}

func (s *Server) getClaim(ctx context.Context, in *getClaimInput) (*claimOutput, error) {
	v, err := parseViewer(in.Viewer)
	if err != nil {
		return nil, err
	}
	var c *judgment.Claim
	err = s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		var err error
		if c, err = tx.Claim(ctx, in.ID); err != nil {
			return apperr.NotFoundAs(err, "id", "no claim %q", in.ID)
		}
		switch {
		case v.buyer() && c.BuyerID != v.ID:
			return apperr.New(apperr.EFORBIDDEN, "not_your_order", "viewer", "", "buyer %s did not file claim %s", v.ID, c.ID)
		case v.shop():
			return v.ownShop(ctx, tx, c.ShopID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &claimOutput{Body: c}, nil
}

type compensationInput struct {
	ID     string `path:"id" doc:"The shop id."`
	Viewer string `query:"viewer" doc:"Read as role:id (shop_main:acc, shop_sub:acc, agent:a1). A shop account reads only its own shop's ledger; buyers may not. Default: agent view."`
}

// Compensation is a shop's compensation ledger (赔付) and deposit (保证金).
type Compensation struct {
	ShopID string `json:"shop_id"`
	// DepositFen is the deposit's balance now, in fen (never below 0).
	DepositFen int64 `json:"deposit_fen"`
	// Entries is the ledger, oldest first: each cites its rule, order and
	// claim; a reversal is an entry of its own with negated amounts.
	Entries []judgment.CompensationEntry `json:"entries"`
	// TotalFen is the sum of the entries: what the shop's buyers were paid in all.
	TotalFen int64 `json:"total_fen"`
	// FromDepositFen and ByShopFen split TotalFen by who paid it.
	FromDepositFen int64 `json:"from_deposit_fen"`
	ByShopFen      int64 `json:"by_shop_fen"`
}

type compensationOutput struct{ Body Compensation }

func (s *Server) shopCompensation(ctx context.Context, in *compensationInput) (*compensationOutput, error) {
	v, err := parseViewer(in.Viewer)
	if err != nil {
		return nil, err
	}
	out := Compensation{ShopID: in.ID, Entries: []judgment.CompensationEntry{}}
	err = s.eng.Store().View(ctx, func(tx store.ReadTx) error {
		if v.buyer() {
			return apperr.New(apperr.EFORBIDDEN, "viewer.scope", "viewer", "", "a shop's compensation ledger is the shop's and the platform's")
		}
		if v.shop() {
			if err := v.ownShop(ctx, tx, in.ID); err != nil {
				return err
			}
		}
		if _, err := tx.Shop(ctx, in.ID); err != nil {
			return apperr.NotFoundAs(err, "id", "no shop %q", in.ID)
		}
		es, err := tx.Compensation(ctx, in.ID)
		if err != nil {
			return err
		}
		if es != nil {
			out.Entries = es
		}
		for _, e := range es {
			out.TotalFen += e.AmountFen
			out.FromDepositFen += e.FromDepositFen
			out.ByShopFen += e.ByShopFen
		}
		out.DepositFen, err = tx.Deposit(ctx, in.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &compensationOutput{Body: out}, nil
}

// ownShop refuses a shop viewer reading another shop's data.
func (v viewer) ownShop(ctx context.Context, tx store.ReadTx, shopID string) error {
	own, err := v.shopOf(ctx, tx)
	if err != nil {
		return err
	}
	if own != shopID {
		return apperr.New(apperr.EFORBIDDEN, "not_your_shop", "viewer", "", "account %s does not belong to shop %s", v.ID, shopID)
	}
	return nil
}
