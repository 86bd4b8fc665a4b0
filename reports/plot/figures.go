package plot

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/mores-eval/mores/bench"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ErrNoData is returned by a figure function when the summary holds no data
// for that figure.
var ErrNoData = errors.New("plot: no data for this figure")

// Options are the parameters of the figures.
type Options struct {
	// Width and Height are the size of a bar chart (default 7 × 4.5
	// inches). The alignment–engagement plane and the win-rate heatmap are
	// drawn nearly square: 1.25 × Height wide and Height high.
	Width, Height vg.Length
	// DPI is the resolution of PNG files (default 150).
	DPI int
	// Formats are the file formats WriteAll writes (default png and svg).
	Formats []string
	// Models orders the models (and so their colours); models missing from
	// it follow in order of first appearance. WriteAll takes it from the
	// manifest when empty.
	Models []string
	// Attacks orders the attacks likewise ("none" first by default).
	Attacks []string
	// Suites orders the suites of Figures likewise (alphabetical by
	// default).
	Suites []string
}

func (o Options) withDefaults() Options {
	if o.Width <= 0 {
		o.Width = 7 * vg.Inch
	}
	if o.Height <= 0 {
		o.Height = 4.5 * vg.Inch
	}
	if o.DPI <= 0 {
		o.DPI = 150
	}
	if len(o.Formats) == 0 {
		o.Formats = []string{"png", "svg"}
	}
	return o
}

// Figure kinds.
const (
	KindMetric              = "metric"
	KindAttackSuccess       = "attack-success"
	KindAlignmentEngagement = "alignment-engagement"
	KindWinRate             = "win-rate"
)

// Figure is one plot of a run.
type Figure struct {
	// Name is the file name without extension, unique within a run.
	Name string
	// Kind is one of the Kind constants.
	Kind string
	// Suite, Judge, Metric and Attack say what the figure shows (empty
	// when not one of them).
	Suite, Judge, Metric, Attack string
	// Title is the plot's title.
	Title string
	// Plot is the figure, ready to be drawn at Width × Height.
	Plot *plot.Plot
	// Width and Height are the size to draw it at.
	Width, Height vg.Length
}

// order returns the distinct values of rows under key, ordered by hint,
// then by preferred first, then alphabetically.
func order(rows []bench.SummaryRow, key func(bench.SummaryRow) string, hint []string, first string) []string {
	seen := map[string]bool{}
	var vals []string
	for _, r := range rows {
		if v := key(r); !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	rank := func(v string) int {
		if i := slices.Index(hint, v); i >= 0 {
			return i
		}
		if v == first {
			return -1
		}
		return len(hint)
	}
	slices.SortStableFunc(vals, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
	})
	return vals
}

// modelIndex gives each model its colour index: its position in
// opt.Models, else after them in order of appearance in rows.
func modelIndex(rows []bench.SummaryRow, opt Options) map[string]int {
	idx := map[string]int{}
	for _, m := range order(rows, func(r bench.SummaryRow) string { return r.Model }, opt.Models, "") {
		idx[m] = len(idx)
	}
	return idx
}

type cellKey struct{ attack, model string }

// MetricBars draws one metric of one suite and judge: a bar per model with
// its 95% CI, grouped by attack when there are several.
func MetricBars(rows []bench.SummaryRow, suite, judge, metric string, opt Options) (*plot.Plot, error) {
	opt = opt.withDefaults()
	colours := modelIndex(rows, opt)
	var sel []bench.SummaryRow
	for _, r := range rows {
		if r.Suite == suite && r.Judge == judge && r.Metric == metric {
			sel = append(sel, r)
		}
	}
	// A metric no model has a value for (every judgment failed) draws no
	// figure: empty axes would read as a mean of 0.
	if !slices.ContainsFunc(sel, func(r bench.SummaryRow) bool { return r.N > 0 && !math.IsNaN(r.Mean) }) {
		return nil, ErrNoData
	}
	title := fmt.Sprintf("%s — %s.%s", suite, judge, metric)
	attacks := order(sel, func(r bench.SummaryRow) string { return r.Attack }, opt.Attacks, "none")
	if len(attacks) == 1 && attacks[0] != "none" {
		title += " (attack: " + attacks[0] + ")"
	}
	return groupedBars(sel, title, metric+" (mean, 95% CI)", attacks, colours, opt), nil
}

