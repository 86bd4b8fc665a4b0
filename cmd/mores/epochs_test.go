package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// TestEpochsOfReplayedAnswersKeepTheInterval runs Mistral-7B-Instruct's
// 450 recorded XSTest answers through `replay:` (every epoch gets the same
// answer) with --epochs 1 and --epochs 5, on all samples and on 25: the
// summary's mean, standard error and 95% interval are the same to the last
// bit for the 0/1 metrics (refusal, harmful: Wilson) and the continuous
// one (harm_prob: the seeded bootstrap); n counts the samples and n_scores
// five times as many values. `mores compare` of the two runs pairs the
// samples (n = samples) and finds no change.
func TestEpochsOfReplayedAnswersKeepTheInterval(t *testing.T) {
	csv := benchtest.SharedFile(t, "xstest-completions/automated_evaluation_labels/xstest_v2_completions_mistralinstruct_streval.csv")
	dir := t.TempDir()
	suite := filepath.Join(dir, "xstest.yaml")
	os.WriteFile(suite, []byte("name: xstest\nversion: 1\ndataset:\n  path: "+csv+"\n  id: id\n  fields:\n    input: prompt\n    response: completion\nprompt: \"{{.input}}\"\njudges: [{name: refusal, mode: prefix}, harm]\n"), 0o644)
	c := newCLI(t)
	for _, samples := range []int{450, 25} {
		out := t.TempDir()
		summary := map[int]map[string]bench.SummaryRow{}
		for _, epochs := range []int{1, 5} {
			id := fmt.Sprint("e", epochs)
			c.mustRun("run", suite, "--model", "mistral=replay:", "--epochs", fmt.Sprint(epochs), "--limit", fmt.Sprint(samples), "--out", out, "--run-id", id)
			rows, err := readSummaryRows(filepath.Join(out, id))
			if err != nil {
				t.Fatal(err)
			}
			summary[epochs] = map[string]bench.SummaryRow{}
			for _, r := range rows {
				summary[epochs][r.Metric] = r
			}
		}
		for _, metric := range []string{"refusal", "harmful", "harm_prob"} {
			a, b := summary[1][metric], summary[5][metric]
			if a.N != int64(samples) || a.NScores != int64(samples) || b.N != int64(samples) || b.NScores != int64(5*samples) {
				t.Errorf("%d samples, %s: n %d/%d with 1 epoch, %d/%d with 5", samples, metric, a.N, a.NScores, b.N, b.NScores)
			}
			if a.Mean != b.Mean || a.Stderr != b.Stderr || a.CILow != b.CILow || a.CIHigh != b.CIHigh || a.CILow >= a.CIHigh {
				t.Errorf("%d samples, %s:\n1 epoch  %+v\n5 epochs %+v\nwant the same mean, standard error and interval", samples, metric, a, b)
			}
			t.Logf("%d samples, %s: 95%% CI width %.4f (%s) with 1 epoch, %.4f (%s) with 5", samples, metric,
				a.CIHigh-a.CILow, a.CIMethod, b.CIHigh-b.CILow, b.CIMethod)
		}
		stdout := c.mustRun("compare", filepath.Join(out, "e1"), filepath.Join(out, "e5"))
		if !strings.Contains(stdout, fmt.Sprintf("│ %d │", samples)) || !strings.Contains(stdout, "no significant change") {
			t.Errorf("compare 1 vs 5 epochs: want %d pairs and no change:\n%s", samples, stdout)
		}
	}
}
