package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// clustersOf groups values: xs[i] is the list of values of cluster i.
func clustersOf(xs [][]float64) Clusters {
	var c Clusters
	for _, vs := range xs {
		c.Means = append(c.Means, sum(vs)/float64(len(vs)))
		c.Sizes = append(c.Sizes, float64(len(vs)))
	}
	return c
}

func TestClusterStderrKnownValues(t *testing.T) {
	// Clusters {1,1}, {0,0}, {1,0}: N 6, mean 0.5, residual sums 1, −1, 0,
	// so SE = sqrt(3/2 · 2) / 6 = √3/6.
	if got, want := clustersOf([][]float64{{1, 1}, {0, 0}, {1, 0}}).Stderr(), math.Sqrt(3)/6; math.Abs(got-want) > 1e-12 {
		t.Errorf("Stderr = %v, want %v", got, want)
	}
	// Unequal sizes, by hand: {2, 4, 6}, {1}, {3, 5}. N = 6, Σ = 21,
	// m = 3.5. Cluster sums 12, 1, 8; residuals t − m·n: 12 − 10.5 = 1.5,
	// 1 − 3.5 = −2.5, 8 − 7 = 1; Σ² = 2.25 + 6.25 + 1 = 9.5.
	// CR1: sqrt(3/2 · 9.5) / 6 = sqrt(14.25) / 6 = 0.62915286960589...
	c := clustersOf([][]float64{{2, 4, 6}, {1}, {3, 5}})
	if got, want := c.Mean(), 3.5; got != want {
		t.Errorf("Mean = %v, want %v", got, want)
	}
	if got, want := c.Stderr(), math.Sqrt(14.25)/6; math.Abs(got-want) > 1e-12 {
		t.Errorf("Stderr = %.15g, want %.15g", got, want)
	}
	// One value per cluster: the usual standard error s/√n.
	xs := []float64{3, 7, 7, 19, 4, 2, 11}
	var single [][]float64
	for _, x := range xs {
		single = append(single, []float64{x})
	}
	if got, want := clustersOf(single).Stderr(), Summarize(xs).Stderr; math.Abs(got-want) > 1e-12 {
		t.Errorf("singletons: %v, want the usual %v", got, want)
	}
	if !math.IsNaN(clustersOf([][]float64{{1, 2}}).Stderr()) {
		t.Error("one cluster: want NaN")
	}
}

// TestClusterStderrIsMillersFormula checks the standard error against its
// expansion in the form of Miller (2024), "Adding Error Bars to Evals"
// (arXiv:2411.00640), computed term by term from the values:
// SE² = k/(k−1) · (Σ (x − m)² + Σ_c Σ_i Σ_{j≠i} (x_ic − m)(x_jc − m)) / N²,
// the squares of independent values plus the within-cluster cross
// products, with the CR1 small-sample factor.
func TestClusterStderrIsMillersFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 20 {
		var xs [][]float64
		for range 3 + rng.IntN(20) {
			vs := make([]float64, 1+rng.IntN(6))
			for i := range vs {
				vs[i] = math.Round(rng.NormFloat64()*10) / 4
			}
			xs = append(xs, vs)
		}
		n, s := 0.0, 0.0
		for _, vs := range xs {
			for _, v := range vs {
				n++
				s += v
			}
		}
		m := s / n
		clt, cross := 0.0, 0.0
		for _, vs := range xs {
			for i := range vs {
				clt += (vs[i] - m) * (vs[i] - m)
				for j := range vs {
					if j != i {
						cross += (vs[i] - m) * (vs[j] - m)
					}
				}
			}
		}
		k := float64(len(xs))
		want := math.Sqrt(k / (k - 1) * (clt + cross) / (n * n))
		if got := clustersOf(xs).Stderr(); math.Abs(got-want) > 1e-12*want {
			t.Errorf("trial %d: Stderr = %.15g, Miller's formula %.15g", trial, got, want)
		}
	}
}

