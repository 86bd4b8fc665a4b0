package reports

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

// Direction says which way a metric improves.
type Direction int

// Directions of a metric.
const (
	DirectionUnknown Direction = iota
	HigherIsBetter
	LowerIsBetter
)

// Tests a comparison row can use.
const (
	TestMcNemar           = "mcnemar"
	TestPairedBootstrap   = "paired-bootstrap"
	TestPairedPermutation = "paired-permutation"
	TestUnpairedBootstrap = "bootstrap"
)

// Caveats attached to comparison rows (benchstat's warnings): they travel
// with the results into every rendering.
const (
	WarnSmallN           = "n < 10: too few trials for a reliable test"
	WarnUnpaired         = "trials did not pair: unpaired bootstrap of the difference of means"
	WarnDirectionUnknown = "metric direction unknown: reported, never gates"
	WarnPartlyPaired     = "some trials had no partner in the other run and were left out"
	WarnDuplicates       = "several scores for one trial (e.g. several raters) were averaged"
	WarnNoValues         = "no values in one of the runs: not tested"
	WarnJudgeErrors      = "some scores are judge errors and were left out"
	WarnEpochsAveraged   = "several epochs per sample: each sample's epochs were averaged, and samples paired"
)

// CompareOptions are the parameters of a comparison.
type CompareOptions struct {
	// Alpha is the family-wise significance level (default 0.05), applied
	// to Holm-adjusted p-values.
	Alpha float64
	// MaxDrop, when set, is the largest change in a metric's bad direction
	// (absolute, e.g. 0.05 for five points of a rate) that passes whatever
	// its significance.
	MaxDrop *float64
	// Resamples is the number of bootstrap resamples (default 5000).
	Resamples int
	// Seed seeds the bootstraps; each row's stream also depends on its key,
	// so results do not depend on which other metrics are compared.
	Seed uint64
	// AllowMissing lets the gate pass when the head run lacks metrics the
	// base run has for a model both ran (a judge removed on purpose);
	// otherwise each such metric fails it, as a judge that silently
	// stopped scoring would otherwise pass unseen.
	AllowMissing bool
}

// unit identifies a trial within a group: a sample (its index in the
// run's samples) and an epoch.
type unit struct {
	sample uint32
	epoch  int32
}

type unitAcc struct {
	sum float64
	n   int32
}

// sampleAcc folds the trials of one sample of a group as they stream in:
// the running mean of their values, in order of appearance. A trial met
// twice (several ratings) must be averaged before it joins the mean, which
// cannot be done in one pass: its group is then rebuilt in the exact form
// (one entry per trial) from a second pass.
type sampleAcc struct {
	mean   float64
	seen   uint64 // epochs 0..63 met
	n      uint32
	sample uint32
}

// scoreGroup holds the values of one suite × model × attack × judge ×
// metric: one accumulator per sample, in order of first appearance. Its
// memory grows with the samples, not the trials; only a group with
// several values of one trial keeps one entry per trial (exact).
type scoreGroup struct {
	accs []sampleAcc
	// pos maps a sample of the run to 1 + its index in accs (0: none).
	pos []int32
	// seenMore holds the trials of epochs outside 0..63 met.
	seenMore map[unit]struct{}
	errors   int
	dups     bool
	revisit  bool
	exact    *exactGroup
}

// exactGroup is a group kept per trial, in order of first appearance.
type exactGroup struct {
	units map[unit]unitAcc
	order []unit
}

// groupMeans are a group's samples in order of first appearance with
// their means, and whether a sample had several epochs.
type groupMeans struct {
	order []uint32
	means []float64
	// pos maps a sample to 1 + its index in order (0: none).
	pos    []int32
	epochs bool
}

func (g *scoreGroup) add(sample uint32, epoch int32, v float64) {
	if g.exact != nil {
		u := unit{sample, epoch}
		a, seen := g.exact.units[u]
		if !seen {
			g.exact.order = append(g.exact.order, u)
		} else {
			g.dups = true
		}
		a.sum += v
		a.n++
		g.exact.units[u] = a
		return
	}
	for int(sample) >= len(g.pos) {
		g.pos = append(g.pos, 0)
	}
	i := g.pos[sample] - 1
	if i < 0 {
		i = int32(len(g.accs))
		g.pos[sample] = i + 1
		g.accs = append(g.accs, sampleAcc{sample: sample})
	}
	a := &g.accs[i]
	if epoch >= 0 && epoch < 64 {
		if a.seen&(1<<epoch) != 0 {
			g.dups, g.revisit = true, true
			return
		}
		a.seen |= 1 << epoch
	} else {
		u := unit{sample, epoch}
		if _, ok := g.seenMore[u]; ok {
			g.dups, g.revisit = true, true
			return
		}
		if g.seenMore == nil {
			g.seenMore = map[unit]struct{}{}
		}
		g.seenMore[u] = struct{}{}
	}
	// The value as the exact form sees it (the sum of one value, 0 + v),
	// folded into a running mean, which stays exactly v for epochs that
	// all score v.
	t := 0.0
	t += v
	a.n++
	a.mean += (t - a.mean) / float64(a.n)
}

// hasValues reports whether the group has a value.
func (g *scoreGroup) hasValues() bool {
	if g.exact != nil {
		return len(g.exact.order) > 0
	}
	return len(g.accs) > 0
}

