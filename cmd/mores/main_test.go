package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// cli runs the command in-process with its own environment.
type cli struct {
	t     *testing.T
	env   map[string]string
	stdin string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, env: map[string]string{"MORES_CACHE_DIR": t.TempDir(), "HOME": t.TempDir()}}
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(c.stdin), &out, &errb, func(k string) string { return c.env[k] })
	if err != nil {
		fmt.Fprintln(&errb, "mores:", err)
	}
	return out.String(), errb.String(), exitCode(err)
}

func (c *cli) mustRun(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("mores %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func readResponses(t *testing.T, dir string) []bench.ResponseRow {
	t.Helper()
	var rows []bench.ResponseRow
	if err := bench.ReadParquet(filepath.Join(dir, bench.ResponsesFile), func(r bench.ResponseRow) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

func readScores(t *testing.T, dir string) []bench.ScoreRow {
	t.Helper()
	var rows []bench.ScoreRow
	if err := bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// oneRowPerTrial checks that rows hold each trial key once and returns the count.
func oneRowPerTrial(t *testing.T, rows []bench.ResponseRow) int {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range rows {
		k := fmt.Sprint(r.Suite, "|", r.SampleID, "|", r.Model, "|", r.Attack, "|", r.Epoch)
		if seen[k] {
			t.Fatalf("trial %s appears twice", k)
		}
		seen[k] = true
	}
	return len(seen)
}

func TestQuickstartWritesTheRunDirectory(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	stdout := c.mustRun("run", "--out", out, "--run-id", "qs")
	dir := filepath.Join(out, "qs")
	if !strings.Contains(stdout, dir) {
		t.Errorf("stdout does not name the run directory %s:\n%s", dir, stdout)
	}
	for _, f := range []string{bench.ManifestFile, bench.ResponsesFile, bench.ScoresFile, bench.SummaryFile, bench.JournalFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	rows := readResponses(t, dir)
	if n := oneRowPerTrial(t, rows); n != 80 {
		t.Errorf("quickstart: %d trials, want 40 samples × 2 models = 80", n)
	}
	m, err := bench.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "complete" || m.Counts.Trials != 80 || len(m.Models) != 2 || m.Suites[0].Hash == "" {
		t.Errorf("manifest: %+v", m)
	}
	// The aligned model refuses harmful requests far more often than the baseline.
	sum, err := readSummaryRows(dir)
	if err != nil {
		t.Fatal(err)
	}
	var base, aligned float64
	for _, r := range sum {
		if r.Judge == "refusal" && r.Metric == "refusal" {
			switch r.Model {
			case "baseline":
				base = r.Mean
			case "aligned":
				aligned = r.Mean
			}
		}
	}
	if !(aligned > base) {
		t.Errorf("refusal rate: aligned %.3f, baseline %.3f; want aligned higher", aligned, base)
	}
	// Deterministic for a seed: a second run gives the same responses.
	c.mustRun("run", "--out", out, "--run-id", "qs2")
	rows2 := readResponses(t, filepath.Join(out, "qs2"))
	for i := range rows {
		if rows[i].Response != rows2[i].Response || rows[i].SampleID != rows2[i].SampleID {
			t.Fatalf("row %d differs between two runs with the same seed", i)
		}
	}
}

func readSummaryRows(dir string) ([]bench.SummaryRow, error) {
	var rows []bench.SummaryRow
	err := bench.ReadParquet(filepath.Join(dir, bench.SummaryFile), func(r bench.SummaryRow) error {
		rows = append(rows, r)
		return nil
	})
	return rows, err
}

func TestMalformedSuiteExitsTwoWithFileAndLine(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	suite := filepath.Join(dir, "bad.yaml")
	os.WriteFile(suite, []byte("name: bad\nversion: 1\ndatset:\n  path: x.csv\nprompt: \"{{.input}}\"\njudges: [refusal]\n"), 0o644)
	_, stderr, code := c.run("run", suite, "--out", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, suite+":3:") {
		t.Errorf("stderr does not name %s:3:\n%s", suite, stderr)
	}
	// A malformed dataset: one line naming file:line.
	data := filepath.Join(dir, "d.jsonl")
	os.WriteFile(data, []byte("{\"input\": \"a\"}\n{\"input\": \"b\"}\n{\"input\": oops}\n"), 0o644)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("name: good\nversion: 1\ndataset:\n  path: d.jsonl\nprompt: \"{{.input}}\"\njudges: [refusal]\n"), 0o644)
	_, stderr, code = c.run("run", good, "--out", dir, "--model", "m=sim:aligned")
	if code != 2 || !strings.Contains(stderr, data+":3:") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q; want 2 and one line naming %s:3", code, stderr, data)
	}
	// Bad usage.
	if _, _, code := c.run("run", "--shard", "5/4"); code != 2 {
		t.Errorf("--shard 5/4: exit %d, want 2", code)
	}
	if _, _, code := c.run("frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if _, _, code := c.run("run", "--model", "x=nope:1"); code != 2 {
		t.Errorf("unknown model spec: exit %d, want 2", code)
	}
}

// writeConfig writes a mores.yaml naming a model on the loopback server.
func writeConfig(t *testing.T, url string, extra string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mores.yaml")
	cfg := fmt.Sprintf("models:\n  gpt:\n    model: test-model\n    base_url: %s\n    api_key_env: OPENAI_API_KEY\n    timeout: 2s\n    backoff_base: 5ms\n    backoff_max: 50ms\n    max_retries: 8\n%s", url, extra)
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFaultyServerLosesAndDuplicatesNothing(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		Faults: benchtest.FaultPlan{Seed: 7, Rate: 0.3, SlowDelay: 5 * time.Second, RetryAfter: time.Second,
			Kinds: []benchtest.FaultKind{benchtest.FaultRateLimit, benchtest.FaultServerError, benchtest.FaultUnavailable,
				benchtest.FaultTruncated, benchtest.FaultDrop, benchtest.FaultSlow}},
	})
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = "sk-test"
	cfg := writeConfig(t, srv.URL(), "")
	out := t.TempDir()
	_, stderr, code := c.run("run", "harmless", "overrefusal", "--config", cfg, "--model", "gpt", "--out", out, "--run-id", "f", "--concurrency", "16")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	rows := readResponses(t, filepath.Join(out, "f"))
	if n := oneRowPerTrial(t, rows); n != 100 {
		t.Fatalf("%d trials, want 100", n)
	}
	answered := 0
	for _, r := range rows {
		switch {
		case r.Error == nil && r.Response != "":
			answered++
			if r.PromptTokens == 0 || r.CompletionTokens == 0 || r.Attempts < 1 {
				t.Errorf("trial %s: usage or attempts not recorded: %+v", r.SampleID, r)
			}
		case r.Error != nil && r.Response == "":
		default:
			t.Errorf("trial %s: neither answered nor failed: %+v", r.SampleID, r)
		}
	}
	faults := srv.FaultCounts()
	t.Logf("answered %d of %d; server faults %v; requests %d", answered, len(rows), faults, srv.Requests())
	if len(faults) < 4 {
		t.Errorf("the server injected too few kinds of faults to mean anything: %v", faults)
	}
	if answered != srv.Answered() {
		t.Errorf("%d trials answered but the server answered %d requests successfully", answered, srv.Answered())
	}
}

func TestAPIKeyReachesNoFile(t *testing.T) {
	const key = "sk-mores-test-SECRET-0123456789"
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{RequireKey: key})
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = key
	out := t.TempDir()
	c.mustRun("run", "quickstart", "--model", "gpt=openai:test-model@"+srv.URL(), "--out", out, "--run-id", "k")
	// A wrong key: the 401 message quotes the key it was given; it must not reach a file either.
	c.env["OPENAI_API_KEY"] = key + "-WRONG"
	_, stderr, code := c.run("run", "quickstart", "--model", "gpt=openai:test-model@"+srv.URL(), "--out", out, "--run-id", "k2", "--limit", "10", "--no-cache")
	if code != 3 {
		t.Errorf("wrong key: exit %d, want 3", code)
	}
	if strings.Contains(stderr, key) {
		t.Errorf("stderr holds the key: %s", stderr)
	}
	for _, root := range []string{out, c.env["MORES_CACHE_DIR"]} {
		filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte(key)) {
				t.Errorf("%s holds the API key", p)
			}
			return nil
		})
	}
}