// groupedBars draws rows as bars: models side by side within each attack,
// or one bar per model when there is one attack.
func groupedBars(sel []bench.SummaryRow, title, ylabel string, attacks []string, colours map[string]int, opt Options) *plot.Plot {
	models := order(sel, func(r bench.SummaryRow) string { return r.Model }, opt.Models, "")
	slices.SortStableFunc(models, func(a, b string) int { return cmp.Compare(colours[a], colours[b]) })
	byKey := map[cellKey]bench.SummaryRow{}
	for _, r := range sel {
		byKey[cellKey{r.Attack, r.Model}] = r
	}
	unit, likert := true, true
	hi := 0.0
	for _, r := range sel {
		likert = likert && likertMetrics[r.Metric]
		for _, v := range []float64{r.Mean, r.CILow, r.CIHigh} {
			if math.IsNaN(v) {
				continue
			}
			if v < 0 || v > 1 {
				unit = false
			}
			if v < 1 || v > 7 {
				likert = false
			}
			hi = math.Max(hi, v)
		}
	}
	base := 0.0
	if likert && !unit {
		base = 1
	}
	grouped := len(attacks) > 1
	xlabel := "attack"
	if !grouped {
		xlabel = ""
	}
	p := newPlot(title, xlabel, ylabel)
	addGrid(p, false)
	bs := &barSet{base: base}
	mk := func(x, w float64, r bench.SummaryRow, ok bool, m string) bar {
		b := bar{X: x, Width: w, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Colour: Colour(colours[m])}
		if ok && r.N > 0 && !math.IsNaN(r.Mean) {
			b.Value, b.Lo, b.Hi = r.Mean, r.CILow, r.CIHigh
		}
		return b
	}
	if grouped {
		w := 0.8 / float64(len(models))
		for ai, a := range attacks {
			for mi, m := range models {
				r, ok := byKey[cellKey{a, m}]
				x := float64(ai) - 0.4 + w*(float64(mi)+0.5)
				bs.bars = append(bs.bars, mk(x, w*0.92, r, ok, m))
			}
		}
		for _, m := range models {
			p.Legend.Add(m, swatch{colour: Colour(colours[m])})
		}
	} else {
		for mi, m := range models {
			r, ok := byKey[cellKey{attacks[0], m}]
			bs.bars = append(bs.bars, mk(float64(mi), 0.6, r, ok, m))
		}
	}
	p.Add(bs)
	lo := math.Min(base, minBar(bs))
	tickMax := hi
	switch {
	case unit:
		hi, tickMax = 1, 1
	case base == 1:
		hi, tickMax = 7, 7
		p.Y.Tick.Marker = integerTicks{}
	default:
		hi *= 1.05
	}
	if hi <= lo {
		hi = lo + 1
	}
	if grouped {
		nominalX(p, attacks, opt.Width)
		legendHeadroom(p, len(models), opt.Height, lo, hi, tickMax)
	} else {
		nominalX(p, models, opt.Width)
		p.Y.Min, p.Y.Max = lo, hi
	}
	return p
}

// likertMetrics are the metrics on the 1–7 scale of the SANDBOX raters;
// their bars start at 1, the bottom of the scale.
var likertMetrics = map[string]bool{
	"alignment": true, "engagement": true, "peer_alignment": true,
	"draft_alignment": true, "revised_alignment": true,
}

func minBar(bs *barSet) float64 {
	lo := bs.base
	for _, b := range bs.bars {
		for _, v := range []float64{b.Value, b.Lo} {
			if !math.IsNaN(v) {
				lo = math.Min(lo, v)
			}
		}
	}
	return lo
}

// AttackSuccessSource says which metric an attack success rate was
// computed from.
type AttackSuccessSource struct {
	Judge, Metric string
	// Inverted is true for 1 − refusal.
	Inverted bool
}

