package console

import (
	"fmt"
	"html/template"
	"math/big"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/judgment"
	"aftersale/internal/scorecard"
	"aftersale/internal/store"
)

// chartDays is how many days the liability chart covers.
const chartDays = 30

func (c *Console) routesScorecard() {
	c.mux.HandleFunc("GET "+Prefix+"/scorecard", c.page("scorecard", c.scorecardPage))
}

type scorecardData struct {
	ShopID       string
	Card         *scorecard.Card
	Chart        template.HTML
	Points       []judgment.PointsEntry
	PointsTotal  int
	Compensation []judgment.CompensationEntry
	CompTotal    int64
	Deposit      int64
	Pick         bool // an agent or operator chooses the shop
}

// point is one day of the chart.
type point struct {
	Day                string
	Liable             float64
	CountLimit         float64
	Rate, RateLimit    float64
	HasLimit, HasRateL bool
}

// scorecardPage is the shop scorecard: the 30-day liability rate and count
// against multiplier × the industry average over time (R-LIA-1, R-LIA-2),
// the takeover state (R-LIA-2/3), gold seller verdicts per half-month period
// (R-GLD-1..3), the points and compensation ledgers (R-INV-3, R-COL-6,
// R-PRM-1..6) and the average manual response time (R-URG-4). All of it is
// engine.Scorecard and the store's ledgers, as the API reads them.
func (c *Console) scorecardPage(q *req) (string, any, error) {
	if err := q.may(auth.ActReadStanding); err != nil {
		return "", nil, err
	}
	d := &scorecardData{}
	if q.p.Person.Role.Shop() {
		d.ShopID = q.p.Person.ShopID
	} else {
		d.Pick = true
		d.ShopID = strings.TrimSpace(q.r.URL.Query().Get("shop"))
		if d.ShopID == "" {
			return "scorecard", d, nil
		}
	}
	card, err := c.eng.Scorecard(q.ctx, d.ShopID, q.now)
	if err != nil {
		return "", nil, apperr.NotFoundAs(err, "shop", "no shop %q", d.ShopID)
	}
	d.Card = card
	var pts []point
	for i := chartDays - 1; i >= 0; i-- {
		at := q.now.Add(-time.Duration(i) * 24 * time.Hour)
		cd := card
		if i > 0 {
			if cd, err = c.eng.Scorecard(q.ctx, d.ShopID, at); err != nil {
				return "", nil, err
			}
		}
		pts = append(pts, pointOf(cd, at))
	}
	d.Chart = chart(pts, q.L)
	err = c.eng.Store().View(q.ctx, func(tx store.ReadTx) error {
		var err error
		if d.Points, err = tx.Points(q.ctx, d.ShopID, time.Time{}); err != nil {
			return err
		}
		for _, p := range d.Points {
			d.PointsTotal += p.Points
		}
		if d.Compensation, err = tx.Compensation(q.ctx, d.ShopID); err != nil {
			return err
		}
		for _, e := range d.Compensation {
			d.CompTotal += e.AmountFen
		}
		d.Deposit, err = tx.Deposit(q.ctx, d.ShopID)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return "scorecard", d, nil
}

func ratf(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	pct := strings.HasSuffix(s, "%")
	r, ok := new(big.Rat).SetString(strings.TrimSuffix(s, "%"))
	if !ok {
		return 0, false
	}
	f, _ := r.Float64()
	if pct {
		f /= 100
	}
	return f, true
}

func pointOf(cd *scorecard.Card, at time.Time) point {
	l := cd.Liability
	p := point{Day: at.In(shanghai).Format("01-02"), Liable: float64(l.Liable)}
	if l.Orders > 0 {
		p.Rate = float64(l.Liable) / float64(l.Orders)
	}
	p.CountLimit, p.HasLimit = ratf(l.CountLimit)
	p.RateLimit, p.HasRateL = ratf(l.RateLimit)
	return p
}

// chart draws the liable count and rate against their limits (5× the
// industry average) as an inline SVG: two small panels, no script.
func chart(pts []point, L tr) template.HTML {
	const w, h, pad = 640.0, 130.0, 34.0
	var b strings.Builder
	panel := func(y0 float64, title string, val func(point) float64, lim func(point) (float64, bool), pct bool) {
		maxV := 0.0
		for _, p := range pts {
			maxV = max(maxV, val(p))
			if v, ok := lim(p); ok {
				maxV = max(maxV, v)
			}
		}
		if maxV == 0 {
			maxV = 1
		}
		maxV *= 1.15
		x := func(i int) float64 { return pad + float64(i)*(w-2*pad)/float64(max(len(pts)-1, 1)) }
		y := func(v float64) float64 { return y0 + h - pad/2 - v/maxV*(h-pad) }
		fmtV := func(v float64) string {
			if pct {
				return fmt.Sprintf("%.2f%%", v*100)
			}
			return fmt.Sprintf("%.1f", v)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="ct">%s</text>`, pad, y0+12, template.HTMLEscapeString(title))
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" class="ax"/>`, pad, y(0), w-pad, y(0))
		fmt.Fprintf(&b, `<text x="2" y="%.1f" class="cl">%s</text>`, y(maxV/1.15)+4, fmtV(maxV/1.15))
		var line, limit strings.Builder
		for i, p := range pts {
			fmt.Fprintf(&line, "%.1f,%.1f ", x(i), y(val(p)))
			if v, ok := lim(p); ok {
				fmt.Fprintf(&limit, "%.1f,%.1f ", x(i), y(v))
			}
		}
		if limit.Len() > 0 {
			fmt.Fprintf(&b, `<polyline points="%s" class="lim"/>`, strings.TrimSpace(limit.String()))
		}
		fmt.Fprintf(&b, `<polyline points="%s" class="val"/>`, strings.TrimSpace(line.String()))
		last := pts[len(pts)-1]
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" class="dot"><title>%s %s</title></circle>`, x(len(pts)-1), y(val(last)), last.Day, fmtV(val(last)))
		for _, i := range []int{0, len(pts) / 2, len(pts) - 1} {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="cl" text-anchor="middle">%s</text>`, x(i), y0+h+2, pts[i].Day)
		}
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, 2*h+30, template.HTMLEscapeString(L.T("score.chart")))
	panel(0, L.T("score.chart.count"), func(p point) float64 { return p.Liable }, func(p point) (float64, bool) { return p.CountLimit, p.HasLimit }, false)
	panel(h+14, L.T("score.chart.rate"), func(p point) float64 { return p.Rate }, func(p point) (float64, bool) { return p.RateLimit, p.HasRateL }, true)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
