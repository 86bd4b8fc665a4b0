package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/datasets"
)

// ImportAlpacaEval is the import format of AlpacaEval annotation files.
const ImportAlpacaEval = "alpacaeval"

// Metrics written by ImportJudgments.
const (
	// MetricWin is the share of the comparison won by the evaluated model:
	// 1 a win, 0 a loss, 0.5 a draw, and for a weighted annotator the
	// judge's probability that the evaluated output is better.
	MetricWin = "win"
	// MetricDiscreteWin is the discrete verdict of a weighted annotator
	// (above one half a win, below a loss, exactly one half a draw).
	MetricDiscreteWin = "discrete_win"
)

// ImportOptions are the parameters of an import of external judgments.
type ImportOptions struct {
	// Format is the format of the files; only ImportAlpacaEval is known.
	Format string
	// RunID names the run (default: the base name of the run directory).
	RunID string
	// Suite names the suite the samples belong to (default "alpacaeval").
	Suite string
	// Seed seeds the bootstrap intervals of the summary (default 1).
	Seed int64
	// Now returns the time recorded in the manifest (default time.Now).
	Now func() time.Time
}

// ImportResult counts what ImportJudgments wrote.
type ImportResult struct {
	Manifest *bench.Manifest
	Summary  []bench.SummaryRow
	// Judgments counts the judgments read; Missing those without a
	// preference (recorded as judge errors).
	Judgments, Missing int
}

