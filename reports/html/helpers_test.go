package html

import (
	"cmp"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/mores-eval/mores/bench"
)

// trialView is what a test expects of one trial, read back from the
// Parquet files (independently of the report's own reader).
type trialView struct {
	suite, model, attack string
	// labels maps judge.metric to the label (or "error").
	labels map[string]string
}

type trialViews []*trialView

func (ts trialViews) count(f func(*trialView) bool) int {
	n := 0
	for _, t := range ts {
		if f(t) {
			n++
		}
	}
	return n
}

func collectTrials(t *testing.T, dir string) trialViews {
	t.Helper()
	var out trialViews
	byKey := map[string]*trialView{}
	key := func(suite, sample, model, attack string, epoch int32) string {
		return suite + "\x00" + sample + "\x00" + model + "\x00" + attack + "\x00" + strconv.Itoa(int(epoch))
	}
	if err := bench.ReadParquet(filepath.Join(dir, bench.ResponsesFile), func(r bench.ResponseRow) error {
		tv := &trialView{suite: r.Suite, model: r.Model, attack: r.Attack, labels: map[string]string{}}
		out = append(out, tv)
		byKey[key(r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch)] = tv
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error {
		tv := byKey[key(r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch)]
		l := r.Label
		if r.Error != nil {
			l = "error"
		}
		tv.labels[r.Judge+"."+r.Metric] = l
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// bigCount streams the big run's scores, calling f with each trial's model
// and harm label.
func bigCount(t testing.TB, dir string, f func(model, harmful string) bool) error {
	t.Helper()
	return bench.ReadParquet(filepath.Join(dir, bench.ScoresFile), func(r bench.ScoreRow) error {
		if r.Judge == "harm" && r.Metric == "harmful" {
			f(r.Model, r.Label)
		}
		return nil
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// sampledTrials returns the trials of the report's sample of size k: the k
// whose keys hash lowest.
func sampledTrials(t testing.TB, dir string, k int) map[trialKey]bool {
	t.Helper()
	type kh struct {
		k trialKey
		h uint64
	}
	var all []kh
	if err := bench.ReadParquet(filepath.Join(dir, bench.ResponsesFile), func(r bench.ResponseRow) error {
		all = append(all, kh{trialKey{r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch}, trialHash(r.Suite, r.SampleID, r.Model, r.Attack, r.Epoch)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(all, func(a, b kh) int { return cmp.Compare(a.h, b.h) })
	out := map[trialKey]bool{}
	for _, x := range all[:min(k, len(all))] {
		out[x.k] = true
	}
	return out
}
