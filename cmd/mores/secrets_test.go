package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/bench/provider/sim"
)

// secretSuite has an LLM judge, so that both the model under test and the
// judge model are named by a URL holding credentials.
const secretSuite = `name: secrets
version: 1
dataset:
  path: prompts.csv
  id: id
  fields:
    input: prompt
prompt: "{{.input}}"
judges: [refusal, {name: rubric, model: judge}]
`

const secretPrompts = `id,prompt
a,alpha question about kindness
b,beta question about fairness
c,gamma question about honesty
d,delta question about courage
`

// secretWords are the credentials the test puts into URLs; none may appear
// in any file of the run directory or the cache, on stdout or on stderr.
var secretWords = []string{"u5er-SECRET", "pa55-SECRET", "q-SECRET-api", "t-SECRET-tok", "sig-SECRET-x"}

// grepSecrets fails the test for every file under dir holding a secret.
func grepSecrets(t *testing.T, what string, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if strings.HasSuffix(p, ".zst") { // the compressed journal: read what it holds
				dec, err := zstd.NewReader(nil)
				if err != nil {
					return err
				}
				b, err = dec.DecodeAll(b, nil)
				dec.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
			}
			for _, s := range secretWords {
				if strings.Contains(string(b), s) {
					t.Errorf("%s: %s holds the secret %q", what, p, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func grepText(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range secretWords {
		if strings.Contains(text, s) {
			t.Errorf("%s holds the secret %q:\n%s", what, s, text)
		}
	}
}

// withCreds puts user information and query parameters into a server's
// base URL.
func withCreds(base, query string) string {
	return strings.Replace(base, "http://", "http://u5er-SECRET:pa55-SECRET@", 1) + "?" + query
}

// TestURLSecretsReachNoFile runs a suite whose model and judge model are
// named by URLs holding credentials, with a generation error and judgment
// errors (whose messages name the model), then resumes it: the requests
// carry the credentials, and no file of the run directory or the cache,
// and neither stdout nor stderr, holds one. --resume asks for the spec
// again rather than replaying a redacted one.
func TestURLSecretsReachNoFile(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{Faults: benchtest.FaultPlan{
		Decide: func(prompt string, _ int) benchtest.FaultKind {
			if strings.Contains(prompt, "beta") {
				return benchtest.FaultBadRequest
			}
			return benchtest.FaultNone
		},
	}})
	sj, err := sim.New(sim.Judge)
	if err != nil {
		t.Fatal(err)
	}
	judge := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{
		Respond: func(r benchtest.ChatRequest) string {
			var req bench.Request
			for _, m := range r.Messages {
				if m.Role == "system" {
					req.System = m.Content
					continue
				}
				req.Messages = append(req.Messages, bench.Message{Role: m.Role, Content: m.Content})
			}
			c, err := sj.Generate(context.Background(), req)
			if err != nil {
				return err.Error()
			}
			return c.Text
		},
		Faults: benchtest.FaultPlan{Decide: func(prompt string, _ int) benchtest.FaultKind {
			if strings.Contains(prompt, "gamma") {
				return benchtest.FaultBadRequest
			}
			return benchtest.FaultNone
		}},
	})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "prompts.csv"), []byte(secretPrompts), 0o644)
	suite := filepath.Join(dir, "secrets.yaml")
	os.WriteFile(suite, []byte(secretSuite), 0o644)
	out := t.TempDir()
	c := newCLI(t)
	model := "gpt=openai:mores-test@" + withCreds(srv.URL(), "api_key=q-SECRET-api&x=1")
	judgeModel := "openai:judge@" + withCreds(judge.URL(), "token=t-SECRET-tok&sig=sig-SECRET-x")
	stdout, stderr, code := c.run("run", suite, "--model", model, "--judge-model", judgeModel,
		"--out", out, "--run-id", "s", "--max-error-rate", "0.5", "--concurrency", "1")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	grepText(t, "stdout", stdout)
	grepText(t, "stderr", stderr)
	run := filepath.Join(out, "s")
	grepSecrets(t, "run", run, c.env["MORES_CACHE_DIR"])
	if _, err := os.Stat(filepath.Join(run, "report.html")); err != nil {
		t.Errorf("no report.html to check: %v", err)
	}
	// The errors are recorded, with the model named (redacted).
	rows := readResponses(t, run)
	var genErr string
	for _, r := range rows {
		if r.Error != nil {
			genErr = *r.Error
		}
	}
	if !strings.Contains(genErr, "REDACTED") {
		t.Errorf("the generation error does not name the model's redacted URL: %q", genErr)
	}
	var judgeErr string
	for _, s := range readScores(t, run) {
		if s.Error != nil {
			judgeErr = *s.Error
		}
	}
	if !strings.Contains(judgeErr, "REDACTED") {
		t.Errorf("the judgment error does not name the judge model's redacted URL: %q", judgeErr)
	}
	// The credentials went on the wire.
	if rec, ok := srv.LastRequest(); !ok || rec.Header.Get("Authorization") != "[present]" {
		t.Errorf("the model server got no basic authentication: %+v", rec.Header)
	}

	// As if the run had been killed after its first trial.
	// The journal keeps its first entry only (in the plain form, which
	// mores reads as well as the compressed one).
	var line []byte
	jpath := bench.JournalPath(run)
	if err := bench.ScanJournal(jpath, func(_ int64, e *bench.Entry) error {
		if line == nil {
			var err error
			line, err = json.Marshal(e)
			return err
		}
		return nil
	}); err != nil || line == nil {
		t.Fatalf("reading the journal %s: %v", jpath, err)
	}
	if err := os.Remove(jpath); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "journal.jsonl"), append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}

	// --resume cannot replay a redacted spec: it asks for it again.
	_, stderr, code = c.run("run", "--resume", run)
	if code != 2 || !strings.Contains(stderr, "--model gpt=") || !strings.Contains(stderr, "--judge-model") {
		t.Errorf("resume without the specs: exit %d, want 2 and a message naming the flags to give again:\n%s", code, stderr)
	}
	grepText(t, "stderr", stderr)
	// Another endpoint is not the same model.
	_, stderr, code = c.run("run", "--resume", run, "--model", "gpt=openai:mores-test@"+judge.URL(), "--judge-model", judgeModel)
	if code != 2 {
		t.Errorf("resume with another endpoint: exit %d, want 2\n%s", code, stderr)
	}
	before := srv.Requests()
	stdout, stderr, code = c.run("run", "--resume", run, "--model", model, "--judge-model", judgeModel)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, stdout, stderr)
	}
	grepText(t, "stdout", stdout)
	grepText(t, "stderr", stderr)
	grepSecrets(t, "resumed run", run, c.env["MORES_CACHE_DIR"])
	if srv.Requests() == before {
		t.Errorf("the resume sent no request for the trials left")
	}

	// mores judge and mores report print nothing secret either.
	stdout, stderr, _ = c.run("report", run)
	grepText(t, "report", stdout+stderr)
	_, stderr, code = c.run("judge", run, "--judge", "rubric")
	if code != 2 || !strings.Contains(stderr, "--judge-model") {
		t.Errorf("judge without the judge model: exit %d, want 2 and a message naming --judge-model:\n%s", code, stderr)
	}
	stdout, stderr, _ = c.run("judge", run, "--judge", "rubric", "--judge-model", judgeModel)
	grepText(t, "judge", stdout+stderr)
	grepSecrets(t, "judged run", run, c.env["MORES_CACHE_DIR"])
}

// A model spec with credentials that is refused is not echoed with them.
func TestRefusedSpecsKeepTheirSecrets(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{
		{"run", "--model", "m=openai:x@u5er-SECRET:pa55-SECRET@localhost:8000/v1"},
		{"run", "--model", "m=openai:x@localhost:8000/v1?api_key=q-SECRET-api"},
		{"run", "--model", "m=nosuch:x@http://u5er-SECRET:pa55-SECRET@host/v1"},
		{"run", "--model", "openai:x@http://u5er-SECRET:pa55-SECRET@host/v1"},
		{"run", "--judge-model", "openai:x@u5er-SECRET:pa55-SECRET@host/v1", "social-sandbox", "--limit", "1"},
	} {
		stdout, stderr, code := c.run(append(args, "--out", t.TempDir())...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, stderr)
		}
		grepText(t, strings.Join(args, " "), stdout+stderr)
	}
}
