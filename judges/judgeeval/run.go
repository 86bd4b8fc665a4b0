package judgeeval

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/provider/replay"
)

// Suite and Model are the suite and model names of the trials a judge-eval
// run records in its journal.
const (
	Suite = "judge-eval"
	Model = "recorded"
)

// RunOptions tune Run.
type RunOptions struct {
	// Dir is the run directory that holds the journal (required). A run
	// that was interrupted is finished by running again with the same Dir:
	// the trials already journaled are not judged again.
	Dir string
	// RunID names the run in the journal ("judge-eval" when empty).
	RunID string
	// Cache, if set, is the response cache. LLM judges built with a model
	// wrapped by bench.WithCache use it already; Run uses it for nothing
	// else (the recorded outputs need no cache).
	Cache *bench.Cache
	// Concurrency is how many rows are judged at once (default 8).
	Concurrency int
	// Progress and Warn are passed to bench.Run.
	Progress func(done, total int64)
	Warn     func(format string, args ...any)
	// Metric is the judge metric read as the verdict; empty means the
	// first metric the judge returns for a row.
	Metric string
	// Invert reads the verdict as 1 − value (a refusal judge's "refusal"
	// against labels where 1 means harmful compliance).
	Invert bool
	// Threshold turns a value into a verdict: value ≥ Threshold is 1
	// (default 0.5).
	Threshold float64
}

// Run judges every row of d with j through bench.Run (a replay model
// answers each row with its recorded response) and measures the verdicts
// against the labels. Judgments that failed are counted in the report
// (Failed, FirstError) and left out of the figures; Run returns an error
// only when no verdict could be read at all or the run itself failed.
func Run(ctx context.Context, d *Data, j bench.Judge, o RunOptions) (*Report, error) {
	if o.Dir == "" {
		return nil, errors.New("judgeeval: no run directory")
	}
	if o.Threshold == 0 {
		o.Threshold = 0.5
	}
	if o.RunID == "" {
		o.RunID = Suite
	}
	rm, err := replay.New("", o.Warn)
	if err != nil {
		return nil, err
	}
	spec := bench.RunSpec{
		RunID: o.RunID, Dir: o.Dir, Concurrency: o.Concurrency, Progress: o.Progress, Warn: o.Warn,
		Suites: []bench.SuitePlan{{
			Name:    Suite,
			Samples: d.Samples,
			Render: func(s bench.Sample) (bench.Request, error) {
				return bench.Request{Messages: []bench.Message{{Role: "user", Content: s.Input}}}, nil
			},
			Judges: []bench.Judge{j},
		}},
		Models: []bench.ModelPlan{{Name: Model, Model: rm}},
	}
	if _, err := bench.Run(ctx, spec); err != nil {
		return nil, err
	}
	pos := make(map[string]int, len(d.Samples))
	for i, s := range d.Samples {
		pos[s.ID] = i
	}
	verdicts := make([]int8, len(d.Samples))
	have := make([]bool, len(d.Samples))
	rep := &Report{File: d.File, Label: d.Columns.Label, Judge: j.Name(), Metric: o.Metric, Invert: o.Invert,
		Threshold: o.Threshold, Rows: len(d.Samples)}
	err = bench.ScanJournal(filepath.Join(o.Dir, bench.JournalFile), func(_ int64, e *bench.Entry) error {
		if e.Kind != bench.EntryTrial || e.Suite != Suite {
			return nil
		}
		i, ok := pos[e.SampleID]
		if !ok {
			return nil
		}
		if e.Error != "" {
			rep.fail(fmt.Sprintf("row %s: %s", e.SampleID, e.Error))
			return nil
		}
		var got *bench.Score
		for k := range e.Scores {
			s := &e.Scores[k]
			if s.Judge != j.Name() {
				continue
			}
			// Without --metric, the first metric of the first row read
			// decides, and every row is read on that metric.
			if rep.Metric == "" || s.Metric == rep.Metric {
				got = s
				break
			}
		}
		switch {
		case got == nil:
			rep.fail(fmt.Sprintf("row %s: the judge returned no metric %q", e.SampleID, rep.Metric))
		case got.Error != "":
			rep.fail(fmt.Sprintf("row %s: %s", e.SampleID, got.Error))
		default:
			if rep.Metric == "" {
				rep.Metric = got.Metric
			}
			v := int8(0)
			if got.Value >= o.Threshold {
				v = 1
			}
			if o.Invert {
				v = 1 - v
			}
			verdicts[i], have[i] = v, true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var gold, pred []int8
	refs := make([][]int8, len(d.Refs))
	for i := range d.Samples {
		if !have[i] {
			continue
		}
		gold = append(gold, d.Labels[i])
		pred = append(pred, verdicts[i])
		for k := range d.Refs {
			refs[k] = append(refs[k], d.Refs[k][i])
		}
	}
	rep.Judged = len(gold)
	if rep.Judged == 0 {
		return rep, fmt.Errorf("judge %s gave no verdict on any of the %d rows; first error: %s", j.Name(), rep.Rows, rep.FirstError)
	}
	rep.JudgeFigures = measure("judge "+j.Name(), gold, pred, nil)
	for k, col := range d.Columns.References {
		f := measure(col, gold, refs[k], pred)
		rep.References = append(rep.References, f)
	}
	return rep, nil
}

func (r *Report) fail(msg string) {
	r.Failed++
	if r.FirstError == "" {
		r.FirstError = msg
	}
}
