package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/mores-eval/mores/bench"
)

// TestMergeRefusesARunGivenTwice merges a judged run with itself (as a
// shell glob plus a name can do). Its trials were kept once but the scores
// that `mores judge` added were written twice, doubling their rows and
// their n in the summary; the command now exits 2 naming the directory,
// and writes nothing.
func TestMergeRefusesARunGivenTwice(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "harmless", "--limit", "5", "--out", out, "--run-id", "a", "--no-report")
	a := filepath.Join(out, "a")
	c.mustRun("judge", a, "--judge", "regex:pattern=(?i)^sure,metric=starts_sure")
	for _, again := range []string{a, a + "/", filepath.Join(out, ".", "a")} {
		merged := filepath.Join(out, "m")
		_, stderr, code := c.run("merge", a, again, "-o", merged)
		if code != 2 || !strings.Contains(stderr, "given twice") {
			t.Errorf("merge %s %s: exit %d, want 2\n%s", a, again, code, stderr)
		}
	}
	// One copy merges, with one score row per trial and judge metric.
	merged := filepath.Join(out, "m1")
	c.mustRun("merge", a, "-o", merged)
	seen := map[string]bool{}
	for _, s := range readScores(t, merged) {
		k := fmt.Sprint(s.SampleID, s.Model, s.Epoch, s.Judge, s.Metric)
		if seen[k] {
			t.Fatalf("score %s appears twice", k)
		}
		seen[k] = true
	}
}

// TestAFailedMergeLeavesNoHalfRun merges a run whose journal is corrupt
// half-way: the merge fails, and neither the output folder nor its
// temporary folder is left behind, so that the same command can run again.
func TestAFailedMergeLeavesNoHalfRun(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "harmless", "--limit", "5", "--out", out, "--run-id", "a", "--no-report", "--shard", "1/2")
	c.mustRun("run", "harmless", "--limit", "5", "--out", out, "--run-id", "b", "--no-report", "--shard", "2/2")
	jb := filepath.Join(out, "b", bench.JournalFile)
	b, err := os.ReadFile(jb)
	if err != nil {
		t.Fatal(err)
	}
	// A whole zstd frame holding a corrupt entry.
	enc, _ := zstd.NewWriter(nil)
	os.WriteFile(jb, enc.EncodeAll([]byte("{\"k\":\"trial\",\"i\":\n"), b), 0o644)
	merged := filepath.Join(out, "m")
	_, stderr, code := c.run("merge", filepath.Join(out, "a"), filepath.Join(out, "b"), "-o", merged)
	if code != 2 || !strings.Contains(stderr, "journal") {
		t.Fatalf("merge with a corrupt journal: exit %d\n%s", code, stderr)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[a b]" {
		t.Errorf("after the failed merge the folder holds %v, want [a b]", names)
	}
	// Repaired, the same command merges, and the run is readable by all.
	os.WriteFile(jb, b, 0o644)
	c.mustRun("merge", filepath.Join(out, "a"), filepath.Join(out, "b"), "-o", merged)
	if st, err := os.Stat(merged); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("merged run: %v, %v", st, err)
	}
	if n := len(readResponses(t, merged)); n != 10 {
		t.Errorf("%d responses, want 10", n)
	}
}

// TestMergeWarnsOfAnIncompleteSetOfShards checks the warning for shards 1/3
// and 2/3 merged without 3/3 (with --allow-partial: without it the merge
// fails, see TestMergeOfAnIncompleteSetFails), and that the merged run's
// files are complete and name no temporary folder.
func TestMergeWarnsOfAnIncompleteSetOfShards(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	for _, sh := range []string{"1/3", "2/3"} {
		c.mustRun("run", "harmless", "--limit", "9", "--out", out, "--run-id", "s"+sh[:1], "--shard", sh)
	}
	// A folder left by a killed merge to the same name is cleared.
	os.MkdirAll(filepath.Join(out, ".m.merging-123"), 0o755)
	merged := filepath.Join(out, "m")
	_, stderr, code := c.run("merge", filepath.Join(out, "s1"), filepath.Join(out, "s2"), "-o", merged, "--allow-partial")
	if code != 0 || !strings.Contains(stderr, "shards missing: 3/3") {
		t.Fatalf("exit %d, stderr %q; want 0 and a warning naming 3/3", code, stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(out, ".m.merging-*")); len(left) > 0 {
		t.Errorf("temporary folders left: %v", left)
	}
	for _, f := range []string{"report.html", "tables", "plots", bench.SummaryFile} {
		if _, err := os.Stat(filepath.Join(merged, f)); err != nil {
			t.Errorf("merged run lacks %s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(merged, "report.html"))
	if strings.Contains(string(b), ".merging-") {
		t.Error("report.html names the temporary folder")
	}
}
