package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportHTMLAndPlots runs the quickstart, then writes the HTML report
// and the plots with `mores report`.
func TestReportHTMLAndPlots(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "quickstart", "adversarial", "--out", out, "--run-id", "r")
	dir := filepath.Join(out, "r")
	report := filepath.Join(t.TempDir(), "report.html")
	plots := filepath.Join(t.TempDir(), "plots")
	c.mustRun("report", dir, "--format", "html", "-o", report, "--plots", plots)
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, w := range []string{"<!doctype html>", "Content-Security-Policy", `id="mores-data"`, "data:image/svg", "Mores report — r"} {
		if !strings.Contains(page, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	for _, f := range []string{"attack-success_adversarial.png", "attack-success_adversarial.svg", "metric_quickstart_refusal_refusal.png"} {
		if _, err := os.Stat(filepath.Join(plots, f)); err != nil {
			t.Errorf("plot %s: %v", f, err)
		}
	}
	// Plots alongside a text table.
	plots2 := filepath.Join(t.TempDir(), "p2")
	if txt := c.mustRun("report", dir, "--plots", plots2); !strings.Contains(txt, "refusal.refusal") {
		t.Errorf("text table: %s", txt)
	}
	if ents, err := os.ReadDir(plots2); err != nil || len(ents) == 0 {
		t.Errorf("--plots with the text format wrote %d files (%v)", len(ents), err)
	}
}

// TestReportSampleFlag renders the report of a run with a sample of 7
// trials, and with every trial (--sample 0).
func TestReportSampleFlag(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "quickstart", "--out", out, "--run-id", "r", "--no-report")
	dir := filepath.Join(out, "r")
	report := filepath.Join(t.TempDir(), "report.html")
	c.mustRun("report", dir, "--format", "html", "-o", report, "--sample", "7")
	b, _ := os.ReadFile(report)
	if !strings.Contains(string(b), "7 of the 80 trials") || !strings.Contains(string(b), `"n":7,"total":80`) {
		t.Errorf("--sample 7: the page does not hold 7 of the 80 trials")
	}
	c.mustRun("report", dir, "--format", "html", "-o", report, "--sample", "0")
	b, _ = os.ReadFile(report)
	if strings.Contains(string(b), "sample-note") || !strings.Contains(string(b), `"n":80,"total":80`) {
		t.Errorf("--sample 0: the page does not hold every trial")
	}
	if _, _, code := c.run("report", dir, "--format", "html", "--sample", "-1"); code != 2 {
		t.Errorf("--sample -1: exit %d, want 2", code)
	}
}