func TestCachedRerunSendsNoRequest(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	c := newCLI(t)
	out := t.TempDir()
	args := []string{"run", "harmless", "--model", "gpt=openai:test-model@" + srv.URL(), "--out", out}
	c.mustRun(append(args, "--run-id", "a")...)
	first := srv.Requests()
	if first != 50 {
		t.Fatalf("first run sent %d requests, want 50", first)
	}
	c.mustRun(append(args, "--run-id", "b")...)
	if n := srv.Requests() - first; n != 0 {
		t.Errorf("identical rerun sent %d requests, want 0", n)
	}
	rows := readResponses(t, filepath.Join(out, "b"))
	for _, r := range rows {
		if !r.Cached {
			t.Fatalf("rerun row not marked cached: %+v", r)
		}
	}
	c.mustRun(append(args, "--run-id", "c", "--no-cache")...)
	if n := srv.Requests() - first; n != 50 {
		t.Errorf("--no-cache rerun sent %d requests, want 50", n)
	}
}

func TestShardsMergeToTheSameSummary(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "quickstart", "moral", "--out", out, "--run-id", "whole", "--epochs", "2")
	var dirs []string
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("s%d", i)
		c.mustRun("run", "quickstart", "moral", "--out", out, "--run-id", id, "--epochs", "2", "--shard", fmt.Sprintf("%d/3", i))
		dirs = append(dirs, filepath.Join(out, id))
	}
	// Disjoint and covering.
	total := 0
	seen := map[string]string{}
	for _, d := range dirs {
		for _, r := range readResponses(t, d) {
			k := fmt.Sprint(r.Suite, r.SampleID, r.Model, r.Epoch)
			if prev, ok := seen[k]; ok {
				t.Fatalf("trial %s in %s and %s", k, prev, d)
			}
			seen[k] = d
			total++
		}
	}
	whole := readResponses(t, filepath.Join(out, "whole"))
	if total != len(whole) {
		t.Fatalf("shards hold %d trials, the whole run %d", total, len(whole))
	}
	merged := filepath.Join(out, "merged")
	c.mustRun(append(append([]string{"merge"}, dirs...), "-o", merged)...)
	a, _ := readSummaryRows(filepath.Join(out, "whole"))
	b, _ := readSummaryRows(merged)
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
		if whole[i].SampleID != mr[i].SampleID || whole[i].Model != mr[i].Model || whole[i].Response != mr[i].Response {
			t.Fatalf("merged row %d differs from the whole run's", i)
		}
	}
}

