package stats

import (
	"math"
	"testing"
)

// Darwin's Zea mays data as Fisher (1935, The Design of Experiments, §21)
// analysed it: 15 pairs of crossed and self-fertilised plants, heights in
// eighths of an inch. Fisher's randomization test counts 863 of the 2¹⁵
// sign assignments at least as extreme on one side: two-sided p =
// 1726/32768 = 0.05267.
var darwinCross = []float64{188, 96, 168, 176, 153, 172, 177, 163, 146, 173, 186, 168, 177, 184, 96}
var darwinSelf = []float64{139, 163, 160, 160, 147, 149, 149, 122, 132, 144, 130, 144, 102, 124, 144}

func TestPairedPermutationReproducesFisher(t *testing.T) {
	p := PairedPermutation(darwinCross, darwinSelf, 0, 1)
	if want := 1726.0 / 32768; math.Abs(p-want) > 1e-12 {
		t.Errorf("Darwin's Zea mays: p = %.6f, want %.6f (Fisher 1935)", p, want)
	}
	// Monte Carlo agrees with the exact value.
	long := append(append([]float64{}, darwinCross...), darwinCross...)
	longSelf := append(append([]float64{}, darwinSelf...), darwinSelf...)
	long = append(long, 150, 151, 149, 150, 150, 151)
	longSelf = append(longSelf, 150, 150, 150, 150, 150, 150)
	mc := PairedPermutation(long, longSelf, 20000, 7)
	if mc <= 0 || mc >= 0.05 {
		t.Errorf("doubled data: p = %.4f, want a small p", mc)
	}
	if again := PairedPermutation(long, longSelf, 20000, 7); again != mc {
		t.Errorf("not reproducible for a seed: %v vs %v", mc, again)
	}
}

func TestPairedPermutationSmallSamplesKeepTheirLevel(t *testing.T) {
	// Five pairs all in one direction: the most extreme assignment of 32,
	// and its mirror: p = 2/32, never below 0.05.
	a := []float64{0.9, 0.8, 0.95, 0.7, 0.85}
	b := []float64{0.1, 0.2, 0.05, 0.3, 0.15}
	if p := PairedPermutation(a, b, 0, 1); math.Abs(p-2.0/32) > 1e-12 {
		t.Errorf("p = %v, want 1/16", p)
	}
	if p := PairedPermutation(a, a, 0, 1); p != 1 {
		t.Errorf("no difference: p = %v, want 1", p)
	}
	if p := PairedPermutation(nil, nil, 0, 1); !math.IsNaN(p) {
		t.Errorf("no pairs: p = %v, want NaN", p)
	}
}
