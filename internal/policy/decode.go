package policy

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"
)

// This file decodes the plain-value rule maps of Version.Rules (as read from
// YAML or JSON) into RuleSet, strictly: unknown keys, wrong types and bad
// durations or times are issues with the path of the key at fault.

var (
	durationType    = reflect.TypeFor[Duration]()
	stdDurationType = reflect.TypeFor[time.Duration]()
	timeType        = reflect.TypeFor[time.Time]()
	decimalType     = reflect.TypeFor[Decimal]()
	ruleSetType     = reflect.TypeFor[RuleSet]()
)

// decoder collects issues with paths relative to the rules map.
type decoder struct {
	issues []Issue
}

func (d *decoder) add(path, format string, args ...any) {
	d.issues = append(d.issues, Issue{Path: path, Message: fmt.Sprintf(format, args...)})
}

// rules decodes the keys present in m onto rs (a patch leaves other fields as
// they are).
func (d *decoder) rules(m map[string]any, rs *RuleSet) {
	d.structure("", m, reflect.ValueOf(rs).Elem())
}

// field is one settable struct field and its yaml key.
type field struct {
	key   string
	index int
}

// fields lists the yaml keys of a struct type, skipping yaml:"-" and, on
// RuleSet, platform (set once at the top of the file).
func fields(t reflect.Type) []field {
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "-" {
			continue
		}
		if key == "" {
			key = strings.ToLower(sf.Name)
		}
		if t == ruleSetType && key == "platform" {
			continue
		}
		fs = append(fs, field{key, i})
	}
	return fs
}

func fieldKeys(fs []field) string {
	ks := make([]string, len(fs))
	for i, f := range fs {
		ks[i] = f.key
	}
	return strings.Join(ks, ", ")
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (d *decoder) structure(path string, m map[string]any, out reflect.Value) {
	fs := fields(out.Type())
	for _, k := range sortedKeys(m) {
		kp := join(path, k)
		idx := -1
		for _, f := range fs {
			if f.key == k {
				idx = f.index
				break
			}
		}
		if idx < 0 {
			if out.Type() == ruleSetType && k == "platform" {
				d.add(kp, "unknown key: the platform is set once, at the top of the file")
			} else {
				d.add(kp, "unknown key (want one of: %s)", fieldKeys(fs))
			}
			continue
		}
		d.value(kp, m[k], out.Field(idx))
	}
}

// describe names the kind of a plain value for messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing (null)"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case int, int64, uint64, float64:
		return fmt.Sprintf("the number %v", x)
	case time.Time:
		return "a time"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	}
	return fmt.Sprintf("a %T", v)
}

