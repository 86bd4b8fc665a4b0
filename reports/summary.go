package reports

import (
	"cmp"
	"errors"
	"math"
	"path/filepath"
	"slices"

	"github.com/mores-eval/mores/bench"
	"github.com/mores-eval/mores/bench/stats"
)

// SummaryOptions are the parameters of a summary.
type SummaryOptions struct {
	// Seed seeds the bootstrap (the run seed, for reproducible intervals).
	Seed uint64
	// Resamples is the number of bootstrap resamples (default 2000).
	Resamples int
}

// Key identifies one group of a summary.
type Key struct {
	Suite, Model, Attack, Judge, Metric string
}

// group holds the values of one suite × model × attack × judge × metric.
// A plain group keeps its values. A clustered group — every group of a run
// with several epochs, and a group of rated values (a human rater per row)
// — keeps only a running mean and a count per sample, so a summary's
// memory grows with the samples, not with the epochs or ratings, and a run
// of one epoch without raters keeps one float per score as before.
type group struct {
	values []float64
	errors int64

	clustered bool
	// at maps a sample s (the high 32 bits of a unit: a dense number
	// given to each distinct string of the file in order of appearance,
	// so the samples of one suite lie in one range) to 1 + the index of
	// its cluster in c, at at[s−lo]; 0 for none yet.
	at        []int32
	lo        int
	c         stats.Clusters
	n         int  // values in c
	repeated  bool // some sample has several values
	nonBinary bool // some value is neither 0 nor 1
}

// add records a value with its trial unit.
func (g *group) add(v float64, unit uint64) {
	if !g.clustered {
		g.values = append(g.values, v)
		return
	}
	g.n++
	if v != 0 && v != 1 {
		g.nonBinary = true
	}
	s := int(unit >> 32)
	switch {
	case len(g.at) == 0:
		g.lo = s
	case s < g.lo:
		g.at = append(make([]int32, g.lo-s, g.lo-s+len(g.at)), g.at...)
		g.lo = s
	}
	for s-g.lo >= len(g.at) {
		g.at = append(g.at, 0)
	}
	j := g.at[s-g.lo]
	if j == 0 {
		g.c.Means = append(g.c.Means, v)
		g.c.Sizes = append(g.c.Sizes, 1)
		g.at[s-g.lo] = int32(len(g.c.Means))
		return
	}
	g.repeated = true
	j--
	g.c.Sizes[j]++
	// A running mean stays exactly v for values that are all v.
	g.c.Means[j] += (v - g.c.Means[j]) / g.c.Sizes[j]
}

// CI methods recorded in summary.parquet.
const (
	CIWilson    = "wilson"
	CIBootstrap = "bootstrap"
	// CIClusterBootstrap resamples samples, for groups with several values
	// per sample (epochs, human ratings with overlap) that are not all 0/1.
	CIClusterBootstrap = "cluster-bootstrap"
	// CIClusterWilson is Wilson's interval with the effective sample size
	// of clustered 0/1 values (several epochs or ratings of a sample).
	CIClusterWilson = "cluster-wilson"
	CINone          = "none"
)

// Summarize reads the scores of a run directory and returns one row per
// suite × model × attack × judge × metric, sorted.
//
// The values of one sample in a group — its epochs, and the ratings of its
// responses by several people — are one cluster: the row's n counts
// samples (clusters), n_scores the values averaged, the mean is the mean
// of all values, the standard error is cluster-robust and the interval is
// over samples (see summarizeGroup).
func Summarize(dir string, opt SummaryOptions) ([]bench.SummaryRow, error) {
	if opt.Resamples <= 0 {
		opt.Resamples = 2000
	}
	// A first pass clusters only rated values. It stops at the first row
	// of a second epoch (early in a file written in plan order): the run
	// has several epochs, and a second pass clusters every group.
	groups, runID, err := scanGroups(filepath.Join(dir, bench.ScoresFile), false)
	if errors.Is(err, errSeveralEpochs) {
		groups, runID, err = scanGroups(filepath.Join(dir, bench.ScoresFile), true)
	}
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	rows := make([]bench.SummaryRow, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		rows = append(rows, summarizeGroup(runID, k, g, opt))
		*g = group{}
	}
	return rows, nil
}

// errSeveralEpochs stops a scan that clusters only rated values when a
// run turns out to have several epochs.
var errSeveralEpochs = errors.New("several epochs")

