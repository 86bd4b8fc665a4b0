// Command perf is the performance harness of Mores (`make bench`). In one
// run it measures the real `mores` binary, as a subprocess, against the
// limits of the wire on this machine:
//
//   - throughput of `mores run` (generation through the openai provider
//     over loopback HTTP, the refusal judge, the journal, the response
//     cache, Parquet and the summary) at concurrency 64 against a server
//     that answers at once, beside a minimal net/http + encoding/json client
//     sending the same requests at the same concurrency, measured in the
//     same run: their ratio is the harness's overhead;
//   - throughput at 50 ms server latency, beside the ideal concurrency ÷
//     latency;
//   - a fully cached rerun of 100,000 trials;
//   - the peak resident set size of `mores run` at 10,000, 100,000 and
//     1,000,000 trials (simulated models, so that the network is not the
//     point), which must not grow with the number of trials;
//   - the Parquet write rate of bench.WriteResults on the 1,000,000-trial
//     journal;
//   - `mores report` of the 1,000,000-trial run, its summary recomputed
//     from scores.parquet with bootstrap intervals.
//
// The loopback server is a lean one of this package (server.go): canned
// answers encoded once, no JSON decoding, no request log, so that it costs
// little and its memory stays flat. The minimal client is this same program
// run again with MORES_PERF_CLIENT set (client.go), so that client and
// harness are both separate processes talking to the same server.
//
// It prints a table and JSON, and writes the JSON to -json (bin/bench.json).
// -quick (or BENCH_QUICK=1) runs small sizes, as the package's test does:
// that checks that the harness works and reports every figure, not speed.
//
// -profile DIR runs instead the pipeline in this process (profile.go), the
// same steps as `mores run`, and writes CPU and allocation profiles into
// DIR for `go tool pprof`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mores-eval/mores/bench"
)