// ImportJudgments turns files of pairwise judgments made elsewhere into a
// new run directory dir, so that `mores report`, `mores compare` and the
// gates work on them as on any run. The directory must not exist.
//
// The format "alpacaeval" reads AlpacaEval annotation files
// (results/<model>/<annotator>/annotations.json, a JSON array; also JSON
// Lines, CSV or Parquet with the same fields, optionally gzipped): each
// record holds an instruction, output_1 by generator_1 (the reference),
// output_2 by generator_2 (the model evaluated), the annotator's name and
// its preference. A preference of 1 prefers output_1, 2 prefers output_2
// and 0 is a draw (AlpacaEval 1); a weighted annotator (AlpacaEval 2) gives
// a number in [1, 2], 1 + its probability that output_2 is better. A
// missing preference is recorded as a judge error.
//
// The run holds one sample per instruction (its id is the content hash
// `mores run` gives a sample with that input and no id column), suite
// opt.Suite, attack "none", epoch 0. responses.parquet has one row per
// sample and generator, with both outputs; scores.parquet has, for
// generator_2, judge = the annotator, metric "win" = preference − 1 (a
// draw 0.5), so its mean is the AlpacaEval win rate; a weighted annotator
// adds "discrete_win". The manifest marks both as higher-is-better and
// records the files and their SHA-256; summary.parquet is computed. Several
// files (annotators, or models judged against the same reference) can be
// imported into one run; the same generator must then have the same output
// for an instruction in every file.
func ImportJudgments(files []string, dir string, opt ImportOptions) (*ImportResult, error) {
	if opt.Format != ImportAlpacaEval {
		return nil, &bench.InputError{File: "--format", Msg: fmt.Sprintf("unknown import format %q (known: %s)", opt.Format, ImportAlpacaEval)}
	}
	if len(files) == 0 {
		return nil, &bench.InputError{File: "import", Msg: "no file to import"}
	}
	if opt.Suite == "" {
		opt.Suite = "alpacaeval"
	}
	if opt.RunID == "" {
		opt.RunID = filepath.Base(filepath.Clean(dir))
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if _, err := os.Stat(dir); err == nil {
		return nil, &bench.InputError{File: dir, Msg: "exists already: import into a new run directory"}
	}
	started := opt.Now().UTC()
	type respKey struct{ sample, model string }
	type origin struct {
		file string
		row  int
		text string
	}
	type scoreKey struct{ sample, model, judge string }
	responses := map[respKey]origin{}
	var respOrder []respKey
	var prompts = map[string]string{}
	scored := map[scoreKey]origin{}
	var scores []bench.ScoreRow
	var models []string
	judges := map[string]bool{}
	samples := map[string]bool{}
	hash := sha256.New()
	res := &ImportResult{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, &bench.InputError{File: file, Msg: "cannot read: " + pathErr(err).Error()}
		}
		hash.Write(b)
		ss, err := datasets.Load(file, datasets.Mapping{Input: "instruction"}, datasets.Options{})
		if err != nil {
			return nil, err
		}
		// A file is weighted when any preference is strictly between the
		// discrete verdicts; all its judgments then get a discrete_win too.
		prefs := make([]float64, len(ss))
		weighted := false
		for i, s := range ss {
			p, w, err := parsePreference(s.Fields["preference"])
			if err != nil {
				return nil, &bench.InputError{File: file, Line: i + 1, Field: "preference", Msg: err.Error()}
			}
			prefs[i], weighted = p, weighted || w
		}
		for i, s := range ss {
			row := i + 1
			f := s.Fields
			for _, field := range []string{"output_1", "output_2", "generator_1", "generator_2", "annotator", "preference"} {
				if _, ok := f[field]; !ok {
					return nil, &bench.InputError{File: file, Line: row, Field: field, Msg: "missing (an AlpacaEval annotation needs instruction, output_1, output_2, generator_1, generator_2, annotator and preference)"}
				}
			}
			for _, field := range []string{"generator_1", "generator_2", "annotator"} {
				if strings.TrimSpace(f[field]) == "" || f[field] == "null" {
					return nil, &bench.InputError{File: file, Line: row, Field: field, Msg: "empty"}
				}
			}
			samples[s.ID] = true
			prompts[s.ID] = s.Input
			for _, side := range []struct{ gen, out string }{{"generator_1", "output_1"}, {"generator_2", "output_2"}} {
				k := respKey{s.ID, f[side.gen]}
				if !slices.Contains(models, k.model) {
					models = append(models, k.model)
				}
				if o, seen := responses[k]; seen {
					if o.text != f[side.out] {
						return nil, &bench.InputError{File: file, Line: row, Field: side.out,
							Msg: fmt.Sprintf("%s has another output for this instruction in %s (row %d)", k.model, o.file, o.row)}
					}
					continue
				}
				responses[k] = origin{file, row, f[side.out]}
				respOrder = append(respOrder, k)
			}
			judge, model := f["annotator"], f["generator_2"]
			if f["generator_1"] == model {
				return nil, &bench.InputError{File: file, Line: row, Field: "generator_2", Msg: fmt.Sprintf("%s is compared with itself", model)}
			}
			sk := scoreKey{s.ID, model, judge}
			if o, dup := scored[sk]; dup {
				return nil, &bench.InputError{File: file, Line: row, Msg: fmt.Sprintf("%s judged %s on this instruction already in %s (row %d)", judge, model, o.file, o.row)}
			}
			scored[sk] = origin{file: file, row: row}
			judges[judge] = true
			res.Judgments++
			base := bench.ScoreRow{RunID: opt.RunID, Suite: opt.Suite, SampleID: s.ID, Model: model, Attack: "none", Judge: judge, Metric: MetricWin}
			pref := prefs[i]
			expl := fmt.Sprintf("preference %s (1 prefers %s, 2 prefers %s)", f["preference"], f["generator_1"], model)
			if math.IsNaN(pref) {
				res.Missing++
				base.Error = bench.StrPtr("no preference recorded")
				base.Explanation = "the annotator gave no preference"
				scores = append(scores, base)
				if weighted {
					base.Metric = MetricDiscreteWin
					scores = append(scores, base)
				}
				continue
			}
			win := pref - 1
			if pref == 0 {
				win = 0.5
			}
			label := "tie"
			switch {
			case win > 0.5:
				label = "win"
			case win < 0.5:
				label = "loss"
			}
			w := base
			w.Value, w.Label, w.Explanation = &win, label, expl
			scores = append(scores, w)
			if weighted {
				d := 0.5
				switch label {
				case "win":
					d = 1
				case "loss":
					d = 0
				}
				dw := base
				dw.Metric, dw.Value, dw.Label, dw.Explanation = MetricDiscreteWin, &d, label, expl
				scores = append(scores, dw)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rw, err := bench.CreateParquet[bench.ResponseRow](filepath.Join(dir, bench.ResponsesFile))
	if err != nil {
		return nil, err
	}
	for _, k := range respOrder {
		if err := rw.Write(bench.ResponseRow{RunID: opt.RunID, Suite: opt.Suite, SampleID: k.sample, Model: k.model, Attack: "none",
			Prompt: prompts[k.sample], Response: responses[k].text, FinishReason: "stop", Attempts: 1}); err != nil {
			rw.Abort()
			return nil, err
		}
	}
	if err := rw.Close(); err != nil {
		return nil, err
	}
	sw, err := bench.CreateParquet[bench.ScoreRow](filepath.Join(dir, bench.ScoresFile))
	if err != nil {
		return nil, err
	}
	for _, s := range scores {
		if err := sw.Write(s); err != nil {
			sw.Abort()
			return nil, err
		}
	}
	if err := sw.Close(); err != nil {
		return nil, err
	}
	judgeNames := make([]string, 0, len(judges))
	for j := range judges {
		judgeNames = append(judgeNames, j)
	}
	slices.Sort(judgeNames)
	abs := make([]string, len(files))
	for i, f := range files {
		if a, err := filepath.Abs(f); err == nil {
			abs[i] = a
		} else {
			abs[i] = f
		}
	}
	cfg, _ := json.Marshal(map[string]any{"command": "import-judgments", "format": opt.Format, "files": abs, "suite": opt.Suite, "run_id": opt.RunID})
	finished := opt.Now().UTC()
	m := &bench.Manifest{
		RunID: opt.RunID, Status: "complete", MoresVersion: bench.Version, Seed: opt.Seed, Epochs: 1,
		Suites: []bench.ManifestSuite{{Name: opt.Suite, Version: 1, File: "import:" + opt.Format, Hash: hex.EncodeToString(hash.Sum(nil)),
			Dataset: strings.Join(abs, ","), Samples: len(samples), Attacks: []string{"none"}, Judges: judgeNames,
			HigherIsBetter: map[string]bool{MetricWin: true, MetricDiscreteWin: true}}},
		StartedAt: started, FinishedAt: &finished,
		Counts: &bench.ResultCounts{Trials: int64(len(respOrder)), Errors: 0, Scores: int64(len(scores))},
		Config: cfg,
	}
	for _, name := range models {
		m.Models = append(m.Models, bench.ManifestModel{Name: name, Spec: "import:" + opt.Format})
	}
	if err := bench.WriteManifest(dir, m); err != nil {
		return nil, err
	}
	sum, err := WriteSummary(dir, SummaryOptions{Seed: uint64(opt.Seed)})
	if err != nil {
		return nil, err
	}
	res.Manifest, res.Summary = m, sum
	return res, nil
}

// parsePreference reads an AlpacaEval preference: NaN for a missing one;
// weighted is true for a value strictly between 1 and 2 other than 1.5.
func parsePreference(s string) (pref float64, weighted bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" || strings.EqualFold(s, "nan") {
		return math.NaN(), false, nil
	}
	p, perr := strconv.ParseFloat(s, 64)
	if perr != nil || math.IsNaN(p) || !(p == 0 || p >= 1 && p <= 2) {
		return 0, false, fmt.Errorf("%q is not a preference (1 prefers output_1, 2 prefers output_2, 0 is a draw, or a weight in [1, 2])", s)
	}
	return p, p != 1 && p != 2 && p != 1.5 && p != 0, nil
}

// WriteImportSummary writes one line per annotator and model: the win rate
// in percent with its 95% interval.
func WriteImportSummary(w io.Writer, dir string, r *ImportResult) error {
	for _, row := range r.Summary {
		if row.Metric != MetricWin && row.Metric != MetricDiscreteWin {
			continue
		}
		fmt.Fprintf(w, "%s %s %s: %.4f%% [%.2f, %.2f] (n = %d)\n", row.Judge, row.Metric, row.Model, row.Mean*100, row.CILow*100, row.CIHigh*100, row.N)
	}
	missing := ""
	if r.Missing > 0 {
		missing = fmt.Sprintf(", %d without a preference", r.Missing)
	}
	_, err := fmt.Fprintf(w, "%d judgments%s → %s\n", r.Judgments, missing, dir)
	return err
}