// finish computes the sample means of the group (the group can still
// take rows).
func (g *scoreGroup) finish() *groupMeans {
	m := &groupMeans{}
	if g.exact != nil {
		type acc struct {
			mean float64
			n    int
		}
		by := make(map[uint32]int32, len(g.exact.order))
		var accs []acc
		for _, u := range g.exact.order {
			t := g.exact.units[u]
			i, ok := by[u.sample]
			if !ok {
				i = int32(len(accs))
				by[u.sample] = i
				accs = append(accs, acc{})
				m.order = append(m.order, u.sample)
			} else {
				m.epochs = true
			}
			a := &accs[i]
			a.n++
			a.mean += (t.sum/float64(t.n) - a.mean) / float64(a.n)
		}
		m.means = make([]float64, len(accs))
		for i, a := range accs {
			m.means[i] = a.mean
		}
		for i, id := range m.order {
			for int(id) >= len(m.pos) {
				m.pos = append(m.pos, 0)
			}
			m.pos[id] = int32(i) + 1
		}
	} else {
		m.order = make([]uint32, len(g.accs))
		m.means = make([]float64, len(g.accs))
		m.pos = g.pos
		for i, a := range g.accs {
			if a.n > 1 {
				m.epochs = true
			}
			m.order[i], m.means[i] = a.sample, a.mean
		}
	}
	return m
}

// RunScores holds the scores of one run in the compact form a comparison
// needs: per suite × model × attack × judge × metric, the mean of each
// sample over its epochs (several values of one trial averaged first),
// folded as the scores stream in. Explanations and labels are not kept.
type RunScores struct {
	// Label names the run in outputs (its run id, or its directory).
	Label string
	// Directions gives the direction of metrics per suite (suite → metric →
	// higher is better), from the manifest.
	Directions map[string]map[string]bool
	models     map[string]bool
	groups     map[Key]*scoreGroup
	// samples numbers the sample ids of the run; names are the ids.
	samples map[string]uint32
	names   []string
	// rows keeps the rows given to Add (not those read from a file), to
	// replay them into the exact form of a group whose trials revisit.
	rows     []bench.ScoreRow
	fromFile bool
	last     struct {
		k Key
		g *scoreGroup
	}
}

// NewRunScores returns an empty RunScores.
func NewRunScores(label string) *RunScores {
	return &RunScores{Label: label, Directions: map[string]map[string]bool{}, models: map[string]bool{}, groups: map[Key]*scoreGroup{},
		samples: map[string]uint32{}}
}

// AddModel records a model of the run (one that may have no scores).
func (rs *RunScores) AddModel(name string) { rs.models[name] = true }

// Add records one score row. A nil or NaN value counts as a judge error;
// several values for one trial are averaged.
func (rs *RunScores) Add(r bench.ScoreRow) {
	if !rs.fromFile {
		rs.rows = append(rs.rows, r)
	}
	rs.add(Key{r.Suite, r.Model, r.Attack, r.Judge, r.Metric}, r.SampleID, r.Epoch, r.Value)
}

func (rs *RunScores) group(k Key) *scoreGroup {
	if rs.last.g != nil && rs.last.k == k {
		return rs.last.g
	}
	g := rs.groups[k]
	if g == nil {
		rs.models[k.Model] = true
		g = &scoreGroup{}
		rs.groups[k] = g
	}
	rs.last.k, rs.last.g = k, g
	return g
}

func (rs *RunScores) add(k Key, sample string, epoch int32, v *float64) {
	g := rs.group(k)
	if v == nil || math.IsNaN(*v) {
		g.errors++
		return
	}
	id, ok := rs.samples[sample]
	if !ok {
		id = uint32(len(rs.names))
		rs.names = append(rs.names, sample)
		rs.samples[sample] = id
	}
	g.add(id, epoch, *v)
}

// redoRevisits rebuilds the groups whose trials revisit in their exact
// form, from the rows again (replay calls its function with each row).
func (rs *RunScores) redoRevisits(replay func(fn func(k Key, sample string, epoch int32, v *float64)) error) error {
	redo := map[Key]*scoreGroup{}
	for k, g := range rs.groups {
		if g.revisit {
			*g = scoreGroup{exact: &exactGroup{units: map[unit]unitAcc{}}}
			redo[k] = g
		}
	}
	if len(redo) == 0 {
		return nil
	}
	return replay(func(k Key, sample string, epoch int32, v *float64) {
		g := redo[k]
		if g == nil {
			return
		}
		if v == nil || math.IsNaN(*v) {
			g.errors++
			return
		}
		g.add(rs.samples[sample], epoch, *v)
	})
}

// finish makes every group exact where needed; called before comparing.
func (rs *RunScores) finish() {
	if rs.fromFile {
		return
	}
	_ = rs.redoRevisits(func(fn func(Key, string, int32, *float64)) error {
		for _, r := range rs.rows {
			fn(Key{r.Suite, r.Model, r.Attack, r.Judge, r.Metric}, r.SampleID, r.Epoch, r.Value)
		}
		return nil
	})
}

// ReadRunScores reads the manifest and scores.parquet of a run directory,
// streaming the scores: its memory grows with the samples × metrics, not
// the trials.
func ReadRunScores(dir string) (*RunScores, error) {
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	rs := NewRunScores(m.RunID)
	rs.fromFile = true
	if rs.Label == "" {
		rs.Label = dir
	}
	for _, s := range m.Suites {
		if len(s.HigherIsBetter) > 0 {
			rs.Directions[s.Name] = s.HigherIsBetter
		}
	}
	for _, mm := range m.Models {
		rs.AddModel(mm.Name)
	}
	path := filepath.Join(dir, bench.ScoresFile)
	scan := func(fn func(k Key, sample string, epoch int32, v *float64)) error {
		return bench.ScanScoreValues(path, func(r *bench.ScoreValue) error {
			fn(Key{r.Suite, r.Model, r.Attack, r.Judge, r.Metric}, r.SampleID, int32(uint32(r.Unit)), r.Value)
			return nil
		})
	}
	if err := scan(rs.add); err != nil {
		return nil, err
	}
	if err := rs.redoRevisits(scan); err != nil {
		return nil, err
	}
	return rs, nil
}

