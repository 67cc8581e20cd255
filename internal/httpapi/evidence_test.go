package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

var png = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"

func (e *apiEnv) refundTask(typ, orderID, reason string) taskJSON {
	e.t.Helper()
	e.pastOrder("tb", orderID)
	var tk taskJSON
	e.ok(e.post("/v1/tasks", map[string]any{"type": typ, "order_id": orderID, "actor": actor("buyer", buyerOf(orderID)),
		"refund": map[string]string{"reason": reason}}), http.StatusCreated, &tk)
	return tk
}

func (e *apiEnv) upload(taskID, as, data string) resp {
	e.t.Helper()
	return e.post("/v1/tasks/"+taskID+"/attachments?name=proof.png", data, "Content-Type", "application/octet-stream", "X-Actor", as)
}

type evidenceListJSON struct {
	Items []task.EvidenceItem `json:"items"`
}

// R-EVD-1, R-EVD-2, R-EVD-3 over HTTP: a refusal without the required
// evidence answers 409 evidence.required with the example evidence in the
// negotiated language (and both in data); continue_refusing goes through and
// the platform opens the remedy; an unknown reason is 422 naming reason.
func TestEvidenceAPI_R_EVD_1_R_EVD_2_Refusal(t *testing.T) {
	e := newAPI(t, bj(t, "2023-03-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	e.pastOrder("tb", "o0")
	r := e.post("/v1/tasks", map[string]any{"type": "return_refund", "order_id": "o0", "actor": actor("buyer", buyerOf("o0")),
		"refund": map[string]string{"reason": "too_small"}})
	e.wantProblem(r, http.StatusUnprocessableEntity, "invalid", "R-EVD-5", "reason")

	tk := e.refundTask("return_refund", "o1", "not_received")
	refuse := map[string]any{"action": "refuse", "actor": actor("shop_main", "tb_main"), "text": "delivered"}
	for _, lang := range []string{"en", "zh-CN"} {
		r = e.action(tk.ID, refuse, "Accept-Language", lang)
		e.wantProblem(r, http.StatusConflict, "evidence.required", "R-EVD-1", "evidence")
		var p struct {
			Data struct {
				Examples []string `json:"example_evidence"`
				Both     []struct {
					ZH string `json:"zh-CN"`
					EN string `json:"en"`
				} `json:"examples"`
				Options []string `json:"options"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &p); err != nil || len(p.Data.Examples) == 0 || len(p.Data.Both) != len(p.Data.Examples) {
			t.Fatalf("%s: problem data %s", lang, r.Body)
		}
		want := p.Data.Both[0].ZH
		if lang == "en" {
			want = p.Data.Both[0].EN
		}
		if p.Data.Examples[0] != want || len(p.Data.Options) != 2 {
			t.Fatalf("%s: example %q, want %q", lang, p.Data.Examples[0], want)
		}
	}
	refuse["continue_refusing"] = true
	var done taskJSON
	e.ok(e.action(tk.ID, refuse), http.StatusOK, &done)
	if done.State != "completed" || done.Outcome != "return_refund" {
		t.Fatalf("after continue_refusing: %+v", done)
	}
}

// R-EVD-1, R-EVD-4, R-EVD-3, R-MSG-2 over HTTP: uploads (sniffed), a
// refusal with shop_agent evidence, the buyer's public evidence, listing
// and fetching filtered by viewer (a buyer never gets the shop's
// shop_agent item nor its file, in the list, the file or the task history),
// a second-round request and an invalid mark that ends the task.
func TestEvidenceAPI_R_MSG_2_VisibilityAndAgentActions(t *testing.T) {
	e := newAPI(t, bj(t, "2023-03-01T10:00:00"), false)
	e.shop("tb", commerce.Taobao)
	tk := e.refundTask("return_refund", "o1", "damaged_in_transit")
	buyerV := "buyer:" + buyerOf("o1")

	e.wantProblem(e.upload(tk.ID, "shop_main:tb_main", "plain text, not an image"), http.StatusUnprocessableEntity, "evidence.type", "", "file")
	var shopAtt, buyerAtt task.Attachment
	e.ok(e.upload(tk.ID, "shop_main:tb_main", png), http.StatusCreated, &shopAtt)
	e.ok(e.upload(tk.ID, buyerV, png), http.StatusCreated, &buyerAtt)
	if shopAtt.ContentType != "image/png" || shopAtt.SHA256 != buyerAtt.SHA256 || shopAtt.ID == buyerAtt.ID {
		t.Fatalf("attachments %+v %+v", shopAtt, buyerAtt)
	}
	// before it belongs to an item, only the uploading side gets the file
	if r := e.get("/v1/attachments/" + shopAtt.ID + "?viewer=" + buyerV); r.Status != http.StatusNotFound {
		t.Fatalf("buyer fetched the shop's unattached upload: %d", r.Status)
	}

	var tj taskJSON
	e.ok(e.action(tk.ID, map[string]any{"action": "refuse", "actor": actor("shop_main", "tb_main"),
		"evidence": map[string]any{"description": "packing photo", "attachments": []string{shopAtt.ID}, "visibility": "shop_agent"}}), http.StatusOK, &tj)
	if tj.State != "platform_intervening" {
		t.Fatalf("refusal with evidence: %+v", tj)
	}
	e.ok(e.post("/v1/tasks/"+tk.ID+"/evidence", map[string]any{"actor": actor("buyer", buyerOf("o1")),
		"evidence": map[string]any{"description": "box crushed on arrival", "attachments": []string{buyerAtt.ID}}}), http.StatusOK, &tj)

	lists := map[string]int{buyerV: 1, "shop_main:tb_main": 2, "agent:x1": 2}
	var shopItem string
	for v, n := range lists {
		var l evidenceListJSON
		e.ok(e.get("/v1/tasks/"+tk.ID+"/evidence?viewer="+v), http.StatusOK, &l)
		if len(l.Items) != n {
			t.Fatalf("%s sees %d items, want %d", v, len(l.Items), n)
		}
		for _, it := range l.Items {
			if v == buyerV && it.Visibility != task.Public {
				t.Fatalf("buyer sees a %s item", it.Visibility)
			}
			if it.Side == task.SideShop {
				shopItem = it.ID
			}
		}
	}
	if r := e.get("/v1/attachments/" + shopAtt.ID + "?viewer=" + buyerV); r.Status != http.StatusNotFound {
		t.Fatalf("buyer fetched the shop_agent file: %d", r.Status)
	}
	for _, v := range []string{"shop_main:tb_main", "agent:x1"} {
		r := e.get("/v1/attachments/" + shopAtt.ID + "?viewer=" + v)
		if r.Status != http.StatusOK || string(r.Body) != png || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("X-Content-SHA256") != shopAtt.SHA256 {
			t.Fatalf("%s fetch: %d %q %v", v, r.Status, r.Header.Get("Content-Type"), r.Header)
		}
	}
	if r := e.get("/v1/attachments/" + buyerAtt.ID + "?viewer=" + buyerV); r.Status != http.StatusOK {
		t.Fatalf("buyer cannot fetch their own public file: %d", r.Status)
	}
	var detail struct {
		Events []task.Event `json:"events"`
	}
	e.ok(e.get("/v1/tasks/"+tk.ID+"?viewer="+buyerV), http.StatusOK, &detail)
	for _, ev := range detail.Events {
		if ev.Visibility != task.Public || strings.Contains(string(ev.Data), shopAtt.ID) {
			t.Fatalf("buyer's history shows %s %s %s", ev.Action, ev.Visibility, ev.Data)
		}
	}

	e.ok(e.post("/v1/tasks/"+tk.ID+"/evidence/requests", map[string]any{"actor": actor("agent", "x1"),
		"request": map[string]any{"sides": []string{"shop"}, "text": "show the seal"}}), http.StatusOK, &tj)
	if tj.DueAt == nil || !tj.DueAt.Equal(e.clock.Now().Add(72*time.Hour)) {
		t.Fatalf("second round due %v", tj.DueAt)
	}
	e.ok(e.post("/v1/tasks/"+tk.ID+"/evidence/"+shopItem+"/mark", map[string]any{"actor": actor("agent", "x1"), "valid": false,
		"note": "photo of another parcel"}), http.StatusOK, &tj)
	if tj.State != "completed" || tj.Outcome != "return_refund" {
		t.Fatalf("after the invalid mark: %+v", tj)
	}
}
