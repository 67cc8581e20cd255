package engine_test

import (
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/engine"
	"aftersale/internal/testkit"
)

// R-INV-6 (seed 000 §二): an individual shop (个人店铺) issues by the
// platform's tax-office proxy; a company (企业店铺) uploads or issues
// automatically. A shop fact stating its kind may use only its kind's modes
// (policy invoice.modes_by_shop_kind): an individual shop asking for a
// company-only mode is refused naming shop.invoice_mode and the rule, and
// so is a company asking for the proxy; without a mode the kind's first is
// set. A shop stating no kind keeps any mode (older clients), upload by
// default; an unknown kind is refused.
func TestShopKindInvoiceModes_R_INV_6(t *testing.T) {
	env := newEnv(t, bj(t, "2023-08-01T10:00:00"))
	shop := func(id, kind string, mode commerce.InvoiceMode) commerce.Fact {
		f := testkit.ShopFact(id, commerce.Taobao)
		f.Shop.Kind, f.Shop.InvoiceMode = kind, mode
		return f
	}
	for _, c := range []struct {
		kind string
		mode commerce.InvoiceMode
		want commerce.InvoiceMode // "" = refused
	}{
		{"individual", commerce.InvoiceTaxOfficeProxy, commerce.InvoiceTaxOfficeProxy},
		{"individual", commerce.InvoiceUpload, ""},
		{"individual", commerce.InvoiceAutomatic, ""},
		{"individual", "", commerce.InvoiceTaxOfficeProxy},
		{"company", commerce.InvoiceUpload, commerce.InvoiceUpload},
		{"company", commerce.InvoiceAutomatic, commerce.InvoiceAutomatic},
		{"company", commerce.InvoiceTaxOfficeProxy, ""},
		{"company", "", commerce.InvoiceUpload},
		{"", commerce.InvoiceTaxOfficeProxy, commerce.InvoiceTaxOfficeProxy},
		{"", "", commerce.InvoiceUpload},
	} {
		id := "s_" + c.kind + "_" + string(c.mode)
		res := env.Ingest(shop(id, c.kind, c.mode))
		if c.want == "" {
			if res[0].Status != engine.FactRefused || res[0].Error.Code != apperr.EINVALID || res[0].Error.Field != "shop.invoice_mode" || res[0].Error.Rule != "R-INV-6" {
				t.Errorf("%s shop with %q: %+v, want refused on shop.invoice_mode citing R-INV-6", c.kind, c.mode, res[0])
			}
			continue
		}
		if res[0].Status != engine.FactAccepted {
			t.Errorf("%s shop with %q: %+v", c.kind, c.mode, res[0])
			continue
		}
		if got := readShop(env, id); got.InvoiceMode != c.want || got.Kind != c.kind {
			t.Errorf("%s shop with %q: stored %q/%q, want %q", c.kind, c.mode, got.Kind, got.InvoiceMode, c.want)
		}
	}
	res := env.Ingest(shop("s_odd", "partnership", commerce.InvoiceUpload))
	if res[0].Status != engine.FactRefused || res[0].Error.Field != "shop.kind" || res[0].Error.Rule != "R-INV-6" {
		t.Errorf("unknown kind: %+v", res[0])
	}
}