// Verdict is the outcome of one compared metric.
type Verdict string

// Verdicts.
const (
	Unchanged Verdict = "~"
	Improved  Verdict = "improved"
	Regressed Verdict = "regressed"
	// Changed is a significant change of a metric whose direction is unknown.
	Changed Verdict = "changed"
	// NotTested is a row without a p-value (no values on one side).
	NotTested Verdict = "not tested"
)

// Delta is one compared metric: a suite × attack × judge × metric × model
// in both runs.
type Delta struct {
	Key
	// N is the number of pairs of samples (paired tests) and BaseN, HeadN
	// the number of samples compared on each side (equal to N when
	// paired); a sample's epochs count once.
	N, BaseN, HeadN int
	// BaseMean and HeadMean are the means of the compared values.
	BaseMean, HeadMean float64
	// Diff is HeadMean − BaseMean (paired: the mean of the differences),
	// with its 95% bootstrap confidence interval.
	Diff, CILow, CIHigh float64
	// P is the raw two-sided p-value and PAdj the Holm-adjusted one.
	P, PAdj float64
	// Test names the test: TestMcNemar, TestPairedPermutation or
	// TestUnpairedBootstrap.
	Test      string
	Direction Direction
	Verdict   Verdict
	// MaxDropExceeded is set when the change in the bad direction exceeds
	// CompareOptions.MaxDrop.
	MaxDropExceeded bool
	// Warnings are the statistical caveats of this row.
	Warnings []string
}

// Significant reports whether the Holm-adjusted p-value is below alpha.
func (d Delta) Significant(alpha float64) bool { return !math.IsNaN(d.PAdj) && d.PAdj < alpha }

// Failed reports whether the row fails the gate: a significant regression,
// or a drop beyond the limit.
func (d Delta) Failed() bool { return d.Verdict == Regressed || d.MaxDropExceeded }

// Name is the row's name in outputs: suite/judge.metric/model, with the
// attack after the metric when it is not "none".
func (d Delta) Name() string {
	return rowName(d.Suite, d.Judge, d.Metric, d.Attack, d.Model)
}

func rowName(suite, judge, metric, attack, model string) string {
	m := judge + "." + metric
	if attack != "" && attack != "none" {
		m += "[" + attack + "]"
	}
	return suite + "/" + m + "/" + model
}

// Comparison is the result of comparing a head run with a base run.
type Comparison struct {
	Base, Head string
	Alpha      float64
	MaxDrop    *float64
	Resamples  int
	// Deltas are the compared metrics, sorted by suite, judge, metric,
	// attack and model.
	Deltas []Delta
	// OnlyBase and OnlyHead list the models present in one run only: they
	// are reported, not compared.
	OnlyBase, OnlyHead []string
	// Unmatched lists the groups (suite/judge.metric/model) of models in
	// both runs that only one run has, with the run that has them.
	Unmatched []string
	// Missing lists the groups that the base run has values of and the
	// head run has not (absent, or only errors); each fails the gate unless
	// AllowMissing.
	Missing      []string
	AllowMissing bool
}

// MissingFailures returns the groups missing from the head run that fail
// the gate.
func (c *Comparison) MissingFailures() []string {
	if c.AllowMissing {
		return nil
	}
	return c.Missing
}

// Regressions returns the rows that fail the gate.
func (c *Comparison) Regressions() []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if d.Failed() {
			out = append(out, d)
		}
	}
	return out
}

// Count returns how many rows have a verdict.
func (c *Comparison) Count(v Verdict) int {
	n := 0
	for _, d := range c.Deltas {
		if d.Verdict == v {
			n++
		}
	}
	return n
}

// Tested returns the number of rows with a p-value (the Holm family).
func (c *Comparison) Tested() int {
	n := 0
	for _, d := range c.Deltas {
		if !math.IsNaN(d.P) {
			n++
		}
	}
	return n
}

