package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/reports"
	"github.com/spf13/cobra"
)

// gateFlags are the output flags `mores compare` and `mores gate` share.
type gateFlags struct {
	format     string
	out        string
	thresholds string
}

func (f *gateFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.format, "format", "text", "text, markdown (for a pull-request comment) or junit (JUnit XML)")
	c.Flags().StringVarP(&f.out, "output", "o", "", "write to FILE instead of stdout")
}

func (f *gateFlags) check() error {
	switch f.format {
	case reports.FormatText, reports.FormatMarkdown, reports.FormatJUnit:
		return nil
	}
	return usagef("--format %q: unknown (known: text, markdown, junit)", f.format)
}

// ensureScores writes scores.parquet from the journal of a run directory
// when it is missing (a run that was interrupted before its results were
// written).
func ensureScores(dir string) error {
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, bench.ScoresFile)); err == nil {
		return nil
	}
	_, err = bench.WriteResults(dir, m.RunID)
	return err
}

// checkThresholds applies a threshold file to the summary of a run.
func checkThresholds(file, dir string) ([]reports.ThresholdResult, error) {
	rules, err := reports.ReadThresholds(file)
	if err != nil {
		return nil, err
	}
	rows, _, err := loadSummary(dir)
	if err != nil {
		return nil, err
	}
	return reports.CheckThresholds(rules, rows), nil
}

// writeGate renders a gate report, appends the Markdown rendering to
// $GITHUB_STEP_SUMMARY when asked for Markdown inside GitHub Actions, and
// returns a gateError when the gate failed.
func (e *env) writeGate(g *reports.GateReport, f gateFlags) error {
	w, done, err := e.output(f.out)
	if err != nil {
		return err
	}
	var md strings.Builder
	var dst io.Writer = w
	if f.format == reports.FormatMarkdown {
		dst = io.MultiWriter(w, &md)
	}
	if err := done(reports.WriteGateReport(dst, g, f.format)); err != nil {
		return err
	}
	if f.format == reports.FormatMarkdown {
		if p := e.getenv("GITHUB_STEP_SUMMARY"); p != "" {
			// The step summary is a courtesy copy: failing to write it is
			// a warning, so that the exit code stays the gate's verdict
			// (1 on a regression, 0 otherwise), never 3.
			if err := appendFile(p, md.String()+"\n"); err != nil {
				e.warnf("GITHUB_STEP_SUMMARY: %v", err)
			}
		}
	}
	if n := g.Failures(); n > 0 {
		return &gateError{msg: "gate failed: " + g.Headline()}
	}
	return nil
}

