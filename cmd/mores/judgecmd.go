package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges"
	"github.com/mores-eval/mores/reports"
	"github.com/mores-eval/mores/suites"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// parseJudgeSpec reads a judge given on the command line: a name
// ("refusal"), a name with options ("regex:pattern=^Sure,metric=sure"), or
// a YAML flow mapping ("{name: rubric, model: judge}").
func parseJudgeSpec(s string) (bench.JudgeSpec, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			return bench.JudgeSpec{}, usagef("--judge %q: %v", s, err)
		}
		name, _ := m["name"].(string)
		if name == "" {
			return bench.JudgeSpec{}, usagef("--judge %q: needs a name", s)
		}
		delete(m, "name")
		return bench.JudgeSpec{Name: name, Options: m}, nil
	}
	name, rest, _ := strings.Cut(s, ":")
	spec := bench.JudgeSpec{Name: name}
	if rest != "" {
		spec.Options = map[string]any{}
		for _, kv := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return bench.JudgeSpec{}, usagef("--judge %q: want NAME:KEY=VALUE,...", s)
			}
			var val any
			if err := yaml.Unmarshal([]byte(v), &val); err != nil || val == nil {
				val = v
			}
			spec.Options[k] = val
		}
	}
	return spec, nil
}

func newJudgeCmd(e *env) *cobra.Command {
	var specs []string
	var judgeModel, config, cacheFlag string
	var concurrency int
	var noCache bool
	var maxErrorRate float64
	c := &cobra.Command{
		Use:   "judge RUN_DIR --judge SPEC",
		Short: "Score an existing run again with more judges (adds to scores.parquet)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(specs) == 0 {
				return usagef("judge: give at least one --judge SPEC")
			}
			budget := -1.0 // the run's own
			if c.Flags().Changed("max-error-rate") {
				if !(maxErrorRate >= 0 && maxErrorRate <= 1) {
					return usagef("--max-error-rate %g: must be in [0, 1]", maxErrorRate)
				}
				budget = maxErrorRate
			}
			return judgeRun(c.Context(), e, args[0], specs, judgeModel, config, e.cacheDir(cacheFlag), noCache, concurrency, budget)
		},
	}
	c.Flags().StringArrayVar(&specs, "judge", nil, "a judge: NAME, NAME:KEY=VALUE,... or {name: NAME, key: value} (repeatable)")
	c.Flags().StringVar(&judgeModel, "judge-model", "", "the model used by LLM judges")
	c.Flags().StringVar(&config, "config", "", "a mores.yaml with named models")
	c.Flags().IntVar(&concurrency, "concurrency", 16, "trials judged at once")
	c.Flags().BoolVar(&noCache, "no-cache", false, "neither read nor write the response cache")
	c.Flags().StringVar(&cacheFlag, "cache-dir", "", "the response cache folder")
	c.Flags().Float64Var(&maxErrorRate, "max-error-rate", 0.05, "the share of failed judgments of a judge above which the command fails, exit 3 (default: the run's)")
	return c
}

