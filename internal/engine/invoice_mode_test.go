package engine_test

import (
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/task"
	"aftersale/internal/testkit"
)

// R-INV-6: the shop's invoice mode (tax-office proxy for individual shops,
// upload or automatic issuing for enterprises) is recorded on the shop, and
// only the issued event matters to the task: each mode's invoice_issued fact
// completes the urge_invoice task the same way (R-INV-5). An unknown mode is
// refused naming the field and rule, and changes nothing.
func TestInvoice_R_INV_6_ModeDoesNotChangeTheTask(t *testing.T) {
	start := bj(t, "2023-08-01T10:00:00")
	env := newEnv(t, start)
	for _, mode := range []commerce.InvoiceMode{commerce.InvoiceTaxOfficeProxy, commerce.InvoiceUpload, commerce.InvoiceAutomatic} {
		shopID := "s_" + string(mode)
		f := testkit.ShopFact(shopID, commerce.Tmall)
		f.Shop.InvoiceMode = mode
		env.MustIngest(f)
		if got := readShop(env, shopID).InvoiceMode; got != mode {
			t.Fatalf("shop %s invoice mode %q, want %q", shopID, got, mode)
		}
		oid := "o_" + string(mode)
		addOrder(env, shopID, oid)
		env.MustIngest(invoiceRequestFact("req_"+oid, oid, env.Clock.Now()))
		tk, err := chase(env, oid)
		if err != nil {
			t.Fatal(err)
		}
		env.MustIngest(invoiceIssuedFact("iss_"+oid, oid, env.Clock.Now()))
		got := env.Task(tk.ID)
		if got.State != task.Completed || got.Outcome != "invoice_issued" {
			t.Fatalf("%s: task %s %s, want completed/invoice_issued", mode, got.State, got.Outcome)
		}
	}

	bad := testkit.ShopFact("s_bad", commerce.Tmall)
	bad.Shop.InvoiceMode = "fax"
	res := env.Ingest(bad)
	if res[0].Status != engine.FactRefused || res[0].Error.Field != "shop.invoice_mode" || res[0].Error.Rule != "R-INV-6" || res[0].Error.Code != apperr.EINVALID {
		t.Fatalf("unknown invoice mode: %+v", res[0])
	}
	if res := env.Ingest(testkit.ShopFact("s_bad", commerce.Tmall)); res[0].Status != engine.FactAccepted {
		t.Fatalf("the refused fact's id was used up: %+v", res[0])
	}
}
