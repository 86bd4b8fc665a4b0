package stats

import (
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"
)

// MaxBootstrapDraws caps the work of one bootstrap of a mean: resamples × n
// values drawn. When a call would exceed it, the number of resamples is
// lowered to MaxBootstrapDraws / n, but never below MinCappedResamples.
// At a few nanoseconds per draw the cap is about a second of CPU time;
// a group of 1,000,000 continuous values still gets 1,000 resamples
// (10⁹ draws, a few seconds spread over the available CPUs). Groups with
// few distinct values, such as 0/1 pass rates or 1–7 ratings, are not
// affected: they are resampled through the multinomial counts of their
// distinct values, which costs O(distinct values) per resample whatever n is.
const MaxBootstrapDraws = 1 << 28

// MinCappedResamples is the smallest number of resamples that
// [MaxBootstrapDraws] can reduce a bootstrap to; a 95% percentile interval
// from fewer resamples would be too noisy.
const MinCappedResamples = 1000

// maxMultinomialValues is the largest number of distinct values for which a
// bootstrap resamples counts of values instead of individual values.
const maxMultinomialValues = 32

// bootstrapChunks is the fixed number of independent random streams a
// bootstrap is split into. The split does not depend on the number of CPUs,
// so a seed gives the same result on every machine.
const bootstrapChunks = 64

// BootstrapMeanCI returns a percentile bootstrap confidence interval for
// the mean of xs at a confidence level in (0, 1), from the given number of
// resamples drawn with a PCG generator seeded with seed. The same xs, level,
// resamples and seed always give the same interval. Quantiles of the
// resampled means are taken with linear interpolation (type 7 of Hyndman
// and Fan, the default of R and NumPy).
//
// The cost is O(resamples × n) with no allocation per resample (see
// [MaxBootstrapDraws] for the cap, and for the faster path taken when xs
// has at most 32 distinct values). It returns NaN bounds when xs is empty,
// contains NaN, resamples < 1 or the level is invalid.
func BootstrapMeanCI(xs []float64, level float64, resamples int, seed uint64) (lo, hi float64) {
	if len(xs) == 0 || resamples < 1 || !(level > 0 && level < 1) {
		return math.NaN(), math.NaN()
	}
	means := bootstrapMeans(xs, resamples, seed)
	if means == nil {
		return math.NaN(), math.NaN()
	}
	alpha := 1 - level
	return quantileSorted(means, alpha/2), quantileSorted(means, 1-alpha/2)
}

// PairedResult is the outcome of a paired comparison of two models on the
// same items: the mean difference a − b, its 95% bootstrap confidence
// interval and a two-sided p-value for "no difference".
type PairedResult struct {
	Delta  float64
	CILow  float64
	CIHigh float64
	P      float64
}

// PairedBootstrap compares two models scored on the same items: a[i] and
// b[i] are the scores of the two models on item i. It resamples items (so
// the pairing is kept), and returns the mean difference mean(a − b), the
// 95% percentile interval of the resampled mean differences and a
// two-sided p-value
//
//	P = min(1, 2 · min((#{δ* ≤ 0} + 1) / (R + 1), (#{δ* ≥ 0} + 1) / (R + 1)))
//
// where δ* are the R resampled mean differences; the +1 keeps P above zero
// (a bootstrap with R resamples cannot support a smaller p-value than
// about 2/R). Identical inputs give Delta 0 and P = 1. Results are
// deterministic for a seed, and the cost follows [BootstrapMeanCI].
//
// It panics if a and b differ in length (a programming error: the caller
// pairs the items). With no items, or a NaN score, every field is NaN.
func PairedBootstrap(a, b []float64, resamples int, seed uint64) PairedResult {
	if len(a) != len(b) {
		panic("stats: PairedBootstrap: a and b differ in length")
	}
	nan := math.NaN()
	res := PairedResult{Delta: nan, CILow: nan, CIHigh: nan, P: nan}
	if len(a) == 0 || resamples < 1 {
		return res
	}
	d := make([]float64, len(a))
	sum := 0.0
	for i := range a {
		d[i] = a[i] - b[i]
		sum += d[i]
	}
	means := bootstrapMeans(d, resamples, seed)
	if means == nil {
		return res
	}
	res.Delta = sum / float64(len(d))
	res.CILow = quantileSorted(means, 0.025)
	res.CIHigh = quantileSorted(means, 0.975)
	le, ge := 0, 0
	for _, m := range means {
		if m <= 0 {
			le++
		}
		if m >= 0 {
			ge++
		}
	}
	r := float64(len(means))
	res.P = math.Min(1, 2*math.Min(float64(le+1)/(r+1), float64(ge+1)/(r+1)))
	return res
}

