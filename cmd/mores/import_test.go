package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench/benchtest"
)

// TestImportJudgmentsReport imports AlpacaEval's raw judgments of alpaca-7b
// and checks that `mores report` shows the leaderboard win rates
// (26.4596% and 2.5915%, SOURCE.md of the dataset) to 4 decimals.
func TestImportJudgmentsReport(t *testing.T) {
	c := newCLI(t)
	ae1 := benchtest.SharedFile(t, "alpacaeval/results/alpaca-7b/alpaca_eval_gpt4/annotations.json")
	ae2 := benchtest.SharedFile(t, "alpacaeval/results/alpaca-7b/weighted_alpaca_eval_gpt4_turbo/annotations.json")
	dir := filepath.Join(t.TempDir(), "alpaca-7b")
	out := c.mustRun("import-judgments", ae1, ae2, "--format", "alpacaeval", "-o", dir)
	for _, s := range []string{"alpaca_eval_gpt4 win alpaca-7b: 26.4596%", "weighted_alpaca_eval_gpt4_turbo win alpaca-7b: 2.5915%",
		"weighted_alpaca_eval_gpt4_turbo discrete_win alpaca-7b: 2.2981%", "1610 judgments → " + dir} {
		if !strings.Contains(out, s) {
			t.Errorf("import output lacks %q:\n%s", s, out)
		}
	}
	var rows []struct {
		Judge, Metric, Model string
		Mean                 float64
		N                    int
	}
	if err := json.Unmarshal([]byte(c.mustRun("report", dir, "--format", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"alpaca_eval_gpt4/win": 26.4596, "weighted_alpaca_eval_gpt4_turbo/win": 2.5915}
	for _, r := range rows {
		if w, ok := want[r.Judge+"/"+r.Metric]; ok {
			if math.Abs(r.Mean*100-w) > 5e-5 || r.Model != "alpaca-7b" || r.N != 805 {
				t.Errorf("%s/%s: %s %.6f%% n %d, want %.4f%%", r.Judge, r.Metric, r.Model, r.Mean*100, r.N, w)
			}
			delete(want, r.Judge+"/"+r.Metric)
		}
	}
	if len(want) != 0 {
		t.Errorf("report lacks %v", want)
	}
	md := c.mustRun("report", dir, "--format", "markdown")
	if !strings.Contains(md, "| alpaca-7b | 26.5 ± ") || strings.Contains(md, "text\\_davinci\\_003") {
		t.Errorf("paper table:\n%s", md)
	}
	// Errors: no -o, an existing directory, a bad format.
	if _, _, code := c.run("import-judgments", ae1); code != 2 {
		t.Errorf("no -o: exit %d", code)
	}
	if _, stderr, code := c.run("import-judgments", ae1, "-o", dir); code != 2 || !strings.Contains(stderr, "exists already") {
		t.Errorf("existing: exit %d %s", code, stderr)
	}
	if _, _, code := c.run("import-judgments", ae1, "--format", "mtbench", "-o", filepath.Join(t.TempDir(), "x")); code != 2 {
		t.Errorf("bad format: exit %d", code)
	}
}