// TestClusterStderrCoversTheTrueSpread draws many evals of 40 samples × 5
// epochs where a sample's epochs are strongly alike (intra-class
// correlation 0.8): the spread of the eval means is the truth the standard
// error must estimate. The naive s/√200 is about half of it, the clustered
// one close to it.
func TestClusterStderrCoversTheTrueSpread(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const k, epochs, evals = 40, 5, 4000
	var means, clustered, naive []float64
	for range evals {
		var xs [][]float64
		var all []float64
		for range k {
			u := rng.NormFloat64() * math.Sqrt(0.8)
			vs := make([]float64, epochs)
			for e := range vs {
				vs[e] = u + rng.NormFloat64()*math.Sqrt(0.2)
			}
			xs = append(xs, vs)
			all = append(all, vs...)
		}
		c := clustersOf(xs)
		means = append(means, c.Mean())
		clustered = append(clustered, c.Stderr())
		naive = append(naive, Summarize(all).Stderr)
	}
	truth := Summarize(means).Stderr * math.Sqrt(evals) // the SD of the eval means
	avg := func(xs []float64) float64 { return sum(xs) / float64(len(xs)) }
	// Theory: Var(mean) = (0.8 + 0.2/5) / 40 = 0.021, SD 0.1449.
	if math.Abs(truth-0.1449) > 0.006 {
		t.Fatalf("simulation: SD of the means %.4f, theory 0.1449", truth)
	}
	if r := avg(clustered) / truth; r < 0.95 || r > 1.03 {
		t.Errorf("clustered SE / true SD = %.3f, want about 1", r)
	}
	if r := avg(naive) / truth; r > 0.55 {
		t.Errorf("naive SE / true SD = %.3f: the simulation is not clustered enough to test anything", r)
	}
}

func TestClusterBootstrapWidensForRepeatedRatings(t *testing.T) {
	// 60 items rated 1–7, each by three raters who agree: the information
	// is that of 60 values, not 180.
	var items, all []float64
	var xs [][]float64
	for i := range 60 {
		v := float64(1 + (i*5)%7)
		items = append(items, v)
		all = append(all, v, v, v)
		xs = append(xs, []float64{v, v, v})
	}
	c := clustersOf(xs)
	clo, chi := c.BootstrapMeanCI(0.95, 4000, 1)
	ilo, ihi := BootstrapMeanCI(items, 0.95, 4000, 1)
	nlo, nhi := BootstrapMeanCI(all, 0.95, 4000, 1)
	if clo != ilo || chi != ihi {
		t.Errorf("equal clusters of alike values [%v, %v], items [%v, %v]: want the same bits", clo, chi, ilo, ihi)
	}
	if r := (chi - clo) / (nhi - nlo); r < 1.5 || r > 2.0 {
		t.Errorf("cluster width / naive width = %.2f, want about √3", r)
	}
	if lo, hi := c.BootstrapMeanCI(0.95, 4000, 1); lo != clo || hi != chi {
		t.Error("not deterministic for a seed")
	}
	if lo, _ := (Clusters{Means: []float64{1}, Sizes: []float64{0}}).BootstrapMeanCI(0.95, 100, 1); !math.IsNaN(lo) {
		t.Error("a cluster of no value: want NaN")
	}
}

func TestClusterBootstrapUnequalSizes(t *testing.T) {
	// Clusters of unequal sizes take the resampling path. With very alike
	// values within clusters the width follows the number of clusters.
	rng := rand.New(rand.NewPCG(3, 3))
	var xs [][]float64
	var centres, all []float64
	for i := range 80 {
		u := rng.NormFloat64()
		vs := make([]float64, 1+i%4)
		for j := range vs {
			vs[j] = u + 0.01*rng.NormFloat64()
		}
		xs = append(xs, vs)
		centres = append(centres, u)
		all = append(all, vs...)
	}
	lo, hi := clustersOf(xs).BootstrapMeanCI(0.95, 4000, 5)
	nlo, nhi := BootstrapMeanCI(all, 0.95, 4000, 5)
	mean := clustersOf(xs).Mean()
	if !(lo < mean && mean < hi) {
		t.Fatalf("interval [%v, %v] misses the mean %v", lo, hi, mean)
	}
	// 200 values in 80 clusters of nearly equal values: the naive
	// interval is about √(200/80)·(weighting) narrower.
	if r := (hi - lo) / (nhi - nlo); r < 1.3 {
		t.Errorf("cluster width / naive width = %.2f, want clearly wider", r)
	}
}