func main() {
	if cfg := os.Getenv(clientEnv); cfg != "" {
		if err := runClient(cfg, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "perf client:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		os.Exit(1)
	}
}

// options are the command line of the harness.
type options struct {
	Quick       bool
	Mores       string
	JSON        string
	Work        string
	Keep        bool
	Only        string
	Profile     string
	ProfileKind string
	ProfileN    int
	Serve       bool
	Latency     time.Duration
	ProfileURL  string
	NoCache     bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("perf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.Quick, "quick", os.Getenv("BENCH_QUICK") == "1", "small sizes, for a smoke test (also BENCH_QUICK=1)")
	fs.StringVar(&o.Mores, "mores", "", "the mores binary to measure (default: go build ./cmd/mores into the work folder)")
	fs.StringVar(&o.JSON, "json", "bin/bench.json", "write the figures as JSON to this file (empty: do not)")
	fs.StringVar(&o.Work, "work", "", "the work folder (default: a temporary folder, removed afterwards)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the work folder")
	fs.StringVar(&o.Only, "only", "", "run only these measures (comma-separated: zero,latency,ratelimit,cached,rss,parquet,report)")
	fs.StringVar(&o.Profile, "profile", "", "profile the pipeline in-process instead, writing cpuN.pprof (one per run) and heap.pprof into DIR")
	fs.StringVar(&o.ProfileKind, "profile-kind", "sim", "the pipeline to profile: sim (simulated models) or net (loopback server)")
	fs.IntVar(&o.ProfileN, "profile-trials", 200000, "trials of the profiled run")
	fs.StringVar(&o.ProfileURL, "profile-url", "", "with -profile-kind net: the server to use (e.g. a -serve in another process) instead of one in this process")
	fs.BoolVar(&o.NoCache, "profile-no-cache", false, "with -profile: run without the response cache")
	fs.BoolVar(&o.Serve, "serve", false, "only run the loopback server (printing its URL) until interrupted, for experiments by hand")
	fs.DurationVar(&o.Latency, "latency", 0, "the latency of -serve")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Serve {
		srv, err := startServer(o.Latency)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, srv.URL())
		<-ctx.Done()
		fmt.Fprintf(stderr, "perf: %d requests\n", srv.Requests())
		return srv.close()
	}
	if o.Work == "" {
		d, err := os.MkdirTemp("", "mores-perf-")
		if err != nil {
			return err
		}
		o.Work = d
		if !o.Keep {
			defer os.RemoveAll(d)
		}
	}
	if o.Profile != "" {
		return profilePipeline(ctx, o, stdout)
	}
	if o.Mores == "" {
		o.Mores = filepath.Join(o.Work, "mores")
		fmt.Fprintln(stderr, "perf: building ./cmd/mores")
		cmd := exec.Command("go", "build", "-o", o.Mores, "./cmd/mores")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/mores: %w\n%s", err, out)
		}
	}
	res, err := measure(ctx, o, stderr)
	if err != nil {
		return err
	}
	if err := writeTable(stdout, res); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", b)
	if o.JSON != "" {
		if err := os.MkdirAll(filepath.Dir(o.JSON), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.JSON, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// moduleRoot returns the folder of go.mod above the working directory, or
// the working directory.
func moduleRoot() string {
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}

// sizes are the numbers of samples, models and epochs of each measure.
type sizes struct {
	ZeroSamples    int // × 2 models at zero latency
	Reps           int // repetitions of the zero-latency pair (best of)
	LatencySamples int // × 2 models at 50 ms
	CachedSamples  int // × 2 models, run twice
	// RSS lists the (samples, epochs) of the memory runs, × 2 models; the
	// last, largest one feeds the Parquet and report measures.
	RSS [][2]int
	// RateSamples × 2 models against the hidden rate limit.
	RateSamples int
}

var fullSizes = sizes{ZeroSamples: 20000, Reps: 5, LatencySamples: 6400, CachedSamples: 50000,
	RSS: [][2]int{{5000, 1}, {10000, 5}, {10000, 50}}, RateSamples: 3000}

var quickSizes = sizes{ZeroSamples: 1000, Reps: 1, LatencySamples: 320, CachedSamples: 1000,
	RSS: [][2]int{{500, 1}, {1000, 2}, {1000, 10}}, RateSamples: 300}

// Targets on a 2-core machine.
const (
	concurrency        = 64
	latency            = 50 * time.Millisecond
	targetZeroRatio    = 0.8
	targetLatencyRatio = 0.95
	targetRSSMB        = 256
	targetBytesPerTrl  = 125
	targetCachedSecs   = 5
	targetReportSecs   = 10
)

// Results are the figures of one run of the harness.
type Results struct {
	Machine     Machine      `json:"machine"`
	Quick       bool         `json:"quick"`
	ZeroLatency *ZeroLatency `json:"zero_latency,omitempty"`
	Latency     *Latency     `json:"latency_50ms,omitempty"`
	Cached      *Cached      `json:"cached_rerun,omitempty"`
	Memory      *Memory      `json:"peak_rss,omitempty"`
	Parquet     *Parquet     `json:"parquet_write,omitempty"`
	Report      *Report      `json:"report,omitempty"`
	RateLimited *RateLimited `json:"rate_limited,omitempty"`
}

// Machine describes where the figures were measured.
type Machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	Mores     string `json:"mores_version"`
}

// ZeroLatency compares `mores run` with the minimal client against a server
// that answers at once.
type ZeroLatency struct {
	Trials        int64   `json:"trials"`
	Concurrency   int     `json:"concurrency"`
	MoresSeconds  float64 `json:"mores_seconds"`
	MoresPerSec   float64 `json:"mores_trials_per_s"`
	MoresRSSMB    float64 `json:"mores_peak_rss_mb"`
	ClientSeconds float64 `json:"client_seconds"`
	ClientPerSec  float64 `json:"client_requests_per_s"`
	ClientRSSMB   float64 `json:"client_peak_rss_mb"`
	// MoresCPUPerTrial and ClientCPUPerRequest are the processes' user and
	// system time per trial, in microseconds.
	MoresCPUPerTrial    float64 `json:"mores_cpu_us_per_trial"`
	ClientCPUPerRequest float64 `json:"client_cpu_us_per_request"`
	// NoCache is `mores run --no-cache`: the pipeline without the response
	// cache's lookups and writes.
	NoCachePerSec float64 `json:"mores_no_cache_trials_per_s"`
	NoCacheRatio  float64 `json:"no_cache_ratio"`
	// Ratio, the measure held against the target, is the median of
	// RepRatios: each repetition runs the client and then mores, and its
	// ratio is mores's rate over the client's. Other jobs on a shared
	// machine slow whole stretches of time, which a paired ratio cancels;
	// BestRatio, the best mores rate over the best client rate, is at the
	// mercy of one lucky run of either.
	Ratio     float64   `json:"ratio"`
	RepRatios []float64 `json:"rep_ratios"`
	BestRatio float64   `json:"best_ratio"`
	// StartupSeconds and FinishSeconds are, for the fastest mores run, the
	// time from its start to its first request and from its last answer to
	// its exit.
	StartupSeconds float64 `json:"mores_startup_seconds"`
	FinishSeconds  float64 `json:"mores_finish_seconds"`
	Target         float64 `json:"target_ratio"`
	Pass           bool    `json:"pass"`
}

// Latency compares `mores run` with the ideal throughput concurrency ÷
// latency against a server that answers after a fixed latency.
type Latency struct {
	Trials      int64   `json:"trials"`
	LatencyMS   float64 `json:"latency_ms"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	PerSec      float64 `json:"trials_per_s"`
	IdealPerSec float64 `json:"ideal_trials_per_s"`
	Ratio       float64 `json:"ratio"`
	Target      float64 `json:"target_ratio"`
	Pass        bool    `json:"pass"`
	// The run's phases, from the server's side: from the start of the
	// process to the first request (loading suites and data, planning),
	// between the first request and the last answer, and from the last
	// answer to the exit (Parquet, summary).
	StartupSeconds float64 `json:"startup_seconds"`
	SteadyPerSec   float64 `json:"steady_trials_per_s"`
	SteadyRatio    float64 `json:"steady_ratio"`
	FinishSeconds  float64 `json:"finish_seconds"`
	// The minimal client at the same latency, the wire's limit.
	ClientPerSec float64 `json:"client_requests_per_s"`
	ClientRatio  float64 `json:"client_ratio"`
}

// Cached times a rerun whose every completion is in the response cache.
type Cached struct {
	Trials         int64   `json:"trials"`
	FirstSeconds   float64 `json:"first_run_seconds"`
	FirstPerSec    float64 `json:"first_run_trials_per_s"`
	Seconds        float64 `json:"rerun_seconds"`
	PerSec         float64 `json:"rerun_trials_per_s"`
	RerunRequests  int64   `json:"rerun_requests"`
	CachedRows     int64   `json:"rerun_cached_trials"`
	TargetSeconds  float64 `json:"target_seconds"`
	Pass           bool    `json:"pass"`
	RerunPeakRSSMB float64 `json:"rerun_peak_rss_mb"`
}

// Memory holds the peak RSS of runs of growing size, with --no-report
// (the pipeline) and on the default path (the pipeline, then report.html,
// plots and tables), and the size of the default path's run directory.
type Memory struct {
	Runs     []MemoryRun `json:"runs"`
	TargetMB float64     `json:"target_mb"`
	// DefaultGrowth is the default path's LastGrowth.
	DefaultGrowth float64 `json:"default_last_growth"`
	// TargetBytesPerTrial bounds MemoryRun.BytesPerTrial.
	TargetBytesPerTrial float64 `json:"target_bytes_per_trial"`
	// Growth is the peak RSS of the largest run over that of the smallest
	// (100× the trials; quick: 20×), and LastGrowth over that of the run
	// before it (10×; quick: 5×). The smallest run ends before the
	// buffers that do not depend on the number of trials (Parquet row
	// groups of 128k rows, the journal's reorder window) have filled, so
	// LastGrowth is the figure that tells growth with trials.
	Growth     float64 `json:"growth"`
	LastGrowth float64 `json:"last_growth"`
	Pass       bool    `json:"pass"`
}

// MemoryRun is one size of `mores run` on simulated models: with
// --no-report, then on the default path.
type MemoryRun struct {
	Trials  int64   `json:"trials"`
	Samples int     `json:"samples"`
	Epochs  int     `json:"epochs"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"trials_per_s"`
	RSSMB   float64 `json:"peak_rss_mb"`
	// The default path: the same run writing report.html, plots/ and
	// tables/ too; DirBytes is the size of its run directory, the files
	// a user keeps or uploads.
	DefaultSeconds float64 `json:"default_seconds"`
	DefaultRSSMB   float64 `json:"default_peak_rss_mb"`
	DirBytes       int64   `json:"default_dir_bytes"`
	BytesPerTrial  float64 `json:"default_bytes_per_trial"`
}

// Parquet times bench.WriteResults on the largest journal.
type Parquet struct {
	Entries      int64   `json:"journal_entries"`
	ResponseRows int64   `json:"response_rows"`
	ScoreRows    int64   `json:"score_rows"`
	Seconds      float64 `json:"seconds"`
	RowsPerSec   float64 `json:"rows_per_s"`
}

// Report times `mores report` recomputing the summary of the largest run.
type Report struct {
	Trials          int64   `json:"trials"`
	ScoreRows       int64   `json:"score_rows"`
	SummaryRows     int     `json:"summary_rows"`
	BootstrapGroups int     `json:"bootstrap_groups"`
	Seconds         float64 `json:"seconds"`
	PeakRSSMB       float64 `json:"peak_rss_mb"`
	TargetSeconds   float64 `json:"target_seconds"`
	Pass            bool    `json:"pass"`
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// harness runs the measures.
type harness struct {
	o         options
	sz        sizes
	workloads map[int]*workload
	log       io.Writer
	n         int // run counter, for run ids and cache folders
}

// workload returns the workload of n samples, writing it the first time.
// Each measure runs a dataset of exactly the samples it uses, as a suite
// over a file would: loading rows that --limit then drops would count
// against the run.
func (h *harness) workload(n int) (*workload, error) {
	if w, ok := h.workloads[n]; ok {
		return w, nil
	}
	w, err := writeWorkload(filepath.Join(h.o.Work, fmt.Sprintf("workload-%d", n)), n)
	if err != nil {
		return nil, err
	}
	if h.workloads == nil {
		h.workloads = map[int]*workload{}
	}
	h.workloads[n] = w
	return w, nil
}

func measure(ctx context.Context, o options, log io.Writer) (*Results, error) {
	h := &harness{o: o, sz: fullSizes, log: log}
	if o.Quick {
		h.sz = quickSizes
	}
	res := &Results{Quick: o.Quick, Machine: Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(),
		GoVersion: runtime.Version(), Mores: bench.Version}}
	want := func(name string) bool {
		if o.Only == "" {
			return true
		}
		for _, s := range strings.Split(o.Only, ",") {
			if strings.TrimSpace(s) == name {
				return true
			}
		}
		return false
	}
	steps := []struct {
		name string
		fn   func(*Results) error
	}{
		{"zero", h.zeroLatency},
		{"latency", h.latency},
		{"ratelimit", h.rateLimited},
		{"cached", h.cached},
		{"rss", h.memory},
		{"parquet", h.parquet},
		{"report", h.report},
	}
	for _, s := range steps {
		if !want(s.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "perf: %s\n", s.name)
		if err := s.fn(res); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return res, nil
}

// moresRun is one `mores run` of the harness.
type moresRun struct {
	suite    string
	models   []string // NAME=SPEC
	epochs   int
	cacheDir string // "" for a fresh one
	noCache  bool
	runID    string // "" for a fresh one
	report   bool   // the default path: without --no-report
}

// runMores runs `mores run` and returns the run directory and what the
// process took.
func (h *harness) runMores(r moresRun) (string, procResult, error) {
	h.n++
	if r.runID == "" {
		r.runID = fmt.Sprintf("r%02d", h.n)
	}
	if r.cacheDir == "" {
		r.cacheDir = filepath.Join(h.o.Work, "cache", r.runID)
	}
	out := filepath.Join(h.o.Work, "runs")
	// --no-report: the measures are of the pipeline (generation, judges,
	// journal, Parquet, summary); report.html, plots and tables are
	// rendered from its Parquet files afterwards and measured by `mores
	// report`.
	args := []string{"run", r.suite, "--out", out, "--run-id", r.runID, "--concurrency", fmt.Sprint(concurrency),
		"--epochs", fmt.Sprint(max(r.epochs, 1))}
	if !r.report {
		args = append(args, "--no-report")
	}
	for _, m := range r.models {
		args = append(args, "--model", m)
	}
	if r.noCache {
		args = append(args, "--no-cache")
	}
	p, err := runProc(procSpec{Path: h.o.Mores, Args: args, Env: []string{"MORES_CACHE_DIR=" + r.cacheDir,
		"HOME=" + h.o.Work, "OPENAI_API_KEY=sk-perf-not-a-secret"}})
	return filepath.Join(out, r.runID), p, err
}

func netModels(url string) []string {
	return []string{"a=openai:perf-a@" + url, "b=openai:perf-b@" + url}
}

var simModels = []string{"a=sim:baseline", "b=sim:aligned"}

// trialsOf reads the trial count of a finished run from its manifest.
func trialsOf(dir string) (int64, error) {
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return 0, err
	}
	if m.Counts == nil || m.Status != "complete" {
		return 0, fmt.Errorf("%s: status %q", dir, m.Status)
	}
	if m.Counts.Errors > 0 {
		return 0, fmt.Errorf("%s: %d of %d trials failed", dir, m.Counts.Errors, m.Counts.Trials)
	}
	return m.Counts.Trials, nil
}

func (h *harness) zeroLatency(res *Results) error {
	srv, err := startServer(0)
	if err != nil {
		return err
	}
	defer srv.close()
	z := &ZeroLatency{Concurrency: concurrency, Target: targetZeroRatio}
	want := int64(h.sz.ZeroSamples * 2)
	wl, err := h.workload(h.sz.ZeroSamples)
	if err != nil {
		return err
	}
	for rep := 0; rep < h.sz.Reps; rep++ {
		cp, cr, err := timeClient(clientConfig{URL: srv.URL(), Dataset: wl.Dataset,
			Models: []string{"perf-a", "perf-b"}, Epochs: 1, Concurrency: concurrency, System: workloadSystem,
			MaxTokens: workloadMaxTokens})
		if err != nil {
			return err
		}
		if cr.Requests != want || cr.Errors > 0 {
			return fmt.Errorf("minimal client: %d requests, %d errors; want %d and 0", cr.Requests, cr.Errors, want)
		}
		if rate := float64(want) / cp.Wall.Seconds(); rate > z.ClientPerSec {
			z.ClientPerSec, z.ClientSeconds, z.ClientRSSMB = rate, cp.Wall.Seconds(), mb(cp.PeakRSS)
		}
		if rate := float64(want) / cp.Wall.Seconds(); rate >= z.ClientPerSec {
			z.ClientCPUPerRequest = float64((cp.User + cp.Sys).Microseconds()) / float64(want)
		}
		var p procResult
		for _, noCache := range []bool{false, true} {
			srv.window()
			dir, pr, err := h.runMores(moresRun{suite: wl.NetSuite, models: netModels(srv.URL()), noCache: noCache})
			if err != nil {
				return err
			}
			first, last := srv.window()
			n, err := trialsOf(dir)
			if err != nil {
				return err
			}
			if n != want {
				return fmt.Errorf("mores run: %d trials, want %d", n, want)
			}
			os.RemoveAll(dir)
			rate := float64(n) / pr.Wall.Seconds()
			switch {
			case noCache:
				z.NoCachePerSec = max(z.NoCachePerSec, rate)
			case rate > z.MoresPerSec:
				z.MoresPerSec, z.MoresSeconds, z.MoresRSSMB = rate, pr.Wall.Seconds(), mb(pr.PeakRSS)
				z.StartupSeconds, z.FinishSeconds = first.Sub(pr.Start).Seconds(), pr.End.Sub(last).Seconds()
				z.MoresCPUPerTrial = float64((pr.User + pr.Sys).Microseconds()) / float64(n)
			}
			if !noCache {
				p = pr
			}
		}
		fmt.Fprintf(h.log, "perf:   client %.0f/s (%.2f s CPU), mores %.0f/s (%.2f s CPU)\n", float64(want)/cp.Wall.Seconds(),
			(cp.User + cp.Sys).Seconds(), float64(want)/p.Wall.Seconds(), (p.User + p.Sys).Seconds())
		z.RepRatios = append(z.RepRatios, cp.Wall.Seconds()/p.Wall.Seconds())
	}
	sorted := slices.Sorted(slices.Values(z.RepRatios))
	median := (sorted[(len(sorted)-1)/2] + sorted[len(sorted)/2]) / 2
	z.Trials = want
	z.NoCacheRatio = z.NoCachePerSec / z.ClientPerSec
	z.BestRatio = z.MoresPerSec / z.ClientPerSec
	z.Ratio = median
	z.Pass = z.Ratio >= z.Target
	res.ZeroLatency = z
	return nil
}

func (h *harness) latency(res *Results) error {
	srv, err := startServer(latency)
	if err != nil {
		return err
	}
	defer srv.close()
	wl, err := h.workload(h.sz.LatencySamples)
	if err != nil {
		return err
	}
	cp, cr, err := timeClient(clientConfig{URL: srv.URL(), Dataset: wl.Dataset, Models: []string{"perf-a", "perf-b"},
		Epochs: 1, Concurrency: concurrency, System: workloadSystem, MaxTokens: workloadMaxTokens})
	if err != nil {
		return err
	}
	if cr.Errors > 0 {
		return fmt.Errorf("minimal client: %d errors", cr.Errors)
	}
	srv.window()
	dir, p, err := h.runMores(moresRun{suite: wl.NetSuite, models: netModels(srv.URL())})
	if err != nil {
		return err
	}
	first, last := srv.window()
	n, err := trialsOf(dir)
	if err != nil {
		return err
	}
	os.RemoveAll(dir)
	l := &Latency{Trials: n, LatencyMS: float64(latency) / float64(time.Millisecond), Concurrency: concurrency,
		Seconds: p.Wall.Seconds(), PerSec: float64(n) / p.Wall.Seconds(), IdealPerSec: concurrency / latency.Seconds(),
		Target: targetLatencyRatio, StartupSeconds: first.Sub(p.Start).Seconds(), FinishSeconds: p.End.Sub(last).Seconds()}
	// The steady rate counts the requests whose answers fall between the
	// first request and the last answer: all but the first, which starts
	// the window.
	l.SteadyPerSec = float64(n) / last.Sub(first).Seconds()
	l.SteadyRatio = l.SteadyPerSec / l.IdealPerSec
	l.ClientPerSec = float64(cr.Requests) / cp.Wall.Seconds()
	l.ClientRatio = l.ClientPerSec / l.IdealPerSec
	l.Ratio = l.PerSec / l.IdealPerSec
	l.Pass = l.Ratio >= l.Target
	res.Latency = l
	return nil
}

func (h *harness) cached(res *Results) error {
	srv, err := startServer(0)
	if err != nil {
		return err
	}
	defer srv.close()
	cache := filepath.Join(h.o.Work, "cache", "cached")
	wl, err := h.workload(h.sz.CachedSamples)
	if err != nil {
		return err
	}
	r := moresRun{suite: wl.NetSuite, models: netModels(srv.URL()), cacheDir: cache}
	dir1, p1, err := h.runMores(r)
	if err != nil {
		return err
	}
	n, err := trialsOf(dir1)
	if err != nil {
		return err
	}
	os.RemoveAll(dir1)
	before := srv.Requests()
	dir2, p2, err := h.runMores(r)
	if err != nil {
		return err
	}
	if _, err := trialsOf(dir2); err != nil {
		return err
	}
	m, err := bench.ReadManifest(dir2)
	if err != nil {
		return err
	}
	os.RemoveAll(dir2)
	c := &Cached{Trials: n, FirstSeconds: p1.Wall.Seconds(), FirstPerSec: float64(n) / p1.Wall.Seconds(),
		Seconds: p2.Wall.Seconds(), PerSec: float64(n) / p2.Wall.Seconds(), RerunRequests: srv.Requests() - before,
		CachedRows: m.Counts.Cached, TargetSeconds: targetCachedSecs, RerunPeakRSSMB: mb(p2.PeakRSS)}
	if c.RerunRequests != 0 || c.CachedRows != n {
		return fmt.Errorf("the rerun sent %d requests and served %d of %d trials from the cache; want 0 and all",
			c.RerunRequests, c.CachedRows, n)
	}
	c.Pass = c.Seconds < c.TargetSeconds
	res.Cached = c
	return nil
}

// largest is the run directory of the largest memory run, kept for the
// Parquet and report measures.
func (h *harness) largest() string { return filepath.Join(h.o.Work, "runs", "largest") }

func (h *harness) memory(res *Results) error {
	m := &Memory{TargetMB: targetRSSMB, TargetBytesPerTrial: targetBytesPerTrl}
	for i, se := range h.sz.RSS {
		wl, err := h.workload(se[0])
		if err != nil {
			return err
		}
		r := moresRun{suite: wl.SimSuite, models: simModels, epochs: se[1]}
		if i == len(h.sz.RSS)-1 {
			r.runID = "largest"
			os.RemoveAll(h.largest())
		}
		dir, p, err := h.runMores(r)
		if err != nil {
			return err
		}
		n, err := trialsOf(dir)
		if err != nil {
			return err
		}
		if want := int64(se[0] * se[1] * 2); n != want {
			return fmt.Errorf("%s: %d trials, want %d", dir, n, want)
		}
		if r.runID != "largest" {
			os.RemoveAll(dir)
		}
		run := MemoryRun{Trials: n, Samples: se[0], Epochs: se[1], Seconds: p.Wall.Seconds(),
			PerSec: float64(n) / p.Wall.Seconds(), RSSMB: mb(p.PeakRSS)}
		fmt.Fprintf(h.log, "perf:   %d trials: %.1f s, %.0f MB\n", n, p.Wall.Seconds(), mb(p.PeakRSS))
		// The default path, as a user runs it.
		r.runID, r.report = "", true
		dir, p, err = h.runMores(r)
		if err != nil {
			return err
		}
		if dn, err := trialsOf(dir); err != nil || dn != n {
			return fmt.Errorf("%s: %d trials (%v), want %d", dir, dn, err, n)
		}
		if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
			return fmt.Errorf("the default path wrote no report: %w", err)
		}
		if run.DirBytes, err = dirBytes(dir); err != nil {
			return err
		}
		os.RemoveAll(dir)
		run.DefaultSeconds, run.DefaultRSSMB = p.Wall.Seconds(), mb(p.PeakRSS)
		run.BytesPerTrial = float64(run.DirBytes) / float64(n)
		fmt.Fprintf(h.log, "perf:   %d trials, default path: %.1f s, %.0f MB, %.0f bytes per trial on disk\n", n,
			p.Wall.Seconds(), mb(p.PeakRSS), run.BytesPerTrial)
		m.Runs = append(m.Runs, run)
	}
	first, prev, last := m.Runs[0], m.Runs[len(m.Runs)-2], m.Runs[len(m.Runs)-1]
	m.Growth = last.RSSMB / first.RSSMB
	m.LastGrowth = last.RSSMB / prev.RSSMB
	m.DefaultGrowth = last.DefaultRSSMB / prev.DefaultRSSMB
	m.Pass = true
	for _, r := range m.Runs {
		if r.RSSMB > m.TargetMB || r.DefaultRSSMB > m.TargetMB {
			m.Pass = false
		}
	}
	// "Does not grow": ten times the trials (quick: five) cost less than
	// half as much memory again.
	if m.LastGrowth > 1.5 || m.DefaultGrowth > 1.5 {
		m.Pass = false
	}
	// Compact run directories: the largest run (the smaller ones carry the
	// fixed size of plots and tables over fewer trials).
	if last.BytesPerTrial > m.TargetBytesPerTrial {
		m.Pass = false
	}
	res.Memory = m
	return nil
}

