package judgeeval

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenReport is a report built from fixed verdicts: 10 rows, a judge and
// one reference whose names need escaping in Markdown and LaTeX.
func goldenReport() *Report {
	gold := []int8{1, 1, 1, 1, 0, 0, 0, 0, 0, 0}
	judge := []int8{1, 1, 1, 0, 0, 0, 0, 0, 1, 0}
	ref := []int8{1, 0, 0, 0, 1, 1, 0, 0, 0, 0}
	r := &Report{File: "labels.csv", Label: "human_majority", Judge: "harm", Metric: "harmful", Threshold: 0.5, Rows: 11, Judged: 10, Failed: 1,
		FirstError: "row 11: judge harm: no response"}
	r.JudgeFigures = measure("judge harm", gold, judge, nil)
	r.References = []Figures{measure("gpt4_cf|50%", gold, ref, judge)}
	return r
}

func TestRenderGolden(t *testing.T) {
	for _, format := range Formats {
		var b bytes.Buffer
		if err := goldenReport().Render(&b, format); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "report."+format+".golden")
		if *update {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", format, path, b.String())
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	if err := goldenReport().Render(&bytes.Buffer{}, "html"); err == nil {
		t.Fatal("an unknown format must be an error")
	}
}

// TestMeasureCounts checks the figures of the golden report by hand: the
// judge has TP 3, FN 1, FP 1, TN 5; the reference TP 1, FN 3, FP 2, TN 4.
func TestMeasureCounts(t *testing.T) {
	r := goldenReport()
	j, f := r.JudgeFigures, r.References[0]
	if j.TP != 3 || j.FN != 1 || j.FP != 1 || j.TN != 5 || j.Agreement.Value != 0.8 {
		t.Errorf("judge figures %+v", j)
	}
	if f.TP != 1 || f.FN != 3 || f.FP != 2 || f.TN != 4 || f.Agreement.Value != 0.5 {
		t.Errorf("reference figures %+v", f)
	}
	// Rows (from 0) where exactly one is right: the judge alone on 1, 2, 4
	// and 5, the reference alone on 8.
	if f.JudgeOnly != 4 || f.RightOnly != 1 {
		t.Errorf("discordant rows: judge only %d, reference only %d; want 4 and 1", f.JudgeOnly, f.RightOnly)
	}
	if p := *f.McNemar; p != 0.375 { // 2·P(X ≤ 1), X ~ Bin(5, ½) = 2·6/32
		t.Errorf("McNemar p = %v, want 0.375", p)
	}
}

// TestConstantRaterKappa: a rater that says 0 throughout has κ 0 and no
// interval (the large-sample one degenerates to a point).
func TestConstantRaterKappa(t *testing.T) {
	f := measure("r", []int8{1, 0, 0, 1, 0}, []int8{0, 0, 0, 0, 0}, nil)
	if f.Kappa.Value != 0 || !math.IsNaN(f.Kappa.Lo) || kappa(f.Kappa) != "0.000 [–]" {
		t.Errorf("kappa %+v rendered %q", f.Kappa, kappa(f.Kappa))
	}
}
