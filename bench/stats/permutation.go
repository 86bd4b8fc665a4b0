package stats

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// MaxExactPermutation is the largest number of non-zero paired differences
// for which PairedPermutation enumerates every sign assignment; above it, it
// draws random ones.
const MaxExactPermutation = 20

// PairedPermutation returns the two-sided p-value of Fisher's paired
// randomization (sign-flip) test of the mean difference a − b: under the
// null hypothesis each difference is as likely to have either sign, and p
// is the share of sign assignments whose mean difference is at least as far
// from zero as the observed one. With at most MaxExactPermutation non-zero
// differences every assignment is enumerated (an exact test: with n pairs
// the smallest possible p is 2/2ⁿ, so five pairs can never reach 0.05);
// otherwise resamples random assignments from a PCG generator seeded with
// seed give (count + 1)/(resamples + 1). Unlike a bootstrap p-value it keeps
// its level for small n. It panics when a and b differ in length and
// returns NaN with no pairs.
func PairedPermutation(a, b []float64, resamples int, seed uint64) float64 {
	if len(a) != len(b) {
		panic("stats: PairedPermutation: a and b differ in length")
	}
	var d []float64
	for i := range a {
		if x := a[i] - b[i]; x != 0 {
			if math.IsNaN(x) {
				return math.NaN()
			}
			d = append(d, math.Abs(x))
		} else if math.IsNaN(a[i]) || math.IsNaN(b[i]) {
			return math.NaN()
		}
	}
	if len(a) == 0 {
		return math.NaN()
	}
	if len(d) == 0 {
		return 1
	}
	var obs float64
	for i := range a {
		obs += a[i] - b[i]
	}
	obs = math.Abs(obs)
	// Sums are compared with a relative tolerance so that assignments equal
	// to the observed one up to rounding count as "at least as extreme".
	tol := 1e-9 * (obs + 1)
	var total float64
	for _, x := range d {
		total += x
	}
	n := len(d)
	if n <= MaxExactPermutation {
		count := 0
		for mask := uint32(0); mask < 1<<n; mask++ {
			// sum of +d for set bits, −d for others = 2·Σ(set) − total
			var pos float64
			for m := mask; m != 0; m &= m - 1 {
				pos += d[bits.TrailingZeros32(m)]
			}
			if math.Abs(2*pos-total) >= obs-tol {
				count++
			}
		}
		return float64(count) / float64(uint64(1)<<n)
	}
	if resamples < 1 {
		resamples = 10000
	}
	rng := rand.New(rand.NewPCG(seed, 0x7065726d))
	count := 0
	for r := 0; r < resamples; r++ {
		var s float64
		for i := 0; i < n; {
			w := rng.Uint64()
			for j := 0; j < 64 && i < n; j, i = j+1, i+1 {
				if w&(1<<j) != 0 {
					s += d[i]
				} else {
					s -= d[i]
				}
			}
		}
		if math.Abs(s) >= obs-tol {
			count++
		}
	}
	return float64(count+1) / float64(resamples+1)
}
