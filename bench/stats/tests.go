package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// McNemarExactBelow is the number of discordant pairs below which [McNemar]
// uses the exact binomial test instead of the chi-square approximation.
const McNemarExactBelow = 25

// McNemar returns the two-sided p-value of McNemar's test for paired binary
// outcomes, given the discordant counts: b items where only the first model
// passed and c items where only the second did (concordant items carry no
// information about the difference).
//
// When b + c < 25 ([McNemarExactBelow]) it is the exact binomial test,
// p = min(1, 2 · P(X ≤ min(b, c))) for X ~ Binomial(b + c, 1/2), without the
// mid-p adjustment. Otherwise it is the chi-square test with Edwards'
// continuity correction, χ² = (|b − c| − 1)² / (b + c) on one degree of
// freedom, as R's mcnemar.test computes by default. With b + c = 0 the
// p-value is 1; a negative count gives NaN.
func McNemar(b, c int) (p float64) {
	if b < 0 || c < 0 {
		return math.NaN()
	}
	n := b + c
	if n == 0 {
		return 1
	}
	if n < McNemarExactBelow {
		return mcnemarExact(b, c)
	}
	_, p = mcnemarChiSquare(b, c)
	return p
}

// McNemarExact returns the exact two-sided p-value of McNemar's test for
// any number of discordant pairs: p = min(1, 2 · P(X ≤ min(b, c))) for
// X ~ Binomial(b + c, 1/2), without the mid-p adjustment (as R's
// binom.test(b, b + c) and exact2x2::mcnemar.exact). With b + c = 0 the
// p-value is 1; a negative count gives NaN.
func McNemarExact(b, c int) float64 {
	if b < 0 || c < 0 {
		return math.NaN()
	}
	if b+c == 0 {
		return 1
	}
	return mcnemarExact(b, c)
}

// mcnemarExact is the exact two-sided binomial McNemar test.
func mcnemarExact(b, c int) float64 {
	k := min(b, c)
	cdf := distuv.Binomial{N: float64(b + c), P: 0.5}.CDF(float64(k))
	return math.Min(1, 2*cdf)
}

// mcnemarChiSquare returns the continuity-corrected McNemar statistic and
// its p-value.
func mcnemarChiSquare(b, c int) (chi2, p float64) {
	d := math.Abs(float64(b-c)) - 1
	if d < 0 {
		d = 0
	}
	chi2 = d * d / float64(b+c)
	return chi2, distuv.ChiSquared{K: 1}.Survival(chi2)
}

// Holm returns Holm's (1979) step-down adjusted p-values, in the order of
// ps: with the m p-values sorted ascending, the i-th smallest (from 1) is
// adjusted to max over j ≤ i of min(1, (m − j + 1) · p(j)), so adjusted
// values are monotone in the raw ones and rejecting those ≤ α controls the
// family-wise error rate at α. NaN p-values (tests that could not be
// computed) stay NaN and do not count towards m.
func Holm(ps []float64) []float64 {
	out := make([]float64, len(ps))
	idx := make([]int, 0, len(ps))
	for i, p := range ps {
		if math.IsNaN(p) {
			out[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		switch {
		case ps[x] < ps[y]:
			return -1
		case ps[x] > ps[y]:
			return 1
		}
		return 0
	})
	m := len(idx)
	running := 0.0
	for rank, i := range idx {
		adj := math.Min(1, float64(m-rank)*ps[i])
		running = math.Max(running, adj)
		out[i] = running
	}
	return out
}
