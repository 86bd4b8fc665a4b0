package reports

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

// writeEpochScores writes a scores.parquet of 30 samples answered in the
// given number of epochs, in plan order (sample-major, then epochs), with
// a 0/1 metric and a continuous one. answer gives the value of a sample in
// an epoch.
func writeEpochScores(t *testing.T, epochs int, answer func(sample, epoch int) (pass, prob float64)) string {
	t.Helper()
	dir := t.TempDir()
	w, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	for s := range 30 {
		for e := 1; e <= epochs; e++ {
			pass, prob := answer(s, e)
			id := fmt.Sprintf("s%02d", s)
			for _, r := range []bench.ScoreRow{
				{RunID: "r", Suite: "x", SampleID: id, Model: "m", Attack: "none", Epoch: int32(e), Judge: "refusal", Metric: "refusal", Value: &pass},
				{RunID: "r", Suite: "x", SampleID: id, Model: "m", Attack: "none", Epoch: int32(e), Judge: "harm", Metric: "harm_prob", Value: &prob},
			} {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func summaryByMetric(t *testing.T, dir string) map[string]bench.SummaryRow {
	t.Helper()
	rows, err := Summarize(dir, SummaryOptions{Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bench.SummaryRow{}
	for _, r := range rows {
		out[r.Metric] = r
	}
	return out
}

// TestEpochsOfAnAlikeModelDoNotNarrowTheInterval summarizes a model that
// answers every epoch of a sample alike, with 1 and with 5 epochs: every
// figure but n_scores is the same to the last bit (Wilson for the 0/1
// metric, the seeded bootstrap for the continuous one). Counting the 150
// values as independent would narrow the interval about √5 ≈ 2.2 times.
func TestEpochsOfAnAlikeModelDoNotNarrowTheInterval(t *testing.T) {
	alike := func(s, _ int) (float64, float64) {
		return float64(s % 3 / 2), float64((s*37)%101) / 100
	}
	one := summaryByMetric(t, writeEpochScores(t, 1, alike))
	five := summaryByMetric(t, writeEpochScores(t, 5, alike))
	for _, metric := range []string{"refusal", "harm_prob"} {
		a, b := one[metric], five[metric]
		if a.N != 30 || a.NScores != 30 || b.N != 30 || b.NScores != 150 {
			t.Errorf("%s: n %d/%d (1 epoch), %d/%d (5 epochs); want 30/30 and 30/150", metric, a.N, a.NScores, b.N, b.NScores)
		}
		if a.Mean != b.Mean || a.Stderr != b.Stderr || a.CILow != b.CILow || a.CIHigh != b.CIHigh {
			t.Errorf("%s: 1 epoch %+v\n5 epochs %+v\nwant the same mean, stderr and interval", metric, a, b)
		}
		t.Logf("%s: width %.6f with 1 epoch (%s), %.6f with 5 (%s)", metric, a.CIHigh-a.CILow, a.CIMethod, b.CIHigh-b.CILow, b.CIMethod)
	}
	if m := one["refusal"].CIMethod + "/" + five["refusal"].CIMethod; m != CIWilson+"/"+CIClusterWilson {
		t.Errorf("refusal methods %s", m)
	}
	if m := one["harm_prob"].CIMethod + "/" + five["harm_prob"].CIMethod; m != CIBootstrap+"/"+CIClusterBootstrap {
		t.Errorf("harm_prob methods %s", m)
	}
	// What the old summary did: the 150 values as independent.
	var all []float64
	for s := range 30 {
		p, _ := alike(s, 0)
		for range 5 {
			all = append(all, p)
		}
	}
	if r := (five["refusal"].CIHigh - five["refusal"].CILow) / naiveWidth(all); r < 2 {
		t.Errorf("width over the naive width = %.2f, want about √5", r)
	}
}

// TestEpochsThatVaryCarryMoreInformation: when a sample's epochs differ
// (a sampling model), the epochs add information and the interval is
// narrower than one epoch's, but never narrower than the values counted as
// independent.
func TestEpochsThatVaryCarryMoreInformation(t *testing.T) {
	varying := func(s, e int) (float64, float64) {
		// Each sample passes in a share of its epochs that depends on
		// the sample; the epochs differ.
		pass := 0.0
		if (s*7+e*3)%5 < s%4+1 {
			pass = 1
		}
		return pass, float64((s*31+e*17)%97) / 97
	}
	five := summaryByMetric(t, writeEpochScores(t, 5, varying))
	one := summaryByMetric(t, writeEpochScores(t, 1, varying))
	for _, metric := range []string{"refusal", "harm_prob"} {
		b := five[metric]
		if b.N != 30 || b.NScores != 150 {
			t.Errorf("%s: n %d, n_scores %d", metric, b.N, b.NScores)
		}
		if !(b.CILow < b.Mean && b.Mean < b.CIHigh) || b.Stderr <= 0 {
			t.Errorf("%s: %+v", metric, b)
		}
		t.Logf("%s: width %.4f with 5 varying epochs, %.4f with the first epoch alone", metric, b.CIHigh-b.CILow, one[metric].CIHigh-one[metric].CILow)
	}
	// The 0/1 metric's effective size is between the samples and the values.
	var all []float64
	for s := range 30 {
		for e := 1; e <= 5; e++ {
			p, _ := varying(s, e)
			all = append(all, p)
		}
	}
	w := five["refusal"].CIHigh - five["refusal"].CILow
	if naive := naiveWidth(all); w < naive-1e-12 {
		t.Errorf("cluster width %.4f narrower than the naive %.4f", w, naive)
	}
}

// TestSeveralEpochsFoundLate: a file whose second epoch appears only
// after many rows of the first (a run resumed with more epochs, a merge)
// still gets clustered figures.
func TestSeveralEpochsFoundLate(t *testing.T) {
	dir := t.TempDir()
	w, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	for e := 1; e <= 3; e++ {
		for s := range 20 {
			v := float64(s % 2)
			w.Write(bench.ScoreRow{RunID: "r", Suite: "x", SampleID: fmt.Sprint(s), Model: "m", Attack: "none", Epoch: int32(e), Judge: "j", Metric: "pass", Value: &v})
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := summaryByMetric(t, dir)["pass"]
	lo, hi := wilsonOf(10, 20)
	if r.N != 20 || r.NScores != 60 || r.CIMethod != CIClusterWilson || r.CILow != lo || r.CIHigh != hi {
		t.Errorf("row %+v, want n 20 and the Wilson interval of 10/20 [%v, %v]", r, lo, hi)
	}
	if math.IsNaN(r.Stderr) {
		t.Error("no standard error")
	}
}

func wilsonOf(k, n int) (float64, float64) { return stats.Wilson(k, n, 0.95) }

// TestClustersInAnyOrder: the rows of one model come in the reverse
// sample order of the other's, epochs interleaved: both get the same
// figures.
func TestClustersInAnyOrder(t *testing.T) {
	dir := t.TempDir()
	w, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	val := func(s int) float64 { return float64(s*s%11) / 10 }
	for s := range 25 {
		for e := 1; e <= 3; e++ {
			v := val(s)
			w.Write(bench.ScoreRow{RunID: "r", Suite: "x", SampleID: fmt.Sprint("id", s), Model: "a", Attack: "none", Epoch: int32(e), Judge: "j", Metric: "m", Value: &v})
		}
	}
	for e := 1; e <= 3; e++ {
		for s := 24; s >= 0; s-- {
			v := val(s)
			w.Write(bench.ScoreRow{RunID: "r", Suite: "x", SampleID: fmt.Sprint("id", s), Model: "b", Attack: "none", Epoch: int32(e), Judge: "j", Metric: "m", Value: &v})
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := Summarize(dir, SummaryOptions{Seed: 3})
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	a, b := rows[0], rows[1]
	if a.N != 25 || b.N != 25 || a.NScores != 75 || b.NScores != 75 || math.Abs(a.Mean-b.Mean) > 1e-12 || math.Abs(a.Stderr-b.Stderr) > 1e-12 {
		t.Errorf("a %+v\nb %+v", a, b)
	}
}
