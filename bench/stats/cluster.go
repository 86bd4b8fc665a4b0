package stats

import (
	"math"
	"slices"
)

// Clusters are values that come in groups which are not independent: the
// epochs of one sample (a model asked the same question K times) and the
// ratings of one response by several people. An interval that counts each
// value as one observation is too narrow; the methods of Clusters treat the
// cluster as the unit. Cluster i holds Sizes[i] values whose mean is
// Means[i]. The mean of all values, Σ Sizes·Means / Σ Sizes, is the
// estimate (a ratio estimator; with equal sizes, the mean of the cluster
// means).
//
// When every cluster has the same size (every sample answered in every
// epoch), Mean, Stderr, BootstrapMeanCI and Wilson give exactly — to the
// last bit — the figures of the cluster means taken as single values: a
// model that answers every epoch of a sample alike gets the figures of a
// single epoch.
type Clusters struct {
	Means []float64
	Sizes []float64
}

// valid reports whether c has at least one cluster, as many sizes as means,
// positive sizes and no NaN mean.
func (c Clusters) valid() bool {
	if len(c.Means) == 0 || len(c.Means) != len(c.Sizes) {
		return false
	}
	for i, m := range c.Means {
		if math.IsNaN(m) || !(c.Sizes[i] > 0) {
			return false
		}
	}
	return true
}

// equalSizes reports whether every cluster has the same size.
func (c Clusters) equalSizes() bool {
	for _, n := range c.Sizes[1:] {
		if n != c.Sizes[0] {
			return false
		}
	}
	return true
}

// N returns the number of values, Σ Sizes.
func (c Clusters) N() float64 { return sum(c.Sizes) }

// Mean returns the mean of all values (NaN without a valid cluster).
func (c Clusters) Mean() float64 {
	if !c.valid() {
		return math.NaN()
	}
	if c.equalSizes() {
		return Summarize(c.Means).Mean
	}
	s := 0.0
	for i, m := range c.Means {
		s += m * c.Sizes[i]
	}
	return s / c.N()
}

// Stderr returns the cluster-robust standard error of the mean: with
// N = Σ Sizes, m the mean, k clusters and t_i = Sizes[i]·Means[i] the sum
// of cluster i,
//
//	SE = sqrt(k/(k−1) · Σᵢ (t_i − m·Sizes[i])²) / N,
//
// the sandwich estimator of Liang and Zeger (1986) for a regression on a
// constant, with the finite-cluster factor k/(k−1) ("CR1"; Cameron and
// Miller 2015, "A Practitioner's Guide to Cluster-Robust Inference"). Written out, SE² is the variance of
// the mean of independent values, Σ (x − m)² / N², plus the within-cluster
// cross products Σ_c Σ_{i≠j} (x_ic − m)(x_jc − m) / N², times k/(k−1): the
// form of the clustered standard error that Miller recommends for evals
// (Miller 2024, "Adding Error Bars to Evals", arXiv:2411.00640), up to its
// small-sample factors. With one value per cluster it is the usual s/√n,
// and with equal sizes it is s/√k of the cluster means. It is NaN for
// fewer than two clusters.
func (c Clusters) Stderr() float64 {
	k := len(c.Means)
	if k < 2 || !c.valid() {
		return math.NaN()
	}
	if c.equalSizes() {
		return Summarize(c.Means).Stderr
	}
	return math.Sqrt(float64(k)/float64(k-1)*c.residualSS()) / c.N()
}

// residualSS returns Σᵢ (t_i − m·Sizes[i])² = Σᵢ Sizes[i]² (Means[i] − m)².
func (c Clusters) residualSS() float64 {
	m := c.Mean()
	q := 0.0
	for i, x := range c.Means {
		d := c.Sizes[i] * (x - m)
		q += d * d
	}
	return q
}

