package engine_test

import (
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/judgment"
	"aftersale/internal/testkit"
)

// receivedClaim ingests order id of shop tb carrying p, signed for a day
// after payment, and files a claim under kind asking asked fen with postage.
func receivedClaim(t *testing.T, env *testkit.Env, id, kind string, asked, postage int64, p commerce.Promise) *judgment.Claim {
	t.Helper()
	promisedOrder(env, "tb", id, 10000, p)
	now := env.Clock.Now().Add(day)
	env.AdvanceTo(now)
	delivered(env, id, now, time.Time{}, time.Time{}, time.Time{})
	c, err := env.Engine.FileClaim(env.Ctx, buyer(buyerOf(id)), id, engine.ClaimInput{Kind: kind, Description: "not as promised", AskedFen: asked, PostageFen: postage})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// R-PRM-3: "退货和发货时产生的邮费,按照约定的承担方来承担" — the return promise
// names who bears the return postage; the claim records it (the policy's
// inferred default, the buyer, when the promise names none) and an upheld
// claim charges the shop the postage it bears, on top of the award; the
// buyer's bearing charges nothing. Postage on another kind, a negative one
// and a bearer on another promise are refused.
func TestReturnPostageBearer_R_PRM_3(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao)
	shopPays := receivedClaim(t, env, "o1", "return", 0, 1200, commerce.Promise{Kind: "return", PostageBearer: "shop"})
	buyerPays := receivedClaim(t, env, "o2", "return", 500, 1200, commerce.Promise{Kind: "return", PostageBearer: "buyer"})
	unnamed := receivedClaim(t, env, "o3", "return", 500, 1200, promise("return"))
	if shopPays.PostageBearer != "shop" || buyerPays.PostageBearer != "buyer" || unnamed.PostageBearer != "buyer" || unnamed.PostageFen != 1200 {
		t.Fatalf("bearers %q %q %q (postage %d), want shop, buyer, buyer (the default)", shopPays.PostageBearer, buyerPays.PostageBearer, unnamed.PostageBearer, unnamed.PostageFen)
	}
	// The shop bears it: upheld with nothing asked beyond the postage.
	c, err := env.Engine.JudgeClaim(env.Ctx, agent("a1"), shopPays.ID, engine.ClaimJudgment{Upheld: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.PostageEntryID == "" || c.EntryID != "" {
		t.Errorf("claim %+v: want a postage entry and no award entry", c)
	}
	// The buyer bears it: only the award.
	if _, err := env.Engine.JudgeClaim(env.Ctx, agent("a1"), buyerPays.ID, engine.ClaimJudgment{Upheld: true}); err != nil {
		t.Fatal(err)
	}
	es := ledger(env, "tb")
	if len(es) != 2 || es[0].OrderID != "o1" || es[0].AmountFen != 1200 || es[0].ByShopFen != 1200 || es[0].Rule != "R-PRM-3" ||
		es[1].OrderID != "o2" || es[1].AmountFen != 500 {
		t.Errorf("ledger %+v, want o1's 1200 fen postage by the shop and o2's 500 fen award", es)
	}
	if d := orderEventData(env, "o1", "claim_judged"); d == nil || d["postage_bearer"] != "shop" || d["postage_charged_fen"] != float64(1200) {
		t.Errorf("o1 event %v", d)
	}
	if d := orderEventData(env, "o2", "claim_judged"); d == nil || d["postage_bearer"] != "buyer" || d["postage_charged_fen"] != float64(0) {
		t.Errorf("o2 event %v", d)
	}
	// The buyer bearing it and nothing asked: an upheld claim still needs an award.
	promisedOrder(env, "tb", "o4", 10000, commerce.Promise{Kind: "return", PostageBearer: "buyer"})
	env.AdvanceTo(env.Clock.Now().Add(day))
	delivered(env, "o4", env.Clock.Now(), time.Time{}, time.Time{}, time.Time{})
	c4, err := env.Engine.FileClaim(env.Ctx, buyer(buyerOf("o4")), "o4", engine.ClaimInput{Kind: "return", Description: "x", PostageFen: 800})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.Engine.JudgeClaim(env.Ctx, agent("a1"), c4.ID, engine.ClaimJudgment{Upheld: true})
	wantErr(t, err, apperr.EINVALID, "", "amount_fen", "R-PRM-3")

	// Refusals.
	promisedOrder(env, "tb", "o5", 10000, promise("quality"))
	env.AdvanceTo(env.Clock.Now().Add(day))
	delivered(env, "o5", env.Clock.Now(), time.Time{}, time.Time{}, time.Time{})
	_, err = env.Engine.FileClaim(env.Ctx, buyer(buyerOf("o5")), "o5", engine.ClaimInput{Kind: "quality", Description: "x", PostageFen: 800})
	wantErr(t, err, apperr.EINVALID, "", "postage_fen", "R-PRM-2")
	_, err = env.Engine.FileClaim(env.Ctx, buyer(buyerOf("o4")), "o4", engine.ClaimInput{Kind: "return", Description: "x", PostageFen: -1})
	wantErr(t, err, apperr.EINVALID, "", "postage_fen", "R-PRM-3")
	for i, p := range []commerce.Promise{{Kind: "damage_resend", PostageBearer: "shop"}, {Kind: "return", PostageBearer: "seller"}} {
		f := testkit.OrderFact("bad"+string(rune('a'+i)), "tb", "b_x", env.Clock.Now(), env.Clock.Now().Add(3*day))
		f.Order.Promises = []commerce.Promise{p}
		if e := refused(t, env.Ingest(f)); e.Field != "order.promises[0].postage_bearer" || e.Rule != "R-PRM-3" {
			t.Errorf("promise %+v: refusal %+v", p, e)
		}
	}
}

// R-PRM-4: an upheld damage claim pays nothing at once; the shop chooses a
// resend (补寄) or the compensation awarded by its deadline (inferred 48 h):
// a choice at the deadline is in time, one second later the platform has
// paid the compensation. A resend sets its own deadline (inferred 48 h):
// shipped at the deadline it pays nothing, not shipped by then the platform
// compensates one second later.
func TestDamageRemedy_R_PRM_4(t *testing.T) {
	const choose, resend = 48 * time.Hour, 48 * time.Hour
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	addShop(env, "tb", commerce.Taobao, subAcc("tb_s1", true, false), subAcc("tb_s2", false, false))
	upheld := func(id string) *judgment.Claim {
		t.Helper()
		c := receivedClaim(t, env, id, "damage_resend", 900, 0, promise("damage_resend"))
		c, err := env.Engine.JudgeClaim(env.Ctx, agent("a1"), c.ID, engine.ClaimJudgment{Upheld: true})
		if err != nil {
			t.Fatal(err)
		}
		if c.RemedyDueAt == nil || !c.RemedyDueAt.Equal(env.Clock.Now().Add(choose)) || c.EntryID != "" || c.Remedy != "" {
			t.Fatalf("upheld damage claim %+v: want a remedy due in 48 h and nothing paid", c)
		}
		return c
	}

	// 1. Chosen at the deadline: a resend, shipped at its own deadline.
	c1 := upheld("o1")
	_, err := env.Engine.ChooseRemedy(env.Ctx, sub("tb_s2"), c1.ID, judgment.RemedyResend)
	wantErr(t, err, apperr.EFORBIDDEN, "permission.platform_task", "", "R-ACC-1")
	_, err = env.Engine.ChooseRemedy(env.Ctx, sub("tb_s1"), c1.ID, "refund")
	wantErr(t, err, apperr.EINVALID, "", "remedy", "R-PRM-4")
	env.AdvanceTo(*c1.RemedyDueAt)
	c1, err = env.Engine.ChooseRemedy(env.Ctx, sub("tb_s1"), c1.ID, judgment.RemedyResend)
	if err != nil {
		t.Fatal(err)
	}
	if c1.ResendDueAt == nil || !c1.ResendDueAt.Equal(env.Clock.Now().Add(resend)) || c1.RemedyBy != judgment.RemedyByShop {
		t.Fatalf("claim %+v: want a resend due in 48 h, chosen by the shop", c1)
	}
	_, err = env.Engine.ChooseRemedy(env.Ctx, sub("tb_s1"), c1.ID, judgment.RemedyCompensation)
	wantErr(t, err, apperr.ECONFLICT, "claim.remedy_chosen", "", "R-PRM-4")
	env.AdvanceTo(*c1.ResendDueAt)
	if c1, err = env.Engine.ShipResend(env.Ctx, shopMain("tb_main"), c1.ID, "SF123"); err != nil {
		t.Fatal(err)
	}
	env.Advance(time.Hour)
	if es := ledger(env, "tb"); len(es) != 0 {
		t.Errorf("a resend shipped at its deadline was compensated: %+v", es)
	}
	_, err = env.Engine.ShipResend(env.Ctx, shopMain("tb_main"), c1.ID, "SF124")
	wantErr(t, err, apperr.ECONFLICT, "claim.resend_shipped", "", "R-PRM-4")

	// 2. No choice by the deadline: compensation 1 s after it; a late choice is refused.
	c2 := upheld("o2")
	env.AdvanceTo(*c2.RemedyDueAt)
	if es := ledger(env, "tb"); len(es) != 0 {
		t.Fatalf("compensated at the deadline itself: %+v", es)
	}
	env.AdvanceTo(c2.RemedyDueAt.Add(time.Second))
	es := ledger(env, "tb")
	if len(es) != 1 || es[0].OrderID != "o2" || es[0].AmountFen != 900 || es[0].Rule != "R-PRM-4" || es[0].ClaimID != c2.ID {
		t.Fatalf("ledger %+v, want o2's 900 fen", es)
	}
	_, err = env.Engine.ChooseRemedy(env.Ctx, sub("tb_s1"), c2.ID, judgment.RemedyResend)
	wantErr(t, err, apperr.ECONFLICT, "claim.remedy_chosen", "", "R-PRM-4")
	if d := orderEventData(env, "o2", "claim_remedy_set"); d == nil || d["remedy_by"] != "platform" || d["remedy"] != "compensation" {
		t.Errorf("event %v", d)
	}

	// 3. A resend not shipped in time: compensation 1 s after its deadline; shipping then is refused.
	c3 := upheld("o3")
	c3, err = env.Engine.ChooseRemedy(env.Ctx, shopMain("tb_main"), c3.ID, judgment.RemedyResend)
	if err != nil {
		t.Fatal(err)
	}
	env.AdvanceTo(c3.ResendDueAt.Add(time.Second))
	if es := ledger(env, "tb"); len(es) != 2 || es[1].OrderID != "o3" || es[1].AmountFen != 900 {
		t.Fatalf("ledger %+v, want o3's 900 fen", es)
	}
	_, err = env.Engine.ShipResend(env.Ctx, shopMain("tb_main"), c3.ID, "SF125")
	wantErr(t, err, apperr.ECONFLICT, "claim.no_resend", "", "R-PRM-4")

	// 4. The shop chooses compensation: paid at once.
	c4 := upheld("o4")
	if c4, err = env.Engine.ChooseRemedy(env.Ctx, shopMain("tb_main"), c4.ID, judgment.RemedyCompensation); err != nil || c4.EntryID == "" {
		t.Fatalf("%+v %v", c4, err)
	}
	if es := ledger(env, "tb"); len(es) != 3 || es[2].OrderID != "o4" {
		t.Errorf("ledger %+v", es)
	}

	// Refusals: another shop, a return claim, an open one, a damage claim upheld for nothing.
	addShop(env, "tb2", commerce.Taobao)
	_, err = env.Engine.ChooseRemedy(env.Ctx, shopMain("tb2_main"), c4.ID, judgment.RemedyResend)
	wantErr(t, err, apperr.EFORBIDDEN, "not_your_shop", "", "")
	open := receivedClaim(t, env, "o5", "damage_resend", 0, 0, promise("damage_resend"))
	_, err = env.Engine.ChooseRemedy(env.Ctx, shopMain("tb_main"), open.ID, judgment.RemedyResend)
	wantErr(t, err, apperr.ECONFLICT, "claim.not_upheld", "", "R-PRM-4")
	zero := int64(0)
	_, err = env.Engine.JudgeClaim(env.Ctx, agent("a1"), open.ID, engine.ClaimJudgment{Upheld: true, AmountFen: &zero})
	wantErr(t, err, apperr.EINVALID, "", "amount_fen", "R-PRM-4")
	ret := receivedClaim(t, env, "o6", "return", 100, 0, promise("return"))
	_, err = env.Engine.ChooseRemedy(env.Ctx, shopMain("tb_main"), ret.ID, judgment.RemedyResend)
	wantErr(t, err, apperr.ECONFLICT, "claim.no_remedy", "", "R-PRM-4")
}
