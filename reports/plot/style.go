package plot

import (
	"image/color"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// okabeIto is the Okabe–Ito palette (Color Universal Design), reordered so
// that the first two colours (a baseline and an aligned model) contrast most.
var okabeIto = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
	{0x00, 0x00, 0x00, 0xFF}, // black
}

// glyphs gives each model a marker shape as well as a colour.
var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{},
	draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{},
}

// Colour returns the colour of the i-th model.
func Colour(i int) color.RGBA { return okabeIto[i%len(okabeIto)] }

var (
	ink      = color.RGBA{0x22, 0x22, 0x22, 0xFF}
	gridInk  = color.RGBA{0xDD, 0xDD, 0xDD, 0xFF}
	mutedInk = color.RGBA{0x55, 0x55, 0x55, 0xFF}
)

// Font sizes in points.
const (
	titleSize  = 13
	labelSize  = 12
	tickSize   = 11
	legendSize = 11
	cellSize   = 12
)

// sans is the typeface of every text (gonum/plot defaults to a serif).
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// bold is the typeface of titles.
var bold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}

func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{Color: c, Font: font.From(sans, size), Handler: plot.DefaultTextHandler}
}

// setFont sets the typeface and size of sty, keeping its alignment.
func setFont(sty *text.Style, f font.Font, size vg.Length, c color.Color) {
	sty.Font = font.From(f, size)
	sty.Color = c
}

// newPlot returns a plot with the house style: legible fonts, light grid,
// no clutter.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	setFont(&p.Title.TextStyle, bold, titleSize, ink)
	p.Title.Padding = vg.Points(10)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		setFont(&a.Label.TextStyle, sans, labelSize, ink)
		setFont(&a.Tick.Label, sans, tickSize, ink)
		a.LineStyle.Color = mutedInk
		a.Tick.LineStyle.Color = mutedInk
	}
	p.Y.Tick.Marker = niceTicks{}
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	setFont(&p.Legend.TextStyle, sans, legendSize, ink)
	p.Legend.Top = true
	p.Legend.Padding = vg.Points(3)
	p.Legend.ThumbnailWidth = vg.Points(14)
	return p
}

// addGrid adds horizontal (and optionally vertical) grid lines behind the
// data.
func addGrid(p *plot.Plot, vertical bool) {
	g := plotter.NewGrid()
	g.Horizontal.Color = gridInk
	g.Horizontal.Width = vg.Points(0.6)
	if vertical {
		g.Vertical.Color = gridInk
		g.Vertical.Width = vg.Points(0.6)
	} else {
		g.Vertical.Color = nil
	}
	p.Add(g)
}

// nominalX labels categories 0..n-1 on the x axis and rotates the labels
// when they would not fit side by side in width.
func nominalX(p *plot.Plot, names []string, width vg.Length) {
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	avail := (width - vg.Inch) / vg.Length(max(len(names), 1))
	widest := vg.Length(0)
	for _, n := range names {
		widest = max(widest, p.X.Tick.Label.Rectangle(n).Size().X)
	}
	if widest > avail*0.92 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
	}
}

// legendHeadroom raises the top of the y axis so that a legend of n entries
// drawn in the top corner does not cover data: the data's top (hi) ends
// below the legend. The ticks stay within [lo, tickMax].
func legendHeadroom(p *plot.Plot, n int, height vg.Length, lo, hi, tickMax float64) {
	if n == 0 {
		p.Y.Min, p.Y.Max = lo, hi
		return
	}
	entry := p.Legend.TextStyle.Rectangle("Mg").Size().Y + p.Legend.Padding
	legend := entry*vg.Length(n) + vg.Points(8)
	area := height - vg.Points(titleSize+10) - vg.Points(tickSize+labelSize+20) - vg.Points(10)
	f := float64(legend / area)
	if f > 0.6 {
		f = 0.6
	}
	p.Y.Min = lo
	p.Y.Max = lo + (hi-lo)/(1-f)
	p.Y.Tick.Marker = cappedTicks{inner: p.Y.Tick.Marker, max: tickMax}
}

// cappedTicks are the default ticks without those above max (the space
// above max holds the legend).
type cappedTicks struct {
	inner plot.Ticker
	max   float64
}

// Ticks implements plot.Ticker.
func (t cappedTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := t.inner.Ticks(lo, math.Min(hi, t.max))
	out := ts[:0]
	for _, tk := range ts {
		if tk.Value <= t.max+1e-9 {
			out = append(out, tk)
		}
	}
	return out
}

// niceTicks labels about six round values (steps of 1, 2 or 5 × 10^k) and
// draws no minor ticks, so that the grid stays light.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if step/math.Pow(10, math.Floor(math.Log10(step))) == 2.5 {
		prec++
	}
	var ts []plot.Tick
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
	}
	return ts
}

// luminance returns the relative luminance of c (0 black, 1 white).
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xFFFF
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
