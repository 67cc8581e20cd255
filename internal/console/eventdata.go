package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// field is one labelled value of an event's data, as the timeline shows it.
type field struct{ K, V string }

// skipData are keys the timeline line already shows (the action, its time
// and actor).
var skipData = map[string]bool{"kind": true, "at": true, "by": true}

// dataOrder puts what a reader looks for first; other keys follow by name.
var dataOrder = []string{"text", "reason", "outcome", "judgment", "liable", "forged", "remedy", "basis", "status", "points", "amount_fen",
	"refund_fen", "asked_fen", "evidence", "evidence_required", "continue_refusing", "due_at", "deadline", "sides"}

// eventFields turns an event's data (a JSON object) into labelled values in
// the viewer's language: amounts in fen as yuan, times in the business time
// zone, yes/no for flags, lists joined; empty values are left out. Data
// that is not an object is shown as it is (cut at 400 characters).
func eventFields(data []byte, l tr) []field {
	if len(data) == 0 {
		return nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return []field{{K: "", V: cut(string(data))}}
	}
	return fieldsOf(m, l)
}

// fieldsOf labels the values of a decoded object, in dataOrder.
func fieldsOf(m map[string]any, l tr) []field {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !skipData[k] {
			keys = append(keys, k)
		}
	}
	rank := func(k string) int {
		if i := slices.Index(dataOrder, k); i >= 0 {
			return i
		}
		return len(dataOrder)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	var out []field
	for _, k := range keys {
		if v := dataValue(k, m[k], l); v != "" {
			out = append(out, field{K: dataLabel(k, l), V: v})
		}
	}
	return out
}

// dataLabel names a data key in the viewer's language (the key itself when
// the catalogue has no name for it).
func dataLabel(k string, l tr) string {
	if _, ok := messages["data."+k]; ok {
		return l.T("data." + k)
	}
	return k
}

// dataValue shows one value ("" for nothing to show).
func dataValue(k string, v any, l tr) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return l.T("yes")
		}
		return l.T("no")
	case json.Number:
		if strings.HasSuffix(k, "_fen") {
			if n, err := x.Int64(); err == nil {
				return l.Yuan(n)
			}
		}
		return x.String()
	case string:
		if x == "" {
			return ""
		}
		if strings.HasSuffix(k, "_at") || k == "ship_by" || k == "first_deadline" {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return l.Time(t)
			}
		}
		if _, ok := messages["val."+x]; ok {
			return l.T("val." + x)
		}
		return cut(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s := dataValue(k, e, l); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		var parts []string
		for _, f := range fieldsOf(x, l) {
			parts = append(parts, f.K+": "+f.V)
		}
		return strings.Join(parts, " · ")
	}
	return cut(fmt.Sprint(v))
}

// cut shortens a long text for the timeline.
func cut(s string) string {
	if r := []rune(s); len(r) > 400 {
		return string(r[:400]) + "…"
	}
	return s
}
