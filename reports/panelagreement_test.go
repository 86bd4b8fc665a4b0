package reports_test

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
	"github.com/mores-eval/mores/reports"
)

func TestPanelAgreementFromMemberScores(t *testing.T) {
	dir := t.TempDir()
	w, _ := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	// Krippendorff (2011) reliability data, interval level: α = 0.849
	// (observers A–D as panel members; NaN = missing).
	nan := math.NaN()
	data := [][]float64{
		{1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan},
		{1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3},
		{nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan},
		{1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan},
	}
	for m, row := range data {
		for u, v := range row {
			if math.IsNaN(v) {
				continue
			}
			x := v
			w.Write(bench.ScoreRow{Suite: "social", SampleID: string(rune('a' + u)), Model: "m", Attack: "none", Epoch: 1,
				Judge: "panel/rater" + string(rune('A'+m)), Metric: "alignment", Value: &x})
		}
		// The panel's own aggregate rows are not members.
		one := 1.0
		w.Write(bench.ScoreRow{Suite: "social", SampleID: "a", Model: "m", Attack: "none", Epoch: 1, Judge: "panel", Metric: "alignment", Value: &one})
	}
	w.Close()
	pas, err := reports.PanelAgreements(dir)
	if err != nil || len(pas) != 1 {
		t.Fatalf("%v, %v", pas, err)
	}
	pa := pas[0]
	want, _ := stats.KrippendorffAlpha(data, stats.Interval)
	if math.Abs(pa.Alpha-want) > 1e-12 || math.Abs(pa.Alpha-0.849) > 0.0005 || len(pa.Members) != 4 || pa.Units != 11 {
		t.Errorf("panel agreement %+v, want alpha %.4f (0.849 in Krippendorff 2011) over 11 units", pa, want)
	}
	var buf bytes.Buffer
	if err := reports.WritePanelAgreementSection(&buf, dir); err != nil || !strings.Contains(buf.String(), "0.849") {
		t.Errorf("section: %v\n%s", err, buf.String())
	}
}
