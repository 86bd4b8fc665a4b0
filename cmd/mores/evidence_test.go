package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// withRubric judges with refusal and rubric (asking the judge model).
const withRubric = "[refusal, {name: rubric, model: judge}]"

// verdictID finds the id a judge's verdict must carry, in the format line
// of its system prompt.
var verdictID = regexp.MustCompile(`\{"id": "([0-9a-f]{16})"`)

// rubricVerdict is a valid answer of a rubric judge model to req.
func rubricVerdict(req benchtest.ChatRequest) string {
	id := ""
	if m := verdictID.FindStringSubmatch(req.System()); m != nil {
		id = m[1]
	}
	return `{"id": "` + id + `", "alignment_reason": "kind and honest", "alignment": 6, "engagement_reason": "pleasant", "engagement": 5}`
}

// judgedSuite writes a suite of n questions judged by judges (a YAML list)
// into a temporary folder and returns its path. Question i reads
// "Question number i: ...".
func judgedSuite(t *testing.T, n int, judges string) string {
	t.Helper()
	dir := t.TempDir()
	var data strings.Builder
	for i := range n {
		fmt.Fprintf(&data, "{\"id\": \"q%d\", \"question\": \"Question number %d: how should neighbours share a garden?\"}\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "questions.jsonl"), []byte(data.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	suite := filepath.Join(dir, "judged.yaml")
	if err := os.WriteFile(suite, []byte(`name: judged
version: 1
dataset:
  path: questions.jsonl
  id: id
  fields: {input: question}
prompt: "{{.input}}"
judges: `+judges+`
`), 0o644); err != nil {
		t.Fatal(err)
	}
	return suite
}

// judgeServer starts a loopback judge model that gives a valid rubric
// verdict, but answers 400 (a fatal error: no retry) to the prompts for
// which fail returns true.
func judgeServer(t *testing.T, fail func(prompt string) bool) *benchtest.OpenAIServer {
	return benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		Respond: rubricVerdict,
		Faults: benchtest.FaultPlan{Decide: func(prompt string, _ int) benchtest.FaultKind {
			if fail(prompt) {
				return benchtest.FaultBadRequest
			}
			return benchtest.FaultNone
		}},
	})
}

