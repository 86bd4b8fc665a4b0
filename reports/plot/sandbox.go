package plot

import (
	"fmt"
	"io"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// RoundPoint is a mean over the agents of a world in one round, with its
// 95% interval (NaN when there is none).
type RoundPoint struct {
	Round          int
	Mean, Lo, High float64
}

// RoundSeries is one world's observer alignment of drafts and of revisions
// over the rounds of a `mores sandbox` run.
type RoundSeries struct {
	Model           string
	Draft, Revision []RoundPoint
}

// SandboxRounds draws the observer's alignment rating of drafts (dashed)
// and revisions (solid) over the rounds, one colour per model, with 95%
// intervals clustered by agent.
func SandboxRounds(series []RoundSeries, opt Options) (*plot.Plot, error) {
	opt = opt.withDefaults()
	if len(series) == 0 {
		return nil, ErrNoData
	}
	p := newPlot("SANDBOX — alignment of drafts and revisions over rounds", "round", "observer alignment (1–7, mean and 95% CI)")
	addGrid(p, false)
	maxRound := 1
	for i, s := range series {
		c := Colour(i)
		for _, part := range []struct {
			name   string
			pts    []RoundPoint
			dashed bool
		}{{"draft", s.Draft, true}, {"revision", s.Revision, false}} {
			var xy plotter.XYs
			var lo, hi []float64
			for _, pt := range part.pts {
				if math.IsNaN(pt.Mean) {
					continue
				}
				xy = append(xy, plotter.XY{X: float64(pt.Round), Y: pt.Mean})
				lo, hi = append(lo, pt.Lo), append(hi, pt.High)
				maxRound = max(maxRound, pt.Round)
			}
			if len(xy) == 0 {
				continue
			}
			line, points, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, err
			}
			line.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.6)}
			if part.dashed {
				line.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			g := glyphs[i%len(glyphs)]
			points.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(3.5), Shape: g}
			p.Add(line, points)
			for k := range xy {
				if math.IsNaN(lo[k]) || math.IsNaN(hi[k]) {
					continue
				}
				one := plotter.XYs{xy[k]}
				yb, err := plotter.NewYErrorBars(yErr{one, xy[k].Y - lo[k], hi[k] - xy[k].Y})
				if err != nil {
					return nil, err
				}
				yb.LineStyle, yb.CapWidth = draw.LineStyle{Color: c, Width: vg.Points(1)}, vg.Points(6)
				p.Add(yb)
			}
			p.Legend.Add(s.Model+" "+part.name, line, points)
		}
	}
	p.X.Min, p.X.Max = 0.5, float64(maxRound)+0.5
	p.Y.Min, p.Y.Max = 1, 7
	p.X.Tick.Marker, p.Y.Tick.Marker = integerTicks{}, integerTicks{}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), vg.Points(6)
	return p, nil
}

// Save writes a figure as path.FORMAT for each of the options' formats
// (png, svg) and returns the files written.
func Save(p *plot.Plot, path string, square bool, opt Options) ([]string, error) {
	opt = opt.withDefaults()
	w, h := opt.Width, opt.Height
	if square {
		w = squareWidth(opt)
	}
	var files []string
	for _, f := range opt.Formats {
		wt, err := p.WriterTo(w, h, f)
		if err != nil {
			return nil, fmt.Errorf("plot %s: %w", filepath.Base(path), err)
		}
		name := path + "." + f
		if err := writeFile(name, func(out io.Writer) error { _, err := wt.WriteTo(out); return err }); err != nil {
			return nil, err
		}
		files = append(files, name)
	}
	return files, nil
}