// bootstrapMeans returns the sorted means of bootstrap resamples of xs, or
// nil when xs contains NaN. The number of resamples may be lowered by
// MaxBootstrapDraws.
func bootstrapMeans(xs []float64, resamples int, seed uint64) []float64 {
	for _, x := range xs {
		if math.IsNaN(x) {
			return nil
		}
	}
	vals, counts := distinctCounts(xs, maxMultinomialValues)
	multinomial := vals != nil && len(xs) >= 64*len(vals)
	if !multinomial && resamples > MinCappedResamples && float64(resamples)*float64(len(xs)) > MaxBootstrapDraws {
		resamples = max(MinCappedResamples, MaxBootstrapDraws/len(xs))
	}
	means := make([]float64, resamples)
	work := func(chunk int) {
		lo := chunk * resamples / bootstrapChunks
		hi := (chunk + 1) * resamples / bootstrapChunks
		if lo == hi {
			return
		}
		src := newWyrand(seed, uint64(chunk))
		if multinomial {
			resampleMultinomial(means[lo:hi], vals, counts, len(xs), src)
		} else {
			resampleDirect(means[lo:hi], xs, src)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	cost := float64(resamples) * float64(len(xs))
	if multinomial {
		cost = float64(resamples) * float64(len(vals)) * 50
	}
	if workers == 1 || cost < 1e6 {
		for c := range bootstrapChunks {
			work(c)
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan int, bootstrapChunks)
		for c := range bootstrapChunks {
			next <- c
		}
		close(next)
		for range min(workers, bootstrapChunks) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range next {
					work(c)
				}
			}()
		}
		wg.Wait()
	}
	slices.Sort(means)
	return means
}

// resampleDirect fills out with the means of resamples of xs drawn index
// by index. Two accumulators let consecutive draws overlap in the CPU.
func resampleDirect(out, xs []float64, src *wyrand) {
	n := uint64(len(xs))
	inv := 1 / float64(len(xs))
	for r := range out {
		s0, s1 := 0.0, 0.0
		for range n / 2 {
			s0 += xs[src.index(n)]
			s1 += xs[src.index(n)]
		}
		if n%2 == 1 {
			s0 += xs[src.index(n)]
		}
		out[r] = (s0 + s1) * inv
	}
}

// resampleMultinomial fills out with the means of resamples of n values
// taking vals with the given counts: each resample draws the multinomial
// counts of the values as a chain of binomials, which has exactly the
// distribution of counting an n-value resample.
func resampleMultinomial(out, vals []float64, counts []int, n int, src *wyrand) {
	inv := 1 / float64(n)
	for r := range out {
		left := n
		leftProb := 1.0
		sum := 0.0
		for j, v := range vals {
			if left == 0 {
				break
			}
			p := float64(counts[j]) / float64(n)
			var k int
			if j == len(vals)-1 || p >= leftProb {
				k = left
			} else {
				k = int(distuv.Binomial{N: float64(left), P: p / leftProb, Src: src}.Rand())
			}
			sum += v * float64(k)
			left -= k
			leftProb -= p
		}
		out[r] = sum * inv
	}
}

// distinctCounts returns the sorted distinct values of xs and how often
// each occurs, or nil when there are more than limit distinct values.
func distinctCounts(xs []float64, limit int) ([]float64, []int) {
	var vals []float64
	var counts []int
	for _, x := range xs {
		found := false
		for j, v := range vals {
			if v == x {
				counts[j]++
				found = true
				break
			}
		}
		if !found {
			if len(vals) == limit {
				return nil, nil
			}
			vals = append(vals, x)
			counts = append(counts, 1)
		}
	}
	// Sort values and counts together (few values: insertion sort).
	for i := 1; i < len(vals); i++ {
		for j := i; j > 0 && vals[j] < vals[j-1]; j-- {
			vals[j], vals[j-1] = vals[j-1], vals[j]
			counts[j], counts[j-1] = counts[j-1], counts[j]
		}
	}
	return vals, counts
}

// quantileSorted returns the p-quantile of sorted values with linear
// interpolation between order statistics (Hyndman and Fan type 7).
func quantileSorted(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := p * float64(len(sorted)-1)
	i := int(math.Floor(h))
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	if i < 0 {
		return sorted[0]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}