func judgeRun(ctx context.Context, e *env, dir string, specs []string, judgeModel, config, cacheDir string, noCache bool, concurrency int, budget float64) error {
	man, err := bench.ReadManifest(dir)
	if err != nil {
		return err
	}
	lock, err := bench.LockRunDir(dir)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	o := runOptions{MaxErrorRate: 0.05} // a run without a recorded budget: the default
	if len(man.Config) > 0 {
		if err := json.Unmarshal(man.Config, &o); err != nil {
			return &bench.InputError{File: filepath.Join(dir, bench.ManifestFile), Field: "config", Msg: err.Error()}
		}
	}
	if budget < 0 {
		budget = o.MaxErrorRate
	}
	if config == "" {
		config = o.Config
	}
	cfg, err := loadConfig(config)
	if err != nil {
		return err
	}
	var cache *bench.Cache
	if !noCache {
		if cache, err = bench.OpenCache(cacheDir); err != nil {
			e.warnf("response cache unavailable: %v", err)
			cache = nil
		} else {
			defer cache.Close()
		}
	}
	judgeModelFlag := judgeModel
	if judgeModel == "" {
		judgeModel = o.JudgeModel
	}
	res := &modelResolver{cfg: cfg, getenv: e.getenv, warn: e.warnf}
	env := judges.Env{Seed: man.Seed, Model: func(name string) (bench.Model, error) {
		spec := name
		fromFlag := false
		if name == "" || name == "judge" {
			spec, fromFlag = judgeModel, true
			if spec == "" {
				spec, fromFlag = cfg.JudgeModel, false
			}
			if spec == "" {
				return nil, usagef("a judge needs a judge model: pass --judge-model SPEC")
			}
			if judgeModelFlag == "" && slices.Contains(o.Redacted, judgeModelKey) && spec == o.JudgeModel {
				return nil, usagef("the run's judge model %s held a credential, which is not recorded: give it again with --judge-model SPEC", spec)
			}
		}
		m, _, err := res.resolve(spec)
		if err != nil {
			return nil, judgeModelError(err, fromFlag, config)
		}
		return bench.WithCache(m, cache), nil
	}}
	env.Warn = e.warnf
	var js []bench.Judge
	for _, s := range specs {
		jj, err := flagJudge(s, env, "a pairwise judge runs during `mores run` (name it in the suite)")
		if err != nil {
			return err
		}
		js = append(js, jj)
	}

	// Samples, for judges that need the target or choices.
	samples := map[string]map[string]*bench.Sample{}
	for _, ms := range man.Suites {
		s, err := suites.Resolve(ms.File)
		if err != nil {
			e.warnf("suite %s: %v (judging without its samples)", ms.Name, err)
			continue
		}
		ss, err := s.Samples(e.warnf)
		if err != nil {
			e.warnf("suite %s: %v (judging without its samples)", ms.Name, err)
			continue
		}
		byID := map[string]*bench.Sample{}
		for i := range ss {
			byID[ss[i].ID] = &ss[i]
		}
		samples[s.Name] = byID
	}

	// What is judged already, per judge name. A judgment that failed (every
	// score of the judge an error) is made again: its new scores replace
	// the errors in scores.parquet.
	// It is kept as the sorted hashes of trial key and judge name, for
	// the judges asked for only: 8 bytes per judged trial.
	jpath := bench.JournalPath(dir)
	seed := maphash.MakeSeed()
	judgeHash := func(k bench.TrialKey, judge string) uint64 {
		var h maphash.Hash
		h.SetSeed(seed)
		for _, s := range [...]string{k.Suite, k.SampleID, k.Model, k.Attack, strconv.Itoa(k.Epoch), judge} {
			h.WriteString(s)
			h.WriteByte(0)
		}
		return h.Sum64()
	}
	asked := map[string]bool{}
	for _, j := range js {
		asked[j.Name()] = true
	}
	var scoredHashes []uint64
	if err := bench.ScanJournal(jpath, func(_ int64, en *bench.Entry) error {
		for _, s := range en.Scores {
			if s.Error == "" && asked[s.Judge] {
				scoredHashes = append(scoredHashes, judgeHash(en.Key(), s.Judge))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	slices.Sort(scoredHashes)
	scoredHashes = slices.Compact(scoredHashes)
	isScored := func(k bench.TrialKey, judge string) bool {
		_, found := slices.BinarySearch(scoredHashes, judgeHash(k, judge))
		return found
	}
	jn, err := bench.OpenJournal(jpath)
	if err != nil {
		return err
	}
	type item struct{ e *bench.Entry }
	items := make(chan *bench.Entry, concurrency)
	out := make(chan *bench.Entry, concurrency)
	var wg sync.WaitGroup
	for w := 0; w < max(concurrency, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for en := range items {
				sm := samples[en.Suite][en.SampleID]
				msgs := en.Messages
				if len(msgs) == 0 {
					msgs = []bench.Message{{Role: "user", Content: en.Prompt}}
				}
				t := bench.Trial{Index: en.Index, RunID: man.RunID, Suite: en.Suite, SampleID: en.SampleID, Model: en.Model,
					Attack: en.Attack, Epoch: en.Epoch, Sample: sm,
					Request: bench.Request{System: en.System, Messages: msgs, SampleID: en.SampleID, Sample: sm, Epoch: en.Epoch}}
				var todo []bench.Judge
				for _, j := range js {
					if !isScored(en.Key(), j.Name()) {
						todo = append(todo, j)
					}
				}
				ss := bench.JudgeAll(ctx, todo, t, *en.Result)
				if ctx.Err() != nil {
					continue
				}
				out <- &bench.Entry{Kind: bench.EntryScores, Index: en.Index, Suite: en.Suite, SampleID: en.SampleID,
					Model: en.Model, Attack: en.Attack, Epoch: en.Epoch, Scores: ss}
			}
		}()
	}
	go func() {
		defer close(items)
		bench.ScanJournal(jpath, func(_ int64, en *bench.Entry) error {
			if en.Kind != bench.EntryTrial || en.Result == nil {
				return nil
			}
			all := true
			for _, j := range js {
				if !isScored(en.Key(), j.Name()) {
					all = false
				}
			}
			if all {
				return nil
			}
			select {
			case items <- en:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	}()
	go func() {
		wg.Wait()
		close(out)
	}()
	n, judgments, failed := 0, 0, 0
	var werr error
	for en := range out {
		if werr == nil {
			werr = jn.Append(en)
		}
		if len(out) == 0 && werr == nil {
			werr = jn.Flush()
		}
		n++
		for _, sc := range en.Scores {
			judgments++
			if sc.Error != "" {
				failed++
			}
		}
	}
	if err := jn.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return werr
	}
	if _, err := bench.CompactJournal(dir); err != nil {
		e.warnf("%v", err)
	}
	counts, err := bench.WriteResults(dir, man.RunID)
	if err != nil {
		return err
	}
	rows, err := reports.WriteSummary(dir, reports.SummaryOptions{Seed: uint64(man.Seed)})
	if err != nil {
		return err
	}
	man.Counts = &counts
	if err := bench.WriteManifest(dir, man); err != nil {
		return err
	}
	writeArtifacts(e, dir)
	if err := reports.WriteSummaryTableWith(e.stdout, rows, reports.FormatText, tableOptions(man)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "judged %s (%d of %s failed) → %s\n", count(int64(n), "trial"), failed, count(int64(judgments), "judgment"), filepath.Join(dir, bench.ScoresFile))
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: the trials judged so far are kept; run the same command again to finish")
	}
	// A judge that failed on every trial of a model, or beyond the error
	// budget, leaves scores a gate would pass on without evidence: the
	// command fails (exit 3), as `mores run` does.
	names := map[string]bool{}
	for _, j := range js {
		names[j.Name()] = true
	}
	return judgmentBudgetFailure(dir, rows, budget, names)
}

// flagJudge builds the judge a --judge flag names. An input error without a
// file is attributed to --judge; a pairwise judge, which needs two models'
// answers, is refused with why (pairwise says what to do instead).
func flagJudge(flag string, env judges.Env, pairwise string) (bench.Judge, error) {
	spec, err := parseJudgeSpec(flag)
	if err != nil {
		return nil, err
	}
	j, err := judges.New(spec, env)
	if err != nil {
		if ie, ok := err.(*bench.InputError); ok && ie.File == "" {
			ie.File = "--judge"
		}
		return nil, err
	}
	jj, ok := j.(bench.Judge)
	if !ok {
		return nil, usagef("--judge %s: %s", spec.Name, pairwise)
	}
	return jj, nil
}
