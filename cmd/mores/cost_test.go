package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/benchtest"
)

// guardedServer is a benchtest server behind a proxy that fails the test on
// any request while closed.
func guardedServer(t *testing.T) (srv *benchtest.OpenAIServer, url string, open *atomic.Bool) {
	t.Helper()
	srv = benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	target, _ := urlParse(srv.RootURL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	open = &atomic.Bool{}
	open.Store(true)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !open.Load() {
			t.Errorf("a request reached the server while it must get none: %s %s", r.Method, r.URL.Path)
			http.Error(w, "no request expected", http.StatusTeapot)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return srv, front.URL + "/v1", open
}

func urlParse(s string) (*url.URL, error) { return url.Parse(s) }

func TestDryRunCountsRequestsAndCostAndSendsNothing(t *testing.T) {
	srv, base, open := guardedServer(t)
	c := newCLI(t)
	out := t.TempDir()
	model := "gpt=openai:gpt-4o-mini@" + base
	// Ten answers in the cache.
	c.mustRun("run", "harmless", "--model", model, "--out", out, "--run-id", "warm", "--limit", "10")
	if srv.Requests() != 10 {
		t.Fatalf("warm-up sent %d requests, want 10", srv.Requests())
	}
	open.Store(false)
	stdout := c.mustRun("run", "harmless", "--model", model, "--out", out, "--run-id", "dry", "--limit", "30", "--dry-run")
	if _, err := os.Stat(filepath.Join(out, "dry")); err == nil {
		t.Errorf("--dry-run created the run directory")
	}
	if !strings.Contains(stdout, "30 trials to run, 10 answered by the response cache, 20 requests to send; nothing was sent") {
		t.Errorf("dry run output:\n%s", stdout)
	}
	// The estimate, computed independently of the printing: the 20
	// uncached prompts at gpt-4o-mini's price, 256 output tokens each.
	// uncached prompts at gpt-4o-mini's price, each with its max_tokens.
	var in, outTokens int64
	for i, s := range harmlessRequests(t) {
		if i >= 10 && i < 30 {
			in += bench.EstimateTokens(s)
			outTokens += int64(s.Params.MaxTokens)
		}
	}
	cost := (float64(in)*0.15 + float64(outTokens)*0.60) / 1e6
	if in != 752 || outTokens != 20*512 || fmt.Sprintf("%.4f", cost) != "0.0063" { // the figures README.md shows
		t.Fatalf("the harmless suite changed (%d prompt and %d output tokens for 20 requests, $%.4f); adapt the test and README.md", in, outTokens, cost)
	}
	want := fmt.Sprintf("gpt 30 10 20 ~%d ~%d ~$%.4f", in, outTokens, cost)
	if !strings.Contains(strings.Join(strings.Fields(stdout), " "), want) {
		t.Errorf("dry run output lacks %q:\n%s", want, stdout)
	}
	// A model with no price says so.
	stdout = c.mustRun("run", "harmless", "--model", "x=openai:some-local-model@"+base, "--out", out, "--run-id", "dry2", "--limit", "3", "--dry-run")
	if !strings.Contains(stdout, "no price") || !strings.Contains(stdout, "3 requests to send") {
		t.Errorf("dry run of an unpriced model:\n%s", stdout)
	}
}

// harmlessRequests returns the requests of the harmless suite in plan order.
func harmlessRequests(t *testing.T) []bench.Request {
	t.Helper()
	e := &env{getenv: func(string) string { return "" }, stderr: os.Stderr}
	o := runOptions{Suites: []string{"harmless"}, Models: []string{"m=sim:baseline"}, Epochs: 1}
	p, err := resolvePlan(e, &o, &fileConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []bench.Request
	for _, s := range p.suites[0].Samples {
		r, err := p.suites[0].Render(s)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	return reqs
}

func TestMaxCostStopsTheRunAndResumeFinishesIt(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = "sk-test" // the config's api_key_env
	out := t.TempDir()
	dir := filepath.Join(out, "b")
	// A dear model, so that a few requests reach the budget; the suite's
	// max_tokens (512) bounds each request's cost.
	cfg := writeConfig(t, srv.URL(), "    price: {input: 100, output: 200}\n")
	_, stderr, code := c.run("run", "harmless", "--config", cfg, "--model", "gpt", "--out", out, "--run-id", "b",
		"--concurrency", "4", "--max-cost", "0.2")
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "cost budget reached") || !strings.Contains(stderr, "--resume "+dir) {
		t.Errorf("stderr does not say the budget stopped the run and how to resume:\n%s", stderr)
	}
	m, err := bench.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	rows := readResponses(t, dir)
	sum := 0.0
	for _, r := range rows {
		want := (float64(r.PromptTokens)*100 + float64(r.CompletionTokens)*200) / 1e6
		if r.Error != nil || math.Abs(r.CostUSD-want) > 1e-12 {
			t.Errorf("row %s: cost %v, want %v (error %v)", r.SampleID, r.CostUSD, want, r.Error)
		}
		sum += r.CostUSD
	}
	if m.Status != "stopped" || m.Cost == nil || math.Abs(m.Cost.CostUSD-sum) > 1e-9 {
		t.Fatalf("manifest status %q, cost %+v; rows cost %v", m.Status, m.Cost, sum)
	}
	if sum > 0.2 || len(rows) == 0 || len(rows) >= 50 || srv.Requests() != len(rows) {
		t.Fatalf("spent $%v on %d trials with %d requests; want at most $0.2 and a run stopped midway\n%s", sum, len(rows), srv.Requests(), stderr)
	}
	t.Logf("stopped after %d trials, $%.4f", len(rows), sum)

	// Resume with more money: the rest is run, nothing twice.
	stdout := c.mustRun("run", "--resume", dir, "--max-cost", "100")
	rows = readResponses(t, dir)
	if n := oneRowPerTrial(t, rows); n != 50 {
		t.Fatalf("%d trials after resume, want 50", n)
	}
	for p, n := range srv.PromptCounts() {
		if n != 1 {
			t.Errorf("prompt %.40q sent %d times", p, n)
		}
	}
	sum = 0
	for _, r := range rows {
		sum += r.CostUSD
	}
	m, _ = bench.ReadManifest(dir)
	if m.Status != "complete" || math.Abs(m.Cost.CostUSD-sum) > 1e-9 || len(m.Cost.Models) != 1 || m.Cost.Models[0].Requests != 50 {
		t.Errorf("after resume: status %q, cost %+v, rows cost %v", m.Status, m.Cost, sum)
	}
	if !strings.Contains(stdout, fmt.Sprintf("cost $%.6f: gpt $%.6f (50 requests", sum, sum)) {
		t.Errorf("the run does not print its cost:\n%s", stdout)
	}
}

func TestDefaultPricesAndCachedAnswersCostNothing(t *testing.T) {
	srv := benchtest.StartOpenAIServer(t, benchtest.ServerOptions{})
	c := newCLI(t)
	out := t.TempDir()
	model := "gpt=openai:gpt-4o-mini-2024-07-18@" + srv.URL()
	stdout := c.mustRun("run", "harmless", "--model", model, "--out", out, "--run-id", "a")
	c.mustRun("run", "harmless", "--model", model, "--out", out, "--run-id", "b")
	// The line README.md shows.
	if want := "cost $0.000691: gpt $0.000691 (50 requests, 1001+901 tokens)"; !strings.Contains(stdout, want) {
		t.Errorf("the run prints no %q:\n%s", want, stdout)
	}
	for _, r := range readResponses(t, filepath.Join(out, "a")) {
		if want := (float64(r.PromptTokens)*0.15 + float64(r.CompletionTokens)*0.60) / 1e6; r.CostUSD != want || want == 0 {
			t.Errorf("first run: cost %v, want %v at gpt-4o-mini's price", r.CostUSD, want)
		}
	}
	for _, r := range readResponses(t, filepath.Join(out, "b")) {
		if !r.Cached || r.CostUSD != 0 {
			t.Errorf("cached rerun: cached %v, cost %v, want a free cached answer", r.Cached, r.CostUSD)
		}
	}
	// The report shows it too.
	if rep := c.mustRun("report", filepath.Join(out, "a")); !strings.Contains(rep, "cost $0.000691: gpt $0.000691") {
		t.Errorf("mores report shows no cost:\n%s", rep)
	}
	if html, _ := os.ReadFile(filepath.Join(out, "a", "report.html")); !strings.Contains(string(html), "cost $0.0007 · gpt $0.0007") {
		t.Errorf("report.html shows no cost")
	}
	m, _ := bench.ReadManifest(filepath.Join(out, "a"))
	if p := m.Prices["gpt"]; p != (bench.Price{Input: 0.15, Output: 0.60}) {
		t.Errorf("manifest prices %v", m.Prices)
	}
}

func TestBadPriceInConfigExitsTwo(t *testing.T) {
	c := newCLI(t)
	c.env["OPENAI_API_KEY"] = "sk-test" // the config's api_key_env
	cfg := writeConfig(t, "http://127.0.0.1:1/v1", "    price: {input: -1, output: 2}\n")
	_, stderr, code := c.run("run", "harmless", "--config", cfg, "--model", "gpt", "--out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "models.gpt.price") || !strings.Contains(stderr, "mores.yaml:10") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
	_, stderr, code = c.run("run", "harmless", "--max-cost", "-3", "--out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "--max-cost") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}
