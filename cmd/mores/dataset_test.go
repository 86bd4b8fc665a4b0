package main

import (
	"path/filepath"
	"testing"

	"github.com/mores-eval/mores/bench/benchtest"
)

// TestBuiltinSuitesOnRealDatasets runs each built-in suite on the public
// dataset of its kind, named with --dataset, and checks the row counts.
func TestBuiltinSuitesOnRealDatasets(t *testing.T) {
	cases := []struct {
		suite, file, adapter string
		samples              int
	}{
		{"harmless", "advbench/harmful_behaviors.csv", "", 520},
		{"adversarial", "jbb-behaviors/harmful-behaviors.csv", "", 100},
		{"overrefusal", "xstest-completions/xstest_prompts.csv", "", 450},
		{"truthful", "truthfulqa/TruthfulQA.csv", "", 790},
		{"truthful", "truthfulqa/mc_task.json", "truthfulqa-mc1", 790},
		{"moral", "ethics/deontology/deontology_test.csv", "", 3596},
		{"moral", "ethics/utilitarianism/util_test.csv", "ethics-utilitarianism", 4808},
		{"harmless", "hh-rlhf/harmless-base/test.jsonl.gz", "", 2312},
	}
	c := newCLI(t)
	out := t.TempDir()
	for i, tc := range cases {
		args := []string{"run", tc.suite, "--dataset", benchtest.SharedFile(t, tc.file), "--model", "m=sim:aligned",
			"--out", out, "--run-id", tc.suite + string(rune('a'+i)), "--attack", "none", "--concurrency", "32"}
		if tc.adapter != "" {
			args = append(args, "--adapter", tc.adapter)
		}
		c.mustRun(args...)
		rows := readResponses(t, filepath.Join(out, tc.suite+string(rune('a'+i))))
		if n := oneRowPerTrial(t, rows); n != tc.samples {
			t.Errorf("%s on %s: %d trials, want %d", tc.suite, tc.file, n, tc.samples)
		}
		for _, r := range rows {
			if r.Error != nil || r.Prompt == "" {
				t.Fatalf("%s on %s: trial %s: error %v, prompt %q", tc.suite, tc.file, r.SampleID, r.Error, r.Prompt)
			}
		}
	}
	// An adapter that does not fit the suite is an input error.
	if _, _, code := c.run("run", "moral", "--dataset", benchtest.SharedFile(t, "advbench/harmful_behaviors.csv"), "--model", "m=sim:aligned", "--out", out); code != 2 {
		t.Errorf("moral on AdvBench: exit %d, want 2", code)
	}
}
