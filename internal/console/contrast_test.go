package console_test

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// side is one colour of a pair: the property prop of the rule whose
// selector list holds sel (the last such declaration in the file wins), or,
// with prop empty, sel itself as a value ("#fff", "var(--card)") for a
// colour the element inherits or sits on.
type side struct{ sel, prop string }

// val is a colour given by value, not by a rule.
func val(v string) side { return side{sel: v} }

// contrastPairs are the console's text colours on the backgrounds they
// are drawn on (WCAG 2.x 1.4.3, AA: 4.5:1 for text). Issue 11: primary
// buttons, active tabs, the top bar's current page and the chart legend
// were white on the brand orange #ff5000 or it on white, 3.28:1 (now
// #c2410c, 5.18:1), and the completed pill #15803d on #e7f6ec, 4.49:1.
var contrastPairs = []struct {
	name   string
	fg, bg side
}{
	{"primary button", side{"button", "color"}, side{"button", "background"}},
	{"primary link button (.btn)", side{".btn", "color"}, side{".btn", "background"}},
	{"active tab", side{".tabs a[aria-current=page]", "color"}, side{".tabs a[aria-current=page]", "background"}},
	{"tab", side{".tabs a", "color"}, side{".tabs a", "background"}},
	{"current page in the top bar", side{"header.top a", "color"}, side{"header.top a[aria-current=page]", "background"}},
	{"chart legend of the value line, on a card", side{".legend .l1", "color"}, val("var(--card)")},
	{"chart legend of the limit line, on a card", side{".legend .l2", "color"}, val("var(--card)")},
	{"pill: awaiting the seller's reply", side{".pill.s-awaiting_seller_reply", "color"}, side{".pill.s-awaiting_seller_reply", "background"}},
	{"pill: platform intervening", side{".pill.s-platform_intervening", "color"}, side{".pill.s-platform_intervening", "background"}},
	{"pill: completed", side{".pill.s-completed", "color"}, side{".pill.s-completed", "background"}},
	{"pill: other states", side{".pill", "color"}, side{".pill", "background"}},
	{"danger button", side{"button", "color"}, side{"button.bad", "background"}},
	{"secondary button", side{"button.sec", "color"}, side{"button.sec", "background"}},
	{"deadline soon", side{".due.soon", "color"}, side{".due.soon", "background"}},
	{"deadline overdue, on a card", side{".due.overdue", "color"}, val("var(--card)")},
	{"deadline overdue, on a hovered row", side{".due.overdue", "color"}, side{"tr.row:hover", "background"}},
	{"visibility tag", side{".vis", "color"}, side{".vis", "background"}},
	{"page text", side{":root", "color"}, side{":root", "background"}},
	{"text of a hovered row", side{":root", "color"}, side{"tr.row:hover", "background"}},
	{"top bar", side{"header.top", "color"}, side{"header.top", "background"}},
	{"link on a card", side{"a", "color"}, val("var(--card)")},
	{"link on the page", side{"a", "color"}, side{":root", "background"}},
	{"muted text on the page", side{".muted", "color"}, side{":root", "background"}},
	{"muted text on a card", side{".muted", "color"}, val("var(--card)")},
	{"table heading", side{"th", "color"}, side{"table", "background"}},
	{"form label on a card", side{"label", "color"}, val("var(--card)")},
	{"flash message", side{".flash", "color"}, side{".flash", "background"}},
	{"problem message", side{".problem", "color"}, side{".problem", "background"}},
	{"why (rule explanation)", side{".why", "color"}, side{".why", "background"}},
	{"timeline entry's data label", side{".timeline dl.ev-data dt", "color"}, side{".timeline li", "background"}},
	{"agent-only timeline entry's data label", side{".timeline dl.ev-data dt", "color"}, side{".timeline li.v-agent_only", "background"}},
	{"timeline code", side{".timeline code", "color"}, side{".timeline li", "background"}},
	{"KPI over its limit", side{".kpi.bad b", "color"}, side{".kpi", "background"}},
	{"chart label", side{"svg .cl", "fill"}, side{"svg.chart", "background"}},
	{"chart title", side{"svg .ct", "fill"}, side{"svg.chart", "background"}},
	{"policy diff, changed row", side{":root", "color"}, side{".diff tr.ch td", "background"}},
	{"policy diff, old value", side{":root", "color"}, side{".diff tr.ch td.a", "background"}},
	{"policy diff, new value", side{":root", "color"}, side{".diff tr.ch td.b", "background"}},
	{"card's data label", side{"#cards dt", "color"}, side{"#cards .card", "background"}},
}

