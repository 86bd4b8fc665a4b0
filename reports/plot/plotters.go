package plot

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// bar is one bar with its confidence interval, in data coordinates. Lo and
// Hi are NaN when the interval is unknown; Value is NaN when there is no
// value (the bar is not drawn).
type bar struct {
	X, Width      float64
	Value, Lo, Hi float64
	Colour        color.Color
}

// barSet draws bars whose width is given in data units (so grouped bars
// fill their category whatever the canvas size), each with a 95% CI error
// bar.
type barSet struct {
	bars []bar
	// base is where bars start (0, or 1 for the 1–7 scales).
	base float64
}

// Plot implements plot.Plotter.
func (b *barSet) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	edge := draw.LineStyle{Color: color.White, Width: vg.Points(0.8)}
	errLine := draw.LineStyle{Color: ink, Width: vg.Points(1.3)}
	for _, br := range b.bars {
		if math.IsNaN(br.Value) {
			continue
		}
		x0, x1 := trX(br.X-br.Width/2), trX(br.X+br.Width/2)
		y0, y1 := trY(b.base), trY(br.Value)
		if y1 < y0 {
			y0, y1 = y1, y0
		}
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(br.Colour, c.ClipPolygonXY(pts))
		var outline vg.Path
		outline.Move(pts[0])
		for _, pt := range pts[1:] {
			outline.Line(pt)
		}
		outline.Close()
		c.SetLineStyle(edge)
		c.Stroke(outline)
	}
	for _, br := range b.bars {
		if math.IsNaN(br.Value) || math.IsNaN(br.Lo) || math.IsNaN(br.Hi) {
			continue
		}
		x := trX(br.X)
		capW := min((trX(br.X+br.Width/2)-trX(br.X-br.Width/2))*0.35, vg.Points(7))
		lo, hi := trY(br.Lo), trY(br.Hi)
		c.StrokeLines(errLine, c.ClipLinesY([]vg.Point{{X: x, Y: lo}, {X: x, Y: hi}})...)
		c.StrokeLine2(errLine, x-capW, lo, x+capW, lo)
		c.StrokeLine2(errLine, x-capW, hi, x+capW, hi)
	}
}

// DataRange implements plot.DataRanger.
func (b *barSet) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), b.base, b.base
	for _, br := range b.bars {
		xmin = math.Min(xmin, br.X-br.Width/2)
		xmax = math.Max(xmax, br.X+br.Width/2)
		for _, v := range []float64{br.Value, br.Lo, br.Hi} {
			if !math.IsNaN(v) {
				ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
			}
		}
	}
	return xmin, xmax, ymin, ymax
}

// swatch is a legend thumbnail: a filled square of one colour, or a glyph.
type swatch struct {
	colour color.Color
	glyph  draw.GlyphDrawer
}

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	if s.glyph != nil {
		c.DrawGlyph(draw.GlyphStyle{Color: s.colour, Radius: vg.Points(4), Shape: s.glyph}, c.Center())
		return
	}
	side := min(c.Max.X-c.Min.X, c.Max.Y-c.Min.Y)
	ctr := c.Center()
	h := side / 2
	c.FillPolygon(s.colour, []vg.Point{
		{X: ctr.X - h, Y: ctr.Y - h}, {X: ctr.X + h, Y: ctr.Y - h},
		{X: ctr.X + h, Y: ctr.Y + h}, {X: ctr.X - h, Y: ctr.Y + h},
	})
}

// cell is one square of a heatmap at column X, row Y (data coordinates).
type cell struct {
	X, Y   float64
	Fill   color.Color
	Text   string
	TextOn color.Color
}

// cellGrid draws a heatmap as unit squares with the value printed in each.
type cellGrid struct {
	cells []cell
	style text.Style
}

// Plot implements plot.Plotter.
func (g *cellGrid) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	gap := vg.Points(1.5)
	for _, cl := range g.cells {
		x0, x1 := trX(cl.X-0.5)+gap, trX(cl.X+0.5)-gap
		y0, y1 := trY(cl.Y-0.5)+gap, trY(cl.Y+0.5)-gap
		c.FillPolygon(cl.Fill, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
		sty := g.style
		sty.Color = cl.TextOn
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
		c.FillText(sty, vg.Point{X: trX(cl.X), Y: trY(cl.Y)}, cl.Text)
	}
}

// DataRange implements plot.DataRanger.
func (g *cellGrid) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, cl := range g.cells {
		xmin, xmax = math.Min(xmin, cl.X-0.5), math.Max(xmax, cl.X+0.5)
		ymin, ymax = math.Min(ymin, cl.Y-0.5), math.Max(ymax, cl.Y+0.5)
	}
	return xmin, xmax, ymin, ymax
}