func (h *harness) parquet(res *Results) error {
	dir := h.largest()
	if _, err := os.Stat(bench.JournalPath(dir)); err != nil {
		return errors.New("the parquet measure needs the rss measure's largest run")
	}
	var entries int64
	if err := bench.ScanJournal(bench.JournalPath(dir), func(int64, *bench.Entry) error {
		entries++
		return nil
	}); err != nil {
		return err
	}
	start := time.Now()
	rc, err := bench.WriteResults(dir, "largest")
	if err != nil {
		return err
	}
	d := time.Since(start)
	res.Parquet = &Parquet{Entries: entries, ResponseRows: rc.Trials, ScoreRows: rc.Scores, Seconds: d.Seconds(),
		RowsPerSec: float64(rc.Trials+rc.Scores) / d.Seconds()}
	return nil
}

func (h *harness) report(res *Results) error {
	dir := h.largest()
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return errors.New("the report measure needs the rss measure's largest run")
	}
	// Without summary.parquet, `mores report` recomputes the summary from
	// scores.parquet: Wilson intervals for 0/1 metrics, bootstrap for the
	// others (over samples: the run has several epochs).
	if err := os.Remove(filepath.Join(dir, bench.SummaryFile)); err != nil {
		return err
	}
	p, err := runProc(procSpec{Path: h.o.Mores, Args: []string{"report", dir, "--format", "json"}})
	if err != nil {
		return err
	}
	var rows []bench.SummaryRow
	if err := json.Unmarshal(p.Stdout, &rows); err != nil {
		return fmt.Errorf("mores report --format json: %w", err)
	}
	r := &Report{Trials: m.Counts.Trials, ScoreRows: m.Counts.Scores, SummaryRows: len(rows), Seconds: p.Wall.Seconds(),
		PeakRSSMB: mb(p.PeakRSS), TargetSeconds: targetReportSecs}
	var n int64
	for _, row := range rows {
		if row.CIMethod == "bootstrap" || row.CIMethod == "cluster-bootstrap" {
			r.BootstrapGroups++
		}
		// n counts samples (a sample's epochs are one cluster) and
		// n_scores the values; a summary without n_scores predates it.
		scores := row.NScores
		if scores == 0 {
			scores = row.N
		}
		n += scores + row.Errors
	}
	if n != r.ScoreRows {
		return fmt.Errorf("the summary counts %d scores, scores.parquet holds %d", n, r.ScoreRows)
	}
	if r.BootstrapGroups == 0 {
		return errors.New("the summary has no bootstrap interval")
	}
	r.Pass = r.Seconds < r.TargetSeconds
	res.Report = r
	return nil
}

