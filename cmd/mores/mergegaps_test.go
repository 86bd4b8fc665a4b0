package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// copyDir copies a run directory (files and folders) to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMergeOfAnIncompleteSetFails merges sets of shards that do not make a
// whole run: a shard missing, a shard given twice (a copy of its directory),
// a shard killed by SIGKILL mid-run. Before, each merged with exit 0 (and
// at most a warning) into a run that passed for the whole. Now each exits 3
// naming what is missing and writes nothing; --allow-partial merges them,
// recording status partial and what is missing; and a merged manifest keeps
// neither the run id nor the shard of the first shard, in its configuration
// either.
func TestMergeOfAnIncompleteSetFails(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Latency: 300 * time.Millisecond})
	c := newCLI(t)
	out := t.TempDir()
	args := []string{"run", "harmless", "--limit", "9", "--model", "m=openai:m@" + srv.URL(), "--no-cache", "--no-report", "--out", out, "--concurrency", "1"}
	for _, sh := range []string{"1", "2", "3"} {
		c.mustRun(append(args, "--run-id", "s"+sh, "--shard", sh+"/3")...)
	}
	s1, s2, s3 := filepath.Join(out, "s1"), filepath.Join(out, "s2"), filepath.Join(out, "s3")
	copyDir(t, s1, filepath.Join(out, "s1-copy"))

	// Shard 3 again, killed with SIGKILL once it has started.
	bin := buildBinary(t)
	killed := filepath.Join(out, "s3-killed")
	cmd := exec.Command(bin, append(args, "--run-id", "s3-killed", "--shard", "3/3")...)
	cmd.Env = append(os.Environ(), "MORES_CACHE_DIR="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(killed, bench.ManifestFile)); err == nil {
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()

	for _, tc := range []struct {
		dirs []string
		want string
	}{
		{[]string{s1, s2}, "shards missing: 3/3"},
		{[]string{s1, filepath.Join(out, "s1-copy"), s2, s3}, "shard 1/3 given more than once (" + s1 + ", " + filepath.Join(out, "s1-copy") + ")"},
		{[]string{s1, s2, killed}, killed + " did not finish (status running: killed, or still running"},
	} {
		merged := filepath.Join(out, "m")
		_, stderr, code := c.run(append(append([]string{"merge"}, tc.dirs...), "-o", merged)...)
		if code != 3 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "merge: incomplete set of runs: "+tc.want) {
			t.Errorf("merge %v: exit %d, want 3 with %q\n%s", tc.dirs, code, tc.want, stderr)
		}
		if left, _ := filepath.Glob(filepath.Join(out, "*m*merging*")); len(left) > 0 {
			t.Errorf("temporary folders left: %v", left)
		}
		if _, err := os.Stat(merged); err == nil {
			t.Fatalf("merge %v wrote %s", tc.dirs, merged)
		}
	}

	// --allow-partial: merged, and recorded as partial.
	partial := filepath.Join(out, "partial")
	_, stderr, code := c.run("merge", s1, s2, "-o", partial, "--allow-partial")
	if code != 0 || !strings.Contains(stderr, "shards missing: 3/3") {
		t.Fatalf("--allow-partial: exit %d\n%s", code, stderr)
	}
	m, err := bench.ReadManifest(partial)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "partial" || len(m.Missing) != 1 || m.Missing[0] != "shards missing: 3/3" || m.Counts.Trials != 6 {
		t.Errorf("partial manifest: status %q, missing %q, counts %+v", m.Status, m.Missing, m.Counts)
	}

	// The whole set: complete, and named as the merged run only.
	whole := filepath.Join(out, "whole")
	c.mustRun("merge", s1, s2, s3, "-o", whole)
	m, err = bench.ReadManifest(whole)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(m.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	if m.Status != "complete" || m.RunID != "whole" || m.Shard != "" || cfg["run_id"] != "whole" || cfg["shard"] != nil || len(m.Missing) != 0 {
		t.Errorf("merged manifest: status %q, run_id %q, shard %q, config run_id %v, config shard %v, missing %q",
			m.Status, m.RunID, m.Shard, cfg["run_id"], cfg["shard"], m.Missing)
	}
	if m.Counts.Trials != 9 {
		t.Errorf("merged %d trials, want 9", m.Counts.Trials)
	}
}
