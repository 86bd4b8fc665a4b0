package html

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/reports"
	mplot "github.com/mores-eval/mores/reports/plot"
)

// Options are the parameters of the report.
type Options struct {
	// Title is the page title (default "Mores report — RUN_ID").
	Title string
	// MaxText caps every embedded text (response, prompt, reason, error)
	// at this many characters, with a note saying how many more the
	// Parquet files hold (default 4000; negative: no cap).
	MaxText int
	// PageSize is the number of trials per page of the sample browser
	// (default 50).
	PageSize int
	// Sample is the number of trials the sample browser holds (default
	// DefaultSample; negative: every trial, in memory that grows with the
	// run). A larger run is sampled: the trials whose keys hash lowest, the
	// same for every report of the run; the counts of its filters are
	// exact over every trial.
	Sample int
	// Plots sets the size of the figures.
	Plots mplot.Options
	// NoPlots leaves the figures out.
	NoPlots bool
	// CompressAbove is the size of the browser's JSON data above which it
	// is embedded gzip-compressed (base64 in a JSON string, inflated in the
	// page with DecompressionStream): default 1 MiB; negative: never.
	CompressAbove int
}

// DefaultMaxText is the default cap of embedded texts.
const DefaultMaxText = 4000

//go:embed report.js
var reportJS string

//go:embed report.css
var reportCSS string

//go:embed report.html.tmpl
var pageTemplate string

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": fmtNum,
}).Parse(pageTemplate))

// cspHash returns the CSP source expression of an inline script or style.
func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

// ContentSecurityPolicy is the policy of the report: nothing loads from
// anywhere; the one inline script and the one inline style run because
// their hashes are listed; images only from data: URIs (the plots).
func ContentSecurityPolicy() string {
	return "default-src 'none'; script-src " + cspHash(reportJS) + "; style-src " + cspHash(reportCSS) +
		"; img-src data:; base-uri 'none'; form-action 'none'"
}

type figureView struct {
	Title string
	Src   template.URL
	Kind  string
}

type summaryCell struct {
	Text string
	Best bool
}

type summaryRowView struct {
	Suite, Metric, Attack string
	Cells                 []summaryCell
	N                     int64
}

type pageView struct {
	Title    string
	CSP      string
	CSS      template.CSS
	JS       template.JS
	Data     template.JS
	Manifest *bench.Manifest
	Started  string
	Finished string
	Models   []string
	Summary  []summaryRowView
	Figures  []figureView
	Trials   int
	// Total is the number of trials of the run, Trials of them in the
	// sample browser; Dir is the run directory.
	Total int64
	Dir   string
	// Paper holds the paper tables of reports.WritePaperTable, by format.
	Paper []paperTable
}

type paperTable struct {
	Format, Text string
}

// Write renders the report of the run directory dir: one self-contained
// HTML file (no network access: the plots are inlined as data: URIs, the
// script and the stylesheet are inline and allowed by their hashes in a
// strict Content-Security-Policy). It holds the run's manifest, the
// summary table (mean and 95% CI per suite × metric × attack and model,
// the best in bold where the suite says which direction is better), the
// figures, and a browser of every trial with its prompt, response, scores
// and judges' reasons, filtered by suite, model, attack and verdict.
//
// Model output is untrusted: the page is produced with html/template and
// the trials travel as JSON in a <script type="application/json"> element
// (with <, > and & escaped) that the script renders with textContent only.
func Write(w io.Writer, dir string, opt Options) error {
	if opt.MaxText == 0 {
		opt.MaxText = DefaultMaxText
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 50
	}
	rows, popt, err := mplot.Load(dir, opt.Plots)
	if err != nil {
		return err
	}
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return err
	}
	v := pageView{
		Title:    opt.Title,
		CSP:      ContentSecurityPolicy(),
		CSS:      template.CSS(reportCSS),
		JS:       template.JS(reportJS),
		Manifest: m,
		Started:  fmtTime(m.StartedAt),
	}
	if v.Title == "" {
		v.Title = "Mores report — " + m.RunID
	}
	if m.FinishedAt != nil {
		v.Finished = fmtTime(*m.FinishedAt)
	}
	v.Models, v.Summary = summaryView(rows, m, popt.Models)
	for _, f := range []string{reports.FormatMarkdown, reports.FormatLaTeX} {
		var buf bytes.Buffer
		if err := reports.WritePaperTable(&buf, rows, m, f); err != nil {
			return err
		}
		v.Paper = append(v.Paper, paperTable{Format: f, Text: buf.String()})
	}
	if !opt.NoPlots {
		figs, err := mplot.Figures(rows, popt)
		if err != nil {
			return err
		}
		for _, f := range figs {
			var buf bytes.Buffer
			if err := mplot.Render(&buf, f.Plot, f.Width, f.Height, "svg", popt); err != nil {
				return err
			}
			v.Figures = append(v.Figures, figureView{Title: f.Title, Kind: f.Kind,
				Src: template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))})
		}
	}
	if _, err := os.Stat(filepath.Join(dir, bench.ResponsesFile)); err != nil {
		return &bench.InputError{File: filepath.Join(dir, bench.ResponsesFile), Msg: "missing: the run has no results yet"}
	}
	var suites []string
	for _, s := range m.Suites {
		suites = append(suites, s.Name)
	}
	if opt.Sample == 0 {
		opt.Sample = DefaultSample
	}
	d, err := collect(dir, opt.MaxText, opt.PageSize, opt.Sample, popt.Models, suites)
	if err != nil {
		return err
	}
	data, err := marshalData(d)
	if err != nil {
		return err
	}
	if opt.CompressAbove == 0 {
		opt.CompressAbove = 1 << 20
	}
	if opt.CompressAbove > 0 && len(data) > opt.CompressAbove {
		if data, err = compress(data); err != nil {
			return err
		}
	}
	v.Data = template.JS(data)
	v.Trials = d.N
	v.Total = d.Total
	v.Dir = dir
	return pageTmpl.Execute(w, v)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func fmtNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// summaryView lays the summary out wide: one row per suite × judge.metric ×
