package reports_test

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
	"github.com/mores-eval/mores/reports"
)

var updateSummary = flag.Bool("update-summary", false, "rewrite the summary golden files")

// fixtureRun writes a scores.parquet with known values.
func fixtureRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	w, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	v := func(x float64) *float64 { return &x }
	add := func(model, judge, metric string, vals ...float64) {
		for i, x := range vals {
			r := bench.ScoreRow{RunID: "fix", Suite: "harmless", SampleID: string(rune('a' + i)), Model: model, Attack: "none", Epoch: 1, Judge: judge, Metric: metric}
			if math.IsNaN(x) {
				e := "unparseable verdict"
				r.Error = &e
			} else {
				r.Value = v(x)
			}
			w.Write(r)
		}
	}
	add("base", "refusal", "refusal", 1, 0, 0, 1, 0, 0, 0, 1, 0, 0)
	add("aligned", "refusal", "refusal", 1, 1, 1, 1, 1, 1, 1, 1, 0, 1)
	add("base", "rubric", "alignment", 3, 4, 2, 5, math.NaN(), 3)
	add("aligned", "rubric", "alignment", 6, 7, 6, 5, 6)
	add("aligned", "rubric", "engagement", 4)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSummaryStatisticsAndRendering(t *testing.T) {
	dir := fixtureRun(t)
	rows, err := reports.WriteSummary(dir, reports.SummaryOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	back, err := reports.ReadSummary(dir)
	if err != nil || len(back) != len(rows) || len(rows) != 5 {
		t.Fatalf("read back %d rows (%v), wrote %d; want 5", len(back), err, len(rows))
	}
	get := func(model, metric string) bench.SummaryRow {
		for _, r := range rows {
			if r.Model == model && r.Metric == metric {
				return r
			}
		}
		t.Fatalf("no row %s/%s", model, metric)
		return bench.SummaryRow{}
	}
	// 0/1 metric: Wilson interval (Newcombe 1998 method 3).
	r := get("base", "refusal")
	lo, hi := stats.Wilson(3, 10, 0.95)
	if r.N != 10 || r.Mean != 0.3 || r.CIMethod != reports.CIWilson || r.CILow != lo || r.CIHigh != hi {
		t.Errorf("base refusal: %+v", r)
	}
	// A judge error is counted, not averaged.
	r = get("base", "alignment")
	if r.N != 5 || r.Errors != 1 || r.Mean != 3.4 || r.CIMethod != reports.CIBootstrap || !(r.CILow < 3.4 && r.CIHigh > 3.4) {
		t.Errorf("base alignment: %+v", r)
	}
	// One value: no interval.
	r = get("aligned", "engagement")
	if r.N != 1 || r.Mean != 4 || !math.IsNaN(r.CILow) || r.CIMethod != reports.CINone {
		t.Errorf("aligned engagement: %+v", r)
	}
	// Seeded: the same intervals twice.
	again, _ := reports.Summarize(dir, reports.SummaryOptions{Seed: 1})
	for i := range rows {
		if rows[i].CILow != again[i].CILow && !math.IsNaN(rows[i].CILow) {
			t.Fatalf("row %d: bootstrap not reproducible", i)
		}
	}
	for _, format := range []string{"text", "markdown", "csv", "json"} {
		var buf bytes.Buffer
		if err := reports.WriteSummaryTable(&buf, rows, format); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "summary."+format+".golden")
		if *updateSummary {
			os.WriteFile(golden, buf.Bytes(), 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./reports -update-summary)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s rendering differs from %s:\n%s", format, golden, buf.String())
		}
	}
}
