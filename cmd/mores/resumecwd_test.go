package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mores-eval/mores/bench"
)

// A run started with relative paths (suite file, dataset, replay outputs)
// resumes from another working directory.
func TestResumeFromAnotherDirectory(t *testing.T) {
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "d.jsonl"), []byte("{\"id\":\"1\",\"input\":\"hello\",\"out\":\"hi\"}\n{\"id\":\"2\",\"input\":\"bye\",\"out\":\"bye\"}\n"), 0o644)
	os.WriteFile(filepath.Join(work, "s.yaml"), []byte("name: rel\nversion: 1\ndataset: {path: d.jsonl, id: id, fields: {input: input}}\nprompt: \"{{.input}}\"\njudges: [refusal]\n"), 0o644)
	old, _ := os.Getwd()
	defer os.Chdir(old)
	if err := os.Chdir(work); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	c.mustRun("run", "s.yaml", "--model", "r=replay:d.jsonl?response=out", "--out", "runs", "--run-id", "rel", "--no-report")
	dir := filepath.Join(work, "runs", "rel")
	os.Remove(filepath.Join(dir, bench.ResponsesFile))
	os.Chdir(t.TempDir())
	c.mustRun("run", "--resume", dir, "--no-report")
	if n := oneRowPerTrial(t, readResponses(t, dir)); n != 2 {
		t.Errorf("%d trials after resuming elsewhere, want 2", n)
	}
}
