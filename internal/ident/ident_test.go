package ident_test

import (
	"strings"
	"testing"

	"aftersale/internal/apperr"
	"aftersale/internal/ident"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{"", "o1", "tsk_01J000000000", "订单-1", strings.Repeat("a", ident.MaxLen), strings.Repeat("单", ident.MaxLen)} {
		if err := ident.Check("id", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for name, bad := range map[string]string{
		"NUL":          "a\x00b",
		"newline":      "a\nb",
		"DEL":          "a\x7fb",
		"C1":           "a\u0085b",
		"129 chars":    strings.Repeat("a", ident.MaxLen+1),
		"1 MB":         strings.Repeat("a", 1<<20),
		"invalid UTF8": "a\xffb",
		"cut rune":     "单"[:2],
		"U+FFFD":       "a\ufffdb",
		"RLO":          "a\u202eb",
		"zero-width":   "a\u200bb",
		"BOM":          "\ufeffa",
		"line sep":     "a\u2028b",
	} {
		err := ident.Check("order.id", bad)
		ae, ok := apperr.As(err)
		if !ok || ae.Code != apperr.EINVALID || ae.Reason != ident.Reason || ae.Field != "order.id" {
			t.Errorf("%s: got %v, want an id.invalid refusal naming order.id", name, err)
			continue
		}
		if len(ae.Message) > 200 || strings.ContainsAny(ae.Message, "\x00\u202e\u200b") {
			t.Errorf("%s: the message repeats the id: %q", name, ae.Message)
		}
	}
}
