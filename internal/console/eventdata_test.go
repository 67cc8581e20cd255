package console

import (
	"strings"
	"testing"
)

// The timeline shows an event's data as labelled values in the viewer's
// language: the text first, amounts in fen as yuan, times in Asia/Shanghai,
// flags as yes/no, nested judgments inline, known values named; what the
// line already says (kind, at, by) and empty values are left out; data
// that is not an object is shown as it is.
func TestEventFields(t *testing.T) {
	data := []byte(`{"kind":"refuse","at":"2023-03-01T03:00:00Z","by":{"role":"shop_main","id":"tb_main"},
		"text":"packed with foam","evidence_required":true,"continue_refusing":false,"evidence":["evd_1","evd_2"],
		"due_at":"2023-03-04T05:30:00Z","refund_fen":5900,"judgment":{"liable":true,"forged":"general"},"outcome":"seller_liable",
		"reason":"","custom_key":7}`)
	show := func(fs []field) string {
		var b strings.Builder
		for _, f := range fs {
			b.WriteString(f.K + "=" + f.V + "\n")
		}
		return b.String()
	}
	zh := show(eventFields(data, tr{"zh-CN"}))
	want := "内容=packed with foam\n结果=卖家责任\n判定=卖家责任: 是 · 伪造凭证: 一般\n退款金额=¥59.00\n凭证=evd_1, evd_2\n需要凭证=是\n坚持拒绝=否\n截止时间=2023-03-04 13:30\ncustom_key=7\n"
	if zh != want {
		t.Errorf("zh-CN:\n%s\nwant:\n%s", zh, want)
	}
	en := show(eventFields(data, tr{"en"}))
	if !strings.HasPrefix(en, "Text=packed with foam\nOutcome=seller liable\nJudgment=Seller liable: yes · Forged evidence: general\nRefund=¥59.00\n") {
		t.Errorf("en:\n%s", en)
	}
	if got := eventFields([]byte(`"just a string"`), tr{"zh-CN"}); len(got) != 1 || got[0].V != `"just a string"` {
		t.Errorf("not an object: %+v", got)
	}
	if got := eventFields(nil, tr{"zh-CN"}); got != nil {
		t.Errorf("no data: %+v", got)
	}
	long := `{"text":"` + strings.Repeat("长", 500) + `"}`
	if got := eventFields([]byte(long), tr{"zh-CN"}); len([]rune(got[0].V)) != 401 || !strings.HasSuffix(got[0].V, "…") {
		t.Errorf("a long text is not cut at 400 characters: %d", len([]rune(got[0].V)))
	}
}
