package judgeeval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// Formats are the formats Render writes.
var Formats = []string{"text", "markdown", "latex", "json"}

// Render writes the report in a format: "text" (the default), "markdown",
// "latex" or "json".
func (r *Report) Render(w io.Writer, format string) error {
	switch format {
	case "", "text":
		return r.renderText(w)
	case "markdown":
		return r.renderTable(w, markdown)
	case "latex":
		return r.renderTable(w, latex)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats, ", "))
}

// pct formats a rate as a percentage with one decimal, and its interval.
func pct(iv Interval) string {
	if math.IsNaN(iv.Value) {
		return "–"
	}
	return fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*iv.Value, 100*iv.Lo, 100*iv.Hi)
}

func kappa(iv Interval) string {
	switch {
	case math.IsNaN(iv.Value):
		return "–"
	case math.IsNaN(iv.Lo):
		return fmt.Sprintf("%.3f [–]", iv.Value)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", iv.Value, iv.Lo, iv.Hi)
}

func pvalue(p *float64) string {
	if p == nil {
		return ""
	}
	switch {
	case *p < 0.0001:
		return fmt.Sprintf("%.1e", *p)
	case *p < 0.001:
		return fmt.Sprintf("%.4f", *p)
	}
	return fmt.Sprintf("%.3f", *p)
}

// header is the heading of the figures table.
var header = []string{"rater", "n", "agreement", "κ", "FPR", "FNR", "TP", "FP", "FN", "TN", "McNemar p vs judge"}

func (f Figures) cells() []string {
	return []string{f.Rater, fmt.Sprint(f.N), pct(f.Agreement), kappa(f.Kappa), pct(f.FPR), pct(f.FNR),
		fmt.Sprint(f.TP), fmt.Sprint(f.FP), fmt.Sprint(f.FN), fmt.Sprint(f.TN), pvalue(f.McNemar)}
}

func (r *Report) rows() [][]string {
	out := [][]string{r.JudgeFigures.cells()}
	for _, f := range r.References {
		out = append(out, f.cells())
	}
	return out
}

func (r *Report) caption() string {
	verdict := fmt.Sprintf("verdict: %s ≥ %g", r.Metric, r.Threshold)
	if r.Invert {
		verdict = fmt.Sprintf("verdict: 1 − (%s ≥ %g)", r.Metric, r.Threshold)
	}
	s := fmt.Sprintf("judge %s on %s against %s (positive = 1; %s); %d of %d rows judged", r.Judge, r.File, r.Label, verdict, r.Judged, r.Rows)
	if r.Failed > 0 {
		s += fmt.Sprintf(", %d failed", r.Failed)
	}
	return s
}

const footnote = "Intervals are 95%: Wilson for agreement, FPR and FNR; Fleiss–Cohen–Everitt for κ. McNemar p is exact (binomial), two-sided, on the rows the judge and the reference got differently right."

func (r *Report) renderText(w io.Writer) error {
	rows := append([][]string{header}, r.rows()...)
	width := make([]int, len(header))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	fmt.Fprintln(&b, r.caption())
	if r.Failed > 0 {
		fmt.Fprintf(&b, "first failure: %s\n", r.FirstError)
	}
	b.WriteByte('\n')
	var lb strings.Builder
	for _, row := range rows {
		for i, c := range row {
			if i > 0 {
				lb.WriteString("  ")
			}
			pad := width[i] - len([]rune(c))
			if i == 0 {
				lb.WriteString(c + strings.Repeat(" ", pad))
			} else {
				lb.WriteString(strings.Repeat(" ", pad) + c)
			}
		}
		line := strings.TrimRight(lb.String(), " ")
		lb.Reset()
		b.WriteString(line + "\n")
	}
	f := r.JudgeFigures
	fmt.Fprintf(&b, "\nconfusion matrix of judge %s (rows: %s, columns: judge)\n", r.Judge, r.Label)
	fmt.Fprintf(&b, "%-8s %9s %9s\n", "", "judge 0", "judge 1")
	fmt.Fprintf(&b, "%-8s %9d %9d\n", "label 0", f.TN, f.FP)
	fmt.Fprintf(&b, "%-8s %9d %9d\n", "label 1", f.FN, f.TP)
	fmt.Fprintf(&b, "\n%s\n", footnote)
	_, err := io.WriteString(w, b.String())
	return err
}

type dialect struct {
	escape      func(string) string
	begin, end  func(cols int, caption string) string
	row         func(cells []string) string
	afterHeader string
	confusion   func(f Figures, judge, label string) string
	footnote    func(string) string
}

var markdown = dialect{
	escape: func(s string) string { return strings.ReplaceAll(s, "|", `\|`) },
	begin:  func(int, string) string { return "" },
	end:    func(int, string) string { return "" },
	row: func(cells []string) string {
		return "| " + strings.Join(cells, " | ") + " |\n"
	},
	afterHeader: "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
	confusion: func(f Figures, judge, label string) string {
		return fmt.Sprintf("\nConfusion matrix of judge %s (rows: %s):\n\n|  | judge 0 | judge 1 |\n|---|--:|--:|\n| label 0 | %d | %d |\n| label 1 | %d | %d |\n",
			judge, label, f.TN, f.FP, f.FN, f.TP)
	},
	footnote: func(s string) string { return "\n" + s + "\n" },
}

var latexEscaper = strings.NewReplacer(`\`, `\textbackslash{}`, "_", `\_`, "%", `\%`, "&", `\&`, "#", `\#`, "$", `\$`, "{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "|", `\textbar{}`, "^", `\textasciicircum{}`, "κ", `$\kappa$`, "–", "--", "≥", `$\geq$`, "−", "$-$")

var latex = dialect{
	escape: func(s string) string { return latexEscaper.Replace(s) },
	begin: func(cols int, caption string) string {
		return "\\begin{table}[t]\n\\centering\n\\caption{" + caption + "}\n\\begin{tabular}{l" + strings.Repeat("r", cols-1) + "}\n\\toprule\n"
	},
	end: func(int, string) string { return "\\bottomrule\n\\end{tabular}\n\\end{table}\n" },
	row: func(cells []string) string {
		return strings.Join(cells, " & ") + " \\\\\n"
	},
	afterHeader: "\\midrule\n",
	confusion: func(f Figures, judge, label string) string {
		return fmt.Sprintf("\n\\begin{tabular}{lrr}\n\\toprule\n & judge 0 & judge 1 \\\\\n\\midrule\nlabel 0 & %d & %d \\\\\nlabel 1 & %d & %d \\\\\n\\bottomrule\n\\end{tabular}\n",
			f.TN, f.FP, f.FN, f.TP)
	},
	footnote: func(s string) string { return "% " + s + "\n" },
}

func (r *Report) renderTable(w io.Writer, d dialect) error {
	var b strings.Builder
	caption := d.escape(r.caption())
	if d.begin(len(header), caption) == "" {
		fmt.Fprintf(&b, "%s\n\n", caption)
	}
	b.WriteString(d.begin(len(header), caption))
	esc := func(cells []string) []string {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = d.escape(c)
		}
		return out
	}
	b.WriteString(d.row(esc(header)))
	b.WriteString(d.afterHeader)
	for _, row := range r.rows() {
		b.WriteString(d.row(esc(row)))
	}
	b.WriteString(d.end(len(header), caption))
	b.WriteString(d.confusion(r.JudgeFigures, d.escape(r.Judge), d.escape(r.Label)))
	b.WriteString(d.footnote(d.escape(footnote)))
	_, err := io.WriteString(w, b.String())
	return err
}
