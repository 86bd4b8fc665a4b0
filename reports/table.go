package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/mores-eval/mores/bench"
)

// Formats of `mores report`.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
	FormatCSV      = "csv"
	FormatJSON     = "json"
)

// fmtNum renders a number for a table; NaN as an em dash.
func fmtNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// cell renders a mean with its interval.
func cell(r bench.SummaryRow) string {
	if r.N == 0 {
		return "—"
	}
	if math.IsNaN(r.CILow) {
		return fmtNum(r.Mean)
	}
	return fmt.Sprintf("%s [%s, %s]", fmtNum(r.Mean), fmtNum(r.CILow), fmtNum(r.CIHigh))
}

// models returns the models of rows in order of first appearance.
func models(rows []bench.SummaryRow) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if !seen[r.Model] {
			seen[r.Model] = true
			out = append(out, r.Model)
		}
	}
	return out
}

type wideKey struct{ Suite, Judge, Metric, Attack string }

// TableOptions are the options of WriteSummaryTableWith.
type TableOptions struct {
	// Models orders the model columns of the wide table (the manifest's
	// order, as in the paper table); models not named come after them, in
	// order of first appearance.
	Models []string
}

// WriteSummaryTable renders a summary: text and Markdown as a wide table
// (one row per suite × metric × attack, one column per model, mean and 95%
// CI in each cell, then n, and, when a judge failed on any trial, the
// number of failed judgments of the row over all models in a last column,
// errors), CSV and JSON as long rows.
func WriteSummaryTable(w io.Writer, rows []bench.SummaryRow, format string) error {
	return WriteSummaryTableWith(w, rows, format, TableOptions{})
}

// WriteSummaryTableWith is WriteSummaryTable with options. When the models
// of a row have different n (human ratings of 36 and 44 answers), each
// cell shows its own n and the n column says so.
func WriteSummaryTableWith(w io.Writer, rows []bench.SummaryRow, format string, opts TableOptions) error {
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(w)
		cw.Write([]string{"run_id", "suite", "model", "attack", "judge", "metric", "n", "mean", "stderr", "ci_low", "ci_high", "ci_method", "errors", "n_scores"})
		for _, r := range rows {
			cw.Write([]string{r.RunID, r.Suite, r.Model, r.Attack, r.Judge, r.Metric, strconv.FormatInt(r.N, 10),
				csvNum(r.Mean), csvNum(r.Stderr), csvNum(r.CILow), csvNum(r.CIHigh), r.CIMethod, strconv.FormatInt(r.Errors, 10),
				strconv.FormatInt(r.NScores, 10)})
		}
		cw.Flush()
		return cw.Error()
	case FormatJSON:
		type jrow struct {
			bench.SummaryRow
			Mean   *float64 `json:"mean"`
			Stderr *float64 `json:"stderr"`
			CILow  *float64 `json:"ci_low"`
			CIHigh *float64 `json:"ci_high"`
		}
		out := make([]jrow, len(rows))
		for i, r := range rows {
			out[i] = jrow{SummaryRow: r, Mean: jnum(r.Mean), Stderr: jnum(r.Stderr), CILow: jnum(r.CILow), CIHigh: jnum(r.CIHigh)}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case FormatText, FormatMarkdown:
	default:
		return &bench.InputError{File: "--format", Msg: fmt.Sprintf("unknown format %q (known: text, markdown, csv, json)", format)}
	}
	ms := models(rows)
	if len(opts.Models) > 0 {
		var ordered []string
		for _, m := range opts.Models {
			if slices.Contains(ms, m) && !slices.Contains(ordered, m) {
				ordered = append(ordered, m)
			}
		}
		for _, m := range ms {
			if !slices.Contains(ordered, m) {
				ordered = append(ordered, m)
			}
		}
		ms = ordered
	}
	cells := map[wideKey]map[string]bench.SummaryRow{}
	var order []wideKey
	anyErrors := false
	for _, r := range rows {
		anyErrors = anyErrors || r.Errors > 0
		k := wideKey{r.Suite, r.Judge, r.Metric, r.Attack}
		if cells[k] == nil {
			cells[k] = map[string]bench.SummaryRow{}
			order = append(order, k)
		}
		cells[k][r.Model] = r
	}
	t := table.NewWriter()
	t.SetOutputMirror(w)
	hdr := table.Row{"suite", "metric", "attack"}
	for _, m := range ms {
		hdr = append(hdr, m)
	}
	hdr = append(hdr, "n")
	if anyErrors {
		hdr = append(hdr, "errors")
	}
	t.AppendHeader(hdr)
	for _, k := range order {
		row := table.Row{k.Suite, k.Judge + "." + k.Metric, k.Attack}
		var errs int64
		var n int64 = -1
		same := true
		for _, m := range ms {
			if r, ok := cells[k][m]; ok {
				if n >= 0 && r.N != n {
					same = false
				}
				n = r.N
			}
		}
		for _, m := range ms {
			r, ok := cells[k][m]
			if !ok {
				row = append(row, "")
				continue
			}
			c := cell(r)
			if !same {
				c += fmt.Sprintf(" n=%d", r.N)
			}
			row = append(row, c)
			errs += r.Errors
		}
		if same {
			row = append(row, n)
		} else {
			row = append(row, "per cell")
		}
		if anyErrors {
			row = append(row, errs)
		}
		t.AppendRow(row)
	}
	if format == FormatMarkdown {
		t.RenderMarkdown()
	} else {
		t.SetStyle(table.StyleLight)
		t.Render()
	}
	return nil
}

func csvNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func jnum(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
