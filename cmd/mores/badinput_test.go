package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench/benchtest"
	"github.com/mores-eval/mores/datasets"
)

// badInputDir writes files into a fresh folder and returns a function that
// gives their paths.
func badInputDir(t *testing.T, files map[string]string) func(string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return func(name string) string { return filepath.Join(dir, name) }
}

func suiteText(dataset, prompt, judges string) string {
	return "name: bad\nversion: 1\ndataset:\n  path: " + dataset + "\n  id: id\n  fields:\n    input: prompt\nprompt: \"" + prompt + "\"\njudges: " + judges + "\n"
}

// wantBadInput runs mores and checks exit 2, a message holding every one of
// want, and that the loopback model server got no request.
func wantBadInput(t *testing.T, c *cli, srv *benchtest.OpenAIServer, args []string, want ...string) {
	t.Helper()
	before := srv.Requests()
	stdout, stderr, code := c.run(args...)
	if code != 2 {
		t.Errorf("mores %q: exit %d, want 2\n%s%s", args, code, stdout, stderr)
		return
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("mores %q: the message does not say %q:\n%s", args, w, stderr)
		}
	}
	if n := srv.Requests() - before; n != 0 {
		t.Errorf("mores %q: %d requests sent before the input was refused", args, n)
	}
}

// A prompt template naming a field the data lacks, or misusing a function,
// is refused at plan time, before any request (it rendered only when the
// trial ran, and failed every trial with exit 3).
func TestTemplateErrorsAreRefusedBeforeAnyRequest(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	p := badInputDir(t, map[string]string{
		"d.csv":     "id,prompt\na,hello\nb,world\n",
		"field.yml": suiteText("d.csv", "{{.nosuch}}", "[refusal]"),
		"func.yml":  suiteText("d.csv", "{{index .input 99}}", "[refusal]"),
	})
	c := newCLI(t)
	model := "m=openai:m@" + srv.URL()
	wantBadInput(t, c, srv, []string{"run", p("field.yml"), "--model", model, "--out", t.TempDir()},
		p("field.yml")+":8: prompt", `"nosuch"`, "and 1 more of the 2 samples")
	wantBadInput(t, c, srv, []string{"run", p("func.yml"), "--model", model, "--out", t.TempDir()},
		p("func.yml")+":8: prompt", "index")
}

// A dataset path that is a symlink loop, or a folder, is refused naming the
// suite file and line.
func TestUnreadableDatasetPathNamesTheSuiteLine(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	p := badInputDir(t, map[string]string{"loop.yml": suiteText("loop1.csv", "{{.input}}", "[refusal]")})
	os.Symlink(p("loop2.csv"), p("loop1.csv"))
	os.Symlink(p("loop1.csv"), p("loop2.csv"))
	c := newCLI(t)
	wantBadInput(t, c, srv, []string{"run", p("loop.yml"), "--model", "m=openai:m@" + srv.URL(), "--out", t.TempDir()},
		p("loop.yml")+":4: dataset.path", "symbolic links")
	wantBadInput(t, c, srv, []string{"run", "harmless", "--dataset", p("loop1.csv"), "--model", "m=openai:m@" + srv.URL(), "--out", t.TempDir()},
		p("loop1.csv"), "symbolic links")
}

// A corrupt or truncated .gz dataset is bad input naming the file.
func TestCorruptGzipDatasetIsBadInput(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	var rows strings.Builder
	rows.WriteString("id,prompt\n")
	for i := 0; i < 5000; i++ {
		rows.WriteString(fmt.Sprintf("r%d,question number %d %s\n", i, i, strings.Repeat("y", i%53)))
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(rows.String()))
	w.Close()
	b := gz.Bytes()
	flipped := append([]byte(nil), b...)
	flipped[len(flipped)-6] ^= 0xff // the CRC
	p := badInputDir(t, map[string]string{
		"trunc.csv.gz": string(b[:len(b)/2]),
		"crc.csv.gz":   string(flipped),
		"trunc.yml":    suiteText("trunc.csv.gz", "{{.input}}", "[refusal]"),
		"crc.yml":      suiteText("crc.csv.gz", "{{.input}}", "[refusal]"),
	})
	c := newCLI(t)
	for _, name := range []string{"trunc", "crc"} {
		wantBadInput(t, c, srv, []string{"run", p(name + ".yml"), "--model", "m=openai:m@" + srv.URL(), "--out", t.TempDir(), "--limit", "1"},
			p(name+".csv.gz"), "gzip")
	}
}

