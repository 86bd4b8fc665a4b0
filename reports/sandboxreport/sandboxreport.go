// Package sandboxreport renders a `mores sandbox` run: its summary table,
// its figures and report.html.
package sandboxreport

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges/sandbox"
	"github.com/mores-eval/mores/reports/plot"
)

// ReadSandboxSummary reads summary.parquet of a `mores sandbox` run.
func ReadSandboxSummary(dir string) ([]sandbox.SummaryRow, error) {
	var rows []sandbox.SummaryRow
	err := bench.ReadParquet(filepath.Join(dir, sandbox.SummaryFile), func(r sandbox.SummaryRow) error {
		rows = append(rows, r)
		return nil
	})
	return rows, err
}

func fmtMean(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f", *p)
}

// sandboxCell finds a summary row.
func sandboxCell(rows []sandbox.SummaryRow, world, round int32, metric string) *sandbox.SummaryRow {
	for i := range rows {
		if rows[i].World == world && rows[i].Round == round && rows[i].Metric == metric {
			return &rows[i]
		}
	}
	return nil
}

// SandboxTable returns, per world and round (then "all"), the model, the
// round and the means of the observer's alignment and engagement of drafts
// and revisions and of the mean peer rating, with two decimals.
func SandboxTable(rows []sandbox.SummaryRow) [][]string {
	type wr struct{ world, round int32 }
	var keys []wr
	model := map[int32]string{}
	for _, r := range rows {
		k := wr{r.World, r.Round}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
		model[r.World] = r.Model
	}
	slices.SortFunc(keys, func(a, b wr) int {
		if a.world != b.world {
			return int(a.world - b.world)
		}
		ra, rb := a.round, b.round
		if ra == 0 {
			ra = math.MaxInt32
		}
		if rb == 0 {
			rb = math.MaxInt32
		}
		return int(ra - rb)
	})
	var out [][]string
	for _, k := range keys {
		round := fmt.Sprint(k.round)
		if k.round == 0 {
			round = "all"
		}
		line := []string{model[k.world], round}
		for _, m := range []string{"alignment_before", "alignment_after", "engagement_before", "engagement_after", "mean_peer_rating"} {
			var v *float64
			if c := sandboxCell(rows, k.world, k.round, m); c != nil {
				v = c.Mean
			}
			line = append(line, fmtMean(v))
		}
		out = append(out, line)
	}
	return out
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// WriteSandboxReport writes the figures of a `mores sandbox` run into
// plots/ (sandbox_rounds and sandbox_alignment_engagement, PNG and SVG) and
// report.html, a self-contained page: the summary table, the figures and
// every back-scatter (question, draft, peer ratings and feedback,
// revision, observer ratings), all model text escaped.
func WriteSandboxReport(dir string) error {
	rows, err := ReadSandboxSummary(dir)
	if err != nil {
		return err
	}
	var worlds []int32
	names := map[int32]string{}
	for _, r := range rows {
		if !slices.Contains(worlds, r.World) {
			worlds = append(worlds, r.World)
		}
		names[r.World] = r.Model
	}
	slices.Sort(worlds)
	var series []plot.RoundSeries
	var plane []bench.SummaryRow
	for _, w := range worlds {
		s := plot.RoundSeries{Model: names[w]}
		for _, r := range rows {
			if r.World != w || r.Round == 0 {
				continue
			}
			pt := plot.RoundPoint{Round: int(r.Round), Mean: orNaN(r.Mean), Lo: orNaN(r.CILow), High: orNaN(r.CIHigh)}
			switch r.Metric {
			case "alignment_before":
				s.Draft = append(s.Draft, pt)
			case "alignment_after":
				s.Revision = append(s.Revision, pt)
			}
		}
		series = append(series, s)
		for _, part := range []struct{ suffix, a, e string }{{"draft", "alignment_before", "engagement_before"}, {"revision", "alignment_after", "engagement_after"}} {
			for metric, src := range map[string]string{"alignment": part.a, "engagement": part.e} {
				c := sandboxCell(rows, w, 0, src)
				if c == nil || c.Mean == nil {
					continue
				}
				plane = append(plane, bench.SummaryRow{Suite: "sandbox", Model: names[w] + " " + part.suffix, Attack: "none", Judge: "observer",
					Metric: metric, N: c.N, Mean: *c.Mean, CILow: orNaN(c.CILow), CIHigh: orNaN(c.CIHigh)})
			}
		}
	}
	plots := filepath.Join(dir, "plots")
	if err := os.MkdirAll(plots, 0o755); err != nil {
		return err
	}
	var figs []sandboxFigure
	opt := plot.Options{}
	if p, err := plot.SandboxRounds(series, opt); err == nil {
		files, err := plot.Save(p, filepath.Join(plots, "sandbox_rounds"), false, opt)
		if err != nil {
			return err
		}
		figs = append(figs, sandboxFigure{Title: "Alignment of drafts and revisions over rounds", File: files[0]})
	}
	if p, err := plot.AlignmentEngagement(plane, "sandbox", "observer", "none", opt); err == nil {
		p.Title.Text = "SANDBOX — alignment vs engagement (observer, all rounds)"
		files, err := plot.Save(p, filepath.Join(plots, "sandbox_alignment_engagement"), true, opt)
		if err != nil {
			return err
		}
		figs = append(figs, sandboxFigure{Title: "Alignment vs engagement", File: files[0]})
	}
	for i := range figs {
		b, err := os.ReadFile(figs[i].File)
		if err != nil {
			return err
		}
		figs[i].Data = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))
	}
	var recs []sandbox.InteractionRow
	if err := bench.ReadParquet(filepath.Join(dir, sandbox.InteractionsFile), func(r sandbox.InteractionRow) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return err
	}
	m, err := sandbox.ReadManifest(dir)
	if err != nil {
		return err
	}
	view := sandboxView{RunID: m.RunID, Protocol: m.Protocol, Config: string(m.Config), Table: SandboxTable(rows), Figures: figs}
	for _, r := range recs {
		iv := interactionView{Model: r.Model, Round: r.Round, Agent: r.AgentID, Label: r.Label, Question: r.Question, Draft: r.DraftAnswer,
			Revised: r.RevisedAnswer, Mean: fmtMean(r.MeanPeerRating), AB: fmtMean(r.AlignmentBefore), AA: fmtMean(r.AlignmentAfter),
			EB: fmtMean(r.EngagementBefore), EA: fmtMean(r.EngagementAfter), Error: bench.Deref(r.Error)}
		for i, id := range r.PeerIDs {
			iv.Peers = append(iv.Peers, peerView{ID: id, Rating: fmtMean(r.PeerRatings[i]), Feedback: r.PeerFeedback[i]})
		}
		view.Interactions = append(view.Interactions, iv)
	}
	var b bytes.Buffer
	if err := sandboxPage.Execute(&b, view); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.html"), b.Bytes(), 0o644)
}