func (d *decoder) value(path string, v any, out reflect.Value) {
	t := out.Type()
	switch t {
	case durationType:
		switch x := v.(type) {
		case string:
			dur, err := ParseDuration(x)
			if err != nil {
				d.add(path, "%v", err)
				return
			}
			out.SetInt(int64(dur))
		case Duration:
			out.SetInt(int64(x))
		case time.Duration:
			out.SetInt(int64(x))
		default:
			d.add(path, "want a duration such as 24h or 10d, got %s", describe(v))
		}
		return
	case timeType:
		switch x := v.(type) {
		case string:
			tm, err := parseTime(x)
			if err != nil {
				d.add(path, "%v", err)
				return
			}
			out.Set(reflect.ValueOf(tm))
		case time.Time:
			out.Set(reflect.ValueOf(x))
		default:
			d.add(path, "want a time such as 2022-12-15T00:00:00+08:00, got %s", describe(v))
		}
		return
	case decimalType:
		var (
			dec Decimal
			err error
		)
		switch x := v.(type) {
		case string:
			dec, err = ParseDecimal(x)
		case int:
			dec = Decimal{units: int64(x)}
		case int64:
			dec = Decimal{units: x}
		case uint64:
			if x > math.MaxInt64 {
				err = fmt.Errorf("number %d out of range", x)
			} else {
				dec = Decimal{units: int64(x)}
			}
		case float64:
			dec, err = decimalFromFloat(x)
		case Decimal:
			dec = x
		default:
			d.add(path, "want a number such as 5, 0.005 or \"0.5%%\", got %s", describe(v))
			return
		}
		if err != nil {
			d.add(path, "%v", err)
			return
		}
		out.Set(reflect.ValueOf(dec))
		return
	}
	if t == stdDurationType {
		// Not used by RuleSet; refuse rather than guess the unit.
		d.add(path, "unsupported field type")
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v == nil {
			out.SetZero()
			return
		}
		p := reflect.New(t.Elem())
		d.value(path, v, p.Elem())
		out.Set(p)
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			d.add(path, "want a string, got %s", describe(v))
			return
		}
		out.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.add(path, "want true or false, got %s", describe(v))
			return
		}
		out.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := integer(v)
		if !ok {
			d.add(path, "want a whole number, got %s", describe(v))
			return
		}
		if out.OverflowInt(n) {
			d.add(path, "number %d out of range", n)
			return
		}
		out.SetInt(n)
	case reflect.Slice:
		if v == nil {
			d.add(path, "want a list (write [] for none), got nothing (null)")
			return
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice {
			d.add(path, "want a list, got %s", describe(v))
			return
		}
		s := reflect.MakeSlice(t, rv.Len(), rv.Len())
		for i := 0; i < rv.Len(); i++ {
			d.value(fmt.Sprintf("%s[%d]", path, i), rv.Index(i).Interface(), s.Index(i))
		}
		out.Set(s)
	case reflect.Map:
		if v == nil {
			d.add(path, "want a mapping (write {} for none), got nothing (null)")
			return
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
			d.add(path, "want a mapping, got %s", describe(v))
			return
		}
		if out.IsNil() {
			out.Set(reflect.MakeMapWithSize(t, rv.Len()))
		}
		keys := rv.MapKeys()
		sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
		for _, k := range keys {
			e := reflect.New(t.Elem()).Elem()
			d.value(join(path, k.String()), rv.MapIndex(k).Interface(), e)
			out.SetMapIndex(reflect.ValueOf(k.String()).Convert(t.Key()), e)
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			d.add(path, "want a mapping, got %s", describe(v))
			return
		}
		d.structure(path, m, out)
	default:
		d.add(path, "unsupported field type %s", t)
	}
}

func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// missingRules lists the rule keys (as paths) a complete rule map lacks.
// Map- and pointer-typed fields (tasks.reply_deadline_by_type, the until of
// an exempt region) are optional.
func missingRules(m map[string]any) []string {
	var out []string
	missing(ruleSetType, m, "", &out)
	return out
}

func missing(t reflect.Type, m map[string]any, path string, out *[]string) {
	for _, f := range fields(t) {
		ft := t.Field(f.index).Type
		kp := join(path, f.key)
		v, ok := m[f.key]
		if !ok {
			if ft.Kind() != reflect.Map && ft.Kind() != reflect.Pointer {
				*out = append(*out, kp)
			}
			continue
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != timeType && ft != decimalType:
			if sub, ok := v.(map[string]any); ok {
				missing(ft, sub, kp, out)
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && ft.Elem() != timeType:
			if l, ok := v.([]any); ok {
				for i, e := range l {
					if sub, ok := e.(map[string]any); ok {
						missing(ft.Elem(), sub, fmt.Sprintf("%s[%d]", kp, i), out)
					}
				}
			}
		}
	}
}

// cloneMap deep-copies a rules map.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = cloneValue(e)
		}
		return l
	}
	return v
}

// merge applies src onto dst: maps merge recursively, anything else
// replaces. prov records, for every path set, the layer that set it last.
func merge(dst, src map[string]any, path string, layer int, prov map[string]int) {
	for k, v := range src {
		kp := join(path, k)
		prov[kp] = layer
		if sm, ok := v.(map[string]any); ok {
			dm, ok := dst[k].(map[string]any)
			if !ok {
				dm = map[string]any{}
				dst[k] = dm
			}
			merge(dm, sm, kp, layer, prov)
			continue
		}
		dst[k] = cloneValue(v)
	}
}

// blame returns the layer that set path (or its nearest enclosing path).
func blame(prov map[string]int, path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := prov[p]; ok {
			return l
		}
	}
	return 0
}
