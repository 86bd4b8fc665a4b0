package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeExportRendersTheReportAgain checks that `serve --export` renders
// the run's report.html and tables again, so that they show the human
// scores it added (not the scores of before the export).
func TestServeExportRendersTheReportAgain(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	dir := filepath.Join(out, "x")
	c.mustRun("run", "--out", out, "--run-id", "x", "--limit", "2")
	bin := buildBinary(t)
	p := startServe(t, bin, 1, "serve", dir, "--addr", "127.0.0.1:0")
	for _, link := range p.links {
		s := openLink(t, link)
		st := s.state()
		s.rate(st.Item.ID, 6, 2)
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	if stdout := c.mustRun("serve", dir, "--export"); !strings.Contains(stdout, "2 scores added") {
		t.Fatalf("export: %q", stdout)
	}
	for _, f := range []string{"tables/summary.csv", "tables/summary.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "human") {
			t.Errorf("%s after the export has no human scores:\n%s", f, b)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "human.alignment") {
		t.Errorf("report.html after the export has no human.alignment row")
	}
}