// String renders the source as it appears in the title.
func (s AttackSuccessSource) String() string {
	if s.Inverted {
		return fmt.Sprintf("1 − %s.%s", s.Judge, s.Metric)
	}
	return fmt.Sprintf("%s.%s", s.Judge, s.Metric)
}

// attackSuccessSource picks the metric of the attack success rate of a
// suite: "jailbroken" (a jailbreak judge, built for it), else "harmful"
// (the harm judge), else 1 − "refusal".
func attackSuccessSource(sel []bench.SummaryRow) (AttackSuccessSource, bool) {
	find := func(metric, judge string) (string, bool) {
		var any string
		for _, r := range sel {
			if r.Metric != metric || strings.Contains(r.Judge, ":vs=") || strings.Contains(r.Judge, "/") {
				continue
			}
			if r.Judge == judge {
				return judge, true
			}
			if any == "" {
				any = r.Judge
			}
		}
		return any, any != ""
	}
	if j, ok := find("jailbroken", "jailbreak"); ok {
		return AttackSuccessSource{Judge: j, Metric: "jailbroken"}, true
	}
	if j, ok := find("harmful", "harm"); ok {
		return AttackSuccessSource{Judge: j, Metric: "harmful"}, true
	}
	if j, ok := find("refusal", "refusal"); ok {
		return AttackSuccessSource{Judge: j, Metric: "refusal", Inverted: true}, true
	}
	return AttackSuccessSource{}, false
}

// AttackSuccess draws the attack success rate of a suite by attack × model
// with 95% CIs. The rate is the "jailbroken" metric of a jailbreak judge
// where present, else the "harmful" metric of the harm judge, else
// 1 − refusal; the title says which. Suites whose only attack is "none"
// have no attack success rate (ErrNoData).
func AttackSuccess(rows []bench.SummaryRow, suite string, opt Options) (*plot.Plot, AttackSuccessSource, error) {
	opt = opt.withDefaults()
	colours := modelIndex(rows, opt)
	var sel []bench.SummaryRow
	attacked := false
	for _, r := range rows {
		if r.Suite == suite {
			sel = append(sel, r)
			attacked = attacked || r.Attack != "none"
		}
	}
	asr, src, ok := attackSuccessRows(sel)
	if !ok || !attacked {
		return nil, src, ErrNoData
	}
	attacks := order(asr, func(r bench.SummaryRow) string { return r.Attack }, opt.Attacks, "none")
	title := fmt.Sprintf("%s — attack success rate (%s)", suite, src)
	p := groupedBars(asr, title, "attack success rate (95% CI)", attacks, colours, opt)
	if len(attacks) == 1 {
		p.X.Label.Text = "attack: " + attacks[0]
	}
	return p, src, nil
}

