package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
	"github.com/mores-eval/mores/judges"
	"github.com/mores-eval/mores/reports"
	"github.com/mores-eval/mores/suites"
	"github.com/mores-eval/mores/suites/attack"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// runOptions is the resolved configuration of `mores run`; it is stored in
// the manifest so that --resume replays exactly the same run.
type runOptions struct {
	Suites       []string `json:"suites"`
	Models       []string `json:"models"`
	JudgeModel   string   `json:"judge_model,omitempty"`
	Config       string   `json:"config,omitempty"`
	Out          string   `json:"out"`
	RunID        string   `json:"run_id"`
	Limit        int      `json:"limit,omitempty"`
	Concurrency  int      `json:"concurrency"`
	Epochs       int      `json:"epochs"`
	Seed         int64    `json:"seed"`
	Shard        string   `json:"shard,omitempty"`
	Attacks      []string `json:"attacks,omitempty"`
	Dataset      string   `json:"dataset,omitempty"`
	NoReport     bool     `json:"no_report,omitempty"`
	Adapter      string   `json:"adapter,omitempty"`
	NoCache      bool     `json:"no_cache,omitempty"`
	MaxErrorRate float64  `json:"max_error_rate"`
	// Redacted names the models (and "judge_model") whose spec held a
	// credential, which the manifest does not record: --resume asks for
	// them again (see redactOptions).
	Redacted []string `json:"redacted,omitempty"`
	MaxCost  float64  `json:"max_cost,omitempty"`
	Batch    bool     `json:"batch,omitempty"`

	// dryRun prints what the run would send and spend, and sends nothing.
	dryRun bool
	// batchFile, batchResults and batchPoll: see batch.go.
	batchFile, batchResults string
	batchPoll               time.Duration

	// given holds the flags set on the command line, which the defaults of
	// --config do not replace.
	given map[string]bool
}

func newRunCmd(e *env) *cobra.Command {
	var o runOptions
	var resume, cacheDir string
	c := &cobra.Command{
		Use:   "run [SUITE|FILE ...]",
		Short: "Run suites against models (no argument: the offline quickstart on simulated models)",
		Long: `Run suites against models. With no argument, run the built-in quickstart suite
against the two built-in simulated models (sim:baseline and sim:aligned), offline.

A model is --model NAME=SPEC, where SPEC is openai:MODEL[@BASE_URL], sim:baseline,
sim:aligned, replay: (judge the suite's recorded responses), replay:PATH, or the
name of a model in --config. OPENAI_API_KEY and OPENAI_BASE_URL are honoured.`,
		RunE: func(c *cobra.Command, args []string) error {
			if resume != "" {
				return resumeRun(c.Context(), e, resume, cacheDir, c.Flags().Changed("concurrency"), o)
			}
			o.Suites = args
			o.given = map[string]bool{}
			for _, name := range []string{"out", "concurrency", "epochs", "seed", "max-error-rate"} {
				o.given[name] = c.Flags().Changed(name)
			}
			return doRun(c.Context(), e, o, cacheDir, false)
		},
	}
	f := c.Flags()
	f.StringArrayVar(&o.Models, "model", nil, "a model under test, NAME=SPEC (repeatable)")
	f.StringVar(&o.JudgeModel, "judge-model", "", "the model used by LLM judges (a spec or a config name)")
	f.StringVar(&o.Config, "config", "", "a mores.yaml with named models, the judge model and defaults")
	f.StringVar(&o.Out, "out", "runs", "the folder that holds run directories")
	f.StringVar(&o.RunID, "run-id", "", "the run id (default: a timestamp and a random suffix)")
	f.IntVar(&o.Limit, "limit", 0, "at most N samples of each suite (the first N)")
	f.IntVar(&o.Concurrency, "concurrency", 16, "trials in flight at once")
	f.IntVar(&o.Epochs, "epochs", 1, "ask every sample K times")
	f.Int64Var(&o.Seed, "seed", 1, "the seed of simulated models, attacks and bootstrap intervals")
	f.StringVar(&o.Shard, "shard", "", "run shard I of N (I/N, 1-based): a deterministic slice of the samples")
	f.StringArrayVar(&o.Attacks, "attack", nil, "an attack applied to every suite, replacing the suites' own (repeatable)")
	f.StringVar(&o.Dataset, "dataset", "", "run the suites on this real dataset file (or hf:OWNER/NAME/SPLIT) instead of their own data")
	f.StringVar(&o.Adapter, "adapter", "", "the adapter that reads --dataset (default: detected from the file's columns)")
	f.BoolVar(&o.NoCache, "no-cache", false, "neither read nor write the response cache")
	f.StringVar(&cacheDir, "cache-dir", "", "the response cache folder (default $MORES_CACHE_DIR, else the user cache folder)")
	f.Float64Var(&o.MaxErrorRate, "max-error-rate", 0.05, "the share of failed trials above which the run fails (exit 3)")
	f.BoolVar(&o.NoReport, "no-report", false, "skip report.html, plots/ and tables/ (the Parquet files are always written)")
	f.StringVar(&resume, "resume", "", "finish the run in RUN_DIR, sending no request for a trial already done (give again a --model or --judge-model whose URL held a credential)")
	f.Float64Var(&o.MaxCost, "max-cost", 0, "stop before the run spends more than USD (models' prices; exit 3, finish with --resume and a higher --max-cost)")
	f.BoolVar(&o.Batch, "batch", false, "send the requests through OpenAI's Batch API (half price): upload, create, poll, record; --resume polls the batches already created")
	f.StringVar(&o.batchFile, "batch-file", "", "only write the requests as a batch input file OUT.jsonl (for vllm run-batch -i OUT.jsonl -o results.jsonl), then stop")
	f.StringVar(&o.batchResults, "batch-results", "", "with --resume DIR: record the answers of a batch output file (vllm run-batch -o FILE), sending nothing")
	f.DurationVar(&o.batchPoll, "batch-poll", 30*time.Second, "with --batch: the time between polls of the batches")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the requests the run would send (cache hits excepted), their estimated tokens and cost, and exit without sending any")
	return c
}