// An --out that cannot hold run directories, and a --run-id with control
// characters, are bad usage.
func TestUnusableOutAndRunID(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	p := badInputDir(t, map[string]string{"file": "x"})
	c := newCLI(t)
	model := "m=openai:m@" + srv.URL()
	for _, out := range []string{p("file"), "/dev/null", p("file") + "/sub", "/proc/mores-cannot-be-here"} {
		wantBadInput(t, c, srv, []string{"run", "quickstart", "--model", model, "--out", out}, "--out "+out)
	}
	for _, id := range []string{"a\nb", "tab\there", "bell\a", "esc\x1b[31m"} {
		wantBadInput(t, c, srv, []string{"run", "quickstart", "--model", model, "--out", t.TempDir(), "--run-id", id}, "--run-id", "control character")
	}
}

// api_key_env naming an unset variable is bad input naming the config
// file, its line and the variable.
func TestUnsetAPIKeyEnvIsBadInput(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	p := badInputDir(t, map[string]string{"mores.yaml": "models:\n  gpt:\n    model: m\n    base_url: " + srv.URL() + "\n    api_key_env: MY_KEY\n"})
	c := newCLI(t)
	wantBadInput(t, c, srv, []string{"run", "quickstart", "--config", p("mores.yaml"), "--model", "gpt", "--out", t.TempDir()},
		p("mores.yaml")+":5: models.gpt.api_key_env", "MY_KEY", "not set")
	c.env["MY_KEY"] = "sk-set"
	c.mustRun("run", "quickstart", "--config", p("mores.yaml"), "--model", "gpt", "--out", t.TempDir(), "--limit", "2", "--no-report")
}

// A config file's unknown keys are reported as a suite file's are, every
// problem at once with its line; a --model name missing from the config
// names the models it has.
func TestConfigProblemsAllAtOnce(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	p := badInputDir(t, map[string]string{
		"mores.yaml": `models:
  gpt:
    model: m
    bogus: 1
    timeout: soon
  local:
    spec: sim:aligned
    temprature: 0
judge_modle: gpt
defaults:
  concurency: 4
`,
		"ok.yaml": "models:\n  gpt:\n    spec: sim:aligned\n  local:\n    spec: sim:baseline\n",
	})
	c := newCLI(t)
	f := p("mores.yaml")
	wantBadInput(t, c, srv, []string{"run", "quickstart", "--config", f, "--model", "gpt", "--out", t.TempDir()},
		f+`:4: models.gpt: unknown key "bogus" (allowed: spec, model, base_url`,
		f+`:5: models.gpt.timeout`,
		f+`:8: models.local: unknown key "temprature"`,
		f+`:9: unknown key "judge_modle" (allowed: models, judge_model, defaults)`,
		f+`:11: defaults: unknown key "concurency" (allowed: concurrency,`)
	_, stderr, _ := c.run("run", "quickstart", "--config", f, "--model", "gpt", "--out", t.TempDir())
	if strings.Contains(stderr, "main.modelConfig") || strings.Contains(stderr, "not found in type") {
		t.Errorf("the message speaks Go, not the config file:\n%s", stderr)
	}
	wantBadInput(t, c, srv, []string{"run", "quickstart", "--config", p("ok.yaml"), "--model", "nosuchname", "--out", t.TempDir()},
		"no model named nosuchname in "+p("ok.yaml")+" (have: gpt, local)")
}

// suites validate reports every problem of a suite at once: an unknown
// judge beside a dataset that cannot be read (the file's own problems, such
// as an unknown attack, are reported at once by the parser).
func TestSuitesValidateReportsEverythingAtOnce(t *testing.T) {
	p := badInputDir(t, map[string]string{
		"s.yml": "name: s\nversion: 1\ndataset:\n  path: missing.csv\n  fields:\n    input: prompt\nprompt: \"{{.input}}\"\njudges: [refusal, nosuchjudge]\n",
	})
	c := newCLI(t)
	_, stderr, code := c.run("suites", "validate", p("s.yml"))
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, stderr)
	}
	for _, w := range []string{"missing.csv", "nosuchjudge"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("the report does not name %q:\n%s", w, stderr)
		}
	}
	// mores run reports them at once too.
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	wantBadInput(t, c, srv, []string{"run", p("s.yml"), "--model", "m=openai:m@" + srv.URL(), "--out", t.TempDir()},
		"missing.csv", "nosuchjudge")
}

// A JSON Lines record over datasets.MaxLineBytes is refused naming the
// file and line, before it is decoded (a 50 MB line took 900 MB).
func TestHugeJSONLLineIsRefused(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	huge := `{"id": "big", "prompt": "` + strings.Repeat("x", datasets.MaxLineBytes) + `"}`
	p := badInputDir(t, map[string]string{
		"d.jsonl": `{"id": "a", "prompt": "small"}` + "\n" + huge + "\n",
		"s.yml":   suiteText("d.jsonl", "{{.input}}", "[refusal]"),
	})
	c := newCLI(t)
	wantBadInput(t, c, srv, []string{"run", p("s.yml"), "--model", "m=openai:m@" + srv.URL(), "--out", t.TempDir()},
		p("d.jsonl")+":2", "longer than 8 MiB")
}
