package reports

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mores-eval/mores/bench"
)

// FormatLaTeX is the LaTeX format of `mores report`.
const FormatLaTeX = "latex"

// percentMetrics are metrics whose values are shares in [0, 1] even when
// they are not 0/1 (a win with ties counted as half or weighted, a
// probability of harm, a verdict flip rate): paper tables show them in percent like the
// 0/1 rates.
var percentMetrics = map[string]bool{"win": true, "discrete_win": true, "harm_prob": true, "flip": true}

// paperColumn is one column of a paper table: a suite × judge × metric ×
// attack.
type paperColumn struct {
	suite, judge, metric, attack string
	label                        string // metric, with the judge when ambiguous and the attack when not none
	percent                      bool
	dir                          Direction
	cells                        map[string]bench.SummaryRow // by model
	bold                         map[string]bool
}

// WritePaperTable renders a run's summary as a table for a paper, in LaTeX
// (booktabs) or Markdown: one row per model (in the manifest's order), one
// column per suite × metric, and per attack when the attack is not "none"
// (suites in the manifest's order; for each suite its metrics, then its
// attacks with "none" first).
//
// A cell is "mean ± h", where h is half the width of the 95% confidence
// interval of summary.parquet (Wilson for 0/1 metrics, so for a rate near
// 0 or 1 the interval is not symmetric about the mean and h is its average
// half-width; a rate whose mean ± h would pass 0% or 100% shows the
// interval instead: 0.0 [0.0, 7.2]). Rates — 0/1 metrics, and the shares
// win, discrete_win, harm_prob and flip — are shown in percent with one
// decimal (82.0 ± 5.1, the header says %); other metrics, such as 1–7 ratings, with two
// decimals. Models without any summary row get no row. A cell without an
// interval (one value) shows the mean alone, a missing one a dash.
//
// The best cell of each column is bold when the suite says which direction
// is better (higher_is_better in the manifest; the header shows ↑ or ↓):
// all cells whose displayed mean equals the best are bold, and none when
// every cell shows the same mean or the direction is unknown.
//
// The LaTeX table needs \usepackage{booktabs}; names are escaped.
func WritePaperTable(w io.Writer, rows []bench.SummaryRow, m *bench.Manifest, format string) error {
	if format != FormatLaTeX && format != FormatMarkdown {
		return &bench.InputError{File: "--format", Msg: fmt.Sprintf("unknown paper table format %q (known: latex, markdown)", format)}
	}
	models, cols := paperLayout(rows, m)
	runID := ""
	if m != nil {
		runID = m.RunID
	}
	if format == FormatLaTeX {
		return writeLaTeX(w, runID, models, cols)
	}
	return writePaperMarkdown(w, models, cols)
}