func resumeRun(ctx context.Context, e *env, dir, cacheDir string, concurrencySet bool, flags runOptions) error {
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return err
	}
	var o runOptions
	if err := json.Unmarshal(m.Config, &o); err != nil {
		return &bench.InputError{File: filepath.Join(dir, bench.ManifestFile), Field: "config", Msg: err.Error()}
	}
	o.Out = filepath.Dir(filepath.Clean(dir))
	o.RunID = filepath.Base(filepath.Clean(dir))
	if err := restoreSecrets(dir, &o, flags.Models, flags.JudgeModel); err != nil {
		return err
	}
	if concurrencySet {
		o.Concurrency = flags.Concurrency
	}
	if flags.MaxCost > 0 {
		o.MaxCost = flags.MaxCost // a resumed run may be given more money
	}
	o.dryRun = flags.dryRun
	o.batchFile, o.batchResults, o.batchPoll = flags.batchFile, flags.batchResults, flags.batchPoll
	if flags.Batch {
		o.Batch = true
	}
	return doRun(ctx, e, o, cacheDir, true)
}

func parseShard(s string) (bench.Shard, error) {
	if s == "" {
		return bench.Shard{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return bench.Shard{}, usagef("--shard %q: want I/N with 1 ≤ I ≤ N, e.g. 1/4", s)
	}
	return bench.Shard{I: i, N: n}, nil
}

func newRunID() string {
	var b [3]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

func (e *env) warnf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "mores: "+format+"\n", args...)
}

// cacheDir picks the response cache folder.
func (e *env) cacheDir(flag string) string {
	if flag != "" {
		return flag
	}
	if d := e.getenv("MORES_CACHE_DIR"); d != "" {
		return d
	}
	if d := e.getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "mores")
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "mores")
	}
	return filepath.Join(os.TempDir(), "mores-cache")
}

// plan is a resolved run: suites, models, judges.
type plan struct {
	suites     []bench.SuitePlan
	models     []bench.ModelPlan
	manifest   []bench.ManifestSuite
	mmodels    []bench.ManifestModel
	directions map[string]map[string]bool
}