// Compare compares the head run with the base run metric by metric.
//
// Samples pair by (suite, sample, model, attack): the epochs of a sample
// are one cluster, not independent evidence, so on each side a sample's
// epochs are averaged first, as Miller recommends for answers resampled K
// times ("Adding Error Bars to Evals", 2024, arXiv:2411.00640: the
// question, not the answer, is the unit of the analysis), and so are
// several values of one trial (ratings). A
// metric whose sample means are all 0/1 (one epoch, or every epoch alike)
// is tested with McNemar's test on the discordant pairs, any other metric
// with Fisher's paired sign-flip permutation test of the mean difference
// (exact up to 20 non-zero differences, seeded Monte Carlo above); both
// give the difference a 95% paired-bootstrap interval. Samples of a group
// that pair with none of the other run's fall back to an unpaired bootstrap of the
// difference of means (with a warning). The p-values of all tested rows
// are adjusted together with Holm's method; a row changes significantly
// when its adjusted p-value is below Alpha. Whether a change is an
// improvement or a regression follows the suite's higher_is_better map; a
// metric without a direction is reported but never regresses.
func Compare(base, head *RunScores, opt CompareOptions) *Comparison {
	if opt.Alpha <= 0 || opt.Alpha >= 1 {
		opt.Alpha = 0.05
	}
	if opt.Resamples <= 0 {
		opt.Resamples = 5000
	}
	c := &Comparison{Base: base.Label, Head: head.Label, Alpha: opt.Alpha, MaxDrop: opt.MaxDrop, Resamples: opt.Resamples,
		AllowMissing: opt.AllowMissing}
	for m := range base.models {
		if !head.models[m] {
			c.OnlyBase = append(c.OnlyBase, m)
		}
	}
	for m := range head.models {
		if !base.models[m] {
			c.OnlyHead = append(c.OnlyHead, m)
		}
	}
	slices.Sort(c.OnlyBase)
	slices.Sort(c.OnlyHead)
	base.finish()
	head.finish()
	var keys []Key
	for k := range base.groups {
		if !head.models[k.Model] {
			continue
		}
		if hg, ok := head.groups[k]; ok {
			keys = append(keys, k)
			if !hg.hasValues() && base.groups[k].hasValues() {
				// Every head score of the metric is an error: as good as
				// missing (a judge that stopped answering).
				c.Missing = append(c.Missing, rowName(k.Suite, k.Judge, k.Metric, k.Attack, k.Model)+" (every head score is an error)")
			}
		} else {
			c.Unmatched = append(c.Unmatched, fmt.Sprintf("%s: only in base", rowName(k.Suite, k.Judge, k.Metric, k.Attack, k.Model)))
			c.Missing = append(c.Missing, rowName(k.Suite, k.Judge, k.Metric, k.Attack, k.Model))
		}
	}
	for k := range head.groups {
		if !base.models[k.Model] {
			continue
		}
		if _, ok := base.groups[k]; !ok {
			c.Unmatched = append(c.Unmatched, fmt.Sprintf("%s: only in head", rowName(k.Suite, k.Judge, k.Metric, k.Attack, k.Model)))
		}
	}
	slices.Sort(c.Unmatched)
	slices.Sort(c.Missing)
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		d := compareGroup(k, base, head, opt)
		d.Direction = direction(k, head, base)
		if d.Direction == DirectionUnknown {
			d.Warnings = append(d.Warnings, WarnDirectionUnknown)
		}
		c.Deltas = append(c.Deltas, d)
	}
	ps := make([]float64, len(c.Deltas))
	for i, d := range c.Deltas {
		ps[i] = d.P
	}
	adj := stats.Holm(ps)
	for i := range c.Deltas {
		d := &c.Deltas[i]
		d.PAdj = adj[i]
		d.Verdict = verdict(*d, opt.Alpha)
		if opt.MaxDrop != nil && !math.IsNaN(d.Diff) {
			switch d.Direction {
			case HigherIsBetter:
				d.MaxDropExceeded = -d.Diff > *opt.MaxDrop
			case LowerIsBetter:
				d.MaxDropExceeded = d.Diff > *opt.MaxDrop
			}
		}
	}
	return c
}

func direction(k Key, runs ...*RunScores) Direction {
	for _, r := range runs {
		if hib, ok := r.Directions[k.Suite][k.Metric]; ok {
			if hib {
				return HigherIsBetter
			}
			return LowerIsBetter
		}
	}
	return DirectionUnknown
}

func verdict(d Delta, alpha float64) Verdict {
	if math.IsNaN(d.P) {
		return NotTested
	}
	if !d.Significant(alpha) || d.Diff == 0 {
		return Unchanged
	}
	switch {
	case d.Direction == DirectionUnknown:
		return Changed
	case (d.Diff > 0) == (d.Direction == HigherIsBetter):
		return Improved
	}
	return Regressed
}

// rowSeed derives a bootstrap seed from the options' seed and the row key.
func rowSeed(seed uint64, k Key) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", k.Suite, k.Model, k.Attack, k.Judge, k.Metric)
	return seed ^ h.Sum64()
}

