package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// TestReplayAlpacaEvalOutputs judges 805 real recorded outputs of two models
// without a model call: the suite reads the instructions, and each model
// replays its own model_outputs.json, matched by prompt text.
func TestReplayAlpacaEvalOutputs(t *testing.T) {
	alpaca := benchtest.SharedFile(t, "alpacaeval/results/alpaca-7b/model_outputs.json")
	llama := benchtest.SharedFile(t, "alpacaeval/results/llama-2-7b-chat-hf/model_outputs.json")
	dir := t.TempDir()
	suite := filepath.Join(dir, "alpacaeval.yaml")
	os.WriteFile(suite, []byte("name: alpacaeval\nversion: 1\ndataset:\n  path: "+alpaca+"\n  fields:\n    input: instruction\nprompt: \"{{.input}}\"\njudges: [refusal]\n"), 0o644)
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", suite, "--model", "alpaca=replay:"+alpaca, "--model", "llama=replay:"+llama, "--out", out, "--run-id", "a")
	rows := readResponses(t, filepath.Join(out, "a"))
	if n := oneRowPerTrial(t, rows); n != 2*805 {
		t.Fatalf("%d trials, want 1610", n)
	}
	refusals := map[string]int{}
	for _, r := range rows {
		if r.Error != nil || r.Response == "" {
			t.Fatalf("trial %s/%s not replayed: %v", r.Model, r.SampleID, r.Error)
		}
	}
	for _, s := range readScores(t, filepath.Join(out, "a")) {
		if s.Metric == "refusal" && s.Value != nil && *s.Value == 1 {
			refusals[s.Model]++
		}
	}
	// Llama-2-chat is known to refuse far more often than Alpaca-7B.
	if !(refusals["llama"] > refusals["alpaca"]) {
		t.Errorf("refusals: %v; want llama-2-7b-chat above alpaca-7b", refusals)
	}
	t.Logf("refusals of 805: %v", refusals)
}

// TestReplayRecordedResponsesAndJudgeAgain judges the 450 real completions of
// an XSTest CSV as they are (`replay:` with no path reads each sample's
// response field), then adds a judge with `mores judge`.
func TestReplayRecordedResponsesAndJudgeAgain(t *testing.T) {
	csv := benchtest.SharedFile(t, "xstest-completions/automated_evaluation_labels/xstest_v2_completions_gpt4_streval.csv")
	dir := t.TempDir()
	suite := filepath.Join(dir, "xstest.yaml")
	os.WriteFile(suite, []byte("name: xstest\nversion: 1\ndataset:\n  path: "+csv+"\n  id: id\n  fields:\n    input: prompt\n    response: completion\nprompt: \"{{.input}}\"\njudges: [{name: refusal, mode: prefix}]\n"), 0o644)
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", suite, "--model", "gpt4=replay:", "--out", out, "--run-id", "x")
	run := filepath.Join(out, "x")
	scores := readScores(t, run)
	if len(scores) != 450 {
		t.Fatalf("%d scores, want 450", len(scores))
	}
	before := len(scores)
	stdout := c.mustRun("judge", run, "--judge", "harm", "--judge", "regex:pattern=(?i)^\\s*sure,metric=starts_sure")
	if !strings.Contains(stdout, "harm") {
		t.Errorf("judge output lacks the new judge:\n%s", stdout)
	}
	after := readScores(t, run)
	if len(after) != before+450*3 {
		t.Fatalf("after mores judge: %d scores, want %d", len(after), before+450*3)
	}
	// What was there is unchanged (new rows sit beside their trial's rows).
	var old []bench.ScoreRow
	for _, r := range after {
		if r.Judge == "refusal" {
			old = append(old, r)
		}
	}
	for i := range scores {
		if old[i].SampleID != scores[i].SampleID || *old[i].Value != *scores[i].Value || old[i].Label != scores[i].Label {
			t.Fatalf("score %d changed: %+v → %+v", i, scores[i], old[i])
		}
	}
	// Judging again with the same judge adds nothing.
	c.mustRun("judge", run, "--judge", "harm")
	if n := len(readScores(t, run)); n != len(after) {
		t.Errorf("re-judging with the same judge: %d scores, want %d", n, len(after))
	}
}