// resolvePlan loads suites, samples, attacks, judges and models. All input
// problems are collected and returned together.
func resolvePlan(e *env, o *runOptions, cfg *fileConfig, cache *bench.Cache) (*plan, error) {
	p := &plan{directions: map[string]map[string]bool{}}
	var errs bench.InputErrors
	addErr := func(err error) error {
		var ie *bench.InputError
		var ies bench.InputErrors
		switch {
		case errors.As(err, &ies):
			errs = append(errs, ies...)
		case errors.As(err, &ie):
			errs = append(errs, ie)
		default:
			return err
		}
		return nil
	}
	res := &modelResolver{cfg: cfg, getenv: e.getenv, warn: e.warnf}

	// Models under test.
	specs := o.Models
	if len(specs) == 0 {
		specs = []string{"baseline=sim:baseline", "aligned=sim:aligned"}
		if len(o.Suites) > 0 && !isQuickstart(o.Suites) {
			e.warnf("no --model given: using the simulated models sim:baseline and sim:aligned (pipeline demonstrations, not real models)")
		}
	}
	o.Models = specs
	seen := map[string]bool{}
	for _, s := range specs {
		name, spec, ok := strings.Cut(s, "=")
		if !ok {
			if _, inCfg := cfg.Models[s]; inCfg {
				name, spec = s, s
			} else if o.Config != "" && !strings.Contains(s, ":") {
				return nil, usagef("--model %s: no model named %s in %s (have: %s)", s, s, o.Config, strings.Join(slices.Sorted(maps.Keys(cfg.Models)), ", "))
			} else {
				return nil, usagef("--model %q: want NAME=SPEC, e.g. gpt=openai:gpt-4o-mini", bench.RedactURL(s))
			}
		}
		if name == "" || seen[name] {
			return nil, usagef("--model %q: model names must be unique and not empty", bench.RedactURL(s))
		}
		seen[name] = true
		m, desc, err := res.resolve(spec)
		if err != nil {
			return nil, err
		}
		p.models = append(p.models, bench.ModelPlan{Name: name, Model: m, Price: res.price(spec, m)})
		p.mmodels = append(p.mmodels, bench.ManifestModel{Name: name, Spec: desc})
	}

	// The judge model is checked now, even when no judge of the suites
	// asks for it: a bad spec is bad input.
	if spec, fromFlag := o.JudgeModel, true; spec != "" || cfg.JudgeModel != "" {
		if spec == "" {
			spec, fromFlag = cfg.JudgeModel, false
		}
		if _, _, err := res.resolve(spec); err != nil {
			return nil, judgeModelError(err, fromFlag, o.Config)
		}
	}
	judgeEnv := judges.Env{Seed: o.Seed, Model: func(name string) (bench.Model, error) {
		spec := name
		fromFlag := false
		if name == "" || name == "judge" {
			spec, fromFlag = o.JudgeModel, true
			if spec == "" {
				spec, fromFlag = cfg.JudgeModel, false
			}
			if spec == "" {
				return nil, usagef("a judge needs a judge model: pass --judge-model SPEC (or judge_model in --config)")
			}
		}
		m, _, err := res.resolve(spec)
		if err != nil {
			return nil, judgeModelError(err, fromFlag, o.Config)
		}
		if cache != nil {
			m = bench.WithCache(m, cache)
		}
		return m, nil
	}}
	judgeEnv.Warn = e.warnf
	// The model under test, for judges that ask it again (society revise).
	if len(p.models) > 0 {
		judgeEnv.Subject = func(name string) (bench.Model, error) {
			for _, mp := range p.models {
				if mp.Name == name {
					if cache != nil {
						return bench.WithCache(mp.Model, cache), nil
					}
					return mp.Model, nil
				}
			}
			return nil, fmt.Errorf("no model %q in this run", name)
		}
	}

	names := o.Suites
	if len(names) == 0 {
		names = []string{"quickstart"}
		o.Suites = names
	}
	for _, arg := range names {
		s, err := suites.Resolve(arg)
		if err == nil && o.Dataset != "" {
			s, err = suites.WithDataset(s, o.Dataset, o.Adapter)
		}
		if err != nil {
			if ferr := addErr(err); ferr != nil {
				return nil, ferr
			}
			continue
		}
		sp := bench.SuitePlan{Name: s.Name, Render: s.Request}
		samples, err := s.Samples(e.warnf)
		if err == nil {
			if o.Limit > 0 && len(samples) > o.Limit {
				samples = samples[:o.Limit]
			}
			// Every prompt renders before any request is sent.
			err = renderAll(s, samples)
		}
		if err != nil {
			// The suite's other problems (attacks, judges) are reported
			// with this one.
			if ferr := addErr(err); ferr != nil {
				return nil, ferr
			}
			samples = nil
		}
		sp.Samples = samples
		attackSpecs := s.Attacks
		if len(o.Attacks) > 0 {
			attackSpecs = o.Attacks
		}
		if len(attackSpecs) == 0 {
			attackSpecs = []string{"none"}
		}
		var attackNames []string
		for _, a := range attackSpecs {
			as, err := attack.ResolveWith(a, attack.Options{Dir: s.Dir})
			if err != nil {
				var ie *bench.InputError
				if errors.As(err, &ie) && ie.File == "" {
					ie.File = s.File
					if len(o.Attacks) > 0 {
						ie.File = "--attack"
					} else {
						ie.Line = s.Line("attacks")
					}
				}
				if ferr := addErr(err); ferr != nil {
					return nil, ferr
				}
				continue
			}
			for _, x := range as {
				sp.Attacks = append(sp.Attacks, x)
				attackNames = append(attackNames, x.Name())
			}
		}
		var judgeNames []string
		for _, js := range s.Judges {
			j, err := judges.New(withPersonas(js, s.Personas), judgeEnv)
			if err != nil {
				var ie *bench.InputError
				if errors.As(err, &ie) && ie.File == "" {
					ie.File = s.File
				}
				var ue *usageError
				if errors.As(err, &ue) {
					return nil, err
				}
				if ferr := addErr(err); ferr != nil {
					return nil, ferr
				}
				continue
			}
			switch jj := j.(type) {
			case bench.Judge:
				sp.Judges = append(sp.Judges, jj)
				judgeNames = append(judgeNames, jj.Name())
			case bench.PairJudge:
				sp.PairJudges = append(sp.PairJudges, jj)
				judgeNames = append(judgeNames, jj.Name())
			}
		}
		warnDroppedSystem(e, s, p.models)
		dsHash, _ := datasets.Checksum(s.DatasetPath())
		p.suites = append(p.suites, sp)
		p.directions[s.Name] = s.HigherIsBetter
		p.manifest = append(p.manifest, bench.ManifestSuite{Name: s.Name, Version: s.Version, File: s.File, Hash: s.Hash,
			Dataset: s.DatasetPath(), DatasetHash: dsHash, Samples: len(samples), Attacks: attackNames, Judges: judgeNames,
			HigherIsBetter: s.HigherIsBetter})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for i := range p.suites {
		for j := range p.suites[:i] {
			if p.suites[i].Name == p.suites[j].Name {
				return nil, usagef("suite %q is named twice", p.suites[i].Name)
			}
		}
	}
	return p, nil
}

// withPersonas passes a suite's personas to a judge that takes them.
func withPersonas(js bench.JudgeSpec, personas []string) bench.JudgeSpec {
	if (js.Name != "persona-panel" && js.Name != "society") || len(personas) == 0 {
		return js
	}
	if _, ok := js.Options["personas"]; ok {
		return js
	}
	opts := map[string]any{}
	for k, v := range js.Options {
		opts[k] = v
	}
	ps := make([]any, len(personas))
	for i, p := range personas {
		ps[i] = p
	}
	opts["personas"] = ps
	js.Options = opts
	return js
}

func isQuickstart(s []string) bool { return len(s) == 1 && s[0] == "quickstart" }

func doRun(ctx context.Context, e *env, o runOptions, cacheFlag string, resuming bool) error {
	cfg, err := loadConfig(o.Config)
	if err != nil {
		return err
	}
	if !resuming {
		// A resumed run replays options resolved when it started.
		applyDefaults(&o, cfg)
		// Paths are stored absolute, so that --resume works from any folder.
		absPaths(&o)
	}
	shard, err := parseShard(o.Shard)
	if err != nil {
		return err
	}
	if o.Adapter != "" && o.Dataset == "" {
		return usagef("--adapter needs --dataset")
	}
	switch {
	case o.Epochs < 1:
		return usagef("--epochs %d: must be at least 1", o.Epochs)
	case o.Concurrency < 1:
		return usagef("--concurrency %d: must be at least 1", o.Concurrency)
	case o.Limit < 0:
		return usagef("--limit %d: must not be negative (0 means every sample)", o.Limit)
	case !(o.MaxErrorRate >= 0 && o.MaxErrorRate <= 1):
		return usagef("--max-error-rate %g: must be in [0, 1]", o.MaxErrorRate)
	case !(o.MaxCost >= 0) || math.IsInf(o.MaxCost, 0):
		return usagef("--max-cost %g: must be a positive number of US dollars", o.MaxCost)
	}
	if o.RunID == "" {
		o.RunID = newRunID()
	}
	if strings.ContainsAny(o.RunID, `/\`) || o.RunID == "." || o.RunID == ".." {
		return usagef("--run-id %q: must not hold a path separator", o.RunID)
	}
	if strings.IndexFunc(o.RunID, unicode.IsControl) >= 0 {
		return usagef("--run-id %q: must not hold a newline, tab or other control character", o.RunID)
	}
	dir := filepath.Join(o.Out, o.RunID)
	if !resuming {
		if _, err := os.Stat(dir); err == nil {
			return usagef("run directory %s exists already (use --resume %s to finish it, or another --run-id)", dir, dir)
		}
	}
	if err := checkOut(o.Out); err != nil {
		return err
	}

	var cache *bench.Cache
	closeCache := func() error { return nil }
	if !o.NoCache {
		cache, err = bench.OpenCache(e.cacheDir(cacheFlag))
		if err != nil {
			e.warnf("response cache unavailable, running without it: %v", err)
			cache = nil
		} else {
			var once sync.Once
			var cerr error
			closeCache = func() error {
				once.Do(func() { cerr = cache.Close() })
				return cerr
			}
			defer closeCache()
		}
	}
	p, err := resolvePlan(e, &o, cfg, cache)
	if err != nil {
		return err
	}

	var prev *bench.Manifest
	if resuming {
		prev, err = bench.ReadManifest(dir)
		if err != nil {
			return err
		}
		for i, s := range p.manifest {
			if i < len(prev.Suites) && (prev.Suites[i].Hash != s.Hash || prev.Suites[i].DatasetHash != s.DatasetHash) {
				return usagef("suite %s changed since the run started (its file or dataset hash differs); start a new run", s.Name)
			}
		}
	}
	spec := bench.RunSpec{RunID: o.RunID, Dir: dir, Suites: p.suites, Models: p.models, Epochs: o.Epochs, Seed: o.Seed,
		Concurrency: o.Concurrency, Shard: shard, Cache: cache, Warn: e.warnf, WriteResults: true, MaxCost: o.MaxCost}
	if o.batchResults != "" && !resuming {
		return usagef("--batch-results FILE needs --resume RUN_DIR: the run whose --batch-file was given to vllm run-batch")
	}
	if o.dryRun {
		est, err := bench.EstimateRun(spec, bench.EstimateOptions{Batch: o.Batch})
		if err != nil {
			return err
		}
		return printEstimate(e.stdout, est)
	}
	if o.MaxCost > 0 {
		for _, m := range p.models {
			if m.Price == nil {
				e.warnf("model %s has no price (give one with price: {input, output} in --config): --max-cost does not count its requests", m.Name)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef("--out %s: cannot create the run directory: %v", o.Out, err)
	}
	lock, err := bench.LockRunDir(dir)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	cfgJSON, _ := json.Marshal(redactOptions(o))
	man := &bench.Manifest{RunID: o.RunID, Status: "running", MoresVersion: version(), Seed: o.Seed, Epochs: o.Epochs,
		Shard: o.Shard, Suites: p.manifest, Models: p.mmodels, StartedAt: time.Now().UTC(), Config: cfgJSON}
	if prev != nil {
		man.StartedAt = prev.StartedAt
	}
	for _, m := range p.models {
		if m.Price != nil {
			if man.Prices == nil {
				man.Prices = map[string]bench.Price{}
			}
			man.Prices[m.Name] = *m.Price
		}
	}
	if err := bench.WriteManifest(dir, man); err != nil {
		return err
	}

	finishBar := func() {}
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		spec.Progress, finishBar = newProgress(e.stderr)
	}
	st, runErr, done := runBatches(ctx, e, &o, spec, dir, spec.Progress != nil)
	if errors.Is(runErr, errBatchFileWritten) {
		finishBar()
		man.Status = "batch-file"
		return bench.WriteManifest(dir, man)
	}
	if !done {
		st, runErr = bench.Run(ctx, spec)
	}
	finishBar()
	// The cache writes its last rows and checkpoints its log while the
	// results are finished: a run that wrote many rows spends tens of
	// milliseconds there.
	cacheErr := make(chan error, 1)
	go func() { cacheErr <- closeCache() }()
	err = finishRun(e, dir, o, man, st, runErr, p)
	if cerr := <-cacheErr; cerr != nil {
		e.warnf("response cache: %v", cerr)
	}
	return err
}

// finishRun writes the results of whatever finished, then reports.
func finishRun(e *env, dir string, o runOptions, man *bench.Manifest, st bench.Stats, runErr error, p *plan) error {
	var counts bench.ResultCounts
	var werr error
	if st.Results != nil {
		counts = *st.Results // written while the run ran
	} else {
		counts, werr = bench.WriteResults(dir, o.RunID)
	}
	var rows []bench.SummaryRow
	if werr == nil {
		rows, werr = reports.WriteSummary(dir, reports.SummaryOptions{Seed: uint64(o.Seed)})
	}
	// A run that finished but holds too little evidence fails: too many
	// trials without a response, or a judge that failed too often.
	var budgetErr error
	if runErr == nil && werr == nil {
		budgetErr = trialBudgetFailure(dir, counts, o.MaxErrorRate)
		if budgetErr == nil {
			budgetErr = judgmentBudgetFailure(dir, rows, o.MaxErrorRate, nil)
		}
	}
	now := time.Now().UTC()
	man.FinishedAt = &now
	man.Counts = &counts
	man.Run = &st
	if runErr == nil && werr == nil {
		// A complete run's journal is rewritten in large frames if the run
		// flushed it a few trials at a time (same lines, a smaller file).
		if _, err := bench.CompactJournal(dir); err != nil {
			e.warnf("%v", err)
		}
	}
	man.Cost = st.Cost
	switch {
	case runErr == nil && werr == nil && budgetErr == nil:
		man.Status = "complete"
	case errors.Is(runErr, context.Canceled):
		man.Status = "interrupted"
	case errors.Is(runErr, bench.ErrBudget):
		man.Status = "stopped"
	default:
		man.Status = "failed"
	}
	if runErr != nil {
		man.Error = runErr.Error()
	} else if budgetErr != nil {
		man.Error = budgetErr.Error()
	}
	if err := bench.WriteManifest(dir, man); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return fmt.Errorf("writing results of %s: %w", dir, werr)
	}
	if !o.NoReport {
		writeArtifacts(e, dir)
	}
	if len(rows) > 0 {
		if err := reports.WriteSummaryTableWith(e.stdout, rows, reports.FormatText, tableOptions(man)); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%s, %s, %s, %d cached → %s\n", count(counts.Trials, "trial"),
		count(counts.Errors, "generation error"), count(counts.JudgmentErrors, "judgment error"), counts.Cached, dir)
	printCost(e.stdout, st.Cost)
	if runErr != nil {
		if errors.Is(runErr, bench.ErrBudget) {
			return fmt.Errorf("%w; %d finished trials kept; finish with: mores run --resume %s --max-cost USD (a higher budget)", runErr, counts.Trials, dir)
		}
		if errors.Is(runErr, context.Canceled) {
			return fmt.Errorf("interrupted: %d finished trials kept; finish with: mores run --resume %s", counts.Trials, dir)
		}
		return fmt.Errorf("run failed: %w (finished trials kept in %s; retry with --resume)", squeezed{runErr}, dir)
	}
	return budgetErr
}

// applyDefaults fills the options not given on the command line from the
// defaults of the config file.
func applyDefaults(o *runOptions, cfg *fileConfig) {
	d := cfg.Defaults
	if d.Out != "" && !o.given["out"] {
		o.Out = d.Out
	}
	if d.Concurrency > 0 && !o.given["concurrency"] {
		o.Concurrency = d.Concurrency
	}
	if d.Epochs > 0 && !o.given["epochs"] {
		o.Epochs = d.Epochs
	}
	if d.Seed != nil && !o.given["seed"] {
		o.Seed = *d.Seed
	}
	if d.MaxErrorRate != nil && !o.given["max-error-rate"] {
		o.MaxErrorRate = *d.MaxErrorRate
	}
}

func version() string { return bench.Version }

// absPaths makes the file paths among the options absolute: suite files,
// --dataset, --config and replay:PATH models. Built-in names, hf: paths and
// paths that do not exist are left as they are.
func absPaths(o *runOptions) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || strings.Contains(p, ":") {
			return p
		}
		if _, err := os.Stat(p); err != nil {
			return p
		}
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	for i, su := range o.Suites {
		o.Suites[i] = abs(su)
	}
	o.Dataset = abs(o.Dataset)
	o.Config = abs(o.Config)
	for i, m := range o.Models {
		name, spec, ok := strings.Cut(m, "=")
		if !ok {
			continue
		}
		if rest, isReplay := strings.CutPrefix(spec, "replay:"); isReplay && rest != "" {
			path, query, hasQuery := strings.Cut(rest, "?")
			path = abs(path)
			if hasQuery {
				path += "?" + query
			}
			o.Models[i] = name + "=replay:" + path
		}
	}
}