func compareGroup(k Key, base, head *RunScores, opt CompareOptions) Delta {
	b, h := base.groups[k], head.groups[k]
	nan := math.NaN()
	d := Delta{Key: k, BaseMean: nan, HeadMean: nan, Diff: nan, CILow: nan, CIHigh: nan, P: nan, PAdj: nan}
	if b.dups || h.dups {
		d.Warnings = append(d.Warnings, WarnDuplicates)
	}
	if b.errors > 0 || h.errors > 0 {
		d.Warnings = append(d.Warnings, WarnJudgeErrors)
	}
	// The unit of a test is the sample: its epochs are one cluster, so
	// each side's epochs of a sample are averaged and samples are paired
	// (pairing epochs would count K alike answers as K pieces of evidence).
	bm, hm := b.finish(), h.finish()
	if bm.epochs || hm.epochs {
		d.Warnings = append(d.Warnings, WarnEpochsAveraged)
	}
	var pb, ph []float64
	for i, s := range bm.order {
		hs, ok := head.samples[base.names[s]]
		if !ok {
			continue
		}
		if int(hs) < len(hm.pos) && hm.pos[hs] > 0 {
			pb = append(pb, bm.means[i])
			ph = append(ph, hm.means[hm.pos[hs]-1])
		}
	}
	seed := rowSeed(opt.Seed, k)
	if len(pb) > 0 {
		if len(pb) < len(bm.order) || len(pb) < len(hm.order) {
			d.Warnings = append(d.Warnings, WarnPartlyPaired)
		}
		d.N, d.BaseN, d.HeadN = len(pb), len(pb), len(pb)
		d.BaseMean, d.HeadMean = mean(pb), mean(ph)
		// The interval is a paired bootstrap; the p-value is Fisher's
		// paired sign-flip permutation test, exact for small n, which keeps
		// its level where a bootstrap p-value would be too eager.
		r := stats.PairedBootstrap(ph, pb, opt.Resamples, seed)
		d.Diff, d.CILow, d.CIHigh = r.Delta, r.CILow, r.CIHigh
		d.P = stats.PairedPermutation(ph, pb, opt.Resamples, seed)
		d.Test = TestPairedPermutation
		if binary(pb) && binary(ph) {
			only1, only2 := 0, 0 // base passed only, head passed only
			for i := range pb {
				switch {
				case pb[i] == 1 && ph[i] == 0:
					only1++
				case pb[i] == 0 && ph[i] == 1:
					only2++
				}
			}
			d.P = stats.McNemar(only1, only2)
			d.Test = TestMcNemar
		}
		if d.N < 10 {
			d.Warnings = append(d.Warnings, WarnSmallN)
		}
		return d
	}
	vb, vh := bm.means, hm.means
	d.BaseN, d.HeadN = len(vb), len(vh)
	if len(vb) == 0 || len(vh) == 0 {
		if len(vb) > 0 {
			d.BaseMean = mean(vb)
		}
		if len(vh) > 0 {
			d.HeadMean = mean(vh)
		}
		d.Warnings = append(d.Warnings, WarnNoValues)
		return d
	}
	d.Warnings = append(d.Warnings, WarnUnpaired)
	d.BaseMean, d.HeadMean = mean(vb), mean(vh)
	d.Diff = d.HeadMean - d.BaseMean
	d.CILow, d.CIHigh, d.P = bootstrapDiff(vb, vh, opt.Resamples, seed)
	d.Test = TestUnpairedBootstrap
	if min(len(vb), len(vh)) < 10 {
		d.Warnings = append(d.Warnings, WarnSmallN)
	}
	return d
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// bootstrapDiff is the unpaired bootstrap of mean(head) − mean(base): both
// samples are resampled independently. It returns the 95% percentile
// interval and the two-sided p-value with the convention of
// stats.PairedBootstrap, (count on the far side of 0 + 1) / (R + 1),
// doubled.
func bootstrapDiff(base, head []float64, resamples int, seed uint64) (lo, hi, p float64) {
	src := rand.New(rand.NewPCG(seed, 0x6d6f726573))
	diffs := make([]float64, resamples)
	resampleMean := func(xs []float64) float64 {
		s := 0.0
		for range xs {
			s += xs[src.IntN(len(xs))]
		}
		return s / float64(len(xs))
	}
	le, ge := 0, 0
	for i := range diffs {
		v := resampleMean(head) - resampleMean(base)
		diffs[i] = v
		if v <= 0 {
			le++
		}
		if v >= 0 {
			ge++
		}
	}
	slices.Sort(diffs)
	r := float64(resamples)
	p = math.Min(1, 2*math.Min(float64(le+1)/(r+1), float64(ge+1)/(r+1)))
	return quantile7(diffs, 0.025), quantile7(diffs, 0.975), p
}

// quantile7 is the type-7 (linear interpolation) quantile of sorted values.
func quantile7(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := q * float64(len(sorted)-1)
	i := int(math.Floor(h))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// sortDeltas orders rows: failures first, then improvements and other
// significant changes, then the rest, each in key order.
func sortDeltas(ds []Delta) []Delta {
	rank := func(d Delta) int {
		switch {
		case d.Failed():
			return 0
		case d.Verdict == Improved || d.Verdict == Changed:
			return 1
		}
		return 2
	}
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b Delta) int { return cmp.Compare(rank(a), rank(b)) })
	return out
}

// GateReport is what `mores compare` and `mores gate` render: a comparison
// with a base run, the results of threshold rules on the head run, or both.
type GateReport struct {
	// Comparison is nil for `mores gate` (no base run).
	Comparison *Comparison
	// Run names the run the thresholds were checked on.
	Run string
	// ThresholdFile is the file the rules came from ("" when none).
	ThresholdFile string
	Thresholds    []ThresholdResult
}

// Failures returns the number of failures: rows that regress (or drop
// beyond the limit) and threshold rules that fail.
func (g *GateReport) Failures() int {
	n := 0
	if g.Comparison != nil {
		n += len(g.Comparison.Regressions()) + len(g.Comparison.MissingFailures())
	}
	for _, t := range g.Thresholds {
		if t.Failed() {
			n++
		}
	}
	return n
}

