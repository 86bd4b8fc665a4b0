package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary play the minimal client, as the harness
// binary does: the harness runs os.Executable() with MORES_PERF_CLIENT set.
func TestMain(m *testing.M) {
	if cfg := os.Getenv(clientEnv); cfg != "" {
		if err := runClient(cfg, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "perf client:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestQuickHarnessReportsEveryFigure runs the whole harness at the quick
// sizes against a freshly built mores. It checks that every measure ran on
// complete runs and that the JSON holds every figure; it asserts nothing
// about speed.
func TestQuickHarnessReportsEveryFigure(t *testing.T) {
	work := t.TempDir()
	bin := filepath.Join(work, "mores")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mores")
	build.Dir = moduleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/mores: %v\n%s", err, out)
	}
	jsonPath := filepath.Join(work, "bench.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-quick", "-mores", bin, "-json", jsonPath, "-work", filepath.Join(work, "w")}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("harness: %v\n%s", err, stderr.String())
	}
	t.Logf("\n%s", stdout.String())

	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var r Results
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("bench.json: %v", err)
	}
	if !r.Quick || r.Machine.CPUs < 1 {
		t.Errorf("machine and mode: %+v", r)
	}
	positive := func(name string, v float64) {
		t.Helper()
		if !(v > 0) {
			t.Errorf("%s = %v, want a positive figure", name, v)
		}
	}
	z := r.ZeroLatency
	if z == nil {
		t.Fatal("no zero-latency figures")
	}
	if z.Trials != int64(quickSizes.ZeroSamples*2) || z.Concurrency != concurrency {
		t.Errorf("zero latency: %+v", z)
	}
	for name, v := range map[string]float64{"mores_trials_per_s": z.MoresPerSec, "client_requests_per_s": z.ClientPerSec,
		"ratio": z.Ratio, "mores_peak_rss_mb": z.MoresRSSMB, "client_peak_rss_mb": z.ClientRSSMB,
		"mores_no_cache_trials_per_s": z.NoCachePerSec, "no_cache_ratio": z.NoCacheRatio,
		"mores_cpu_us_per_trial": z.MoresCPUPerTrial, "client_cpu_us_per_request": z.ClientCPUPerRequest} {
		positive("zero_latency."+name, v)
	}
	if l := r.Latency; l == nil {
		t.Error("no 50 ms figures")
	} else {
		if l.Trials != int64(quickSizes.LatencySamples*2) || l.IdealPerSec != 1280 {
			t.Errorf("latency: %+v", l)
		}
		for name, v := range map[string]float64{"ratio": l.Ratio, "steady_trials_per_s": l.SteadyPerSec,
			"startup_seconds": l.StartupSeconds, "finish_seconds": l.FinishSeconds, "client_ratio": l.ClientRatio} {
			positive("latency_50ms."+name, v)
		}
		// Latency bounds throughput from above whatever the machine.
		if l.PerSec > l.IdealPerSec*1.05 {
			t.Errorf("%.0f trials/s at 50 ms and concurrency 64: more than the ideal %.0f, so the server did not wait", l.PerSec, l.IdealPerSec)
		}
	}
	if c := r.Cached; c == nil {
		t.Error("no cached-rerun figures")
	} else {
		if c.Trials != int64(quickSizes.CachedSamples*2) || c.RerunRequests != 0 || c.CachedRows != c.Trials {
			t.Errorf("cached rerun: %+v", c)
		}
		positive("cached_rerun.rerun_seconds", c.Seconds)
		positive("cached_rerun.first_run_seconds", c.FirstSeconds)
	}
	if m := r.Memory; m == nil || len(m.Runs) != len(quickSizes.RSS) {
		t.Errorf("peak RSS: %+v", m)
	} else {
		for i, run := range m.Runs {
			if want := int64(quickSizes.RSS[i][0] * quickSizes.RSS[i][1] * 2); run.Trials != want {
				t.Errorf("memory run %d: %d trials, want %d", i, run.Trials, want)
			}
			positive(fmt.Sprintf("peak_rss.runs[%d].peak_rss_mb", i), run.RSSMB)
			positive(fmt.Sprintf("peak_rss.runs[%d].default_peak_rss_mb", i), run.DefaultRSSMB)
			positive(fmt.Sprintf("peak_rss.runs[%d].default_bytes_per_trial", i), run.BytesPerTrial)
		}
		positive("peak_rss.default_last_growth", m.DefaultGrowth)
		positive("peak_rss.growth", m.Growth)
		positive("peak_rss.last_growth", m.LastGrowth)
	}
	largest := int64(quickSizes.RSS[2][0] * quickSizes.RSS[2][1] * 2)
	if p := r.Parquet; p == nil {
		t.Error("no Parquet figures")
	} else {
		// Each trial has a refusal score and two harm scores.
		if p.Entries != largest || p.ResponseRows != largest || p.ScoreRows != 3*largest {
			t.Errorf("parquet: %+v", p)
		}
		positive("parquet_write.rows_per_s", p.RowsPerSec)
	}
	if rp := r.Report; rp == nil {
		t.Error("no report figures")
	} else {
		// harm_prob of each of the two models gets a bootstrap interval.
		if rp.Trials != largest || rp.ScoreRows != 3*largest || rp.BootstrapGroups != 2 || rp.SummaryRows != 6 {
			t.Errorf("report: %+v", rp)
		}
		positive("report.seconds", rp.Seconds)
	}
	for _, want := range []string{"zero latency", "50 ms latency", "cached rerun", "peak RSS", "default path", "bytes/trial", "Parquet write", "mores report", `"zero_latency"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the output lacks %q", want)
		}
	}
}
