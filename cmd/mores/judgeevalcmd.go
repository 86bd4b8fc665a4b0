package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/judges"
	"github.com/mores-eval/mores/judges/judgeeval"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

type judgeEvalOptions struct {
	judge, judgeModel, config  string
	cols                       judgeeval.Columns
	metric, format, out, cache string
	invert, noCache            bool
	threshold                  float64
	concurrency                int
}

func newJudgeEvalCmd(e *env) *cobra.Command {
	var o judgeEvalOptions
	c := &cobra.Command{
		Use:   "judge-eval FILE --judge SPEC --label COLUMN",
		Short: "Measure a judge against labelled recorded outputs (agreement, κ, FPR, FNR, McNemar vs reference judges)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return judgeEval(c.Context(), e, args[0], o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.judge, "judge", "", "the judge: NAME, NAME:KEY=VALUE,... or {name: NAME, key: value}")
	f.StringVar(&o.cols.Label, "label", "", "the column of gold 0/1 labels (1 = positive, e.g. harmful)")
	f.StringVar(&o.cols.Response, "response", "response", "the column of recorded outputs")
	f.StringVar(&o.cols.Prompt, "prompt", "", `the column of prompts the model was sent (default "prompt" if present)`)
	f.StringVar(&o.cols.ID, "id", "", "the column of row ids (default: the row number)")
	f.StringArrayVar(&o.cols.References, "reference", nil, "a column of another judge's 0/1 labels (repeatable)")
	f.StringVar(&o.metric, "metric", "", "the judge metric read as its verdict (default: the first it returns)")
	f.BoolVar(&o.invert, "invert", false, "read the verdict as 1 − metric (e.g. refusal against harmful-compliance labels)")
	f.Float64Var(&o.threshold, "threshold", 0.5, "a metric value at or above this is verdict 1")
	f.StringVar(&o.format, "format", "text", "text, markdown, latex or json")
	f.StringVar(&o.judgeModel, "judge-model", "", "the model used by LLM judges")
	f.StringVar(&o.config, "config", "", "a mores.yaml with named models")
	f.StringVar(&o.out, "out", "", "keep the run (journal) in this folder; running again with it resumes (default: a temporary folder)")
	f.IntVar(&o.concurrency, "concurrency", 16, "rows judged at once")
	f.BoolVar(&o.noCache, "no-cache", false, "neither read nor write the response cache")
	f.StringVar(&o.cache, "cache-dir", "", "the response cache folder")
	return c
}

func judgeEval(ctx context.Context, e *env, file string, o judgeEvalOptions) error {
	if o.judge == "" {
		return usagef("judge-eval: give --judge SPEC")
	}
	if !(o.threshold > 0 && o.threshold <= 1) {
		return usagef("--threshold %g: must be in (0, 1]", o.threshold)
	}
	known := false
	for _, f := range judgeeval.Formats {
		known = known || f == o.format
	}
	if !known {
		return usagef("--format %q: want %s", o.format, strings.Join(judgeeval.Formats, ", "))
	}
	if o.concurrency < 1 {
		return usagef("--concurrency %d: must be at least 1", o.concurrency)
	}
	// The file first: every problem in it is reported before any request.
	d, err := judgeeval.Load(file, o.cols, e.warnf)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	var cache *bench.Cache
	if !o.noCache {
		if cache, err = bench.OpenCache(e.cacheDir(o.cache)); err != nil {
			e.warnf("response cache unavailable: %v", err)
			cache = nil
		} else {
			defer cache.Close()
		}
	}
	res := &modelResolver{cfg: cfg, getenv: e.getenv, warn: e.warnf}
	jenv := judges.Env{Model: func(name string) (bench.Model, error) {
		spec := name
		if name == "" || name == "judge" {
			spec = o.judgeModel
			if spec == "" {
				spec = cfg.JudgeModel
			}
			if spec == "" {
				return nil, usagef("judge %s needs a judge model: pass --judge-model SPEC", o.judge)
			}
		}
		m, _, err := res.resolve(spec)
		if err != nil {
			return nil, err
		}
		return bench.WithCache(m, cache), nil
	}}
	jj, err := flagJudge(o.judge, jenv, "a pairwise judge compares two models and cannot be measured against labels")
	if err != nil {
		return err
	}
	dir := o.out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "mores-judge-eval-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	ro := judgeeval.RunOptions{Dir: dir, Cache: cache, Concurrency: o.concurrency,
		Warn: e.warnf, Metric: o.metric, Invert: o.invert, Threshold: o.threshold}
	var bar *progressbar.ProgressBar
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions64(int64(len(d.Samples)), progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetDescription("rows"),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		ro.Progress = func(done, _ int64) { bar.Set64(done) }
	}
	rep, err := judgeeval.Run(ctx, d, jj, ro)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if err := rep.Render(e.stdout, o.format); err != nil {
		return err
	}
	if rep.Failed > 0 {
		// Figures over a subset are not the judge's figures: the command
		// fails (exit 3) and says how many rows are missing.
		return fmt.Errorf("%d of %d judgments failed (the figures above leave them out); first: %s", rep.Failed, rep.Rows, rep.FirstError)
	}
	return nil
}