func newCompareCmd(e *env) *cobra.Command {
	var f gateFlags
	var alpha, maxDrop float64
	var resamples int
	var seed uint64
	var allowMissing bool
	c := &cobra.Command{
		Use:   "compare BASE_RUN HEAD_RUN",
		Short: "Compare two runs metric by metric; exit 1 on a significant regression",
		Long: `Compare pairs the trials of two run directories by (suite, sample, model,
attack, epoch) and tests every suite × attack × judge × metric × model:
McNemar's test for 0/1 metrics, a paired bootstrap otherwise (an unpaired
bootstrap, with a warning, when trials do not pair), with Holm's correction
over all tested metrics. It exits 1 when a metric regresses significantly
in its bad direction (from the suites' higher_is_better), or drops by more
than --max-drop, or a metric of the base run is missing from the head run
for a model both ran (unless --allow-missing), or a --thresholds rule fails
on the head run; 0 otherwise.`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if !(alpha > 0 && alpha < 1) {
				return usagef("--alpha %v: must be between 0 and 1", alpha)
			}
			opt := reports.CompareOptions{Alpha: alpha, Resamples: resamples, Seed: seed, AllowMissing: allowMissing}
			if c.Flags().Changed("max-drop") {
				if !(maxDrop >= 0) {
					return usagef("--max-drop %v: must be 0 or more", maxDrop)
				}
				opt.MaxDrop = &maxDrop
			}
			if resamples < 100 {
				return usagef("--resamples %d: need at least 100", resamples)
			}
			var runs [2]*reports.RunScores
			for i, dir := range args {
				if err := ensureScores(dir); err != nil {
					return err
				}
				rs, err := reports.ReadRunScores(dir)
				if err != nil {
					return err
				}
				// A run is named as the user named it, its directory; its
				// run id too when that differs (a copied or renamed run), so
				// that the header never reads "base head → head base".
				if id := rs.Label; id != filepath.Base(filepath.Clean(dir)) {
					rs.Label = fmt.Sprintf("%s (run %s)", dir, id)
				} else {
					rs.Label = dir
				}
				runs[i] = rs
			}
			cmp := reports.Compare(runs[0], runs[1], opt)
			if cmp.Tested() == 0 {
				// A gate that tested nothing must not pass: the head run
				// may have failed every trial or judgment, or the runs name
				// their models differently.
				return usagef("compare: nothing to compare: no suite × metric × model has values in both %s and %s (models in base only: %s; in head only: %s)",
					args[0], args[1], orNone(cmp.OnlyBase), orNone(cmp.OnlyHead))
			}
			g := &reports.GateReport{Comparison: cmp, Run: runs[1].Label}
			if f.thresholds != "" {
				res, err := checkThresholds(f.thresholds, args[1])
				if err != nil {
					return err
				}
				g.ThresholdFile, g.Thresholds = f.thresholds, res
			}
			unpaired := 0
			for _, d := range cmp.Deltas {
				if d.Test == reports.TestUnpairedBootstrap {
					unpaired++
				}
			}
			if unpaired > 0 {
				fmt.Fprintf(e.stderr, "mores: warning: trials did not pair for %d of %d metrics (unpaired test used); are these runs of the same suites and seed?\n", unpaired, len(cmp.Deltas))
			}
			if len(cmp.OnlyBase)+len(cmp.OnlyHead) > 0 {
				fmt.Fprintf(e.stderr, "mores: warning: models in one run only are not compared (base only: %s; head only: %s)\n",
					orNone(cmp.OnlyBase), orNone(cmp.OnlyHead))
			}
			return e.writeGate(g, f)
		},
	}
	f.register(c)
	c.Flags().StringVar(&f.thresholds, "thresholds", "", "also check the head run against the rules of FILE")
	c.Flags().Float64Var(&alpha, "alpha", 0.05, "family-wise significance level (Holm-adjusted)")
	c.Flags().Float64Var(&maxDrop, "max-drop", 0, "fail when a metric moves more than X (absolute) in its bad direction, significant or not")
	c.Flags().IntVar(&resamples, "resamples", 5000, "bootstrap resamples")
	c.Flags().Uint64Var(&seed, "seed", 1, "bootstrap seed")
	c.Flags().BoolVar(&allowMissing, "allow-missing", false, "pass when the head run lacks metrics the base run has for a model both ran")
	return c
}

// appendFile appends text to the file at path, creating it.
func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func newGateCmd(e *env) *cobra.Command {
	var f gateFlags
	c := &cobra.Command{
		Use:   "gate RUN_DIR --thresholds FILE",
		Short: "Check a run's summary against absolute thresholds; exit 1 when one fails",
		Long: `Gate checks the summary of one run against the rules of a threshold file,
one rule per line, e.g.

    refusal{suite=harmless} >= 0.95
    harmful{suite=adversarial,attack=base64} <= 0.10

and exits 1 when a rule fails (a rule that matches no row fails too).`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if f.thresholds == "" {
				return usagef("gate: --thresholds FILE is required")
			}
			res, err := checkThresholds(f.thresholds, args[0])
			if err != nil {
				return err
			}
			m, err := bench.ReadManifest(args[0])
			if err != nil {
				return err
			}
			return e.writeGate(&reports.GateReport{Run: m.RunID, ThresholdFile: f.thresholds, Thresholds: res}, f)
		},
	}
	f.register(c)
	c.Flags().StringVar(&f.thresholds, "thresholds", "", "the threshold file (required)")
	return c
}
