package commerce

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"aftersale/internal/apperr"
)

// ReasonUnknownField is the problem reason of a fact with a member the
// fact format does not have.
const ReasonUnknownField = "fact.unknown_field"

// DecodeFact decodes one fact from its JSON strictly: a member the format
// does not have is refused (reason fact.unknown_field) naming its path
// (order.items[0].colour), as is a value of the wrong type or form, naming
// its field. It validates nothing else (Validate does).
func DecodeFact(raw []byte) (Fact, error) {
	var f Fact
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Fact{}, decodeError(raw, reflect.TypeFor[Fact](), err)
	}
	return f, nil
}

// decodeError restates a decoding error of raw into type t as a refusal
// naming the field at fault, found by walking raw against t.
func decodeError(raw []byte, t reflect.Type, err error) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) == nil {
		if path, unknown, msg := locate(v, t, ""); path != "" {
			if unknown {
				return apperr.New(apperr.EINVALID, ReasonUnknownField, path, "", "unknown field %s: a fact has only the members docs/api.md lists", path)
			}
			return apperr.Invalid(path, "", "%s: %s", path, msg)
		}
	}
	if path := duplicateMember(raw); path != "" {
		// The decoder reads every value of a repeated member, the walk above
		// only the last: a bad earlier one is named by the repetition.
		return apperr.Invalid(path, "", "member %s is given more than once: a fact names each member once", path)
	}
	if te, ok := err.(*json.UnmarshalTypeError); ok && te.Field != "" {
		return apperr.Invalid(te.Field, "", "%s must be a %s, not a JSON %s", te.Field, te.Type, te.Value)
	}
	return apperr.Invalid("", "", "the fact is not valid: %v", err)
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// locate finds the first member of v (decoded with UseNumber) that t has no
// field for (unknown true), or whose value does not decode into its field's
// type (msg says why). Object members are visited in sorted order, so the
// answer is the same every time; names match as encoding/json matches them
// (case-insensitively).
func locate(v any, t reflect.Type, path string) (string, bool, string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return "", false, ""
	}
	pt := reflect.PointerTo(t)
	custom := pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler)
	switch {
	case t.Kind() == reflect.Struct && !custom:
		obj, ok := v.(map[string]any)
		if !ok {
			return orRoot(path), false, "want a JSON object"
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := fieldOf(t, k)
			p := joinPath(path, k)
			if !ok {
				return p, true, ""
			}
			if q, unknown, msg := locate(obj[k], ft, p); q != "" {
				return q, unknown, msg
			}
		}
		return "", false, ""
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 && !custom:
		arr, ok := v.([]any)
		if !ok {
			return orRoot(path), false, "want a JSON array"
		}
		for i, e := range arr {
			if q, unknown, msg := locate(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); q != "" {
				return q, unknown, msg
			}
		}
		return "", false, ""
	}
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, reflect.New(t).Interface())
	}
	if err != nil {
		msg := err.Error()
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			msg = fmt.Sprintf("want a %s, not a JSON %s", te.Type, te.Value)
		}
		return orRoot(path), false, strings.TrimPrefix(msg, "json: ")
	}
	return "", false, ""
}

// duplicateMember returns the path of the first object member of raw that is
// given twice in its object (names compared as encoding/json matches them,
// case-insensitively), or "" when there is none or raw is not JSON.
func duplicateMember(raw []byte) string {
	type frame struct {
		path   string
		object bool
		seen   map[string]bool
		key    string // object: the member whose value comes next
		index  int    // array: the next element's index
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var stack []*frame
	// next returns the path of the value about to be read.
	next := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.object {
			return joinPath(f.path, f.key)
		}
		p := fmt.Sprintf("%s[%d]", f.path, f.index)
		f.index++
		return p
	}
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				expectKey = len(stack) > 0 && stack[len(stack)-1].object
				continue
			}
			f := stack[len(stack)-1]
			k, _ := tok.(string)
			f.key = k
			lk := strings.ToLower(k)
			if f.seen[lk] {
				return joinPath(f.path, k)
			}
			f.seen[lk] = true
			expectKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{path: next(), object: true, seen: map[string]bool{}})
			expectKey = true
		case json.Delim('['):
			stack = append(stack, &frame{path: next()})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			expectKey = len(stack) > 0 && stack[len(stack)-1].object
		default:
			next()
			expectKey = len(stack) > 0 && stack[len(stack)-1].object
		}
	}
}

// joinPath names member key under path as the refusals do; a member named
// "" is named `""`.
func joinPath(path, key string) string {
	if key == "" {
		key = `""`
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "fact"
	}
	return path
}

// fieldOf returns the type of t's field that JSON member name decodes into.
func fieldOf(t reflect.Type, name string) (reflect.Type, bool) {
	var fold reflect.Type
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = sf.Name
		}
		if tag == name {
			return sf.Type, true
		}
		if fold == nil && strings.EqualFold(tag, name) {
			fold = sf.Type
		}
	}
	return fold, fold != nil
}
