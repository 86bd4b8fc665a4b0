package reports

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/datasets"
)

// leaderboard returns a column of a model's row in an AlpacaEval
// leaderboard CSV (the first, unnamed column is the model).
func leaderboard(t *testing.T, rel, model, column string) float64 {
	t.Helper()
	f, err := os.Open(benchtest.SharedFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range recs[0] {
		if h == column {
			col = i
		}
	}
	for _, r := range recs[1:] {
		if r[0] == model && col >= 0 {
			v, err := strconv.ParseFloat(r[col], 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s: no %s/%s", rel, model, column)
	return 0
}

// TestImportAlpacaEvalReproducesLeaderboard imports the raw judgments of
// alpaca-7b by two annotators and checks that the run's win rates are the
// leaderboards' to 4 decimals of a percent.
func TestImportAlpacaEvalReproducesLeaderboard(t *testing.T) {
	ae1 := benchtest.SharedFile(t, "alpacaeval/results/alpaca-7b/alpaca_eval_gpt4/annotations.json")
	ae2 := benchtest.SharedFile(t, "alpacaeval/results/alpaca-7b/weighted_alpaca_eval_gpt4_turbo/annotations.json")
	dir := filepath.Join(t.TempDir(), "ae")
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := ImportJudgments([]string{ae1, ae2}, dir, ImportOptions{Format: ImportAlpacaEval, Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Judgments != 1610 || res.Missing != 0 || res.Manifest.RunID != "ae" {
		t.Errorf("judgments %d, missing %d, run %q", res.Judgments, res.Missing, res.Manifest.RunID)
	}
	want := map[string]float64{
		"alpaca_eval_gpt4/win":                         leaderboard(t, "alpacaeval/leaderboards/data_AlpacaEval/alpaca_eval_gpt4_leaderboard.csv", "alpaca-7b", "win_rate"),
		"weighted_alpaca_eval_gpt4_turbo/win":          leaderboard(t, "alpacaeval/leaderboards/data_AlpacaEval_2/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv", "alpaca-7b", "win_rate"),
		"weighted_alpaca_eval_gpt4_turbo/discrete_win": leaderboard(t, "alpacaeval/leaderboards/data_AlpacaEval_2/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv", "alpaca-7b", "discrete_win_rate"),
	}
	// The figures of the dataset's SOURCE.md.
	if math.Abs(want["alpaca_eval_gpt4/win"]-26.4596) > 5e-5 || math.Abs(want["weighted_alpaca_eval_gpt4_turbo/win"]-2.5915) > 5e-5 {
		t.Fatalf("leaderboards: %v", want)
	}
	rows, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, r := range rows {
		w, ok := want[r.Judge+"/"+r.Metric]
		if !ok || r.Model != "alpaca-7b" {
			t.Errorf("unexpected summary row %+v", r)
			continue
		}
		got++
		if math.Abs(r.Mean*100-w) > 5e-5 || r.N != 805 || !(r.CILow < r.Mean && r.Mean < r.CIHigh) {
			t.Errorf("%s/%s: %.6f%% [%v, %v] n %d, leaderboard %.6f%%", r.Judge, r.Metric, r.Mean*100, r.CILow, r.CIHigh, r.N, w)
		}
	}
	if got != 3 {
		t.Errorf("%d summary rows, want 3", got)
	}
	// Responses: both outputs of every comparison, alpaca-7b's once.
	n := map[string]int{}
	ids := map[string]bool{}
	if err := bench.ReadParquet(filepath.Join(dir, bench.ResponsesFile), func(r bench.ResponseRow) error {
		n[r.Model]++
		ids[r.SampleID] = true
		if r.Prompt == "" || r.Response == "" {
			t.Errorf("empty prompt or response: %+v", r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n["alpaca-7b"] != 805 || n["text_davinci_003"] != 805 || n["gpt4_1106_preview"] != 805 || len(ids) != 805 {
		t.Errorf("responses per model %v, %d samples", n, len(ids))
	}
	// Sample ids are those `mores run` gives the instructions as a dataset.
	ss, err := datasets.Load(benchtest.SharedFile(t, "alpacaeval/results/alpaca-7b/model_outputs.json"), datasets.Mapping{Input: "instruction"}, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if !ids[s.ID] {
			t.Fatalf("sample %s of model_outputs.json not in the run", s.ID)
		}
	}
	m, err := bench.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Suites[0].Samples != 805 || !m.Suites[0].HigherIsBetter["win"] || len(m.Models) != 3 || !m.StartedAt.Equal(fixed) {
		t.Errorf("manifest: %+v", m)
	}
	// A second import into the same directory is refused.
	if _, err := ImportJudgments([]string{ae1}, dir, ImportOptions{Format: ImportAlpacaEval}); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("existing dir: %v", err)
	}
}

func TestImportErrors(t *testing.T) {
	rec := func(pref, gen2, out2 string) string {
		return `{"instruction":"Say hi","output_1":"hi","generator_1":"ref","output_2":"` + out2 + `","generator_2":"` + gen2 + `","annotator":"j","preference":` + pref + `}`
	}
	for _, tc := range []struct {
		name, content, want string
	}{
		{"pref.json", "[" + rec("1", "m", "hello") + "," + rec("3", "m2", "x") + "]", `pref.json:2: preference: "3" is not a preference (1 prefers output_1, 2 prefers output_2, 0 is a draw, or a weight in [1, 2])`},
		{"field.json", `[{"instruction":"a","output_1":"x","generator_1":"r","output_2":"y","generator_2":"m","preference":1}]`, `field.json:1: annotator: missing (an AlpacaEval annotation needs instruction, output_1, output_2, generator_1, generator_2, annotator and preference)`},
		{"self.json", "[" + rec("1", "ref", "hi") + "]", `self.json:1: generator_2: ref is compared with itself`},
		{"conflict.json", "[" + rec("1", "m", "a") + "," + rec("2", "m2", "b") + "]", ""},
	} {
		p := filepath.Join(t.TempDir(), tc.name)
		os.WriteFile(p, []byte(tc.content), 0o644)
		_, err := ImportJudgments([]string{p}, filepath.Join(t.TempDir(), "run"), ImportOptions{Format: ImportAlpacaEval})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	// The same generator with two outputs for one instruction, across files.
	a := filepath.Join(t.TempDir(), "a.json")
	b := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(a, []byte("["+rec("1", "m", "first")+"]"), 0o644)
	os.WriteFile(b, []byte(`[{"instruction":"Say hi","output_1":"hi","generator_1":"ref","output_2":"second","generator_2":"m","annotator":"k","preference":2}]`), 0o644)
	if _, err := ImportJudgments([]string{a, b}, filepath.Join(t.TempDir(), "run"), ImportOptions{Format: ImportAlpacaEval}); err == nil || !strings.Contains(err.Error(), "b.json:1: output_2: m has another output for this instruction in "+a+" (row 1)") {
		t.Errorf("conflict: %v", err)
	}
	// The same judgment imported twice.
	if _, err := ImportJudgments([]string{a, a}, filepath.Join(t.TempDir(), "run"), ImportOptions{Format: ImportAlpacaEval}); err == nil || !strings.Contains(err.Error(), "a.json:1: j judged m on this instruction already in "+a+" (row 1)") {
		t.Errorf("twice: %v", err)
	}
	if _, err := ImportJudgments([]string{a}, filepath.Join(t.TempDir(), "run"), ImportOptions{Format: "mtbench"}); err == nil || !strings.Contains(err.Error(), `unknown import format "mtbench"`) {
		t.Errorf("format: %v", err)
	}
	// Draws (0) count half; a missing preference is a judge error.
	c := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(c, []byte(`[{"instruction":"a","output_1":"x","generator_1":"r","output_2":"y","generator_2":"m","annotator":"j","preference":0},
{"instruction":"b","output_1":"x","generator_1":"r","output_2":"y","generator_2":"m","annotator":"j","preference":2},
{"instruction":"c","output_1":"x","generator_1":"r","output_2":"y","generator_2":"m","annotator":"j","preference":null}]`), 0o644)
	dir := filepath.Join(t.TempDir(), "run")
	res, err := ImportJudgments([]string{c}, dir, ImportOptions{Format: ImportAlpacaEval})
	if err != nil {
		t.Fatal(err)
	}
	if res.Missing != 1 || len(res.Summary) != 1 || res.Summary[0].Mean != 0.75 || res.Summary[0].N != 2 || res.Summary[0].Errors != 1 {
		t.Errorf("draws and missing: %+v %+v", res, res.Summary)
	}
}