// Every text of the console reaches WCAG AA contrast (4.5:1) on its
// background, read from static/console.css.
func TestConsoleTextContrast(t *testing.T) {
	css, err := os.ReadFile("static/console.css")
	if err != nil {
		t.Fatal(err)
	}
	sheet := parseCSS(string(css))
	for _, p := range contrastPairs {
		fg, err := sheet.colour(p.fg)
		if err != nil {
			t.Errorf("%s: text: %v", p.name, err)
			continue
		}
		bg, err := sheet.colour(p.bg)
		if err != nil {
			t.Errorf("%s: background: %v", p.name, err)
			continue
		}
		r := contrast(fg, bg)
		t.Logf("%-45s %s on %s: %.2f:1", p.name, fg, bg, r)
		if r < 4.5 {
			t.Errorf("%s: %s on %s is %.2f:1, WCAG AA wants 4.5:1", p.name, fg, bg, r)
		}
	}
}

// The check reads what it should: the brand colour as declared, and the
// formula's known figures.
func TestContrastFormula(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{{"#000", "#fff", 21}, {"#fff", "#fff", 1}, {"#ff5000", "#fff", 3.28}, {"#c2410c", "#ffffff", 5.18}, {"#767676", "#fff", 4.54}} {
		if got := contrast(c.a, c.b); math.Abs(got-c.want) > 0.005 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
	s := parseCSS(":root{--a:#123;--b:var(--a)}x,y{color:var(--b)}@media (max-width:1px){\n y{color:#fff}}")
	if got, err := s.colour(side{"x", "color"}); err != nil || got != "#123" {
		t.Errorf("x color = %q, %v", got, err)
	}
	if got, err := s.colour(side{"y", "color"}); err != nil || got != "#fff" {
		t.Errorf("y color = %q, %v (the last declaration wins)", got, err)
	}
	if _, err := s.colour(side{"z", "color"}); err == nil {
		t.Error("a rule that is not there has a colour")
	}
}

// sheet is a flat reading of a stylesheet: its rules in order.
type sheet struct {
	rules []rule
	vars  map[string]string
}

type rule struct {
	sels  []string
	decls map[string]string
}

var ruleRE = regexp.MustCompile(`([^{}]+)\{([^{}]*)\}`)

// parseCSS reads the rules of css, those inside @media blocks too (as if
// they applied), and the custom properties of :root.
func parseCSS(css string) *sheet {
	s := &sheet{vars: map[string]string{}}
	for _, m := range ruleRE.FindAllStringSubmatch(css, -1) {
		var r rule
		for sel := range strings.SplitSeq(m[1], ",") {
			r.sels = append(r.sels, strings.Join(strings.Fields(sel), " "))
		}
		r.decls = map[string]string{}
		for d := range strings.SplitSeq(m[2], ";") {
			k, v, ok := strings.Cut(d, ":")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			r.decls[k] = v
			if strings.HasPrefix(k, "--") {
				s.vars[k] = v
			}
		}
		s.rules = append(s.rules, r)
	}
	return s
}

var varRE = regexp.MustCompile(`^var\((--[\w-]+)\)$`)

// colour resolves a side to a #rgb or #rrggbb colour.
func (s *sheet) colour(sd side) (string, error) {
	v := sd.sel
	if sd.prop != "" {
		v = ""
		for _, r := range s.rules {
			for _, sel := range r.sels {
				if sel != sd.sel {
					continue
				}
				if d, ok := r.decls[sd.prop]; ok {
					v = d
				} else if d, ok := r.decls[sd.prop+"-color"]; ok {
					v = d
				}
			}
		}
		if v == "" {
			return "", fmt.Errorf("no rule %q declares %s", sd.sel, sd.prop)
		}
	}
	for range 10 {
		m := varRE.FindStringSubmatch(v)
		if m == nil {
			break
		}
		if v = s.vars[m[1]]; v == "" {
			return "", fmt.Errorf("%s is not declared in :root", m[1])
		}
	}
	if _, err := rgb(v); err != nil {
		return "", err
	}
	return v, nil
}

// rgb reads #rgb or #rrggbb as 0..1 channels.
func rgb(hex string) ([3]float64, error) {
	h, ok := strings.CutPrefix(hex, "#")
	if ok && len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var c [3]float64
	if !ok || len(h) != 6 {
		return c, fmt.Errorf("%q is not an opaque #rgb or #rrggbb colour", hex)
	}
	for i := range c {
		n, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return c, fmt.Errorf("%q: %v", hex, err)
		}
		c[i] = float64(n) / 255
	}
	return c, nil
}

// luminance is WCAG 2.x's relative luminance of an sRGB colour.
func luminance(hex string) float64 {
	c, _ := rgb(hex)
	for i, v := range c {
		if v <= 0.04045 {
			c[i] = v / 12.92
		} else {
			c[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

// contrast is WCAG 2.x's contrast ratio of two colours, from 1 to 21.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}