// buildBinary builds mores once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mores")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestSIGKILLThenResumeLosesNothingAndRepeatsNoRequest(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Latency: 30 * time.Millisecond})
	bin := buildBinary(t)
	out := t.TempDir()
	dir := filepath.Join(out, "killed")
	args := []string{"run", "harmless", "overrefusal", "adversarial", "--model", "gpt=openai:test-model@" + srv.URL(),
		"--out", out, "--run-id", "killed", "--concurrency", "4", "--no-cache"}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "MORES_CACHE_DIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once some trials are journaled.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if journaledEntries(dir) >= 40 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(os.Kill)
	cmd.Wait()
	journaled := map[string]bool{}
	bench.ScanJournal(filepath.Join(dir, bench.JournalFile), func(_ int64, e *bench.Entry) error {
		journaled[e.Prompt] = true
		return nil
	})
	if len(journaled) < 40 || len(journaled) >= 250+210 {
		t.Fatalf("killed with %d trials journaled; the test wants a kill mid-run", len(journaled))
	}
	// The killed run was writing its Parquet files under temporary names.
	if temps, _ := filepath.Glob(filepath.Join(dir, ".*.parquet.*")); len(temps) == 0 {
		t.Log("no temporary Parquet file left by the kill (the run had not created them yet)")
	}
	before := srv.PromptCounts()
	res := exec.Command(bin, "run", "--resume", dir)
	res.Env = cmd.Env
	if b, err := res.CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, b)
	}
	after := srv.PromptCounts()
	for p := range journaled {
		if after[p] != before[p] {
			t.Errorf("resume sent a request for a journaled trial (prompt %.60q)", p)
		}
	}
	rows := readResponses(t, dir)
	want := 50 + 50 + 42*5
	if n := oneRowPerTrial(t, rows); n != want {
		t.Errorf("after resume: %d trials, want %d", n, want)
	}
	m, _ := bench.ReadManifest(dir)
	if m.Status != "complete" {
		t.Errorf("manifest status %q after resume", m.Status)
	}
	if temps, _ := filepath.Glob(filepath.Join(dir, ".*")); len(temps) > 0 {
		t.Errorf("after resume the run directory still holds the killed run's temporary files %v", temps)
	}
}

func TestUnreachableModelExitsThree(t *testing.T) {
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = "sk-test" // the config's api_key_env
	cfg := writeConfig(t, "http://127.0.0.1:1/v1", "")
	_, stderr, code := c.run("run", "harmless", "--config", cfg, "--model", "gpt", "--out", t.TempDir(), "--concurrency", "2")
	if code != 3 || !strings.Contains(stderr, "unreachable") {
		t.Errorf("exit %d, stderr %s; want 3 and 'unreachable'", code, stderr)
	}
}