func TestClusterWilson(t *testing.T) {
	// One value per cluster: exactly Wilson.
	var single [][]float64
	for i := range 37 {
		single = append(single, []float64{float64(i % 3 / 2)})
	}
	ones := 0
	for _, vs := range single {
		ones += int(vs[0])
	}
	lo, hi := clustersOf(single).Wilson(0.95)
	wlo, whi := Wilson(ones, 37, 0.95)
	if lo != wlo || hi != whi {
		t.Errorf("singletons: [%v, %v], Wilson [%v, %v]", lo, hi, wlo, whi)
	}
	// Every cluster repeats its value five times: exactly the Wilson
	// interval of one value per cluster, at any rate including 0 and 1.
	for _, k := range []int{0, 1, 7, 20, 37} {
		var rep, one [][]float64
		for i := range 37 {
			v := 0.0
			if i < k {
				v = 1
			}
			rep = append(rep, []float64{v, v, v, v, v})
			one = append(one, []float64{v})
		}
		lo5, hi5 := clustersOf(rep).Wilson(0.95)
		lo1, hi1 := clustersOf(one).Wilson(0.95)
		wlo, whi := Wilson(k, 37, 0.95)
		if lo5 != wlo || hi5 != whi || lo1 != wlo || hi1 != whi {
			t.Errorf("%d/37 repeated 5 times: [%v, %v]; once [%v, %v]; Wilson [%v, %v]", k, lo5, hi5, lo1, hi1, wlo, whi)
		}
		if n := clustersOf(rep).EffectiveN(); math.Abs(n-37) > 1e-9 {
			t.Errorf("%d/37 repeated: effective n %v, want 37", k, n)
		}
	}
	// Epochs that vary independently within a sample carry the
	// information of all their values: 40 samples × 4 epochs, each sample
	// with two 1s and two 0s (p = 0.5, no between-sample variation) —
	// the design effect is below 1 and not credited: n_eff = N = 160.
	var mixed [][]float64
	for range 40 {
		mixed = append(mixed, []float64{1, 0, 1, 0})
	}
	if n := clustersOf(mixed).EffectiveN(); n != 160 {
		t.Errorf("independent-looking epochs: effective n %v, want 160", n)
	}
	// By hand: clusters {1,1,1,0}, {0,0}, {1,1}, {0,0,0,1}: N 12, p 0.5.
	// Residuals t − p·n: 3 − 2 = 1, 0 − 1 = −1, 2 − 1 = 1, 1 − 2 = −1;
	// V = 4 / 144; n_eff = 0.25 / (4/144) = 9: the Wilson interval of 4.5
	// successes in 9.
	c := clustersOf([][]float64{{1, 1, 1, 0}, {0, 0}, {1, 1}, {0, 0, 0, 1}})
	if n := c.EffectiveN(); math.Abs(n-9) > 1e-12 {
		t.Errorf("effective n %v, want 9", n)
	}
	lo, hi = c.Wilson(0.95)
	wlo, whi = wilson(4.5, 9, 0.95)
	if math.Abs(lo-wlo) > 1e-12 || math.Abs(hi-whi) > 1e-12 {
		t.Errorf("[%v, %v], want Wilson(4.5 of 9) [%v, %v]", lo, hi, wlo, whi)
	}
	// Unequal clusters all of 1s: n_eff = N²/Σn² = 144/(16+4+4+16) = 3.6.
	if n := clustersOf([][]float64{{1, 1, 1, 1}, {1, 1}, {1, 1}, {1, 1, 1, 1}}).EffectiveN(); math.Abs(n-3.6) > 1e-12 {
		t.Errorf("all ones: effective n %v, want 3.6", n)
	}
	if lo, _ := (Clusters{Means: []float64{1.5}, Sizes: []float64{2}}).Wilson(0.95); !math.IsNaN(lo) {
		t.Error("a mean above 1: want NaN")
	}
}

// TestClusterWilsonCoverage draws evals of 30 samples × 5 epochs of a 0/1
// metric whose per-sample rate varies (a Beta(0.6, 2.4) mixture: mean
// 0.2, strongly clustered): the cluster Wilson interval covers the true
// rate about 95% of the time, the Wilson interval of the 150 values as if
// independent far less.
func TestClusterWilsonCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const k, epochs, evals = 30, 5, 3000
	// Per-sample rates from a discrete mixture with mean 0.2.
	rates := []float64{0, 0, 0, 0, 0.1, 0.1, 0.3, 0.5, 0.5, 0.5}
	covered, naiveCovered := 0, 0
	for range evals {
		var xs [][]float64
		ones := 0
		for range k {
			p := rates[rng.IntN(len(rates))]
			vs := make([]float64, epochs)
			for e := range vs {
				if rng.Float64() < p {
					vs[e] = 1
					ones++
				}
			}
			xs = append(xs, vs)
		}
		lo, hi := clustersOf(xs).Wilson(0.95)
		if lo <= 0.2 && 0.2 <= hi {
			covered++
		}
		nlo, nhi := Wilson(ones, k*epochs, 0.95)
		if nlo <= 0.2 && 0.2 <= nhi {
			naiveCovered++
		}
	}
	cov, naive := float64(covered)/evals, float64(naiveCovered)/evals
	t.Logf("coverage: cluster Wilson %.3f, naive Wilson %.3f", cov, naive)
	// The README's figures (93.6% and 80.4%), to the digit: the
	// simulation is seeded.
	if fmt.Sprintf("%.1f%% %.1f%%", 100*cov, 100*naive) != "93.6% 80.4%" {
		t.Errorf("coverage %.1f%% and %.1f%%: the README says 93.6%% and 80.4%%", 100*cov, 100*naive)
	}
	if cov < 0.92 {
		t.Errorf("cluster Wilson covers %.3f, want about 0.95", cov)
	}
	if naive > 0.90 {
		t.Errorf("naive Wilson covers %.3f: the simulation is not clustered enough to test anything", naive)
	}
}
