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

type group struct {
	values []float64
	// units holds the trial unit of each value (its sample and epoch, see
	// bench.ScoreValue.Unit), kept only when values can cluster: for
	// groups of rated values (a human rater per row, several per trial)
	// and for every group of a run with several epochs (several trials
	// per sample). A run of one epoch without raters keeps none, which
	// keeps a summary's memory at one float per score.
	units  []uint64
	errors int64
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
	// A first pass keeps units only for rated rows. It stops at the first
	// row of a second epoch (early in a file written in plan order): the
	// run has several epochs, and a second pass keeps the unit of every
	// value.
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
		g.values, g.units = nil, nil
	}
	return rows, nil
}

// errSeveralEpochs stops a scan that keeps no units when a run turns out
// to have several epochs.
var errSeveralEpochs = errors.New("several epochs")

// scanGroups reads the values of scores.parquet into groups. With
// allUnits every value keeps its unit; without, only rated values do, and
// the scan fails with errSeveralEpochs at the first row whose epoch
// differs from the first row's.
func scanGroups(path string, allUnits bool) (map[Key]*group, string, error) {
	groups := map[Key]*group{}
	runID := ""
	first, seen := uint32(0), false
	err := bench.ScanScoreValues(path, func(r *bench.ScoreValue) error {
		if epoch := uint32(r.Unit); !seen {
			first, seen = epoch, true
		} else if epoch != first && !allUnits {
			return errSeveralEpochs
		}
		runID = r.RunID
		k := Key{r.Suite, r.Model, r.Attack, r.Judge, r.Metric}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
		}
		if r.Value == nil || math.IsNaN(*r.Value) {
			g.errors++
			return nil
		}
		g.values = append(g.values, *r.Value)
		if allUnits || r.Rater != "" {
			if len(g.units) < len(g.values)-1 {
				// Rows of a judge came first: this group mixes the two
				// and is summarized as independent values.
				return nil
			}
			g.units = append(g.units, r.Unit)
		}
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
//   - the standard error is cluster-robust (stats.ClusterStderr);
//   - 0/1 values get Wilson's interval with the effective sample size of
//     the clusters (stats.ClusterWilson), other values a bootstrap that
//     resamples samples (stats.ClusterBootstrapMeanCI).
//
// A model that answers every epoch of a sample alike therefore gets the
// figures of a single epoch. Groups with one value per sample keep the
// plain figures: Wilson for 0/1 values, a bootstrap otherwise, s/√n.
func summarizeGroup(runID string, k Key, g *group, opt SummaryOptions) bench.SummaryRow {
	s := stats.Summarize(g.values)
	row := bench.SummaryRow{RunID: runID, Suite: k.Suite, Model: k.Model, Attack: k.Attack, Judge: k.Judge, Metric: k.Metric,
		N: int64(s.N), NScores: int64(s.N), Mean: s.Mean, Stderr: s.Stderr, CILow: s.CILow, CIHigh: s.CIHigh, CIMethod: CINone, Errors: g.errors}
	if s.N == 0 {
		return row
	}
	if c, ok := clusters(g); ok {
		row.N = int64(len(c.Means))
		row.Mean = c.Mean()
		row.Stderr = c.Stderr()
		row.CILow, row.CIHigh, row.CIMethod = math.NaN(), math.NaN(), CINone
		if len(c.Means) < 2 {
			return row
		}
		if binary(g.values) {
			row.CILow, row.CIHigh = c.Wilson(0.95)
			row.CIMethod = CIClusterWilson
		} else {
			row.CILow, row.CIHigh = c.BootstrapMeanCI(0.95, opt.Resamples, opt.Seed)
			row.CIMethod = CIClusterBootstrap
		}
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

// clusters returns the values of g by sample (the sample of a unit is its
// high 32 bits), in order of first appearance, or false when no sample has
// more than one value. Each cluster's mean is kept as a running mean,
// which stays exactly v for values that are all v.
func clusters(g *group) (stats.Clusters, bool) {
	var c stats.Clusters
	if len(g.units) != len(g.values) {
		return c, false
	}
	// Rows come in plan order, so the samples of a group without repeats
	// usually increase: that is checked first, without a map.
	increasing := true
	for i := 1; i < len(g.units) && increasing; i++ {
		increasing = g.units[i]>>32 > g.units[i-1]>>32
	}
	if increasing {
		return c, false
	}
	at := make(map[uint32]int, len(g.units))
	repeated := false
	for i, u := range g.units {
		sample := uint32(u >> 32)
		j, ok := at[sample]
		if !ok {
			at[sample] = len(c.Means)
			c.Means = append(c.Means, g.values[i])
			c.Sizes = append(c.Sizes, 1)
			continue
		}
		repeated = true
		c.Sizes[j]++
		c.Means[j] += (g.values[i] - c.Means[j]) / c.Sizes[j]
	}
	return c, repeated
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