func TestReportFormats(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "--out", out, "--run-id", "r")
	dir := filepath.Join(out, "r")
	for _, f := range []string{"text", "markdown", "csv", "json"} {
		s := c.mustRun("report", dir, "--format", f)
		if !strings.Contains(s, "refusal") {
			t.Errorf("%s report lacks the refusal metric:\n%s", f, s)
		}
	}
	var js []map[string]any
	if err := json.Unmarshal([]byte(c.mustRun("report", dir, "--format", "json")), &js); err != nil || len(js) == 0 {
		t.Errorf("json report: %v", err)
	}
	if _, _, code := c.run("report", dir, "--format", "pdf"); code != 2 {
		t.Errorf("unknown format: exit %d, want 2", code)
	}
	if _, _, code := c.run("report", t.TempDir()); code != 2 {
		t.Errorf("not a run dir: exit %d, want 2", code)
	}
}

// TestAFileForARunDirectoryExitsTwo checks that naming a file of a run
// (a common slip: the Parquet file instead of its folder) is bad input,
// exit 2 with the file named, not a failed run (exit 3).
func TestAFileForARunDirectoryExitsTwo(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "--out", out, "--run-id", "qs", "--no-report")
	file := filepath.Join(out, "qs", bench.ResponsesFile)
	rules := filepath.Join(t.TempDir(), "thresholds.txt")
	os.WriteFile(rules, []byte("refusal >= 0\n"), 0o644)
	for _, args := range [][]string{{"report", file}, {"compare", file, filepath.Join(out, "qs")}, {"gate", file, "--thresholds", rules}} {
		_, stderr, code := c.run(args...)
		if code != 2 || !strings.Contains(stderr, file) || !strings.Contains(stderr, "not a run directory") {
			t.Errorf("mores %s: exit %d, %q; want 2 naming the file", strings.Join(args, " "), code, stderr)
		}
	}
	// A binary file given as the thresholds: one line, not the file echoed
	// back as thousands of bad rules.
	_, stderr, code := c.run("gate", filepath.Join(out, "qs"), "--thresholds", file)
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "not a threshold file") {
		t.Errorf("a binary threshold file: exit %d, %d lines: %.300q", code, strings.Count(stderr, "\n"), stderr)
	}
}

// TestJudgeFailsWhenEveryJudgmentFails checks that `mores judge` with a
// judge model that never answers exits 3 and says so, instead of
// reporting the trials judged.
func TestJudgeFailsWhenEveryJudgmentFails(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "--out", out, "--run-id", "qs", "--no-report")
	dir := filepath.Join(out, "qs")
	c.env["OPENAI_API_KEY"] = "sk-test-unused"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest) // fatal: no retry
		w.Write([]byte(`{"error":{"message":"model judge does not exist"}}`))
	}))
	defer srv.Close()
	stdout, stderr, code := c.run("judge", dir, "--judge", "rubric", "--judge-model", "openai:judge@"+srv.URL+"/v1", "--no-cache")
	if code != 3 || !strings.Contains(stderr, "failed every judgment") {
		t.Fatalf("exit %d, want 3 with every judgment failed\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// A judge that works reports its failures as none.
	stdout = c.mustRun("judge", dir, "--judge", "harm", "--no-cache")
	if !strings.Contains(stdout, "(0 of ") {
		t.Errorf("stdout: %s", stdout)
	}
	// Once the judge model answers, the failed judgments are made again,
	// and their scores replace the errors: one row per trial and metric.
	stdout = c.mustRun("judge", dir, "--judge", "rubric", "--judge-model", "sim:judge", "--no-cache")
	if !strings.Contains(stdout, "judged 80 trials (0 of ") {
		t.Errorf("retry: %s", stdout)
	}
	rows := map[string]int{}
	for _, s := range readScores(t, dir) {
		if s.Judge != "rubric" {
			continue
		}
		if s.Value == nil {
			t.Fatalf("a rubric error is left after the retry: %s %s %s", s.SampleID, s.Model, bench.Deref(s.Error))
		}
		rows[fmt.Sprint(s.SampleID, s.Model, s.Epoch, s.Metric)]++
	}
	for k, n := range rows {
		if n != 1 {
			t.Fatalf("%s: %d rubric rows", k, n)
		}
	}
	if len(rows) == 0 {
		t.Fatal("no rubric rows")
	}
	// Judging again with a judge that succeeded adds nothing.
	if stdout := c.mustRun("judge", dir, "--judge", "rubric", "--judge-model", "sim:judge", "--no-cache"); !strings.Contains(stdout, "judged 0 trials") {
		t.Errorf("a second run of a judge that succeeded: %s", stdout)
	}
}

// journaledEntries counts the complete entries in the journal of the run
// directory dir (0 while there is none).
func journaledEntries(dir string) int {
	n := 0
	bench.ScanJournal(bench.JournalPath(dir), func(int64, *bench.Entry) error {
		n++
		return nil
	})
	return n
}
