package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"aftersale/internal/task"
)

// shanghai is the business time zone pages show times in.
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

var funcs = template.FuncMap{
	"rfc3339": func(t any) string {
		switch x := t.(type) {
		case time.Time:
			return x.UTC().Format(time.RFC3339)
		case *time.Time:
			if x != nil {
				return x.UTC().Format(time.RFC3339)
			}
		}
		return ""
	},
	"json": func(v any) string { b, _ := json.Marshal(v); return string(b) },
	"raw":  func(s string) template.HTML { return template.HTML(s) }, // only for server-built SVG
	"add":  func(a, b int) int { return a + b },
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"isImage": func(ct string) bool { return strings.HasPrefix(ct, "image/") },
	"isPDF":   func(ct string) bool { return ct == "application/pdf" },
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"upper": strings.ToUpper,
	"typesJSON": func(l tr) string {
		m := map[task.Type]string{}
		for _, t := range task.Types {
			m[t] = l.Type(t)
		}
		b, _ := json.Marshal(m)
		return string(b)
	},
	"evOf":   func(it task.EvidenceItem, v *view, taskID string) evView { return evView{I: it, V: v, TaskID: taskID} },
	"formOf": func(a task.Action, v *view) formArgs { return formArgs{A: a, V: v} },
	"upOf":   func(id, act string, l tr) upArgs { return upArgs{ID: id, Act: act, L: l} },
	"ptr":    func(t time.Time) *time.Time { return &t },
	"dueOf":  func(l tr, d *time.Time, now time.Time) dueView { return dueView{L: l, D: d, Now: now} },
}

// dueView is what the "due" template shows: a live countdown.
type dueView struct {
	L   tr
	D   *time.Time
	Now time.Time
}

// parse builds one template set per page: the layout with the page's file.
func (c *Console) parse() {
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		c.pages[name] = t
	}
}

// tr translates for one language.
type tr struct{ lang string }

// T returns the message of key in the language (the key itself when the
// catalogue lacks it; a test keeps the catalogue complete).
func (l tr) T(key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if l.lang == "en" {
		return m[1]
	}
	return m[0]
}

// F formats the message of key with args.
func (l tr) F(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

// State names a task state.
func (l tr) State(s task.State) string { return l.T("state." + string(s)) }

// Type names a task type.
func (l tr) Type(t task.Type) string { return l.T("type." + string(t)) }

// Action names an event's action.
func (l tr) Action(a string) string {
	if _, ok := messages["act."+a]; ok {
		return l.T("act." + a)
	}
	return a
}

// Time shows a time in the business time zone.
func (l tr) Time(t any) string {
	var x time.Time
	switch v := t.(type) {
	case time.Time:
		x = v
	case *time.Time:
		if v == nil {
			return "—"
		}
		x = *v
	default:
		return ""
	}
	if x.IsZero() {
		return "—"
	}
	return x.In(shanghai).Format("2006-01-02 15:04")
}

// Yuan shows an amount in fen as yuan.
func (l tr) Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, fen/100, fen%100)
}

// Left shows the time from now to due: "3h 20m", or overdue.
func (l tr) Left(due *time.Time, now time.Time) string {
	if due == nil {
		return "—"
	}
	d := due.Sub(now)
	if d <= 0 {
		return l.F("due.overdue", dur(-d))
	}
	return dur(d)
}

// Urgency classifies a deadline: overdue, soon (under 2 h) or "".
func (l tr) Urgency(due *time.Time, now time.Time) string {
	if due == nil {
		return ""
	}
	switch d := due.Sub(now); {
	case d <= 0:
		return "overdue"
	case d < 2*time.Hour:
		return "soon"
	}
	return ""
}

func dur(d time.Duration) string {
	d = d.Round(time.Minute)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	m := (d - h*time.Hour) / time.Minute
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// evView is an evidence item with the page it is shown on.
type evView struct {
	I      task.EvidenceItem
	V      *view
	TaskID string
}

// formArgs is one action form with its page.
type formArgs struct {
	A task.Action
	V *view
}

// upArgs is an upload form for an action's evidence.
type upArgs struct {
	ID, Act string
	L       tr
}