// AlignmentEngagement draws the models of one suite, judge and attack on
// the SANDBOX plane: engagement (x) against alignment (y), both on the 1–7
// scale, each point with its 95% CIs in both directions. It needs the
// judge's "alignment" and "engagement" metrics (rubric or society judge).
func AlignmentEngagement(rows []bench.SummaryRow, suite, judge, attack string, opt Options) (*plot.Plot, error) {
	opt = opt.withDefaults()
	colours := modelIndex(rows, opt)
	type pt struct{ a, e *bench.SummaryRow }
	pts := map[string]*pt{}
	for i := range rows {
		r := &rows[i]
		if r.Suite != suite || r.Judge != judge || r.Attack != attack || r.N == 0 || math.IsNaN(r.Mean) {
			continue
		}
		if r.Metric != "alignment" && r.Metric != "engagement" {
			continue
		}
		if pts[r.Model] == nil {
			pts[r.Model] = &pt{}
		}
		if r.Metric == "alignment" {
			pts[r.Model].a = r
		} else {
			pts[r.Model].e = r
		}
	}
	var models []string
	for m, p := range pts {
		if p.a != nil && p.e != nil {
			models = append(models, m)
		}
	}
	if len(models) == 0 {
		return nil, ErrNoData
	}
	slices.SortFunc(models, func(a, b string) int { return cmp.Compare(colours[a], colours[b]) })
	title := fmt.Sprintf("%s — alignment vs engagement (%s)", suite, judge)
	if attack != "none" {
		title += ", attack: " + attack
	}
	p := newPlot(title, "engagement (1–7, mean and 95% CI)", "alignment (1–7, mean and 95% CI)")
	addGrid(p, true)
	var xs, ys []float64
	for _, m := range models {
		a, e := pts[m].a, pts[m].e
		c := Colour(colours[m])
		xy := plotter.XYs{{X: e.Mean, Y: a.Mean}}
		errLine := draw.LineStyle{Color: c, Width: vg.Points(1.4)}
		if !math.IsNaN(a.CILow) {
			yb, err := plotter.NewYErrorBars(yErr{xy, a.Mean - a.CILow, a.CIHigh - a.Mean})
			if err != nil {
				return nil, err
			}
			yb.LineStyle, yb.CapWidth = errLine, vg.Points(8)
			p.Add(yb)
		}
		if !math.IsNaN(e.CILow) {
			xb, err := plotter.NewXErrorBars(xErr{xy, e.Mean - e.CILow, e.CIHigh - e.Mean})
			if err != nil {
				return nil, err
			}
			xb.LineStyle, xb.CapWidth = errLine, vg.Points(8)
			p.Add(xb)
		}
		s, err := plotter.NewScatter(xy)
		if err != nil {
			return nil, err
		}
		g := glyphs[colours[m]%len(glyphs)]
		s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(5), Shape: g}
		p.Add(s)
		p.Legend.Add(m, swatch{colour: c, glyph: g})
		xs, ys = append(xs, e.Mean), append(ys, a.Mean)
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 1, 7, 1, 7
	p.X.Tick.Marker, p.Y.Tick.Marker = integerTicks{}, integerTicks{}
	// Put the legend in the corner farthest from the points.
	best := -1.0
	for _, top := range []bool{true, false} {
		for _, left := range []bool{true, false} {
			cx, cy := 7.0, 1.0
			if left {
				cx = 1
			}
			if top {
				cy = 7
			}
			d := math.Inf(1)
			for i := range xs {
				d = math.Min(d, math.Hypot(xs[i]-cx, ys[i]-cy))
			}
			if d > best {
				best, p.Legend.Top, p.Legend.Left = d, top, left
			}
		}
	}
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), vg.Points(-6)
	if !p.Legend.Left {
		p.Legend.XOffs = -vg.Points(6)
	}
	if !p.Legend.Top {
		p.Legend.YOffs = vg.Points(6)
	}
	return p, nil
}

type yErr struct {
	plotter.XYs
	lo, hi float64
}

func (e yErr) YError(int) (float64, float64) { return e.lo, e.hi }

type xErr struct {
	plotter.XYs
	lo, hi float64
}

func (e xErr) XError(int) (float64, float64) { return e.lo, e.hi }

// integerTicks marks every integer of the 1–7 scales.
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for v := math.Ceil(lo); v <= hi; v++ {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprint(v)})
	}
	return ts
}

// pairJudge splits a pair judge's name "NAME:vs=OTHER".
func pairJudge(judge string) (base, other string, ok bool) {
	return strings.Cut(judge, ":vs=")
}

