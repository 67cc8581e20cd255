// Package storecodec holds the encoding both stores share, so that SQLite
// and PostgreSQL write projections and bodies identically: JSON with every
// time in UTC, events and messages without the columns stored apart.
package storecodec

import (
	"encoding/json"
	"reflect"
	"sync"
	"time"

	"aftersale/internal/commerce"
	"aftersale/internal/notify"
	"aftersale/internal/task"
)

// Blob stores nil and empty byte slices as NULL.
func Blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// EventBody is an event without Seq and Data (stored in their own columns).
func EventBody(e *task.Event) *task.Event {
	c := *e
	c.Seq, c.Data = 0, nil
	return &c
}

// MessageBody is a message without Seq and Payload.
func MessageBody(m *notify.Message) *notify.Message {
	c := *m
	c.Seq, c.Payload = 0, nil
	return &c
}

// ShopStored is a shop without its SubAccounts (accounts are stored on their own).
func ShopStored(s *commerce.Shop) *commerce.Shop {
	c := *s
	c.SubAccounts = nil
	return &c
}

// EncodeUTC encodes v as JSON with every time in it in UTC. When v already
// holds only UTC times (the usual case) it is encoded as is; otherwise a deep
// copy is normalized first, so the caller's value is never changed. The
// normalization walks the value by reflection, so fields added to the domain
// types later are covered without changes here.
func EncodeUTC[T any](v *T) ([]byte, error) {
	if allUTC(reflect.ValueOf(v).Elem()) {
		return json.Marshal(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var c T
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	setUTC(reflect.ValueOf(&c).Elem())
	return json.Marshal(&c)
}

var timeType = reflect.TypeFor[time.Time]()

// typeInfo says whether values of a type can hold a time.Time and, for a
// struct, which exported fields can.
type typeInfo struct {
	hold   bool
	fields []int
}

var typeInfos sync.Map // reflect.Type → *typeInfo

func infoOf(t reflect.Type) *typeInfo {
	if v, ok := typeInfos.Load(t); ok {
		return v.(*typeInfo)
	}
	ti := &typeInfo{hold: holdsTime(t, map[reflect.Type]bool{})}
	if ti.hold && t.Kind() == reflect.Struct && t != timeType {
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && holdsTime(f.Type, map[reflect.Type]bool{}) {
				ti.fields = append(ti.fields, i)
			}
		}
	}
	typeInfos.Store(t, ti)
	return ti
}

func holdsTime(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if visiting[t] {
		return false // a recursive type: the other path decides
	}
	visiting[t] = true
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			return true
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && holdsTime(f.Type, visiting) {
				return true
			}
		}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsTime(t.Elem(), visiting)
	case reflect.Interface:
		return true
	}
	return false
}

func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *(*time.Time)(v.Addr().UnsafePointer())
	}
	return v.Interface().(time.Time)
}

// allUTC reports whether every time reachable through exported fields of v is in UTC.
func allUTC(v reflect.Value) bool {
	ti := infoOf(v.Type())
	if !ti.hold {
		return true
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil() || allUTC(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			return timeOf(v).Location() == time.UTC
		}
		for _, i := range ti.fields {
			if !allUTC(v.Field(i)) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if !allUTC(v.Index(i)) {
				return false
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if !allUTC(it.Value()) {
				return false
			}
		}
	}
	return true
}

// setUTC converts, in place, every time reachable through exported fields of
// the settable value v to UTC.
func setUTC(v reflect.Value) {
	ti := infoOf(v.Type())
	if !ti.hold {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			setUTC(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(timeOf(v).UTC()))
			return
		}
		for _, i := range ti.fields {
			setUTC(v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			setUTC(v.Index(i))
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			setUTC(e)
			v.SetMapIndex(it.Key(), e)
		}
	case reflect.Interface:
		if !v.IsNil() {
			e := reflect.New(v.Elem().Type()).Elem()
			e.Set(v.Elem())
			setUTC(e)
			v.Set(e)
		}
	}
}