// attack, one column per model.
func summaryView(rows []bench.SummaryRow, m *bench.Manifest, order []string) ([]string, []summaryRowView) {
	var models []string
	for _, r := range rows {
		if !slices.Contains(models, r.Model) {
			models = append(models, r.Model)
		}
	}
	rank := func(s string) int {
		if i := slices.Index(order, s); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(models, func(a, b string) int { return rank(a) - rank(b) })
	higher := map[string]map[string]bool{}
	for _, s := range m.Suites {
		higher[s.Name] = s.HigherIsBetter
	}
	type key struct{ suite, judge, metric, attack string }
	byKey := map[key]map[string]bench.SummaryRow{}
	var keys []key
	for _, r := range rows {
		k := key{r.Suite, r.Judge, r.Metric, r.Attack}
		if byKey[k] == nil {
			byKey[k] = map[string]bench.SummaryRow{}
			keys = append(keys, k)
		}
		byKey[k][r.Model] = r
	}
	// Suites and attacks in the manifest's order, metrics as summarized.
	suiteRank, attackRank := map[string]int{}, map[string]map[string]int{}
	for i, s := range m.Suites {
		suiteRank[s.Name] = i
		attackRank[s.Name] = map[string]int{}
		for j, a := range s.Attacks {
			attackRank[s.Name][a] = j
		}
	}
	rankOf := func(ranks map[string]int, v string) int {
		if r, ok := ranks[v]; ok {
			return r
		}
		return len(ranks)
	}
	metricRank := map[key]int{}
	for i, k := range keys {
		mk := key{suite: k.suite, judge: k.judge, metric: k.metric}
		if _, ok := metricRank[mk]; !ok {
			metricRank[mk] = i
		}
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		return cmp.Or(
			cmp.Compare(rankOf(suiteRank, a.suite), rankOf(suiteRank, b.suite)),
			cmp.Compare(a.suite, b.suite),
			cmp.Compare(metricRank[key{suite: a.suite, judge: a.judge, metric: a.metric}], metricRank[key{suite: b.suite, judge: b.judge, metric: b.metric}]),
			cmp.Compare(rankOf(attackRank[a.suite], a.attack), rankOf(attackRank[b.suite], b.attack)),
			cmp.Compare(a.attack, b.attack))
	})
	var out []summaryRowView
	for _, k := range keys {
		row := summaryRowView{Suite: k.suite, Metric: k.judge + "." + k.metric, Attack: k.attack}
		dir, known := higher[k.suite][k.metric]
		best := math.NaN()
		if known {
			for _, r := range byKey[k] {
				if r.N == 0 || math.IsNaN(r.Mean) {
					continue
				}
				if math.IsNaN(best) || (dir && r.Mean > best) || (!dir && r.Mean < best) {
					best = r.Mean
				}
			}
		}
		for _, mod := range models {
			r, ok := byKey[k][mod]
			if !ok {
				row.Cells = append(row.Cells, summaryCell{})
				continue
			}
			c := summaryCell{Text: "—"}
			if r.N > 0 {
				c.Text = fmtNum(r.Mean)
				if !math.IsNaN(r.CILow) {
					c.Text += fmt.Sprintf(" [%s, %s]", fmtNum(r.CILow), fmtNum(r.CIHigh))
				}
				c.Best = len(byKey[k]) > 1 && r.Mean == best
			}
			row.Cells = append(row.Cells, c)
			row.N = max(row.N, r.N)
		}
		out = append(out, row)
	}
	return models, out
}
