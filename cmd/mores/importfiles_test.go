package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestImportJudgmentsWritesTheShareableFiles checks that an imported run
// directory holds report.html, plots/ and tables/ like every other run.
func TestImportJudgmentsWritesTheShareableFiles(t *testing.T) {
	c := newCLI(t)
	src := filepath.Join(t.TempDir(), "annotations.json")
	ann := `[{"instruction":"Say hi","output_1":"hello","generator_1":"ref","output_2":"hi","generator_2":"m","annotator":"ann","preference":2},
{"instruction":"Say bye","output_1":"bye","generator_1":"ref","output_2":"ciao","generator_2":"m","annotator":"ann","preference":1}]`
	if err := os.WriteFile(src, []byte(ann), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "imported")
	c.mustRun("import-judgments", src, "--format", "alpacaeval", "-o", dir)
	for _, f := range []string{"report.html", "tables/paper.tex", "tables/summary.csv", "plots/metric_alpacaeval_ann_win.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the imported run lacks %s: %v", f, err)
		}
	}
}