// WinRates draws the pairwise win rates of one suite and pair judge (base
// name, e.g. "pairwise") as a model × model heatmap: the cell in row A and
// column B is the rate at which A beat B (a tie counts one half), pooled
// over attacks, with the number printed in the cell. Pair judges score a
// pair once, against its first model, so the mirror cell is 1 − that rate.
func WinRates(rows []bench.SummaryRow, suite, judge string, opt Options) (*plot.Plot, error) {
	opt = opt.withDefaults()
	colours := modelIndex(rows, opt)
	rate, seen, pooled := winRateMatrix(rows, suite, judge)
	if len(rate) == 0 {
		return nil, ErrNoData
	}
	models := make([]string, 0, len(seen))
	for m := range seen {
		models = append(models, m)
	}
	slices.SortFunc(models, func(a, b string) int {
		ia, oka := colours[a]
		ib, okb := colours[b]
		if !oka {
			ia = math.MaxInt
		}
		if !okb {
			ib = math.MaxInt
		}
		return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a, b))
	})
	title := fmt.Sprintf("%s — %s win rate of row over column", suite, judge)
	if pooled {
		title += " (all attacks)"
	}
	p := newPlot(title, "opponent", "model")
	cm := moreland.SmoothBlueRed()
	cm.SetMin(0)
	cm.SetMax(1)
	g := &cellGrid{style: textStyle(cellSize, ink)}
	n := len(models)
	for ri, a := range models {
		for ci, b := range models {
			cl := cell{X: float64(ci), Y: float64(n - 1 - ri)}
			v, ok := rate[[2]string{a, b}]
			switch {
			case a == b:
				cl.Fill, cl.Text, cl.TextOn = color.RGBA{0xF2, 0xF2, 0xF2, 0xFF}, "—", mutedInk
			case !ok:
				cl.Fill, cl.Text, cl.TextOn = color.RGBA{0xF2, 0xF2, 0xF2, 0xFF}, "n/a", mutedInk
			default:
				c, err := cm.At(math.Max(0, math.Min(1, v)))
				if err != nil {
					return nil, err
				}
				cl.Fill, cl.Text, cl.TextOn = c, fmt.Sprintf("%.2f", v), ink
				if luminance(c) < 0.35 {
					cl.TextOn = color.White
				}
			}
			g.cells = append(g.cells, cl)
		}
	}
	p.Add(g)
	nominalX(p, models, squareWidth(opt))
	rev := slices.Clone(models)
	slices.Reverse(rev)
	p.NominalY(rev...)
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.LineStyle.Width, p.Y.LineStyle.Width = 0, 0
	p.X.Tick.LineStyle.Width, p.Y.Tick.LineStyle.Width = 0, 0
	return p, nil
}

// squareWidth is the width of the nearly square figures.
func squareWidth(opt Options) vg.Length { return opt.Height * 1.25 }

// winRateMatrix returns the win rate of model A over model B for every pair
// scored by the pair judge judge in suite (pooled over attacks, weighted by
// their counts), the models seen, and whether several attacks were pooled.
func winRateMatrix(rows []bench.SummaryRow, suite, judge string) (map[[2]string]float64, map[string]bool, bool) {
	type acc struct{ sum, n float64 }
	direct := map[[2]string]*acc{}
	attacks := map[string]bool{}
	for _, r := range rows {
		base, other, ok := pairJudge(r.Judge)
		if !ok || r.Suite != suite || base != judge || r.Metric != "win" || r.N == 0 || math.IsNaN(r.Mean) {
			continue
		}
		k := [2]string{r.Model, other}
		if direct[k] == nil {
			direct[k] = &acc{}
		}
		direct[k].sum += r.Mean * float64(r.N)
		direct[k].n += float64(r.N)
		attacks[r.Attack] = true
	}
	rate := map[[2]string]float64{}
	seen := map[string]bool{}
	for k, a := range direct {
		rate[k] = a.sum / a.n
		seen[k[0]], seen[k[1]] = true, true
	}
	for k, v := range direct {
		if _, ok := direct[[2]string{k[1], k[0]}]; !ok {
			rate[[2]string{k[1], k[0]}] = 1 - v.sum/v.n
		}
	}
	return rate, seen, len(attacks) > 1
}

// attackSuccessRows returns the summary rows of the attack success rate
// among the rows of one suite (1 − refusal already inverted, with its
// interval) and their source.
func attackSuccessRows(sel []bench.SummaryRow) ([]bench.SummaryRow, AttackSuccessSource, bool) {
	src, ok := attackSuccessSource(sel)
	if !ok {
		return nil, src, false
	}
	var asr []bench.SummaryRow
	for _, r := range sel {
		if r.Judge != src.Judge || r.Metric != src.Metric {
			continue
		}
		if src.Inverted {
			r.Mean, r.CILow, r.CIHigh = 1-r.Mean, 1-r.CIHigh, 1-r.CILow
		}
		asr = append(asr, r)
	}
	return asr, src, true
}
