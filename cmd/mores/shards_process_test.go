package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mores-eval/mores/bench"
)

// TestShardProcessesMergeToTheSameSummary is the scale-out recipe of
// docs/scale-out.md run for real: N processes of the built binary run
// --shard I/N at the same time (as the pods of a Kubernetes Indexed Job or
// the jobs of a CI matrix would, each with its own cache), `mores merge`
// combines their run directories, and the merged summary equals, row for
// row, that of one process running everything.
func TestShardProcessesMergeToTheSameSummary(t *testing.T) {
	bin := buildBinary(t)
	out := t.TempDir()
	args := []string{"run", "quickstart", "moral", "--out", out, "--epochs", "2", "--concurrency", "4", "--no-report"}
	runBin := func(extra ...string) *exec.Cmd {
		cmd := exec.Command(bin, append(slices.Clone(args), extra...)...)
		cmd.Env = append(os.Environ(), "MORES_CACHE_DIR="+t.TempDir(), "HOME="+t.TempDir())
		return cmd
	}
	if b, err := runBin("--run-id", "whole").CombinedOutput(); err != nil {
		t.Fatalf("whole run: %v\n%s", err, b)
	}

	const n = 4
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	var dirs []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("shard-%d-of-%d", i, n)
		cmd := runBin("--run-id", id, "--shard", fmt.Sprintf("%d/%d", i, n))
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs, dirs = append(cmds, cmd), append(outs, &b), append(dirs, filepath.Join(out, id))
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i+1, err, outs[i])
		}
	}

	// Each shard holds a disjoint slice; together they hold every trial.
	seen := map[string]int{}
	for i, d := range dirs {
		m, err := bench.ReadManifest(d)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%d/%d", i+1, n); m.Shard != want || m.Status != "complete" {
			t.Errorf("%s: shard %q, status %q; want %q, complete", d, m.Shard, m.Status, want)
		}
		rows := readResponses(t, d)
		if len(rows) == 0 {
			t.Errorf("shard %d ran no trial", i+1)
		}
		for _, r := range rows {
			k := fmt.Sprint(r.Suite, "|", r.SampleID, "|", r.Model, "|", r.Attack, "|", r.Epoch)
			if prev, dup := seen[k]; dup {
				t.Fatalf("trial %s in shards %d and %d", k, prev, i+1)
			}
			seen[k] = i + 1
		}
	}
	whole := readResponses(t, filepath.Join(out, "whole"))
	if len(seen) != len(whole) {
		t.Fatalf("the shards hold %d trials, the whole run %d", len(seen), len(whole))
	}

	merged := filepath.Join(out, "merged")
	if b, err := exec.Command(bin, append(append([]string{"merge"}, dirs...), "-o", merged)...).CombinedOutput(); err != nil {
		t.Fatalf("merge: %v\n%s", err, b)
	}
	m, err := bench.ReadManifest(merged)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "complete" || len(m.MergedShards) != n || m.Counts.Trials != int64(len(whole)) {
		t.Errorf("merged manifest: status %q, shards %v, counts %+v", m.Status, m.MergedShards, m.Counts)
	}
	a, err := readSummaryRows(filepath.Join(out, "whole"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := readSummaryRows(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("summary rows: whole %d, merged %d", len(a), len(b))
	}
	for i := range a {
		a[i].RunID, b[i].RunID = "", ""
		if a[i] != b[i] {
			t.Errorf("summary row %d differs:\nwhole  %+v\nmerged %+v", i, a[i], b[i])
		}
	}
	mr := readResponses(t, merged)
	for i := range whole {
		if whole[i].SampleID != mr[i].SampleID || whole[i].Model != mr[i].Model || whole[i].Epoch != mr[i].Epoch ||
			whole[i].Response != mr[i].Response {
			t.Fatalf("merged row %d differs from the whole run's:\n%+v\n%+v", i, mr[i], whole[i])
		}
	}
	// The gate of the merge job: comparing the merged run with the whole
	// run finds no difference.
	if b, err := exec.Command(bin, "compare", filepath.Join(out, "whole"), merged).CombinedOutput(); err != nil {
		t.Errorf("compare whole merged: %v\n%s", err, b)
	}
}
