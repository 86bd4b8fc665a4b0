package bench_test

import (
	"path/filepath"
	"testing"

	"github.com/mores-eval/mores/bench"
)

// Overlapping runs (a shard re-run into a new directory, then judged
// again) merge to one row per trial and one row per trial × judge × metric.
func TestMergeKeepsOverlappingScoresOnce(t *testing.T) {
	mk := func() string {
		dir := t.TempDir()
		j, _ := bench.OpenJournal(filepath.Join(dir, bench.JournalFile))
		ok := &bench.Completion{Text: "x", Attempts: 1}
		j.Append(&bench.Entry{Kind: bench.EntryTrial, Suite: "s", SampleID: "a", Model: "m", Attack: "none", Epoch: 1, Result: ok,
			Scores: []bench.Score{{Judge: "refusal", Metric: "refusal", Value: 0}}})
		j.Append(&bench.Entry{Kind: bench.EntryScores, Suite: "s", SampleID: "a", Model: "m", Attack: "none", Epoch: 1,
			Scores: []bench.Score{{Judge: "harm", Metric: "harmful", Value: 1}}})
		j.Close()
		bench.WriteManifest(dir, &bench.Manifest{RunID: "r", Status: "complete", Suites: []bench.ManifestSuite{{Name: "s", Hash: "h"}}, Models: []bench.ManifestModel{{Name: "m"}}})
		return dir
	}
	out := filepath.Join(t.TempDir(), "merged")
	m, err := bench.Merge([]string{mk(), mk()}, out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts.Trials != 1 || m.Counts.Scores != 2 {
		t.Errorf("merged counts %+v, want 1 trial and 2 scores", *m.Counts)
	}
}
