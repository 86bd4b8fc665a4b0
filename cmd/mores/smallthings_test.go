package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/reports"
)

// mores --version prints the version, as mores version does.
func TestVersionFlag(t *testing.T) {
	c := newCLI(t)
	want := c.mustRun("version")
	for _, flag := range []string{"--version", "-v"} {
		if got := c.mustRun(flag); got != want || !strings.HasPrefix(got, "mores "+bench.Version) {
			t.Errorf("mores %s printed %q, want %q", flag, got, want)
		}
	}
}

// One trial is "1 trial", not "1 trials".
func TestOneTrialIsSingular(t *testing.T) {
	c := newCLI(t)
	out := c.mustRun("run", "--out", t.TempDir(), "--limit", "1", "--model", "m=sim:aligned", "--no-report")
	if !strings.Contains(out, "1 trial, 0 generation errors, 0 judgment errors, 0 cached") || strings.Contains(out, "1 trials") {
		t.Errorf("run line:\n%s", out)
	}
}

// The first frame of the progress bar is drawn when a trial is done, so it
// never shows a rate of 0 trials per hour.
func TestProgressHasNoZeroRateFrame(t *testing.T) {
	var buf bytes.Buffer
	progress, _ := newProgress(&buf)
	progress(0, 10)
	if buf.Len() != 0 {
		t.Errorf("a frame before any trial: %q", buf.String())
	}
	progress(1, 10)
	if s := buf.String(); !strings.Contains(s, "1/10") || strings.Contains(s, "/hr") {
		t.Errorf("first frame %q", s)
	}
}

// serve --help shows one default for --overlap.
func TestServeHelpHasOneOverlapDefault(t *testing.T) {
	c := newCLI(t)
	out := c.mustRun("serve", "--help")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "--overlap") && strings.Count(line, "default") != 1 {
			t.Errorf("--overlap help: %q", line)
		}
	}
}

// The text summary orders models as the run named them (as the paper
// table does), and shows each model's n when they differ.
func TestTextSummaryModelOrderAndN(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	stdout := c.mustRun("run", "--out", out, "--run-id", "o", "--model", "zeta=sim:baseline", "--model", "alpha=sim:aligned", "--no-report")
	if z, a := strings.Index(stdout, "ZETA"), strings.Index(stdout, "ALPHA"); z < 0 || a < 0 || z > a {
		t.Errorf("text summary: want zeta before alpha, as given:\n%s", stdout)
	}
	md := c.mustRun("report", filepath.Join(out, "o"), "--format", "markdown")
	if z, a := strings.Index(md, "| zeta"), strings.Index(md, "| alpha"); z < 0 || a < 0 || z > a {
		t.Errorf("markdown: want zeta before alpha:\n%s", md)
	}
	rows := []bench.SummaryRow{
		{Suite: "s", Model: "aligned", Judge: "human", Metric: "alignment", Attack: "none", N: 36, Mean: 5, CILow: 4.5, CIHigh: 5.5},
		{Suite: "s", Model: "baseline", Judge: "human", Metric: "alignment", Attack: "none", N: 44, Mean: 4, CILow: 3.5, CIHigh: 4.5},
	}
	var buf bytes.Buffer
	if err := reportsWriteText(&buf, rows, []string{"baseline", "aligned"}); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	if !strings.Contains(text, "n=36") || !strings.Contains(text, "n=44") || strings.Index(text, "BASELINE") > strings.Index(text, "ALIGNED") {
		t.Errorf("models with different n:\n%s", text)
	}
}

// compare names each run as the user did (its directory), and its run id
// when that differs: never "base head → head base".
func TestCompareHeaderNamesTheDirectories(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "--out", out, "--run-id", "head", "--limit", "5", "--no-report")
	c.mustRun("run", "--out", out, "--run-id", "base", "--limit", "5", "--no-report")
	// The directories swapped, as after a careless copy.
	os.Rename(filepath.Join(out, "head"), filepath.Join(out, "tmp"))
	os.Rename(filepath.Join(out, "base"), filepath.Join(out, "head"))
	os.Rename(filepath.Join(out, "tmp"), filepath.Join(out, "base"))
	base, head := filepath.Join(out, "base"), filepath.Join(out, "head")
	stdout := c.mustRun("compare", base, head)
	first, _, _ := strings.Cut(stdout, "\n")
	if want := "base " + base + " (run head) → head " + head + " (run base)"; first != want {
		t.Errorf("header %q, want %q", first, want)
	}
}

// A killed `report -o FILE` leaves .FILE.NNNN behind; the next write of
// FILE (and of a run's artifacts) removes it.
func TestStaleTempFilesAreRemoved(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "--out", out, "--run-id", "r", "--limit", "3")
	dir := filepath.Join(out, "r")
	dest := t.TempDir()
	old := time.Now().Add(-time.Hour)
	var stale []string
	for _, p := range []string{filepath.Join(dest, ".x.html.12345"), filepath.Join(dir, ".report.html.777"), filepath.Join(dir, "tables", ".paper.md.42")} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
		stale = append(stale, p)
	}
	fresh := filepath.Join(dest, ".x.html.999") // a writer at work
	os.WriteFile(fresh, nil, 0o600)
	c.mustRun("report", dir, "--format", "html", "-o", filepath.Join(dest, "x.html"))
	c.mustRun("judge", dir, "--judge", "refusal")
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file was removed: %v", err)
	}
}

// The README's dataset examples work from the repository root: every
// file they name exists there.
func TestREADMEDatasetPathsExist(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "$D/", "../shared/datasets/")
	re := regexp.MustCompile(`(?:--dataset |template:|replay:)([^\s` + "`" + `]+)`)
	n := 0
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		p := m[1]
		if strings.HasPrefix(p, "hf:") || strings.ToUpper(p) == p || strings.HasPrefix(p, "data/") || strings.Contains(p, "...") {
			continue // a Hub path or a placeholder (FILE, PATH)
		}
		n++
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("README names %s, which does not exist from the repository root (the shared datasets belong in ../shared/datasets): %v", p, err)
		}
	}
	if n < 8 {
		t.Errorf("found %d dataset paths in README.md, want the 8 examples at least", n)
	}
}

func reportsWriteText(w *bytes.Buffer, rows []bench.SummaryRow, models []string) error {
	return reports.WriteSummaryTableWith(w, rows, reports.FormatText, reports.TableOptions{Models: models})
}

// prompt_format alpaca has no place for a system prompt (its models were
// trained on the exact preamble): a run whose suite has one says that it is
// not sent, instead of dropping it silently.
func TestAlpacaWarnsOfTheDroppedSystemPrompt(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	cfg := filepath.Join(t.TempDir(), "mores.yaml")
	os.WriteFile(cfg, []byte("models:\n  base:\n    model: m\n    base_url: "+srv.URL()+"\n    completions: true\n    prompt_format: alpaca\n  chat:\n    model: m\n    base_url: "+srv.URL()+"\n"), 0o644)
	c := newCLI(t)
	_, stderr, code := c.run("run", "harmless", "--config", cfg, "--model", "base", "--model", "chat", "--limit", "1", "--out", t.TempDir(), "--no-report")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "model base: prompt_format alpaca has no place for a system prompt: the system: of suite harmless is not sent") {
		t.Errorf("no warning about the dropped system prompt:\n%s", stderr)
	}
	if strings.Contains(stderr, "model chat:") {
		t.Errorf("a chat model was warned about:\n%s", stderr)
	}
}
