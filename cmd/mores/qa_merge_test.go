package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
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
