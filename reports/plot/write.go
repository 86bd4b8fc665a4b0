package plot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/atomicfile"
	"github.com/mores-eval/mores/reports"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Load reads what the figures of a run directory need: its summary
// (summary.parquet, computed from scores.parquet when missing) and, from
// its manifest, the order of its models and attacks, filled into opt where
// opt leaves them empty.
func Load(dir string, opt Options) ([]bench.SummaryRow, Options, error) {
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return nil, opt, err
	}
	if len(opt.Models) == 0 {
		for _, mm := range m.Models {
			opt.Models = append(opt.Models, mm.Name)
		}
	}
	if len(opt.Suites) == 0 {
		for _, s := range m.Suites {
			opt.Suites = append(opt.Suites, s.Name)
		}
	}
	if len(opt.Attacks) == 0 {
		for _, s := range m.Suites {
			for _, a := range s.Attacks {
				if !slices.Contains(opt.Attacks, a) {
					opt.Attacks = append(opt.Attacks, a)
				}
			}
		}
	}
	var rows []bench.SummaryRow
	if _, serr := os.Stat(filepath.Join(dir, bench.SummaryFile)); serr == nil {
		rows, err = reports.ReadSummary(dir)
	} else {
		rows, err = reports.Summarize(dir, reports.SummaryOptions{Seed: uint64(m.Seed)})
	}
	return rows, opt, err
}

// Figures returns every figure the summary rows have data for, in a stable
// order: per suite, the metric bars of each judge and metric, the attack
// success rate, the alignment–engagement planes and the win-rate heatmaps.
func Figures(rows []bench.SummaryRow, opt Options) ([]Figure, error) {
	opt = opt.withDefaults()
	names := map[string]int{}
	unique := func(parts ...string) string {
		n := fileName(parts...)
		names[n]++
		if c := names[n]; c > 1 {
			n = fmt.Sprintf("%s-%d", n, c)
		}
		return n
	}
	var figs []Figure
	add := func(f Figure, err error) error {
		if errors.Is(err, ErrNoData) {
			return nil
		}
		if err != nil {
			return err
		}
		f.Title = f.Plot.Title.Text
		if f.Width == 0 {
			f.Width, f.Height = opt.Width, opt.Height
		}
		figs = append(figs, f)
		return nil
	}
	suites := order(rows, func(r bench.SummaryRow) string { return r.Suite }, opt.Suites, "")
	for _, suite := range suites {
		var sel []bench.SummaryRow
		for _, r := range rows {
			if r.Suite == suite {
				sel = append(sel, r)
			}
		}
		type jm struct{ judge, metric string }
		var jms []jm
		seen := map[jm]bool{}
		for _, r := range sel {
			k := jm{r.Judge, r.Metric}
			if !seen[k] {
				seen[k] = true
				jms = append(jms, k)
			}
		}
		for _, k := range jms {
			p, err := MetricBars(rows, suite, k.judge, k.metric, opt)
			if err := add(Figure{Name: unique("metric", suite, k.judge, k.metric), Kind: KindMetric,
				Suite: suite, Judge: k.judge, Metric: k.metric, Plot: p}, err); err != nil {
				return nil, err
			}
		}
		p, src, err := AttackSuccess(rows, suite, opt)
		if err := add(Figure{Name: unique("attack-success", suite), Kind: KindAttackSuccess,
			Suite: suite, Judge: src.Judge, Metric: src.Metric, Plot: p}, err); err != nil {
			return nil, err
		}
		// The alignment–engagement planes: one per judge and attack.
		type ja struct{ judge, attack string }
		var jas []ja
		seenJA := map[ja]bool{}
		for _, r := range sel {
			k := ja{r.Judge, r.Attack}
			if r.Metric == "alignment" && !seenJA[k] {
				seenJA[k] = true
				jas = append(jas, k)
			}
		}
		for _, k := range jas {
			p, err := AlignmentEngagement(rows, suite, k.judge, k.attack, opt)
			parts := []string{"alignment-engagement", suite, k.judge}
			if k.attack != "none" {
				parts = append(parts, k.attack)
			}
			if err := add(Figure{Name: unique(parts...), Kind: KindAlignmentEngagement, Suite: suite,
				Judge: k.judge, Attack: k.attack, Plot: p, Width: squareWidth(opt), Height: opt.Height}, err); err != nil {
				return nil, err
			}
		}
		var bases []string
		for _, r := range sel {
			if base, _, ok := pairJudge(r.Judge); ok && r.Metric == "win" && !slices.Contains(bases, base) {
				bases = append(bases, base)
			}
		}
		for _, base := range bases {
			p, err := WinRates(rows, suite, base, opt)
			if err := add(Figure{Name: unique("win-rate", suite, base), Kind: KindWinRate, Suite: suite,
				Judge: base, Metric: "win", Plot: p, Width: squareWidth(opt), Height: opt.Height}, err); err != nil {
				return nil, err
			}
		}
	}
	return figs, nil
}

// fileName joins parts into a file name of letters, digits, '.', '_' and
// '-' only.
func fileName(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('_')
		}
		dash := false
		for _, r := range p {
			ok := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
			if ok {
				b.WriteRune(r)
				dash = false
			} else if !dash {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return b.String()
}

// Render draws p at width × height in format ("png" at opt.DPI, or "svg")
// to w. SVG text names the Liberation fonts the plot was laid out with and
// falls back to their metric-compatible equivalents (Arial, Helvetica).
func Render(w io.Writer, p *plot.Plot, width, height vg.Length, format string, opt Options) error {
	opt = opt.withDefaults()
	switch format {
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(opt.DPI))
		p.Draw(draw.New(c))
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	case "svg":
		c := vgsvg.New(width, height)
		p.Draw(draw.New(c))
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			return err
		}
		_, err := w.Write(svgFontFallback(buf.Bytes()))
		return err
	}
	return &bench.InputError{File: "plot format", Msg: fmt.Sprintf("unknown format %q (known: png, svg)", format)}
}

var fontFallbacks = strings.NewReplacer(
	"font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;",
	"font-family:Liberation Serif;", "font-family:'Liberation Serif','Times New Roman',Times,serif;",
	"font-family:Liberation Mono;", "font-family:'Liberation Mono','Courier New',monospace;",
)

func svgFontFallback(b []byte) []byte { return []byte(fontFallbacks.Replace(string(b))) }

// WriteAll writes every figure of the run directory dir into outDir, one
// file per figure and format (PNG and SVG by default), and returns the
// paths written.
func WriteAll(dir, outDir string, opt Options) ([]string, error) {
	rows, opt, err := Load(dir, opt)
	if err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	for _, f := range opt.Formats {
		if f != "png" && f != "svg" {
			return nil, &bench.InputError{File: "plot format", Msg: fmt.Sprintf("unknown format %q (known: png, svg)", f)}
		}
	}
	figs, err := Figures(rows, opt)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, f := range figs {
		for _, format := range opt.Formats {
			path := filepath.Join(outDir, f.Name+"."+format)
			if err := writeFile(path, func(w io.Writer) error { return Render(w, f.Plot, f.Width, f.Height, format, opt) }); err != nil {
				return files, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

// writeFile writes path atomically.
func writeFile(path string, fill func(io.Writer) error) error {
	return atomicfile.WriteFile(path, 0o644, fill)
}
