package reports

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/mores-eval/mores/bench"
)

// TestSummaryResamplesTrialsForRepeatedRatings checks the summary of human
// ratings where each response was rated by three people: the mean is that
// of all ratings, the interval is a cluster bootstrap over responses (wider
// than treating 3 × 40 ratings as independent), while a judge with one
// score per trial keeps its Wilson interval.
func TestSummaryResamplesTrialsForRepeatedRatings(t *testing.T) {
	dir := t.TempDir()
	w, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	sum, n := 0.0, 0
	for i := range 40 {
		id := fmt.Sprintf("s%02d", i)
		ref := float64(i % 2)
		w.Write(bench.ScoreRow{RunID: "r", Suite: "social", SampleID: id, Model: "m", Attack: "none", Judge: "refusal", Metric: "refusal", Value: &ref})
		for rater := range 3 {
			v := float64(1 + (i*3)%7) // the raters agree
			if rater == 2 && i%5 == 0 {
				v = 7
			}
			sum += v
			n++
			w.Write(bench.ScoreRow{RunID: "r", Suite: "social", SampleID: id, Model: "m", Attack: "none", Judge: "human", Metric: "alignment",
				Value: &v, Rater: fmt.Sprint("rater", rater)})
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := Summarize(dir, SummaryOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var human, refusal bench.SummaryRow
	for _, r := range rows {
		switch r.Judge {
		case "human":
			human = r
		case "refusal":
			refusal = r
		}
	}
	// n counts the 40 rated responses (the clusters), n_scores the 120
	// ratings.
	if human.CIMethod != CIClusterBootstrap || human.N != 40 || human.NScores != 120 || math.Abs(human.Mean-sum/float64(n)) > 1e-12 {
		t.Fatalf("human row: %+v", human)
	}
	if refusal.CIMethod != CIWilson || refusal.N != 40 {
		t.Errorf("refusal row: %+v", refusal)
	}
	// The naive interval over 120 independent values would be about √3
	// narrower; the cluster one must be clearly wider than that.
	var all []float64
	for i := range 40 {
		for rater := range 3 {
			v := float64(1 + (i*3)%7)
			if rater == 2 && i%5 == 0 {
				v = 7
			}
			all = append(all, v)
		}
	}
	naive := naiveWidth(all)
	if width := human.CIHigh - human.CILow; width < 1.4*naive {
		t.Errorf("cluster interval width %.3f, naive %.3f: want about √3 wider", width, naive)
	}
	if human.Stderr <= 0 || human.CILow >= human.Mean || human.CIHigh <= human.Mean {
		t.Errorf("human row: %+v", human)
	}
}

func naiveWidth(xs []float64) float64 {
	r := summarizeGroup("r", Key{}, &group{values: xs}, SummaryOptions{Seed: 1, Resamples: 2000})
	return r.CIHigh - r.CILow
}
