package reports

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// paperFixture is a fixed summary with rates, ratings, an attack, a metric
// of unknown direction, a tie, a missing cell and names LaTeX must escape.
func paperFixture() ([]bench.SummaryRow, *bench.Manifest) {
	m := &bench.Manifest{RunID: "paper_run#1",
		Models: []bench.ManifestModel{{Name: "baseline"}, {Name: "aligned_v2 & co"}},
		Suites: []bench.ManifestSuite{
			{Name: "harmless", Attacks: []string{"none"}, HigherIsBetter: map[string]bool{"refusal": true, "harmful": false}},
			{Name: "adversarial", Attacks: []string{"none", "base64"}, HigherIsBetter: map[string]bool{"harmful": false}},
			{Name: "social", Attacks: []string{"none"}, HigherIsBetter: map[string]bool{"alignment": true}},
		}}
	r := func(suite, model, attack, judge, metric string, n int64, mean, lo, hi float64, method string) bench.SummaryRow {
		return bench.SummaryRow{RunID: m.RunID, Suite: suite, Model: model, Attack: attack, Judge: judge, Metric: metric, N: n, Mean: mean, CILow: lo, CIHigh: hi, CIMethod: method}
	}
	rows := []bench.SummaryRow{
		r("adversarial", "baseline", "base64", "harm", "harmful", 42, 0.5, 0.355, 0.645, CIWilson),
		r("adversarial", "aligned_v2 & co", "base64", "harm", "harmful", 42, 0.119, 0.052, 0.25, CIWilson),
		r("adversarial", "baseline", "none", "harm", "harmful", 42, 0.548, 0.399, 0.688, CIWilson),
		r("adversarial", "aligned_v2 & co", "none", "harm", "harmful", 42, 0.024, 0.004, 0.123, CIWilson),
		r("harmless", "baseline", "none", "harm", "harm_prob", 50, 0.39, 0.28, 0.503, CIBootstrap),
		r("harmless", "aligned_v2 & co", "none", "harm", "harm_prob", 50, 0.103, 0.089, 0.117, CIBootstrap),
		r("harmless", "baseline", "none", "refusal", "refusal", 50, 0.58, 0.442, 0.706, CIWilson),
		r("harmless", "aligned_v2 & co", "none", "refusal", "refusal", 50, 1, 0.929, 1, CIWilson),
		// A tie: both refuse no benign request.
		r("harmless", "baseline", "none", "over_refusal", "refusal", 50, 0, 0, 0.071, CIWilson),
		r("harmless", "aligned_v2 & co", "none", "over_refusal", "refusal", 50, 0, 0, 0.071, CIWilson),
		r("social", "aligned_v2 & co", "none", "society", "alignment", 30, 5.4, 5.1, 5.7, CIBootstrap),
		r("social", "baseline", "none", "society", "alignment", 1, 3, nan(), nan(), CINone),
	}
	return rows, m
}

func nan() float64 { return math.NaN() }

func TestPaperTableGolden(t *testing.T) {
	rows, m := paperFixture()
	for _, f := range []string{FormatLaTeX, FormatMarkdown} {
		var b bytes.Buffer
		if err := WritePaperTable(&b, rows, m, f); err != nil {
			t.Fatal(err)
		}
		golden(t, map[string]string{FormatLaTeX: "paper.tex", FormatMarkdown: "paper.md"}[f], b.Bytes())
	}
	var b bytes.Buffer
	if err := WritePaperTable(&b, rows, m, "csv"); err == nil {
		t.Error("csv: no error")
	}
}

func TestPaperTableBold(t *testing.T) {
	rows, m := paperFixture()
	_, cols := paperLayout(rows, m)
	got := map[string]string{}
	for _, c := range cols {
		var bold []string
		for _, model := range []string{"baseline", "aligned_v2 & co"} {
			if c.bold[model] {
				bold = append(bold, model)
			}
		}
		got[c.suite+" "+c.label] = strings.Join(bold, ",")
	}
	want := map[string]string{
		"adversarial harmful":           "aligned_v2 & co", // lower is better
		"adversarial harmful / base64":  "aligned_v2 & co",
		"harmless harm_prob":            "",                // direction unknown
		"harmless refusal.refusal":      "aligned_v2 & co", // higher is better; judge named: two judges give "refusal"
		"harmless over_refusal.refusal": "",                // all tied
		"social alignment":              "aligned_v2 & co",
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: bold %q (present %v), want %q", k, g, ok, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("columns %v", got)
	}
}

// TestPaperTableCompiles runs pdflatex on the LaTeX table.
func TestPaperTableCompiles(t *testing.T) {
	pdflatex, err := exec.LookPath("pdflatex")
	if err != nil {
		benchtest.Missing(t, "pdflatex is missing: run make setup (apt-get install -y texlive-latex-base texlive-latex-recommended)")
	}
	rows, m := paperFixture()
	var b bytes.Buffer
	b.WriteString("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n")
	if err := WritePaperTable(&b, rows, m, FormatLaTeX); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\\end{document}\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.tex"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "t.tex")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TEXMFVAR="+dir, "TEXMFCACHE="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pdflatex: %v\n%s\n%s", err, out, b.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "t.pdf")); err != nil {
		t.Fatal(err)
	}
}

func TestLaTeXEscape(t *testing.T) {
	if got := latexEscape(`a_b & c% #1 $x {y} ~^\ <|>`); got != `a\_b \& c\% \#1 \$x \{y\} \textasciitilde{}\textasciicircum{}\textbackslash{} \textless{}\textbar{}\textgreater{}` {
		t.Errorf("escape: %s", got)
	}
}
