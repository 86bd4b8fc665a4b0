package reports

import (
	"cmp"
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
	// units holds the trial unit of each value, kept only for groups of
	// rated values (a human rater per row), the only ones that can hold
	// several values per trial: a judge scores a trial once.
	units  []uint64
	errors int64
}

// CI methods recorded in summary.parquet.
const (
	CIWilson    = "wilson"
	CIBootstrap = "bootstrap"
	// CIClusterBootstrap resamples trials, for groups with several values
	// per trial (human ratings with overlap).
	CIClusterBootstrap = "cluster-bootstrap"
	CINone             = "none"
)

// Summarize reads the scores of a run directory and returns one row per
// suite × model × attack × judge × metric, sorted.
func Summarize(dir string, opt SummaryOptions) ([]bench.SummaryRow, error) {
	if opt.Resamples <= 0 {
		opt.Resamples = 2000
	}
	groups := map[Key]*group{}
	runID := ""
	err := bench.ScanScoreValues(filepath.Join(dir, bench.ScoresFile), func(r *bench.ScoreValue) error {
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
		if r.Rater != "" {
			if len(g.units) < len(g.values)-1 {
				// Rows of a judge came first: this group mixes the two
				// and is summarized as independent values.
				return nil
			}
			g.units = append(g.units, r.Unit)
		}
		return nil
	})
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

func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Suite, b.Suite), cmp.Compare(a.Judge, b.Judge), cmp.Compare(a.Metric, b.Metric),
		cmp.Compare(a.Attack, b.Attack), cmp.Compare(a.Model, b.Model))
}

func summarizeGroup(runID string, k Key, g *group, opt SummaryOptions) bench.SummaryRow {
	s := stats.Summarize(g.values)
	row := bench.SummaryRow{RunID: runID, Suite: k.Suite, Model: k.Model, Attack: k.Attack, Judge: k.Judge, Metric: k.Metric,
		N: int64(s.N), Mean: s.Mean, Stderr: s.Stderr, CILow: s.CILow, CIHigh: s.CIHigh, CIMethod: CINone, Errors: g.errors}
	if s.N == 0 {
		return row
	}
	if sums, sizes := clusters(g); sums != nil {
		// Several values per trial (ratings of one response by several
		// people): they are not independent, so the interval resamples
		// trials, not values, and the standard error is cluster-robust.
		row.Stderr = stats.ClusterStderr(sums, sizes)
		row.CILow, row.CIHigh, row.CIMethod = math.NaN(), math.NaN(), CINone
		if len(sums) >= 2 {
			row.CILow, row.CIHigh = stats.ClusterBootstrapMeanCI(sums, sizes, 0.95, opt.Resamples, opt.Seed)
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

// clusters returns the sums and sizes of the values of each trial unit of
// g, or nil when no unit has more than one value.
func clusters(g *group) (sums, sizes []float64) {
	if len(g.units) != len(g.values) {
		return nil, nil
	}
	// Rows come in plan order, so the units of a group without repeats
	// usually increase: that is checked first, without a map.
	increasing := true
	for i := 1; i < len(g.units) && increasing; i++ {
		increasing = g.units[i] > g.units[i-1]
	}
	if increasing {
		return nil, nil
	}
	at := make(map[uint64]int, len(g.units))
	repeated := false
	for i, u := range g.units {
		j, ok := at[u]
		if !ok {
			at[u] = len(sums)
			sums = append(sums, g.values[i])
			sizes = append(sizes, 1)
			continue
		}
		repeated = true
		sums[j] += g.values[i]
		sizes[j]++
	}
	if !repeated {
		return nil, nil
	}
	return sums, sizes
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
