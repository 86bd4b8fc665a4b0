package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mores-eval/mores/bench/benchtest"
)

// A model's '@' part that is not an http(s) URL is refused before any
// request: it never becomes part of a model name sent to the default
// endpoint (here OPENAI_BASE_URL, a loopback server that counts requests).
// The same for --judge-model, the config file's base_url and spec, and the
// environment's OPENAI_BASE_URL and HF_ENDPOINT.
func TestNoEndpointTheUserDidNotName(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mores.yaml")
	os.WriteFile(cfg, []byte(`models:
  local:
    model: llama
    base_url: localhost:8000/v1
  spec:
    spec: openai:llama@localhost:8000/v1
`), 0o644)
	judgeCfg := filepath.Join(dir, "judge.yaml")
	os.WriteFile(judgeCfg, []byte("judge_model: openai:j@127.0.0.1:8000/v1\n"), 0o644)
	cases := []struct {
		args []string
		env  map[string]string
		want []string // in the message
	}{
		{[]string{"--model", "x=openai:llama@localhost:8000/v1"}, nil,
			[]string{"--model", "openai:llama@localhost:8000/v1", "http://"}},
		{[]string{"--model", "x=openai:llama@" + strings.TrimPrefix(srv.URL(), "http://")}, nil,
			[]string{"--model", "is not an http:// or https:// URL"}},
		{[]string{"--model", "x=openai:team@name"}, nil, []string{"--model", "openai:team@name"}},
		{[]string{"--model", "x=sim:aligned", "--judge-model", "openai:j@localhost:8000/v1"}, nil,
			[]string{"--judge-model", "openai:j@localhost:8000/v1", "http://"}},
		{[]string{"--config", cfg, "--model", "local"}, nil,
			[]string{cfg + ":4: models.local.base_url", "localhost:8000/v1", cfg + ":6: models.spec.spec"}},
		{[]string{"--config", judgeCfg, "--model", "x=sim:aligned"}, nil,
			[]string{judgeCfg, "judge_model", "127.0.0.1:8000/v1"}},
		{[]string{"--model", "x=openai:m"}, map[string]string{"OPENAI_BASE_URL": "localhost:8000/v1"},
			[]string{"OPENAI_BASE_URL", "localhost:8000/v1", "http://"}},
		{[]string{"--dataset", "hf:owner/name/train"}, map[string]string{"HF_ENDPOINT": "hub.example"},
			[]string{"HF_ENDPOINT", "hub.example"}},
	}
	for _, tc := range cases {
		c := newCLI(t)
		c.env["OPENAI_BASE_URL"] = srv.URL()
		c.env["OPENAI_API_KEY"] = "sk-test"
		for k, v := range tc.env {
			c.env[k] = v
		}
		args := append([]string{"run", "quickstart", "--out", t.TempDir()}, tc.args...)
		stdout, stderr, code := c.run(args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s%s", tc.args, code, stdout, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: the message does not say %q:\n%s", tc.args, w, stderr)
			}
		}
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("%d requests reached the default endpoint, want none", n)
	}
}