// scanGroups reads the values of scores.parquet into groups. With
// allClustered every group clusters its values by sample; without, only a
// group whose first value is rated does, and the scan fails with
// errSeveralEpochs at the first row whose epoch differs from the first
// row's.
func scanGroups(path string, allClustered bool) (map[Key]*group, string, error) {
	groups := map[Key]*group{}
	runID := ""
	first, seen := uint32(0), false
	err := bench.ScanScoreValues(path, func(r *bench.ScoreValue) error {
		if epoch := uint32(r.Unit); !seen {
			first, seen = epoch, true
		} else if epoch != first && !allClustered {
			return errSeveralEpochs
		}
		runID = r.RunID
		k := Key{r.Suite, r.Model, r.Attack, r.Judge, r.Metric}
		g := groups[k]
		if g == nil {
			g = &group{clustered: allClustered}
			groups[k] = g
		}
		if r.Value == nil || math.IsNaN(*r.Value) {
			g.errors++
			return nil
		}
		if r.Rater != "" && len(g.values) == 0 {
			// Rated values (several per response) cluster; rows of a
			// judge that came first leave the group plain.
			g.clustered = true
		}
		g.add(*r.Value, r.Unit)
		return nil
	})
	return groups, runID, err
}

func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Suite, b.Suite), cmp.Compare(a.Judge, b.Judge), cmp.Compare(a.Metric, b.Metric),
		cmp.Compare(a.Attack, b.Attack), cmp.Compare(a.Model, b.Model))
}

// summarizeGroup describes the values of one group. Values of one sample
// (several epochs, several raters) form a cluster, and then:
//   - n is the number of samples and n_scores the number of values;
//   - the mean is the mean of all values (Σ cluster sums / Σ sizes);
//   - the standard error is cluster-robust (stats.Clusters.Stderr);
//   - 0/1 values get Wilson's interval with the effective sample size of
//     the clusters (stats.Clusters.Wilson), other values a bootstrap that
//     resamples samples (stats.Clusters.BootstrapMeanCI).
//
// A model that answers every epoch of a sample alike therefore gets the
// figures of a single epoch. Groups with one value per sample keep the
// plain figures: Wilson for 0/1 values, a bootstrap otherwise, s/√n.
func summarizeGroup(runID string, k Key, g *group, opt SummaryOptions) bench.SummaryRow {
	if g.clustered && !g.repeated {
		// One value per sample: the cluster means are the values, in
		// order.
		g.values, g.clustered = g.c.Means, false
	}
	if g.clustered {
		c := g.c
		row := bench.SummaryRow{RunID: runID, Suite: k.Suite, Model: k.Model, Attack: k.Attack, Judge: k.Judge, Metric: k.Metric,
			N: int64(len(c.Means)), NScores: int64(g.n), Mean: c.Mean(), Stderr: c.Stderr(), CILow: math.NaN(), CIHigh: math.NaN(),
			CIMethod: CINone, Errors: g.errors}
		if len(c.Means) < 2 {
			return row
		}
		if !g.nonBinary {
			row.CILow, row.CIHigh = c.Wilson(0.95)
			row.CIMethod = CIClusterWilson
		} else {
			row.CILow, row.CIHigh = c.BootstrapMeanCI(0.95, opt.Resamples, opt.Seed)
			row.CIMethod = CIClusterBootstrap
		}
		return row
	}
	s := stats.Summarize(g.values)
	row := bench.SummaryRow{RunID: runID, Suite: k.Suite, Model: k.Model, Attack: k.Attack, Judge: k.Judge, Metric: k.Metric,
		N: int64(s.N), NScores: int64(s.N), Mean: s.Mean, Stderr: s.Stderr, CILow: s.CILow, CIHigh: s.CIHigh, CIMethod: CINone, Errors: g.errors}
	if s.N == 0 {
		return row
	}
	if binary(g.values) {
		ones := 0
		for _, v := range g.values {
			if v == 1 {
				ones++
			}
		}
		row.CILow, row.CIHigh = stats.Wilson(ones, s.N, 0.95)
		row.CIMethod = CIWilson
		return row
	}
	if s.N >= 2 {
		row.CILow, row.CIHigh = stats.BootstrapMeanCI(g.values, 0.95, opt.Resamples, opt.Seed)
		row.CIMethod = CIBootstrap
	}
	return row
}

func binary(xs []float64) bool {
	for _, v := range xs {
		if v != 0 && v != 1 {
			return false
		}
	}
	return true
}

// WriteSummary computes the summary of a run directory and writes
// summary.parquet.
func WriteSummary(dir string, opt SummaryOptions) ([]bench.SummaryRow, error) {
	rows, err := Summarize(dir, opt)
	if err != nil {
		return nil, err
	}
	w, err := bench.CreateParquet[bench.SummaryRow](filepath.Join(dir, bench.SummaryFile))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			w.Abort()
			return nil, err
		}
	}
	return rows, w.Close()
}

// ReadSummary reads summary.parquet of a run directory.
func ReadSummary(dir string) ([]bench.SummaryRow, error) {
	var rows []bench.SummaryRow
	err := bench.ReadParquet(filepath.Join(dir, bench.SummaryFile), func(r bench.SummaryRow) error {
		rows = append(rows, r)
		return nil
	})
	return rows, err
}
