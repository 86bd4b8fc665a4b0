package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mores-eval/mores/bench/benchtest"
)

// duckdbDescribe reads Parquet files with DuckDB (its Node.js package, which
// `make test` installs into .ci/node): an independent reader of our files.
func duckdbDescribe(t *testing.T, files ...string) map[string]struct {
	Columns [][2]string `json:"columns"`
	Rows    int         `json:"rows"`
} {
	t.Helper()
	root, _ := filepath.Abs("../..")
	mods := filepath.Join(root, ".ci", "node", "node_modules")
	if _, err := os.Stat(filepath.Join(mods, "@duckdb", "node-api")); err != nil {
		benchtest.Missing(t, "DuckDB's Node.js package is not installed in %s: run `make setup` (or `make test`)", mods)
	}
	if _, err := exec.LookPath("node"); err != nil {
		benchtest.Missing(t, "Node.js is missing (DuckDB reads the Parquet files through it): run `make setup`")
	}
	cmd := exec.Command("node", append([]string{"testdata/duckdb_describe.cjs"}, files...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("duckdb: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("duckdb: %v", err)
	}
	var res map[string]struct {
		Columns [][2]string `json:"columns"`
		Rows    int         `json:"rows"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("duckdb output %q: %v", out, err)
	}
	return res
}

func TestDuckDBReadsTheRunDirectory(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.mustRun("run", "quickstart", "truthful", "--out", out, "--run-id", "d", "--epochs", "2")
	dir := filepath.Join(out, "d")
	resp := filepath.Join(dir, "responses.parquet")
	scores := filepath.Join(dir, "scores.parquet")
	summary := filepath.Join(dir, "summary.parquet")
	got := duckdbDescribe(t, resp, scores, summary)

	want := map[string][][2]string{
		resp: {{"run_id", "VARCHAR"}, {"suite", "VARCHAR"}, {"sample_id", "VARCHAR"}, {"model", "VARCHAR"}, {"attack", "VARCHAR"},
			{"epoch", "INTEGER"}, {"prompt", "VARCHAR"}, {"response", "VARCHAR"}, {"finish_reason", "VARCHAR"},
			{"prompt_tokens", "BIGINT"}, {"completion_tokens", "BIGINT"}, {"latency_ms", "DOUBLE"}, {"attempts", "INTEGER"},
			{"cached", "BOOLEAN"}, {"error", "VARCHAR"}, {"system", "VARCHAR"}, {"messages", "VARCHAR"}, {"cost_usd", "DOUBLE"}},
		scores: {{"run_id", "VARCHAR"}, {"suite", "VARCHAR"}, {"sample_id", "VARCHAR"}, {"model", "VARCHAR"}, {"attack", "VARCHAR"},
			{"epoch", "INTEGER"}, {"judge", "VARCHAR"}, {"metric", "VARCHAR"}, {"value", "DOUBLE"}, {"label", "VARCHAR"},
			{"explanation", "VARCHAR"}, {"error", "VARCHAR"}, {"rater", "VARCHAR"}, {"judge_version", "VARCHAR"}},
		summary: {{"run_id", "VARCHAR"}, {"suite", "VARCHAR"}, {"model", "VARCHAR"}, {"attack", "VARCHAR"}, {"judge", "VARCHAR"},
			{"metric", "VARCHAR"}, {"n", "BIGINT"}, {"mean", "DOUBLE"}, {"stderr", "DOUBLE"}, {"ci_low", "DOUBLE"},
			{"ci_high", "DOUBLE"}, {"ci_method", "VARCHAR"}, {"errors", "BIGINT"}, {"n_scores", "BIGINT"}},
	}
	for f, cols := range want {
		g := got[f]
		if len(g.Columns) != len(cols) {
			t.Errorf("%s: DuckDB sees columns %v, want %v", filepath.Base(f), g.Columns, cols)
			continue
		}
		for i := range cols {
			if g.Columns[i] != cols[i] {
				t.Errorf("%s column %d: DuckDB sees %v, want %v", filepath.Base(f), i, g.Columns[i], cols[i])
			}
		}
	}
	// 40 quickstart + 43 truthful samples × 2 models × 2 epochs.
	if n := got[resp].Rows; n != (40+43)*2*2 {
		t.Errorf("responses: DuckDB counts %d rows, want %d", n, (40+43)*2*2)
	}
	ourScores := len(readScores(t, dir))
	if got[scores].Rows != ourScores || ourScores == 0 {
		t.Errorf("scores: DuckDB counts %d rows, our reader %d", got[scores].Rows, ourScores)
	}
	sum, _ := readSummaryRows(dir)
	if got[summary].Rows != len(sum) || len(sum) == 0 {
		t.Errorf("summary: DuckDB counts %d rows, our reader %d", got[summary].Rows, len(sum))
	}
}
