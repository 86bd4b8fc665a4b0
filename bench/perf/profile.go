package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/provider/openai"
	"github.com/mores-eval/mores/bench/provider/sim"
	"github.com/mores-eval/mores/judges"
	"github.com/mores-eval/mores/reports"
	"github.com/mores-eval/mores/suites"
)

// profilePipeline runs, in this process, the steps of `mores run` (load the
// suite and its dataset, build judges and models, bench.Run with the
// response cache, bench.WriteResults, reports.WriteSummary), each run under
// the CPU profiler (cpu1.pprof, cpu2.pprof), then writes a profile of the
// allocations (heap.pprof), and prints the time of each step.
// Kind "sim" runs the simulated models; "net" runs the openai provider
// against the loopback server (twice: the second run is fully cached).
func profilePipeline(ctx context.Context, o options, stdout io.Writer) error {
	if err := os.MkdirAll(o.Profile, 0o755); err != nil {
		return err
	}
	samples := 10000
	epochs := max(1, o.ProfileN/(2*samples))
	if o.ProfileN < 2*samples {
		samples, epochs = max(1, o.ProfileN/2), 1
	}
	wl, err := writeWorkload(filepath.Join(o.Work, "workload"), samples)
	if err != nil {
		return err
	}
	suitePath := wl.SimSuite
	url := o.ProfileURL
	if o.ProfileKind == "net" {
		suitePath = wl.NetSuite
		if url == "" {
			srv, err := startServer(0)
			if err != nil {
				return err
			}
			defer srv.close()
			url = srv.URL()
		}
	}
	// A sampler records the peak of live heap objects and of the memory
	// the Go runtime holds from the system during each step.
	var mu sync.Mutex
	var peakLive, peakSys uint64
	stopSampler := make(chan struct{})
	defer close(stopSampler)
	go func() {
		ms := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"},
			{Name: "/memory/classes/heap/released:bytes"}}
		for {
			select {
			case <-stopSampler:
				return
			case <-time.After(20 * time.Millisecond):
			}
			metrics.Read(ms)
			mu.Lock()
			peakLive = max(peakLive, ms[0].Value.Uint64())
			peakSys = max(peakSys, ms[1].Value.Uint64()-ms[2].Value.Uint64())
			mu.Unlock()
		}
	}()
	step := func(name string, start time.Time) {
		mu.Lock()
		fmt.Fprintf(stdout, "%-14s %8.3f s   peak heap objects %4.0f MB, runtime memory %4.0f MB\n", name, time.Since(start).Seconds(),
			mb(int64(peakLive)), mb(int64(peakSys)))
		peakLive, peakSys = 0, 0
		mu.Unlock()
	}

	start := time.Now()
	s, err := suites.Load(suitePath)
	if err != nil {
		return err
	}
	ss, err := s.Samples(nil)
	if err != nil {
		return err
	}
	sp := bench.SuitePlan{Name: s.Name, Samples: ss, Render: s.Request}
	for _, js := range s.Judges {
		j, err := judges.New(js, judges.Env{Seed: 1})
		if err != nil {
			return err
		}
		sp.Judges = append(sp.Judges, j.(bench.Judge))
	}
	var models []bench.ModelPlan
	for _, name := range []string{"a", "b"} {
		var m bench.Model
		if o.ProfileKind == "net" {
			m, err = openai.New(openai.Config{Model: "perf-" + name, BaseURL: url, APIKey: "sk-perf"})
		} else {
			kind := sim.Baseline
			if name == "b" {
				kind = sim.Aligned
			}
			m, err = sim.New(kind)
		}
		if err != nil {
			return err
		}
		models = append(models, bench.ModelPlan{Name: name, Model: m})
	}
	var cache *bench.Cache
	if !o.NoCache {
		if cache, err = bench.OpenCache(filepath.Join(o.Work, "cache")); err != nil {
			return err
		}
		defer cache.Close()
	}
	step("load", start)

	runs := 1
	if o.ProfileKind == "net" && cache != nil {
		runs = 2
	}
	for i := range runs {
		dir := filepath.Join(o.Work, "runs", fmt.Sprintf("p%d", i))
		cpu, err := os.Create(filepath.Join(o.Profile, fmt.Sprintf("cpu%d.pprof", i+1)))
		if err != nil {
			return err
		}
		defer cpu.Close()
		if err := pprof.StartCPUProfile(cpu); err != nil {
			return err
		}
		start = time.Now()
		st, err := bench.Run(ctx, bench.RunSpec{RunID: filepath.Base(dir), Dir: dir, Suites: []bench.SuitePlan{sp},
			Models: models, Epochs: epochs, Seed: 1, Concurrency: concurrency, Cache: cache, WriteResults: true})
		if err != nil {
			return err
		}
		step(fmt.Sprintf("run %d", i+1), start)
		fmt.Fprintf(stdout, "               %d trials, %d cached, %.0f trials/s\n", st.Done, st.Cached,
			float64(st.Done)/time.Since(start).Seconds())
		start = time.Now()
		rc := st.Results // written during the run, as mores run does
		if rc == nil {
			c, err := bench.WriteResults(dir, filepath.Base(dir))
			if err != nil {
				return err
			}
			rc = &c
		}
		step("write results", start)
		fmt.Fprintf(stdout, "               %d + %d rows\n", rc.Trials, rc.Scores)
		start = time.Now()
		if _, err := reports.WriteSummary(dir, reports.SummaryOptions{Seed: 1}); err != nil {
			return err
		}
		step("summary", start)
		pprof.StopCPUProfile()
	}
	runtime.GC()
	heap, err := os.Create(filepath.Join(o.Profile, "heap.pprof"))
	if err != nil {
		return err
	}
	defer heap.Close()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stdout, "heap: %.0f MB in use, %.0f MB allocated in all, %d GCs; profiles in %s\n",
		mb(int64(ms.HeapInuse)), mb(int64(ms.TotalAlloc)), ms.NumGC, o.Profile)
	return pprof.Lookup("allocs").WriteTo(heap, 0)
}