// Headline returns one line that sums the report up, as the last line of
// the text rendering and the error of a failed gate.
func (g *GateReport) Headline() string {
	var parts []string
	if c := g.Comparison; c != nil {
		reg := len(c.Regressions())
		imp, chg := c.Count(Improved), c.Count(Changed)
		switch {
		case reg == 0 && imp == 0 && chg == 0:
			parts = append(parts, "no significant change")
		default:
			var s []string
			if reg > 0 {
				s = append(s, plural(reg, "regression", "regressions"))
			} else {
				s = append(s, "no significant regression")
			}
			if imp > 0 {
				s = append(s, plural(imp, "improvement", "improvements"))
			}
			if chg > 0 {
				s = append(s, plural(chg, "significant change", "significant changes")+" of unknown direction")
			}
			parts = append(parts, strings.Join(s, ", "))
		}
		if m := len(c.MissingFailures()); m > 0 {
			parts = append(parts, plural(m, "metric", "metrics")+" of the base run missing from the head run")
		}
	}
	if g.ThresholdFile != "" {
		failed := 0
		for _, t := range g.Thresholds {
			if t.Failed() {
				failed++
			}
		}
		if failed == 0 && len(g.Thresholds) == 1 {
			parts = append(parts, "the threshold holds")
		} else if failed == 0 {
			parts = append(parts, fmt.Sprintf("all %d thresholds hold", len(g.Thresholds)))
		} else {
			parts = append(parts, fmt.Sprintf("%d of %s failed", failed, plural(len(g.Thresholds), "threshold", "thresholds")))
		}
	}
	return strings.Join(parts, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// FormatJUnit is the JUnit XML format of `mores compare` and `mores gate`.
const FormatJUnit = "junit"

// WriteGateReport renders a gate report as text (a table and a headline),
// markdown (a compact summary for a pull-request comment) or junit (JUnit
// XML for CI test reporters).
func WriteGateReport(w io.Writer, g *GateReport, format string) error {
	switch format {
	case FormatText:
		return writeGateText(w, g)
	case FormatMarkdown:
		return writeGateMarkdown(w, g)
	case FormatJUnit:
		return writeGateJUnit(w, g)
	}
	return &bench.InputError{File: "--format", Msg: fmt.Sprintf("unknown format %q (known: text, markdown, junit)", format)}
}

var superscripts = []string{"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"}

func superscript(n int) string {
	s := ""
	for _, c := range strconv.Itoa(n) {
		s += superscripts[c-'0']
	}
	return s
}

// notes numbers the distinct warnings of rows in order of appearance.
type notes struct {
	index map[string]int
	list  []string
}

func (n *notes) marks(ws []string) string {
	if n.index == nil {
		n.index = map[string]int{}
	}
	s := ""
	for _, w := range ws {
		i, ok := n.index[w]
		if !ok {
			n.list = append(n.list, w)
			i = len(n.list)
			n.index[w] = i
		}
		s += superscript(i)
	}
	return s
}

func signed(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	if v > 0 || v == 0 && !math.Signbit(v) {
		return "+" + fmtNum(v)
	}
	return "−" + fmtNum(-v)
}

func fmtCI(lo, hi float64) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return "—"
	}
	return "[" + signed(lo) + ", " + signed(hi) + "]"
}

func fmtP(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < 0.001:
		return "<0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// deltaCell is the change, or "~" when it is not significant (benchstat).
func deltaCell(d Delta, alpha float64) string {
	if math.IsNaN(d.P) {
		return "—"
	}
	if !d.Significant(alpha) {
		return "~"
	}
	return signed(d.Diff)
}

func verdictText(d Delta) string {
	v := string(d.Verdict)
	switch {
	case d.Verdict == Regressed:
		v = "REGRESSED"
	case d.Verdict == Changed:
		v = "changed (direction unknown)"
	case d.Verdict == Unchanged:
		v = ""
	}
	if d.MaxDropExceeded {
		if v != "" {
			v += ", "
		}
		v += "DROP BEYOND MAX"
	}
	return v
}

// nCell is the number of pairs, or base/head trials when unpaired.
func nCell(d Delta) string {
	if d.Test == TestUnpairedBootstrap || d.N == 0 {
		return fmt.Sprintf("%d/%d", d.BaseN, d.HeadN)
	}
	return strconv.Itoa(d.N)
}

func metricName(judge, metric string) string { return judge + "." + metric }

func writeGateText(w io.Writer, g *GateReport) error {
	var nt notes
	if c := g.Comparison; c != nil {
		fmt.Fprintf(w, "base %s → head %s\n", c.Base, c.Head)
		fmt.Fprintf(w, "α = %s, Holm-adjusted over %s; %d bootstrap resamples", strconv.FormatFloat(c.Alpha, 'g', -1, 64),
			plural(c.Tested(), "tested metric", "tested metrics"), c.Resamples)
		if c.MaxDrop != nil {
			fmt.Fprintf(w, "; max drop %s", strconv.FormatFloat(*c.MaxDrop, 'g', -1, 64))
		}
		fmt.Fprintln(w)
		if len(c.Deltas) > 0 {
			t := table.NewWriter()
			t.SetOutputMirror(w)
			t.SetStyle(table.StyleLight)
			t.AppendHeader(table.Row{"suite", "metric", "attack", "model", "base", "head", "delta", "95% CI", "p (Holm)", "test", "n", "verdict"})
			for _, d := range c.Deltas {
				n := nCell(d)
				v := verdictText(d)
				if m := nt.marks(d.Warnings); m != "" {
					v = strings.TrimSpace(v + " " + m)
				}
				t.AppendRow(table.Row{d.Suite, metricName(d.Judge, d.Metric), d.Attack, d.Model, fmtNum(d.BaseMean), fmtNum(d.HeadMean),
					deltaCell(d, c.Alpha), fmtCI(d.CILow, d.CIHigh), fmtP(d.PAdj), d.Test, n, v})
			}
			t.Render()
		} else {
			fmt.Fprintln(w, "no metric in both runs to compare")
		}
		for i, s := range nt.list {
			fmt.Fprintf(w, "%s %s\n", superscript(i+1), s)
		}
		if len(c.OnlyBase) > 0 {
			fmt.Fprintf(w, "models only in base (not compared): %s\n", strings.Join(c.OnlyBase, ", "))
		}
		if len(c.OnlyHead) > 0 {
			fmt.Fprintf(w, "models only in head (not compared): %s\n", strings.Join(c.OnlyHead, ", "))
		}
		for _, u := range c.Unmatched {
			fmt.Fprintf(w, "not compared: %s\n", u)
		}
		for _, m := range c.MissingFailures() {
			fmt.Fprintf(w, "FAIL  missing from the head run: %s (--allow-missing accepts it)\n", m)
		}
	}
	if g.ThresholdFile != "" {
		if g.Comparison != nil {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "thresholds from %s on %s:\n", g.ThresholdFile, g.Run)
		for _, r := range g.Thresholds {
			status := "ok  "
			if r.Failed() {
				status = "FAIL"
			}
			fmt.Fprintf(w, "  %s  %s  (line %d): %s\n", status, r.Rule, r.Rule.Line, thresholdDetail(r))
			for _, f := range r.Failures() {
				fmt.Fprintf(w, "          %s = %s\n", rowName(f.Suite, f.Judge, f.Metric, f.Attack, f.Model), fmtMean(f))
			}
		}
	}
	_, err := fmt.Fprintln(w, g.Headline())
	return err
}

func fmtMean(r bench.SummaryRow) string {
	if r.N == 0 {
		return "no values"
	}
	return fmtNum(r.Mean)
}

// thresholdDetail describes the rows a rule checked.
func thresholdDetail(r ThresholdResult) string {
	if r.Problem != "" {
		return r.Problem
	}
	worst, _ := r.Worst()
	failed := len(r.Failures())
	s := plural(len(r.Checks), "row", "rows")
	if failed > 0 {
		s = fmt.Sprintf("%d failing of %s", failed, s)
	}
	return fmt.Sprintf("%s, worst %s = %s", s, rowName(worst.Suite, worst.Judge, worst.Metric, worst.Attack, worst.Model), fmtMean(worst))
}

func statusIcon(d Delta) string {
	switch {
	case d.Failed():
		return "🔴"
	case d.Verdict == Improved:
		return "🟢"
	case d.Verdict == Changed:
		return "🟡"
	case d.Verdict == NotTested:
		return "➖"
	}
	return "⚪"
}

// mdEscape escapes the characters that would break a Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;").Replace(s)
}

