package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/mores-eval/mores/bench"
)

// A run passes only on evidence: a run whose trials failed beyond the error
// budget, or whose judges failed beyond it, fails (exit 3), and says why in
// one line naming the first error.

// maxCauseLen bounds the cause quoted in a one-line failure message.
const maxCauseLen = 300

// oneLine squeezes an error message onto one line of at most maxCauseLen
// characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxCauseLen {
		return s
	}
	r := []rune(s)
	return string(r[:maxCauseLen-1]) + "…"
}

// errStopScan ends a scan of a Parquet file early.
var errStopScan = errors.New("stop")

// firstTrialError returns the first error in responses.parquet of dir (in
// plan order), prefixed by its model and sample, or "".
func firstTrialError(dir string) string {
	var first string
	bench.ReadParquet(filepath.Join(dir, bench.ResponsesFile), func(r bench.ResponseRow) error {
		if r.Error == nil || *r.Error == "" {
			return nil
		}
		first = fmt.Sprintf("model %s, sample %s: %s", r.Model, r.SampleID, *r.Error)
		return errStopScan
	})
	return oneLine(first)
}

// firstJudgmentError returns the first error in scores.parquet of dir of a
// judge in a suite (for a model, unless model is ""), or "".
func firstJudgmentError(dir, suite, judge, model string) string {
	var first string
	bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error {
		if r.Error == nil || r.Suite != suite || r.Judge != judge || (model != "" && r.Model != model) {
			return nil
		}
		first = fmt.Sprintf("model %s, sample %s, %s.%s: %s", r.Model, r.SampleID, r.Judge, r.Metric, *r.Error)
		return errStopScan
	})
	return oneLine(first)
}

// trialBudgetFailure returns the error of a run whose failed trials exceed
// the budget maxRate (a share of its trials), or nil.
func trialBudgetFailure(dir string, c bench.ResultCounts, maxRate float64) error {
	if c.Trials == 0 || float64(c.Errors)/float64(c.Trials) <= maxRate {
		return nil
	}
	msg := fmt.Sprintf("error budget exceeded: %d of %d trials failed (more than --max-error-rate %s)",
		c.Errors, c.Trials, percent(maxRate))
	if cause := firstTrialError(dir); cause != "" {
		msg += "; first error: " + cause
	}
	return errors.New(msg)
}

// judgmentBudgetFailure checks the judgments of a summary against the error
// budget: a judge of a suite fails the run when none of its judgments of
// some model succeeded (so its metrics have no value at all), or when more
// than maxRate of its judgments failed. only, when not nil, limits the check
// to the judges it names. It returns nil when every judge passes.
func judgmentBudgetFailure(dir string, rows []bench.SummaryRow, maxRate float64, only map[string]bool) error {
	type key struct{ suite, judge, model string }
	type tally struct{ ok, failed int64 }
	perModel := map[key]*tally{}
	perJudge := map[key]*tally{}
	var order []key
	for _, r := range rows {
		if only != nil && !only[r.Judge] {
			continue
		}
		km := key{r.Suite, r.Judge, r.Model}
		kj := key{r.Suite, r.Judge, ""}
		if perJudge[kj] == nil {
			perJudge[kj] = &tally{}
		}
		if perModel[km] == nil {
			perModel[km] = &tally{}
			order = append(order, km)
		}
		for _, t := range []*tally{perModel[km], perJudge[kj]} {
			t.ok += r.N
			t.failed += r.Errors
		}
	}
	for _, k := range order {
		t := perModel[k]
		if t.ok == 0 && t.failed > 0 {
			msg := fmt.Sprintf("judge %s of suite %s failed every judgment of model %s (%d of %d): its metrics have no value",
				k.judge, k.suite, k.model, t.failed, t.failed)
			if cause := firstJudgmentError(dir, k.suite, k.judge, k.model); cause != "" {
				msg += "; first error: " + cause
			}
			return errors.New(msg)
		}
	}
	for _, k := range order {
		kj := key{k.suite, k.judge, ""}
		t := perJudge[kj]
		if t == nil {
			continue
		}
		delete(perJudge, kj)
		total := t.ok + t.failed
		if total == 0 || float64(t.failed)/float64(total) <= maxRate {
			continue
		}
		msg := fmt.Sprintf("judgment error budget exceeded: judge %s of suite %s failed %d of %d judgments (more than --max-error-rate %s)",
			k.judge, k.suite, t.failed, total, percent(maxRate))
		if cause := firstJudgmentError(dir, k.suite, k.judge, ""); cause != "" {
			msg += "; first error: " + cause
		}
		return errors.New(msg)
	}
	return nil
}

// percent renders a share as a percentage with one decimal.
func percent(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// warnNoEvidence says on stderr, for `mores report`, when a run holds no
// evidence for its table: no trial finished, every trial failed, or a judge
// failed every judgment of a model; and when the run did not complete.
func warnNoEvidence(e *env, dir string, m *bench.Manifest, rows []bench.SummaryRow) {
	var trials, failed int64
	if m.Counts != nil {
		trials, failed = m.Counts.Trials, m.Counts.Errors
	} else {
		bench.ReadParquet(filepath.Join(dir, bench.ResponsesFile), func(r bench.ResponseRow) error {
			trials++
			if r.Error != nil {
				failed++
			}
			return nil
		})
	}
	switch {
	case trials == 0:
		e.warnf("%s: no trial of this run finished: the table is empty", dir)
	case failed == trials:
		msg := fmt.Sprintf("%s: every trial of this run failed (%d of %d): no model answered, so nothing was judged", dir, failed, trials)
		if cause := firstTrialError(dir); cause != "" {
			msg += "; first error: " + cause
		}
		e.warnf("%s", msg)
	default:
		if err := judgmentBudgetFailure(dir, rows, 1, nil); err != nil {
			e.warnf("%s: %v", dir, err)
		}
	}
	switch m.Status {
	case "complete":
	case "partial":
		e.warnf("%s: a partial merge: %s", dir, strings.Join(m.Missing, "; "))
	case "failed":
		e.warnf("%s: the run failed: %s", dir, oneLine(m.Error))
	default:
		e.warnf("%s: the run did not finish (status %s)", dir, m.Status)
	}
}

// squeezed is an error whose message is put on one line (runs of white
// space, newlines included, become one space); it unwraps to the error.
type squeezed struct{ err error }

func (s squeezed) Error() string { return strings.Join(strings.Fields(s.err.Error()), " ") }
func (s squeezed) Unwrap() error { return s.err }
