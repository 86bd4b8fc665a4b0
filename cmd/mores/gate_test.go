package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareWithNothingInCommonExitsTwo checks that a gate which could
// test nothing does not pass: runs whose models are named differently, and
// a head run whose every trial failed, exit 2 naming both runs.
func TestCompareWithNothingInCommonExitsTwo(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "--out", out, "--run-id", "base", "--model", "base=sim:baseline", "--limit", "5")
	c.mustRun("run", "--out", out, "--run-id", "head", "--model", "head=sim:aligned", "--limit", "5")
	base, head := filepath.Join(out, "base"), filepath.Join(out, "head")
	stdout, stderr, code := c.run("compare", base, head)
	if code != 2 || !strings.Contains(stderr, "nothing to compare") || !strings.Contains(stderr, base) || !strings.Contains(stderr, head) {
		t.Errorf("different model names: exit %d, want 2\n%s%s", code, stdout, stderr)
	}

	// A head run in which every trial failed has no scores at all.
	nomatch := filepath.Join(t.TempDir(), "outputs.jsonl")
	if err := os.WriteFile(nomatch, []byte(`{"id":"zzz","response":"x"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.mustRun("run", "--out", out, "--run-id", "good", "--model", "m=sim:aligned", "--limit", "5")
	if _, stderr, code := c.run("run", "--out", out, "--run-id", "failed", "--model", "m=replay:"+nomatch, "--limit", "5"); code != 3 {
		t.Fatalf("run with no outputs: exit %d, want 3\n%s", code, stderr)
	}
	stdout, stderr, code = c.run("compare", filepath.Join(out, "good"), filepath.Join(out, "failed"))
	if code != 2 || !strings.Contains(stderr, "nothing to compare") {
		t.Errorf("head with every trial failed: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
}

// TestStepSummaryFailureKeepsTheGateVerdict checks that an unwritable
// $GITHUB_STEP_SUMMARY is a warning: a regression still exits 1 and no
// regression still exits 0 (not 3).
func TestStepSummaryFailureKeepsTheGateVerdict(t *testing.T) {
	c := newCLI(t)
	base, head := simRuns(t, c)
	c.env["GITHUB_STEP_SUMMARY"] = filepath.Join(t.TempDir(), "no", "such", "dir", "summary.md")
	stdout, stderr, code := c.run("compare", head, base, "--format", "markdown")
	if code != 1 || !strings.Contains(stderr, "GITHUB_STEP_SUMMARY") || !strings.Contains(stderr, "gate failed") {
		t.Errorf("regression: exit %d, want 1 with a warning\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = c.run("compare", base, head, "--format", "markdown")
	if code != 0 || !strings.Contains(stderr, "GITHUB_STEP_SUMMARY") {
		t.Errorf("improvement: exit %d, want 0 with a warning\n%s%s", code, stdout, stderr)
	}
}

// TestReportOutputFile checks -o FILE: a failed rendering leaves neither
// the file nor a temporary file behind, and a written file is readable by
// others (0644), as the shell would make it.
func TestReportOutputFile(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "--out", out, "--run-id", "r", "--limit", "3")
	dst := t.TempDir()
	if _, _, code := c.run("report", filepath.Join(out, "r"), "--format", "bogus", "-o", filepath.Join(dst, "t.txt")); code != 2 {
		t.Errorf("--format bogus: exit %d, want 2", code)
	}
	if es, _ := os.ReadDir(dst); len(es) != 0 {
		t.Errorf("a failed report left %d files behind: %s", len(es), es[0].Name())
	}
	c.mustRun("report", filepath.Join(out, "r"), "--format", "latex", "-o", filepath.Join(dst, "t.tex"))
	fi, err := os.Stat(filepath.Join(dst, "t.tex"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	// An unwritable -o names the file asked for, not a temporary file.
	blocked := filepath.Join(dst, "t.tex", "sub", "x.txt") // below a file
	if _, stderr, code := c.run("report", filepath.Join(out, "r"), "-o", blocked); code == 0 || !strings.Contains(stderr, blocked+": cannot write") {
		t.Errorf("unwritable -o: exit %d\n%s", code, stderr)
	}
}