func writeGateMarkdown(w io.Writer, g *GateReport) error {
	var b strings.Builder
	reg, thr, miss := 0, 0, 0
	if g.Comparison != nil {
		reg, miss = len(g.Comparison.Regressions()), len(g.Comparison.MissingFailures())
	}
	for _, t := range g.Thresholds {
		if t.Failed() {
			thr++
		}
	}
	switch {
	case reg == 0 && thr == 0 && miss == 0 && g.Comparison != nil:
		b.WriteString("### ✅ No significant regression\n\n")
	case reg == 0 && thr == 0 && miss == 0:
		b.WriteString("### ✅ All thresholds hold\n\n")
	default:
		var s []string
		if reg > 0 {
			s = append(s, plural(reg, "regression", "regressions"))
		}
		if miss > 0 {
			s = append(s, plural(miss, "metric missing from the head run", "metrics missing from the head run"))
		}
		if thr > 0 {
			s = append(s, plural(thr, "threshold failure", "threshold failures"))
		}
		b.WriteString("### ❌ " + strings.Join(s, ", ") + "\n\n")
	}
	var nt notes
	if c := g.Comparison; c != nil {
		fmt.Fprintf(&b, "Base `%s` → head `%s`: %s, α = %s with Holm's correction", c.Base, c.Head,
			plural(c.Tested(), "metric tested", "metrics tested"), strconv.FormatFloat(c.Alpha, 'g', -1, 64))
		if c.MaxDrop != nil {
			fmt.Fprintf(&b, ", max drop %s", strconv.FormatFloat(*c.MaxDrop, 'g', -1, 64))
		}
		fmt.Fprintf(&b, ". %s.\n\n", capitalize(g.Headline()))
		var main, rest []Delta
		for _, d := range sortDeltas(c.Deltas) {
			if d.Failed() || d.Verdict == Improved || d.Verdict == Changed {
				main = append(main, d)
			} else {
				rest = append(rest, d)
			}
		}
		row := func(d Delta) string {
			n := nCell(d)
			attack := ""
			if d.Attack != "none" {
				attack = " [" + mdEscape(d.Attack) + "]"
			}
			return fmt.Sprintf("| %s | %s · %s%s | %s | %s | %s | %s | %s | %s | %s%s |\n", statusIcon(d), mdEscape(d.Suite),
				mdEscape(metricName(d.Judge, d.Metric)), attack, mdEscape(d.Model), fmtNum(d.BaseMean), fmtNum(d.HeadMean),
				deltaCell(d, c.Alpha), fmtCI(d.CILow, d.CIHigh), fmtP(d.PAdj), n, nt.marks(d.Warnings))
		}
		header := "| | metric | model | base | head | Δ | 95% CI | p | n |\n|---|---|---|--:|--:|--:|--:|--:|--:|\n"
		if len(main) > 0 {
			b.WriteString(header)
			for _, d := range main {
				b.WriteString(row(d))
			}
			b.WriteString("\n")
		}
		if len(rest) > 0 {
			fmt.Fprintf(&b, "<details><summary>%s without significant change</summary>\n\n", plural(len(rest), "metric", "metrics"))
			b.WriteString(header)
			for _, d := range rest {
				b.WriteString(row(d))
			}
			b.WriteString("\n</details>\n\n")
		}
		var models []string
		if len(c.OnlyBase) > 0 {
			models = append(models, "only in base: "+mdEscape(strings.Join(c.OnlyBase, ", ")))
		}
		if len(c.OnlyHead) > 0 {
			models = append(models, "only in head: "+mdEscape(strings.Join(c.OnlyHead, ", ")))
		}
		if len(models) > 0 {
			fmt.Fprintf(&b, "Models not compared (%s).\n\n", strings.Join(models, "; "))
		}
		if len(c.Unmatched) > 0 {
			fmt.Fprintf(&b, "Not compared: %s.\n\n", mdEscape(strings.Join(c.Unmatched, "; ")))
		}
		if m := c.MissingFailures(); len(m) > 0 {
			fmt.Fprintf(&b, "❌ **Missing from the head run** (fails the gate; `--allow-missing` accepts it): %s.\n\n", mdEscape(strings.Join(m, "; ")))
		}
	}
	if g.ThresholdFile != "" {
		fmt.Fprintf(&b, "**Thresholds** (`%s` on `%s`)\n\n| | rule | rows | worst |\n|---|---|--:|---|\n", g.ThresholdFile, g.Run)
		for _, r := range g.Thresholds {
			icon := "✅"
			if r.Failed() {
				icon = "❌"
			}
			worst := r.Problem
			if worst == "" {
				wr, _ := r.Worst()
				worst = mdEscape(rowName(wr.Suite, wr.Judge, wr.Metric, wr.Attack, wr.Model)) + " = " + fmtMean(wr)
			}
			fmt.Fprintf(&b, "| %s | `%s` | %d | %s |\n", icon, strings.ReplaceAll(r.Rule.String(), "|", `\|`), len(r.Checks), worst)
		}
		b.WriteString("\n")
	}
	if len(nt.list) > 0 {
		for i, s := range nt.list {
			fmt.Fprintf(&b, "%s %s  \n", superscript(i+1), mdEscape(s))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Cases     []junitCase `xml:"testcase"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// deltaDetail is one line describing a compared row.
func deltaDetail(d Delta) string {
	s := fmt.Sprintf("base %s, head %s, delta %s, 95%% CI %s, p (Holm) %s, %s, n %s", fmtNum(d.BaseMean), fmtNum(d.HeadMean),
		signed(d.Diff), fmtCI(d.CILow, d.CIHigh), fmtP(d.PAdj), d.Test, nCell(d))
	for _, w := range d.Warnings {
		s += "; " + w
	}
	return s
}

func writeGateJUnit(w io.Writer, g *GateReport) error {
	out := junitSuites{Name: "mores"}
	if c := g.Comparison; c != nil {
		s := junitSuite{Name: fmt.Sprintf("compare %s → %s", c.Base, c.Head)}
		for _, d := range c.Deltas {
			tc := junitCase{Name: d.Name(), Classname: "mores.compare." + d.Suite, SystemOut: deltaDetail(d)}
			switch {
			case d.Verdict == Regressed:
				tc.Failure = &junitFailure{Type: "regression", Message: fmt.Sprintf("significant regression: %s (p %s)", signed(d.Diff), fmtP(d.PAdj)), Text: deltaDetail(d)}
			case d.MaxDropExceeded:
				tc.Failure = &junitFailure{Type: "max-drop", Message: fmt.Sprintf("drop %s beyond the maximum %s", signed(d.Diff), strconv.FormatFloat(*c.MaxDrop, 'g', -1, 64)), Text: deltaDetail(d)}
			case d.Verdict == NotTested:
				tc.Skipped = &junitSkipped{Message: strings.Join(d.Warnings, "; ")}
				s.Skipped++
			}
			if tc.Failure != nil {
				s.Failures++
			}
			s.Cases = append(s.Cases, tc)
		}
		for _, m := range c.MissingFailures() {
			s.Cases = append(s.Cases, junitCase{Name: m, Classname: "mores.compare.missing", Failure: &junitFailure{Type: "missing",
				Message: "in the base run, missing from the head run", Text: "the head run has no value of " + m + "; --allow-missing accepts it"}})
			s.Failures++
		}
		s.Tests = len(s.Cases)
		var info []string
		if len(c.OnlyBase) > 0 {
			info = append(info, "models only in base (not compared): "+strings.Join(c.OnlyBase, ", "))
		}
		if len(c.OnlyHead) > 0 {
			info = append(info, "models only in head (not compared): "+strings.Join(c.OnlyHead, ", "))
		}
		for _, u := range c.Unmatched {
			info = append(info, "not compared: "+u)
		}
		s.SystemOut = strings.Join(info, "\n")
		out.Suites = append(out.Suites, s)
	}
	if g.ThresholdFile != "" {
		s := junitSuite{Name: fmt.Sprintf("thresholds %s on %s", g.ThresholdFile, g.Run)}
		for _, r := range g.Thresholds {
			tc := junitCase{Name: r.Rule.String(), Classname: "mores.thresholds", SystemOut: r.Rule.Location() + ": " + thresholdDetail(r)}
			if r.Failed() {
				var lines []string
				for _, f := range r.Failures() {
					lines = append(lines, rowName(f.Suite, f.Judge, f.Metric, f.Attack, f.Model)+" = "+fmtMean(f))
				}
				msg := r.Problem
				if msg == "" {
					msg = fmt.Sprintf("%s: %d failing of %s", r.Rule, len(lines), plural(len(r.Checks), "row", "rows"))
				}
				tc.Failure = &junitFailure{Type: "threshold", Message: msg, Text: strings.Join(lines, "\n")}
				s.Failures++
			}
			s.Cases = append(s.Cases, tc)
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