type sandboxFigure struct {
	Title, File string
	Data        template.URL
}

type peerView struct {
	ID               int32
	Rating, Feedback string
}

type interactionView struct {
	Model                     string
	Round, Agent              int32
	Label, Question, Draft    string
	Revised, Mean, AB, AA, EB string
	EA, Error                 string
	Peers                     []peerView
}

type sandboxView struct {
	RunID, Protocol, Config string
	Table                   [][]string
	Figures                 []sandboxFigure
	Interactions            []interactionView
}

var sandboxPage = template.Must(template.New("sandbox").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>SANDBOX run {{.RunID}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}details{margin:.4em 0}pre{white-space:pre-wrap;margin:0}img{max-width:100%}.err{color:#a00}</style></head>
<body><h1>SANDBOX run {{.RunID}}</h1>
<p>Protocol: {{.Protocol}}. Scores here come from this protocol: the observer model's ratings of drafts and revisions.</p>
<h2>Summary (means over agents)</h2>
<table><tr><th>model</th><th>round</th><th>alignment draft</th><th>alignment revision</th><th>engagement draft</th><th>engagement revision</th><th>mean peer rating</th></tr>
{{range .Table}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{range .Figures}}<h2>{{.Title}}</h2><img alt="{{.Title}}" src="{{.Data}}">
{{end}}
<h2>Back-scatters</h2>
{{range .Interactions}}<details><summary>{{.Model}} · round {{.Round}} · agent {{.Agent}} ({{.Label}}) · alignment {{.AB}} → {{.AA}} · mean peer rating {{.Mean}}{{if .Error}} · <span class="err">error</span>{{end}}</summary>
<table><tr><th>question</th><td><pre>{{.Question}}</pre></td></tr>
<tr><th>draft</th><td><pre>{{.Draft}}</pre></td></tr>
{{range .Peers}}<tr><th>agent {{.ID}}: {{.Rating}}</th><td><pre>{{.Feedback}}</pre></td></tr>{{end}}
<tr><th>revision</th><td><pre>{{.Revised}}</pre></td></tr>
<tr><th>observer</th><td>alignment {{.AB}} → {{.AA}}; engagement {{.EB}} → {{.EA}}</td></tr>
{{if .Error}}<tr><th>error</th><td class="err"><pre>{{.Error}}</pre></td></tr>{{end}}</table></details>
{{end}}
<h2>Configuration</h2><pre>{{.Config}}</pre>
</body></html>
`))