// writeTable prints the figures as a table.
func writeTable(w io.Writer, r *Results) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	pass := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	fmt.Fprintf(tw, "MEASURE\tFIGURE\tREFERENCE\tRATIO / TARGET\n")
	if z := r.ZeroLatency; z != nil {
		fmt.Fprintf(tw, "zero latency, c=%d, %d trials\tmores run %.0f trials/s\tminimal client %.0f req/s\t%.2f× best over best\n",
			z.Concurrency, z.Trials, z.MoresPerSec, z.ClientPerSec, z.BestRatio)
		fmt.Fprintf(tw, "  CPU per trial: mores %.0f µs, client %.0f µs\tmores run --no-cache %.0f trials/s\t\t%.2f×\n",
			z.MoresCPUPerTrial, z.ClientCPUPerRequest, z.NoCachePerSec, z.NoCacheRatio)
		reps := make([]string, len(z.RepRatios))
		for i, r := range z.RepRatios {
			reps[i] = fmt.Sprintf("%.2f", r)
		}
		fmt.Fprintf(tw, "  %d paired repetitions, mores over client\t%s\tmedian\t%.2f× (≥%.2f) %s\n", len(reps),
			strings.Join(reps, " "), z.Ratio, z.Target, pass(z.Pass))
		fmt.Fprintf(tw, "  fastest mores run: start %.2f s, finish %.2f s\t\t\t\n", z.StartupSeconds, z.FinishSeconds)
	}
	if l := r.Latency; l != nil {
		fmt.Fprintf(tw, "%.0f ms latency, c=%d, %d trials\tmores run %.0f trials/s\tideal %.0f/s\t%.3f× (≥%.2f) %s\n",
			l.LatencyMS, l.Concurrency, l.Trials, l.PerSec, l.IdealPerSec, l.Ratio, l.Target, pass(l.Pass))
		fmt.Fprintf(tw, "  mores run: start %.2f s, finish %.2f s\t%.0f trials/s in between\t\t%.3f×\n",
			l.StartupSeconds, l.FinishSeconds, l.SteadyPerSec, l.SteadyRatio)
		fmt.Fprintf(tw, "  minimal client, same requests\t%.0f req/s\t\t%.3f×\n", l.ClientPerSec, l.ClientRatio)
	}
	if rl := r.RateLimited; rl != nil {
		fmt.Fprintf(tw, "hidden rate limit, c=%d, %d trials\tmores run %.0f trials/s, %d failed\thidden limit %.0f/s (%.0f ms)\t%.3f× (≥%.2f), 0 failed %s\n",
			rl.Concurrency, rl.Trials, rl.PerSec, rl.Failed, rl.LimitPerSec, rl.LatencyMS, rl.Ratio, rl.Target, pass(rl.Pass))
		fmt.Fprintf(tw, "  %d requests throttled (429)\t%.0f trials/s start to finish\t\t%.3f×\n", rl.Throttled,
			rl.WallRatio*rl.LimitPerSec, rl.WallRatio)
	}
	if c := r.Cached; c != nil {
		fmt.Fprintf(tw, "cached rerun, %d trials\t%.2f s (%.0f trials/s, %d requests)\tfirst run %.1f s\t<%.0f s %s\n",
			c.Trials, c.Seconds, c.PerSec, c.RerunRequests, c.FirstSeconds, c.TargetSeconds, pass(c.Pass))
	}
	if m := r.Memory; m != nil {
		for i, run := range m.Runs {
			verdict := ""
			fmt.Fprintf(tw, "peak RSS, %d trials (sim), --no-report\t%.0f MB\t%.1f s, %.0f trials/s\t\n", run.Trials, run.RSSMB,
				run.Seconds, run.PerSec)
			if i == len(m.Runs)-1 {
				verdict = fmt.Sprintf("≤%.0f MB and ≤%.0f bytes/trial; ×%.2f over the run above (--no-report ×%.2f, ×%.2f over the first) %s",
					m.TargetMB, m.TargetBytesPerTrial, m.DefaultGrowth, m.LastGrowth, m.Growth, pass(m.Pass))
			}
			fmt.Fprintf(tw, "peak RSS, %d trials (sim), default path\t%.0f MB, %.0f bytes/trial on disk\t%.1f s, %.0f trials/s\t%s\n",
				run.Trials, run.DefaultRSSMB, run.BytesPerTrial, run.DefaultSeconds, float64(run.Trials)/run.DefaultSeconds, verdict)
		}
	}
	if p := r.Parquet; p != nil {
		fmt.Fprintf(tw, "Parquet write, %d entries\t%.0f rows/s\t%d + %d rows in %.2f s\n", p.Entries, p.RowsPerSec,
			p.ResponseRows, p.ScoreRows, p.Seconds)
	}
	if rp := r.Report; rp != nil {
		fmt.Fprintf(tw, "mores report, %d trials\t%.2f s\t%d score rows, %d bootstrap CIs\t<%.0f s %s\n", rp.Trials,
			rp.Seconds, rp.ScoreRows, rp.BootstrapGroups, rp.TargetSeconds, pass(rp.Pass))
	}
	return tw.Flush()
}

// dirBytes returns the size of the files under dir.
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}