// paperLayout orders the models and columns of a paper table and marks the
// best cells.
func paperLayout(rows []bench.SummaryRow, m *bench.Manifest) ([]string, []*paperColumn) {
	var models []string
	suiteRank := map[string]int{}
	attackRank := map[string]map[string]int{}
	dirs := map[string]map[string]bool{}
	if m != nil {
		for _, mm := range m.Models {
			models = append(models, mm.Name)
		}
		for i, s := range m.Suites {
			suiteRank[s.Name] = i
			attackRank[s.Name] = map[string]int{}
			for j, a := range s.Attacks {
				attackRank[s.Name][a] = j
			}
			dirs[s.Name] = s.HigherIsBetter
		}
	}
	for _, r := range rows {
		if !slices.Contains(models, r.Model) {
			models = append(models, r.Model)
		}
	}
	// A model without any summary row (a reference whose outputs were
	// only compared with) gets no row.
	models = slices.DeleteFunc(models, func(name string) bool {
		return !slices.ContainsFunc(rows, func(r bench.SummaryRow) bool { return r.Model == name })
	})
	type ck struct{ suite, judge, metric, attack string }
	byKey := map[ck]*paperColumn{}
	var cols []*paperColumn
	judgesOf := map[[2]string]map[string]bool{} // suite, metric → judges
	for _, r := range rows {
		k := ck{r.Suite, r.Judge, r.Metric, r.Attack}
		c := byKey[k]
		if c == nil {
			c = &paperColumn{suite: r.Suite, judge: r.Judge, metric: r.Metric, attack: r.Attack, cells: map[string]bench.SummaryRow{}, bold: map[string]bool{}}
			byKey[k] = c
			cols = append(cols, c)
		}
		c.cells[r.Model] = r
		jk := [2]string{r.Suite, r.Metric}
		if judgesOf[jk] == nil {
			judgesOf[jk] = map[string]bool{}
		}
		judgesOf[jk][r.Judge] = true
	}
	rank := func(name string, ranks map[string]int) int {
		if i, ok := ranks[name]; ok {
			return i
		}
		return len(ranks)
	}
	slices.SortStableFunc(cols, func(a, b *paperColumn) int {
		if d := rank(a.suite, suiteRank) - rank(b.suite, suiteRank); d != 0 {
			return d
		}
		if a.suite != b.suite {
			return strings.Compare(a.suite, b.suite)
		}
		if a.judge != b.judge || a.metric != b.metric {
			return strings.Compare(a.judge+"\x00"+a.metric, b.judge+"\x00"+b.metric)
		}
		ar, br := rank(a.attack, attackRank[a.suite]), rank(b.attack, attackRank[b.suite])
		if a.attack == "none" {
			ar = -1
		}
		if b.attack == "none" {
			br = -1
		}
		if ar != br {
			return ar - br
		}
		return strings.Compare(a.attack, b.attack)
	})
	for _, c := range cols {
		c.label = c.metric
		if len(judgesOf[[2]string{c.suite, c.metric}]) > 1 {
			c.label = c.judge + "." + c.metric
		}
		if c.attack != "" && c.attack != "none" {
			c.label += " / " + c.attack
		}
		c.percent = percentMetrics[c.metric]
		if !c.percent {
			c.percent = true
			for _, r := range c.cells {
				if r.CIMethod != CIWilson && r.CIMethod != CIClusterWilson {
					c.percent = false
				}
			}
		}
		if hib, ok := dirs[c.suite][c.metric]; ok {
			c.dir = LowerIsBetter
			if hib {
				c.dir = HigherIsBetter
			}
		}
		markBest(c)
	}
	return models, cols
}

// display returns the mean and half-width of a cell as shown, and whether
// the cell has a mean.
func (c *paperColumn) display(r bench.SummaryRow) (mean, half string, ok bool) {
	if r.N == 0 || math.IsNaN(r.Mean) {
		return "", "", false
	}
	scale, prec := 1.0, 2
	if c.percent {
		scale, prec = 100, 1
	}
	mean = strconv.FormatFloat(r.Mean*scale, 'f', prec, 64)
	if !math.IsNaN(r.CILow) && !math.IsNaN(r.CIHigh) {
		h := (r.CIHigh - r.CILow) / 2
		half = strconv.FormatFloat(h*scale, 'f', prec, 64)
		if c.percent && (r.Mean-h < 0 || r.Mean+h > 1) {
			// "0.0 ± 3.6" would reach below 0%: the interval itself is
			// shown, [0.0, 7.2].
			half = "[" + strconv.FormatFloat(r.CILow*scale, 'f', prec, 64) + ", " + strconv.FormatFloat(r.CIHigh*scale, 'f', prec, 64) + "]"
		}
	}
	return mean, half, true
}

// withSpread appends the spread of a cell to its mean: " ± h" (pm in
// LaTeX), or " [low, high]" for a rate whose ± would leave 0–100%.
func withSpread(mean, half, pm string) string {
	switch {
	case half == "":
		return mean
	case strings.HasPrefix(half, "["):
		return mean + " " + half
	}
	return mean + " " + pm + " " + half
}

// markBest bolds the cells whose displayed mean is the best of the column.
func markBest(c *paperColumn) {
	if c.dir == DirectionUnknown {
		return
	}
	vals := map[string]float64{}
	for model, r := range c.cells {
		if s, _, ok := c.display(r); ok {
			v, _ := strconv.ParseFloat(s, 64)
			vals[model] = v
		}
	}
	if len(vals) < 2 {
		return
	}
	best := math.Inf(-1)
	if c.dir == LowerIsBetter {
		best = math.Inf(1)
	}
	allSame := true
	first := true
	var firstV float64
	for _, v := range vals {
		if first {
			firstV, first = v, false
		} else if v != firstV {
			allSame = false
		}
		if c.dir == HigherIsBetter && v > best || c.dir == LowerIsBetter && v < best {
			best = v
		}
	}
	if allSame {
		return
	}
	for model, v := range vals {
		if v == best {
			c.bold[model] = true
		}
	}
}