// BootstrapMeanCI returns a percentile bootstrap confidence interval for
// the mean: clusters are resampled with replacement, and each resample's
// mean is the sum of its clusters' sums over the sum of their sizes
// (resampling clusters: Davison and Hinkley 1997, §3.8; Field and Welsh
// 2007). With equal sizes it is exactly [BootstrapMeanCI] of the cluster
// means for the same seed. Results are deterministic for a seed; the cost
// is O(resamples × clusters). It returns NaN bounds without a valid
// cluster, when resamples < 1 or the level is invalid.
func (c Clusters) BootstrapMeanCI(level float64, resamples int, seed uint64) (lo, hi float64) {
	if !c.valid() || resamples < 1 || !(level > 0 && level < 1) {
		return math.NaN(), math.NaN()
	}
	if c.equalSizes() {
		return BootstrapMeanCI(c.Means, level, resamples, seed)
	}
	k := uint64(len(c.Means))
	sums := make([]float64, k)
	for i, m := range c.Means {
		sums[i] = m * c.Sizes[i]
	}
	if resamples > MinCappedResamples && float64(resamples)*float64(k) > MaxBootstrapDraws {
		resamples = max(MinCappedResamples, MaxBootstrapDraws/int(k))
	}
	means := make([]float64, resamples)
	for chunk := range bootstrapChunks {
		a, b := chunk*resamples/bootstrapChunks, (chunk+1)*resamples/bootstrapChunks
		src := newWyrand(seed, uint64(chunk))
		for r := a; r < b; r++ {
			s, n := 0.0, 0.0
			for range k {
				i := src.index(k)
				s += sums[i]
				n += c.Sizes[i]
			}
			means[r] = s / n
		}
	}
	slices.Sort(means)
	alpha := 1 - level
	return quantileSorted(means, alpha/2), quantileSorted(means, 1-alpha/2)
}

// EffectiveN returns the effective sample size of the mean of clustered
// 0/1 values: the number of independent values whose binomial variance
// p(1−p)/n equals the variance of the clustered mean, n_eff = p(1−p) / V,
// with V = Σᵢ (t_i − p·Sizes[i])² / N² (Kish's N / design effect, the
// design effect estimated from the data as in Korn and Graubard 1998). It
// is never more than N (a design effect below 1 is not credited), and when
// p is 0 or 1 — the data then say nothing about how alike the values of a
// cluster are — it is N² / Σ Sizes², the effective size if the values of
// each cluster were all alike (k for k clusters of equal size). With one
// value per cluster it is N. It is NaN without a valid cluster.
func (c Clusters) EffectiveN() float64 {
	if !c.valid() {
		return math.NaN()
	}
	n := c.N()
	p := c.Mean()
	if p <= 0 || p >= 1 {
		sq := 0.0
		for _, m := range c.Sizes {
			sq += m * m
		}
		return n * n / sq
	}
	v := c.residualSS() / (n * n)
	if !(v > 0) {
		return n
	}
	return math.Min(n, p*(1-p)/v)
}

// Wilson returns a Wilson score interval for the mean of clustered 0/1
// values: Wilson's interval for the observed rate with the effective
// sample size of [Clusters.EffectiveN] in place of the number of values.
// This is how surveys with clustered samples bound a proportion (Korn and
// Graubard 1998, with Clopper–Pearson; Kott 2017, "A note on Wilson
// coverage intervals for proportions estimated from complex samples",
// Survey Methodology 43(2); Franco, Little, Louis and Slud 2019, J. Survey
// Statistics and Methodology 7(3), who recommend the Wilson form). Unlike a
// percentile bootstrap it does not shrink to a point when every value is 0
// or 1, and it keeps the Wilson interval's coverage near 0% and 100% with a
// few dozen samples, where a normal interval from the clustered standard
// error does not (Bowyer, Aitchison and Ivanova 2025, arXiv:2503.01747).
// With one value per cluster it is exactly [Wilson]; when every cluster
// repeats one value (a model answering every epoch of a sample alike) it
// is exactly the Wilson interval of one value per cluster. It returns NaN
// bounds when a mean is outside [0, 1], without a valid cluster or when
// the level is invalid.
func (c Clusters) Wilson(level float64) (lo, hi float64) {
	if !c.valid() {
		return math.NaN(), math.NaN()
	}
	for _, m := range c.Means {
		if m < 0 || m > 1 {
			return math.NaN(), math.NaN()
		}
	}
	neff := c.EffectiveN()
	// An effective size that is a whole number up to rounding (k clusters
	// of alike values give k·p(1−p) / (k·p(1−p)/k) in floating point) is
	// that number, and so is the count of successes, so that the interval
	// is Wilson's to the last digit; the snap moves n_eff by under 10⁻⁹ of
	// itself, far below any statistical meaning.
	if r := math.Round(neff); math.Abs(neff-r) < 1e-9*neff {
		neff = r
	}
	s := c.Mean() * neff
	if r := math.Round(s); math.Abs(s-r) < 1e-9*neff {
		s = r
	}
	return wilson(s, neff, level)
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}
