package reports

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

// Other test files of the package may define -update; define it only if
// none does, and read it through the flag package.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if updateGolden() {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func f64(v float64) *float64 { return &v }

type scoreSpec struct {
	sample, model, judge, metric, label, rater string
	value                                      float64
}

func writeScores(t *testing.T, specs []scoreSpec) string {
	t.Helper()
	dir := t.TempDir()
	w, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if err := w.Write(bench.ScoreRow{RunID: "r", Suite: "social", SampleID: s.sample, Model: s.model, Attack: "none",
			Judge: s.judge, Metric: s.metric, Label: s.label, Rater: s.rater, Value: f64(s.value)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// humanFixture: four trials rated for alignment by two raters who agree
// exactly, engagement by raters who disagree, a rubric judge, and pairwise
// verdicts from humans and an LLM judge.
func humanFixture(t *testing.T) string {
	var s []scoreSpec
	align := []float64{7, 6, 2, 1} // both raters
	eng := [][2]float64{{7, 5}, {6, 6}, {2, 4}, {1, 1}}
	rubric := []float64{6, 3, 3, 2} // the judge's alignment
	for i := range 4 {
		id := fmt.Sprintf("s%d", i)
		for r, rater := range []string{"ann", "bob"} {
			s = append(s, scoreSpec{id, "m1", HumanJudge, "alignment", "", rater, align[i]},
				scoreSpec{id, "m1", HumanJudge, "engagement", "", rater, eng[i][r]})
		}
		s = append(s, scoreSpec{id, "m1", "rubric", "alignment", "", "", rubric[i]},
			scoreSpec{id, "m1", "refusal", "refusal", "", "", 0})
	}
	// A trial only the judge scored is not compared.
	s = append(s, scoreSpec{"s9", "m1", "rubric", "alignment", "", "", 7})
	// Pairwise: m1 vs m2 on s0..s2; humans: win, tie (split), loss.
	wins := [][2]float64{{1, 1}, {1, 0}, {0, 0}}
	judge := []float64{1, 0.5, 1}
	for i := range 3 {
		id := fmt.Sprintf("s%d", i)
		for r, rater := range []string{"ann", "bob"} {
			s = append(s, scoreSpec{id, "m1", HumanJudge, "win", "vs=m2", rater, wins[i][r]})
		}
		s = append(s, scoreSpec{id, "m1", "pairwise:vs=m2", "win", "", "", judge[i]},
			scoreSpec{id, "m1", "pairwise:vs=m3", "win", "", "", 0}) // another pair: not compared
	}
	return writeScores(t, s)
}

func TestHumanAgreement(t *testing.T) {
	rep, err := HumanAgreement(humanFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Raters != 2 || len(rep.Metrics) != 3 || len(rep.Judges) != 2 {
		t.Fatalf("report %+v: want 2 raters, 3 metrics, 2 judges", rep)
	}
	al, en, win := rep.Metrics[0], rep.Metrics[1], rep.Metrics[2]
	if al.Metric != "alignment" || al.Alpha != 1 || al.Percent != 1 || al.Ratings != 8 || al.Units != 4 || al.Pairable != 4 || al.Level != stats.Ordinal {
		t.Errorf("alignment %+v: want alpha 1, agreement 1 on 4 items", al)
	}
	// Engagement: 2 of 4 items agree exactly.
	wantAlpha, _ := stats.KrippendorffAlpha([][]float64{{7, 6, 2, 1}, {5, 6, 4, 1}}, stats.Ordinal)
	if en.Percent != 0.5 || math.Abs(en.Alpha-wantAlpha) > 1e-12 || en.Alpha >= 1 {
		t.Errorf("engagement %+v: want agreement 0.5, alpha %.4f", en, wantAlpha)
	}
	if win.Level != stats.Nominal || win.Units != 3 || win.Percent != 2.0/3 {
		t.Errorf("win %+v: want nominal, 3 items, agreement 2/3", win)
	}

	pw, rb := rep.Judges[0], rep.Judges[1]
	if pw.Judge != "pairwise" || pw.Metric != "win" || pw.Units != 3 {
		t.Fatalf("pairwise judge %+v", pw)
	}
	// Humans: win, tie, loss; judge: win, tie, win.
	if pw.Confusion.Count("win", "win") != 1 || pw.Confusion.Count("tie", "tie") != 1 || pw.Confusion.Count("loss", "win") != 1 ||
		math.Abs(pw.Accuracy-2.0/3) > 1e-12 || !math.IsNaN(pw.Bias) {
		t.Errorf("pairwise confusion %+v, accuracy %v, bias %v", pw.Confusion, pw.Accuracy, pw.Bias)
	}
	if rb.Judge != "rubric" || rb.Metric != "alignment" || rb.Units != 4 {
		t.Fatalf("rubric %+v", rb)
	}
	// Humans 7 6 2 1 → 5-7 5-7 1-4 1-4; rubric 6 3 3 2 → 5-7 1-4 1-4 1-4.
	if rb.Confusion.Count("5-7", "5-7") != 1 || rb.Confusion.Count("5-7", "1-4") != 1 || rb.Confusion.Count("1-4", "1-4") != 2 ||
		rb.Accuracy != 0.75 || math.Abs(rb.Bias-(-0.5)) > 1e-12 {
		t.Errorf("rubric confusion %+v, accuracy %v, bias %v (want 0.75, −0.5)", rb.Confusion, rb.Accuracy, rb.Bias)
	}
	wantAlpha, _ = stats.KrippendorffAlpha([][]float64{{7, 6, 2, 1}, {6, 3, 3, 2}}, stats.Ordinal)
	if math.Abs(rb.Alpha-wantAlpha) > 1e-12 {
		t.Errorf("rubric alpha %v, want %v", rb.Alpha, wantAlpha)
	}
	wantKappa, _ := rb.Confusion.Kappa()
	if rb.Kappa != wantKappa {
		t.Errorf("rubric kappa %v, want %v", rb.Kappa, wantKappa)
	}

	var buf bytes.Buffer
	if err := WriteHumanAgreement(&buf, rep); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "humanagreement.txt", buf.Bytes())
}

func TestHumanAgreementSectionOnlyWithHumanScores(t *testing.T) {
	dir := writeScores(t, []scoreSpec{{"s0", "m1", "rubric", "alignment", "", "", 5}})
	var buf bytes.Buffer
	if err := WriteHumanAgreementSection(&buf, dir); err != nil || buf.Len() != 0 {
		t.Fatalf("no human scores: wrote %q, %v", buf.String(), err)
	}
	if err := WriteHumanAgreementSection(&buf, t.TempDir()); err != nil || buf.Len() != 0 {
		t.Fatalf("no scores file: wrote %q, %v", buf.String(), err)
	}
	// One rater: agreement is undefined, and the report says why.
	dir = writeScores(t, []scoreSpec{{"s0", "m1", HumanJudge, "alignment", "", "ann", 5}, {"s1", "m1", HumanJudge, "alignment", "", "ann", 3}})
	if err := WriteHumanAgreementSection(&buf, dir); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("no unit rated twice")) || !bytes.HasPrefix(buf.Bytes(), []byte("\nHuman agreement (1 rater)")) {
		t.Fatalf("one rater:\n%s", buf.String())
	}
}