// TestARunWhoseJudgeAlwaysFailsFails runs a suite whose judge model
// refuses every request: before, the run exited 0 with "0 errors" and a
// table of "—". Now the run line counts the judgment errors, the table has
// an errors column, the manifest says failed, and the command exits 3 with
// one line naming the judge and the first error's cause.
func TestARunWhoseJudgeAlwaysFailsFails(t *testing.T) {
	srv := judgeServer(t, func(string) bool { return true })
	c := newCLI(t)
	out := t.TempDir()
	stdout, stderr, code := c.run("run", judgedSuite(t, 3, withRubric), "--model", "m=sim:aligned", "--judge-model", "openai:judge@"+srv.URL(),
		"--no-cache", "--no-report", "--out", out, "--run-id", "r")
	if code != 3 {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "3 trials, 0 generation errors, 6 judgment errors") {
		t.Errorf("the run line does not count the judgment errors:\n%s", stdout)
	}
	if !strings.Contains(stdout, "ERRORS") {
		t.Errorf("the summary has no errors column:\n%s", stdout)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "judge rubric of suite judged failed every judgment of model m") ||
		!strings.Contains(stderr, "HTTP 400") {
		t.Errorf("stderr should be one line naming the judge and the cause:\n%s", stderr)
	}
	m, err := bench.ReadManifest(filepath.Join(out, "r"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "failed" || m.Counts.JudgmentErrors != 6 || !strings.Contains(m.Error, "rubric") {
		t.Errorf("manifest: status %q, counts %+v, error %q", m.Status, m.Counts, m.Error)
	}
}

// TestJudgmentErrorsBeyondTheBudgetFailTheRun fails one question of ten
// at the judge model: 2 of 20 rubric judgments (10%) fail, beyond the
// default budget of 5%, so the run exits 3; with --max-error-rate 0.2 it
// passes, and the summary still shows the errors.
func TestJudgmentErrorsBeyondTheBudgetFailTheRun(t *testing.T) {
	srv := judgeServer(t, func(p string) bool { return strings.Contains(p, "Question number 7:") })
	suite := judgedSuite(t, 10, withRubric)
	c := newCLI(t)
	out := t.TempDir()
	args := []string{"run", suite, "--model", "m=sim:aligned", "--judge-model", "openai:judge@" + srv.URL(), "--no-cache", "--no-report", "--out", out}
	stdout, stderr, code := c.run(append(args, "--run-id", "strict")...)
	if code != 3 || strings.Count(stderr, "\n") != 1 ||
		!strings.Contains(stderr, "judgment error budget exceeded: judge rubric of suite judged failed 2 of 20 judgments (more than --max-error-rate 5.0%)") ||
		!strings.Contains(stderr, "sample q7") {
		t.Fatalf("exit %d, want 3 with one line on the budget\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "10 trials, 0 generation errors, 2 judgment errors") {
		t.Errorf("run line:\n%s", stdout)
	}
	stdout = c.mustRun(append(args, "--run-id", "lenient", "--max-error-rate", "0.2")...)
	if !strings.Contains(stdout, "ERRORS") || !strings.Contains(stdout, "2 judgment errors") {
		t.Errorf("a run within the budget still shows its errors:\n%s", stdout)
	}
}

// TestMCOnAModelThatCannotScoreFails runs the mc judge on a simulated
// model, which cannot score continuations: before, "mc.mc1 — 0" and exit 0.
func TestMCOnAModelThatCannotScoreFails(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mc.jsonl"), []byte(`{"id": "q1", "question": "What colour is a clear sky?", "choices": ["Blue", "Green"], "answer": "A"}
{"id": "q2", "question": "How many legs has a spider?", "choices": ["Six", "Eight"], "answer": "B"}
`), 0o644)
	suite := filepath.Join(dir, "mc.yaml")
	os.WriteFile(suite, []byte(`name: mcdemo
version: 1
dataset:
  path: mc.jsonl
  id: id
  fields: {input: question, choices: choices, target: answer}
prompt: "{{.input}}"
judges: [mc]
`), 0o644)
	c := newCLI(t)
	stdout, stderr, code := c.run("run", suite, "--model", "m=sim:aligned", "--no-cache", "--no-report", "--out", t.TempDir())
	if code != 3 || !strings.Contains(stderr, "judge mc of suite mcdemo failed every judgment of model m") ||
		!strings.Contains(stderr, "scores continuations") {
		t.Fatalf("exit %d, want 3 naming mc and why\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "2 trials, 0 generation errors, 4 judgment errors") {
		t.Errorf("run line:\n%s", stdout)
	}
}

// TestJudgeKeepsTheErrorBudget checks that `mores judge` fails (exit 3)
// when its judge fails beyond the run's error budget, not only when every
// judgment failed, and passes within a budget given by --max-error-rate.
func TestJudgeKeepsTheErrorBudget(t *testing.T) {
	srv := judgeServer(t, func(p string) bool { return strings.Contains(p, "Question number 3:") })
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", judgedSuite(t, 10, "[refusal]"), "--model", "m=sim:aligned", "--judge-model", "sim:judge", "--no-cache", "--no-report", "--out", out, "--run-id", "r")
	dir := filepath.Join(out, "r")
	judge := []string{"judge", dir, "--judge", "rubric", "--judge-model", "openai:judge@" + srv.URL(), "--no-cache"}
	stdout, stderr, code := c.run(judge...)
	if code != 3 || !strings.Contains(stderr, "failed 2 of 20 judgments (more than --max-error-rate 5.0%)") {
		t.Fatalf("exit %d, want 3 on the budget\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// The failed judgments are made again (and fail again), within a
	// budget of 20%.
	if stdout := c.mustRun(append(judge, "--max-error-rate", "0.2")...); !strings.Contains(stdout, "judged 1 trial (2 of 2 judgments failed)") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// TestAFailedRunNamesTheFirstErrorsCause checks that a run failing its
// error budget says why on one line of stderr, naming the model, the sample
// and the cause of the first failure, instead of pointing at the error
// column of responses.parquet; and so does a run stopped because its model
// never answered.
func TestAFailedRunNamesTheFirstErrorsCause(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		Faults: benchtest.FaultPlan{Decide: func(prompt string, _ int) benchtest.FaultKind {
			if strings.Contains(prompt, "Question number 7:") || strings.Contains(prompt, "Question number 8:") {
				return benchtest.FaultBadRequest
			}
			return benchtest.FaultNone
		}},
	})
	c := newCLI(t)
	out := t.TempDir()
	stdout, stderr, code := c.run("run", judgedSuite(t, 10, "[refusal]"), "--model", "m=openai:m@"+srv.URL(), "--no-cache", "--no-report", "--out", out)
	want := "error budget exceeded: 2 of 10 trials failed (more than --max-error-rate 5.0%); first error: model m, sample q7: fatal (HTTP 400)"
	if code != 3 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, want 3 and one line with %q\nstdout:\n%s\nstderr:\n%s", code, want, stdout, stderr)
	}
	if !strings.Contains(stdout, "10 trials, 2 generation errors, 0 judgment errors") {
		t.Errorf("run line:\n%s", stdout)
	}

	// A model that never answers stops the run.
	down := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		Faults: benchtest.FaultPlan{Decide: func(string, int) benchtest.FaultKind { return benchtest.FaultBadRequest }},
	})
	_, stderr, code = c.run("run", judgedSuite(t, 10, "[refusal]"), "--model", "m=openai:m@"+down.URL(), "--no-cache", "--no-report", "--out", out, "--concurrency", "1")
	if code != 3 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "model unreachable: m failed 8 requests in a row") || !strings.Contains(stderr, "HTTP 400") {
		t.Errorf("exit %d, want 3 and one line naming the cause:\n%s", code, stderr)
	}
}

// TestNoAPIKeyForOpenAIIsRefusedBeforeSending runs a model, a judge model
// and a config model of OpenAI's API with no OPENAI_API_KEY: each is bad
// usage (exit 2) saying which variable to set, and no host is looked up.
// (Before, the requests went out and the run failed later, exit 3.) Host
// lookups go to a loopback resolver answering "no such host", so that the
// test never reaches api.openai.com whatever the code does.
func TestNoAPIKeyForOpenAIIsRefusedBeforeSending(t *testing.T) {
	dns := useNXDOMAINResolver(t)
	suite := judgedSuite(t, 2, withRubric)
	cfg := filepath.Join(t.TempDir(), "mores.yaml")
	os.WriteFile(cfg, []byte("models:\n  gpt:\n    model: gpt-4o-mini\n"), 0o644)
	for _, args := range [][]string{
		{"run", suite, "--model", "m=openai:gpt-4o-mini", "--judge-model", "sim:judge"},
		{"run", suite, "--model", "m=openai:gpt-4o-mini@https://api.openai.com/v1", "--judge-model", "sim:judge"},
		{"run", suite, "--model", "m=sim:aligned", "--judge-model", "openai:gpt-4o"},
		{"run", suite, "--config", cfg, "--model", "gpt", "--judge-model", "sim:judge"},
	} {
		c := newCLI(t)
		args = append(args, "--no-cache", "--no-report", "--out", t.TempDir())
		stdout, stderr, code := c.run(args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "no API key for https://api.openai.com/v1: set OPENAI_API_KEY") {
			t.Errorf("mores %s: exit %d, want 2 saying to set OPENAI_API_KEY\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	if dns.askedFor("openai.com") {
		t.Errorf("api.openai.com was looked up: %v", dns.asked())
	}
	// With a key the spec is accepted (and its requests go out: here to
	// the loopback resolver, which knows no such host).
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = "sk-test-not-a-key"
	_, stderr, code := c.run("run", suite, "--model", "m=openai:gpt-4o-mini", "--judge-model", "sim:judge", "--no-cache", "--no-report", "--out", t.TempDir())
	if code != 3 || !strings.Contains(stderr, "no such host") || !dns.askedFor("api.openai.com") {
		t.Errorf("with a key: exit %d, want 3 (no such host)\n%s", code, stderr)
	}
}

// TestAHostThatDoesNotExistIsFatal runs a model and a judge model whose
// hosts do not resolve (names under .invalid, answered "no such host" by a
// loopback resolver, so nothing leaves the machine). Before, each request
// was retried 7 times as a transient error, and the run went on until 8
// trials had failed. Now a request is made once, and the run stops at the
// first trial, saying why in one line.
func TestAHostThatDoesNotExistIsFatal(t *testing.T) {
	dns := useNXDOMAINResolver(t)
	c := newCLI(t)
	out := t.TempDir()
	_, stderr, code := c.run("run", judgedSuite(t, 10, "[refusal]"), "--model", "m=openai:m@http://model.mores-test.invalid/v1",
		"--no-cache", "--no-report", "--out", out, "--run-id", "gen", "--concurrency", "1")
	if code != 3 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "m: its host does not exist (no such host)") {
		t.Errorf("exit %d, want 3 and one line saying the host does not exist:\n%s", code, stderr)
	}
	rows := readResponses(t, filepath.Join(out, "gen"))
	if len(rows) != 1 || rows[0].Attempts != 1 || !strings.Contains(bench.Deref(rows[0].Error), "no such host") {
		t.Errorf("want one trial failed after one attempt, got %d rows: %+v", len(rows), rows)
	}
	if !dns.askedFor("model.mores-test.invalid") {
		t.Errorf("the host was not looked up through the test's resolver: %v", dns.asked())
	}

	// A judge model: each judgment is tried once, and the run fails.
	_, stderr, code = c.run("run", judgedSuite(t, 2, withRubric), "--model", "m=sim:aligned", "--judge-model", "openai:j@http://judge.mores-test.invalid/v1",
		"--no-cache", "--no-report", "--out", out, "--run-id", "judge")
	if code != 3 || !strings.Contains(stderr, "judge rubric of suite judged failed every judgment") || !strings.Contains(stderr, "no such host") {
		t.Errorf("judge model: exit %d, want 3 naming the judge and the cause:\n%s", code, stderr)
	}
	for _, s := range readScores(t, filepath.Join(out, "judge")) {
		if s.Judge == "rubric" && !strings.Contains(bench.Deref(s.Error), ", 1 attempt: ") {
			t.Errorf("judgment %s %s: want one attempt, error %q", s.SampleID, s.Metric, bench.Deref(s.Error))
		}
	}
}

// TestReportOfARunWhoseEveryTrialFailedSaysSo renders a run whose model
// answered nothing: before, an empty table and nothing on stderr. Now
// stderr says every trial failed, with the first error's cause, and that
// the run failed; the exit code stays 0 (the report was rendered).
func TestReportOfARunWhoseEveryTrialFailedSaysSo(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		Faults: benchtest.FaultPlan{Decide: func(string, int) benchtest.FaultKind { return benchtest.FaultBadRequest }},
	})
	c := newCLI(t)
	out := t.TempDir()
	if _, _, code := c.run("run", judgedSuite(t, 3, "[refusal]"), "--model", "m=openai:m@"+srv.URL(), "--no-cache", "--no-report", "--out", out, "--run-id", "r"); code != 3 {
		t.Fatalf("run: exit %d, want 3", code)
	}
	dir := filepath.Join(out, "r")
	for _, format := range []string{"text", "markdown", "html"} {
		_, stderr, code := c.run("report", dir, "--format", format)
		if code != 0 || !strings.Contains(stderr, "every trial of this run failed (3 of 3)") || !strings.Contains(stderr, "first error: model m, sample q0: fatal (HTTP 400)") ||
			!strings.Contains(stderr, "the run failed: error budget exceeded") {
			t.Errorf("report --format %s: exit %d, stderr:\n%s", format, code, stderr)
		}
	}
	// A run with evidence reports quietly.
	c.mustRun("run", "--out", out, "--run-id", "ok", "--no-report")
	if _, stderr, code := c.run("report", filepath.Join(out, "ok")); code != 0 || stderr != "" {
		t.Errorf("a complete run: exit %d, stderr %q", code, stderr)
	}
}

// TestAnUnreachableModelsErrorIsOneLine stops a run whose model answers
// every request with a 400 whose message spans lines: stderr holds the
// cause on one line (before, the server's line breaks went through).
func TestAnUnreachableModelsErrorIsOneLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error": {"message": "model m is not served here.\nServed models:\n  llama\n  qwen"}}`))
	}))
	defer srv.Close()
	c := newCLI(t)
	_, stderr, code := c.run("run", judgedSuite(t, 10, "[refusal]"), "--model", "m=openai:m@"+srv.URL+"/v1", "--no-cache", "--no-report", "--out", t.TempDir(), "--concurrency", "1")
	if code != 3 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "model m is not served here. Served models: llama qwen") {
		t.Errorf("exit %d, want 3 and the cause on one line:\n%s", code, stderr)
	}
}
