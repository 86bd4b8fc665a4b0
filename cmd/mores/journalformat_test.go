package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/mores-eval/mores/bench"
)

// TestRunDirectoriesOfEarlierVersions turns a run's compressed journal
// into the plain journal.jsonl that earlier versions wrote, then resumes,
// judges, merges and reports that run: each reads the plain journal (and
// appends to it), with the same results.
func TestRunDirectoriesOfEarlierVersions(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "quickstart", "--out", out, "--run-id", "new", "--no-report")
	dir := filepath.Join(out, "new")
	want := readResponses(t, dir)

	z, err := os.ReadFile(filepath.Join(dir, bench.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := zstd.NewReader(nil)
	plain, err := d.DecodeAll(z, nil)
	if err != nil || len(plain) < 10*len(z)/2 {
		t.Fatalf("the journal: %d bytes, %d decoded (%v)", len(z), len(plain), err)
	}
	old := filepath.Join(out, "old")
	os.MkdirAll(old, 0o755)
	for _, f := range []string{bench.ManifestFile, bench.ResponsesFile, bench.ScoresFile} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		os.WriteFile(filepath.Join(old, f), b, 0o644)
	}
	os.WriteFile(filepath.Join(old, bench.PlainJournalFile), plain, 0o644)

	c.mustRun("run", "--resume", old, "--no-report")
	if got := readResponses(t, old); len(got) != len(want) || oneRowPerTrial(t, got) != len(want) {
		t.Fatalf("resumed: %d rows, want %d", len(got), len(want))
	}
	c.mustRun("judge", old, "--judge", "harm")
	if _, err := os.Stat(filepath.Join(old, bench.JournalFile)); err == nil {
		t.Error("a run of an earlier version got a second journal")
	}
	harm := 0
	bench.ScanJournal(filepath.Join(old, bench.PlainJournalFile), func(_ int64, e *bench.Entry) error {
		for _, s := range e.Scores {
			if s.Judge == "harm" {
				harm++
			}
		}
		return nil
	})
	if harm < len(want) {
		t.Errorf("%d harm scores appended to the plain journal, want one per trial or more (%d trials)", harm, len(want))
	}
	merged := filepath.Join(out, "merged")
	c.mustRun("merge", old, "-o", merged)
	if got := readResponses(t, merged); len(got) != len(want) {
		t.Errorf("merged: %d rows, want %d", len(got), len(want))
	}
	if _, err := os.Stat(filepath.Join(merged, bench.JournalFile)); err != nil {
		t.Errorf("the merged run has no compressed journal: %v", err)
	}
	c.mustRun("report", merged, "--format", "html", "-o", filepath.Join(out, "r.html"))
}
