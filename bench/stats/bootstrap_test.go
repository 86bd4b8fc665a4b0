package stats

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func TestBootstrapDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 500)
	for i := range xs {
		xs[i] = rng.ExpFloat64()
	}
	lo1, hi1 := BootstrapMeanCI(xs, 0.95, 3000, 42)
	lo2, hi2 := BootstrapMeanCI(xs, 0.95, 3000, 42)
	if lo1 != lo2 || hi1 != hi2 {
		t.Errorf("same seed, different intervals: [%v, %v] vs [%v, %v]", lo1, hi1, lo2, hi2)
	}
	lo3, hi3 := BootstrapMeanCI(xs, 0.95, 3000, 43)
	if lo1 == lo3 && hi1 == hi3 {
		t.Errorf("different seeds gave identical intervals")
	}
	// A constant sample has a zero-width interval.
	lo, hi := BootstrapMeanCI([]float64{2.5, 2.5, 2.5}, 0.95, 100, 1)
	if lo != 2.5 || hi != 2.5 {
		t.Errorf("constant sample: [%v, %v]", lo, hi)
	}
	for _, bad := range [][]float64{nil, {1, math.NaN()}} {
		if lo, hi := BootstrapMeanCI(bad, 0.95, 100, 1); !math.IsNaN(lo) || !math.IsNaN(hi) {
			t.Errorf("BootstrapMeanCI(%v) = [%v, %v], want NaN", bad, lo, hi)
		}
	}
}

func TestBootstrapMatchesNormalTheory(t *testing.T) {
	// For large n the bootstrap distribution of a mean is close to
	// normal, with the plug-in standard error sd·√((n−1)/n)/√n (the ideal
	// bootstrap standard error of a mean, Efron and Tibshirani 1993, "An
	// Introduction to the Bootstrap"), so the percentile interval matches
	// the normal-theory interval to within Monte Carlo error.
	rng := rand.New(rand.NewPCG(3, 4))
	cont := make([]float64, 5000)
	for i := range cont {
		cont[i] = 3 + 2*rng.NormFloat64()
	}
	// Binary data take the multinomial path; 1–7 ratings too.
	bin := make([]float64, 20000)
	for i := range bin {
		if rng.Float64() < 0.3 {
			bin[i] = 1
		}
	}
	likert := make([]float64, 20000)
	for i := range likert {
		likert[i] = float64(1 + rng.IntN(7))
	}
	for name, xs := range map[string][]float64{"continuous": cont, "binary": bin, "likert": likert} {
		s := Summarize(xs)
		n := float64(len(xs))
		half := 1.959964 * s.Stderr * math.Sqrt((n-1)/n)
		lo, hi := BootstrapMeanCI(xs, 0.95, 5000, 99)
		if math.Abs(lo-(s.Mean-half)) > 0.05*half || math.Abs(hi-(s.Mean+half)) > 0.05*half {
			t.Errorf("%s: bootstrap [%v, %v], normal theory [%v, %v]", name, lo, hi, s.Mean-half, s.Mean+half)
		}
	}
	// For 0/1 data the interval also matches Wilson's.
	k := 0
	for _, x := range bin {
		k += int(x)
	}
	wlo, whi := Wilson(k, len(bin), 0.95)
	lo, hi := BootstrapMeanCI(bin, 0.95, 5000, 5)
	if math.Abs(lo-wlo) > 0.002 || math.Abs(hi-whi) > 0.002 {
		t.Errorf("binary: bootstrap [%v, %v], Wilson [%v, %v]", lo, hi, wlo, whi)
	}
}

func TestBootstrapCoverage(t *testing.T) {
	// The percentile interval of the mean of 40 normal values covers the
	// true mean close to the nominal 95% (a little less: percentile
	// intervals of small samples are known to undercover slightly).
	rng := rand.New(rand.NewPCG(5, 6))
	const trials = 300
	covered := 0
	xs := make([]float64, 40)
	for trial := range trials {
		for i := range xs {
			xs[i] = rng.NormFloat64()
		}
		lo, hi := BootstrapMeanCI(xs, 0.95, 1000, uint64(trial))
		if lo <= 0 && 0 <= hi {
			covered++
		}
	}
	if rate := float64(covered) / trials; rate < 0.88 || rate > 0.98 {
		t.Errorf("coverage %v, want about 0.93", rate)
	}
}

func TestDistinctCounts(t *testing.T) {
	vals, counts := distinctCounts([]float64{3, 1, 3, 2, 1, 3}, 32)
	if len(vals) != 3 || vals[0] != 1 || vals[1] != 2 || vals[2] != 3 || counts[0] != 2 || counts[1] != 1 || counts[2] != 3 {
		t.Errorf("distinctCounts = %v %v", vals, counts)
	}
	if vals, _ := distinctCounts([]float64{1, 2, 3}, 2); vals != nil {
		t.Errorf("limit not applied")
	}
}

func BenchmarkBootstrapMeanCI(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, bc := range []struct {
		name      string
		n         int
		resamples int
		binary    bool
	}{
		{"n=1000/R=10000", 1000, 10000, false},
		{"n=100000/R=1000", 100000, 1000, false},
		{"n=100000/R=10000(capped)", 100000, 10000, false},
		{"n=1000000/binary/R=10000", 1000000, 10000, true},
	} {
		xs := make([]float64, bc.n)
		for i := range xs {
			if bc.binary {
				xs[i] = float64(rng.IntN(2))
			} else {
				xs[i] = rng.NormFloat64()
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				BootstrapMeanCI(xs, 0.95, bc.resamples, 1)
			}
		})
	}
}

func TestBootstrapIndependentOfCPUs(t *testing.T) {
	// The resamples are split into a fixed number of seeded streams, so the
	// interval does not depend on how many CPUs run them.
	rng := rand.New(rand.NewPCG(9, 9))
	xs := make([]float64, 3000)
	for i := range xs {
		xs[i] = rng.NormFloat64()
	}
	prev := runtime.GOMAXPROCS(1)
	lo1, hi1 := BootstrapMeanCI(xs, 0.95, 2000, 17)
	runtime.GOMAXPROCS(4)
	lo4, hi4 := BootstrapMeanCI(xs, 0.95, 2000, 17)
	runtime.GOMAXPROCS(prev)
	if lo1 != lo4 || hi1 != hi4 {
		t.Errorf("1 CPU: [%v, %v], 4 CPUs: [%v, %v]", lo1, hi1, lo4, hi4)
	}
}
