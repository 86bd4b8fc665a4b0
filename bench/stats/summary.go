package stats

import (
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Summary describes a sample of scores: its size, its mean, the standard
// error of the mean and a confidence interval for the mean.
type Summary struct {
	N      int
	Mean   float64
	Stderr float64
	CILow  float64
	CIHigh float64
}

// Summarize returns the mean of xs with its standard error (sample standard
// deviation with n−1 in the denominator, divided by √n) and a 95%
// confidence interval from Student's t distribution with n−1 degrees of
// freedom.
//
// With no values every field but N is NaN. With one value the mean is that
// value and Stderr, CILow and CIHigh are NaN: one observation says nothing
// about the spread, and a zero-width interval would make any difference look
// significant to a comparison gate. A NaN in xs makes the result NaN.
func Summarize(xs []float64) Summary {
	const level = 0.95
	s := Summary{N: len(xs), Mean: math.NaN(), Stderr: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN()}
	if len(xs) == 0 {
		return s
	}
	if len(xs) == 1 {
		s.Mean = xs[0]
		return s
	}
	mean, sd := stat.MeanStdDev(xs, nil)
	n := float64(len(xs))
	s.Mean = mean
	s.Stderr = sd / math.Sqrt(n)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(1 - (1-level)/2)
	s.CILow = mean - t*s.Stderr
	s.CIHigh = mean + t*s.Stderr
	return s
}

// zCritical returns the two-sided standard normal critical value for a
// confidence level, e.g. 1.959964 for 0.95.
func zCritical(level float64) float64 {
	return distuv.UnitNormal.Quantile(1 - (1-level)/2)
}

// Wilson returns the Wilson score interval (Wilson 1927; method 3 of
// Newcombe 1998) for a rate of successes out of n trials at a confidence
// level in (0, 1), without continuity correction. Unlike the Wald interval
// it stays inside [0, 1] and keeps its coverage near 0% and 100%, which is
// where attack success and refusal rates often are. It returns NaN bounds
// when n ≤ 0, when successes is outside [0, n] or when the level is invalid.
func Wilson(successes, n int, level float64) (lo, hi float64) {
	if successes < 0 || successes > n {
		return math.NaN(), math.NaN()
	}
	return wilson(float64(successes), float64(n), level)
}

// wilson is the Wilson interval for a possibly fractional count of
// successes.
func wilson(s, n, level float64) (lo, hi float64) {
	if !(n > 0) || !(level > 0 && level < 1) || s < 0 || s > n {
		return math.NaN(), math.NaN()
	}
	z := zCritical(level)
	p := s / n
	z2 := z * z
	denom := 1 + z2/n
	centre := (p + z2/(2*n)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	lo, hi = centre-half, centre+half
	// Rounding can push the bounds a hair outside the exact values at the
	// extremes (0 successes gives a lower bound of exactly 0).
	if s == 0 {
		lo = 0
	}
	if s == n {
		hi = 1
	}
	return math.Max(0, lo), math.Min(1, hi)
}