// latexEscape escapes the characters LaTeX treats specially in text.
func latexEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\textbackslash{}`)
		case '&', '%', '$', '#', '_', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '~':
			b.WriteString(`\textasciitilde{}`)
		case '^':
			b.WriteString(`\textasciicircum{}`)
		case '<':
			b.WriteString(`\textless{}`)
		case '>':
			b.WriteString(`\textgreater{}`)
		case '|':
			b.WriteString(`\textbar{}`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func writeLaTeX(w io.Writer, runID string, models []string, cols []*paperColumn) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%% Generated by mores from run %s. Needs \\usepackage{booktabs}.\n", strings.ReplaceAll(runID, "\n", " "))
	b.WriteString("\\begin{table}[t]\n\\centering\n")
	fmt.Fprintf(&b, "\\caption{Results of run %s: mean $\\pm$ half-width of the 95\\%% confidence interval (Wilson for rates, bootstrap otherwise); rates in percent; best of each column in bold ($\\uparrow$ higher is better, $\\downarrow$ lower is better).}\n", latexEscape(runID))
	label := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == ':' {
			return r
		}
		return '-'
	}, runID)
	fmt.Fprintf(&b, "\\label{tab:mores-%s}\n", label)
	fmt.Fprintf(&b, "\\begin{tabular}{l%s}\n\\toprule\n", strings.Repeat("r", len(cols)))
	// Suite header with spans.
	type span struct {
		suite    string
		from, to int
	}
	var spans []span
	for i, c := range cols {
		if len(spans) > 0 && spans[len(spans)-1].suite == c.suite {
			spans[len(spans)-1].to = i + 2
			continue
		}
		spans = append(spans, span{c.suite, i + 2, i + 2})
	}
	for _, s := range spans {
		fmt.Fprintf(&b, " & \\multicolumn{%d}{c}{%s}", s.to-s.from+1, latexEscape(s.suite))
	}
	b.WriteString(" \\\\\n")
	for i, s := range spans {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "\\cmidrule(lr){%d-%d}", s.from, s.to)
	}
	b.WriteString("\nModel")
	for _, c := range cols {
		h := latexEscape(c.label)
		if c.percent {
			h += " (\\%)"
		}
		switch c.dir {
		case HigherIsBetter:
			h += " $\\uparrow$"
		case LowerIsBetter:
			h += " $\\downarrow$"
		}
		b.WriteString(" & " + h)
	}
	b.WriteString(" \\\\\n\\midrule\n")
	for _, model := range models {
		b.WriteString(latexEscape(model))
		for _, c := range cols {
			cell := "---"
			if r, ok := c.cells[model]; ok {
				if mean, half, ok := c.display(r); ok {
					cell = withSpread(mean, half, "$\\pm$")
					if c.bold[model] {
						cell = "\\textbf{" + cell + "}"
					}
				}
			}
			b.WriteString(" & " + cell)
		}
		b.WriteString(" \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writePaperMarkdown(w io.Writer, models []string, cols []*paperColumn) error {
	var b strings.Builder
	b.WriteString("| Model |")
	for _, c := range cols {
		h := mdEscape(c.suite) + " · " + mdEscape(c.label)
		if c.percent {
			h += " (%)"
		}
		switch c.dir {
		case HigherIsBetter:
			h += " ↑"
		case LowerIsBetter:
			h += " ↓"
		}
		b.WriteString(" " + h + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|", len(cols)) + "\n")
	for _, model := range models {
		b.WriteString("| " + mdEscape(model) + " |")
		for _, c := range cols {
			cell := "—"
			if r, ok := c.cells[model]; ok {
				if mean, half, ok := c.display(r); ok {
					cell = withSpread(mean, half, "±")
					if c.bold[model] {
						cell = "**" + cell + "**"
					}
				}
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\nMean ± half-width of the 95% confidence interval (Wilson for rates, bootstrap otherwise; [low, high] where ± would pass 0% or 100%); rates in percent; best of each column in bold (↑ higher is better, ↓ lower is better).\n")
	_, err := io.WriteString(w, b.String())
	return err
}
