package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

func TestPairedTTestSleep(t *testing.T) {
	// Reference: R, t.test(extra ~ group, data = sleep, paired = TRUE):
	// t = −4.0621, df = 9, p-value = 0.002833.
	near(t, "p", pairedTTest(sleepGroup1, sleepGroup2), 0.002833, 5e-7)
	near(t, "p (swapped)", pairedTTest(sleepGroup2, sleepGroup1), 0.002833, 5e-7)
	if p := pairedTTest([]float64{1, 2, 3}, []float64{1, 2, 3}); p != 1 {
		t.Errorf("identical inputs: p = %v, want 1", p)
	}
	if p := pairedTTest([]float64{2, 3, 4}, []float64{1, 2, 3}); p != 0 {
		t.Errorf("constant non-zero difference: p = %v, want 0", p)
	}
	if p := pairedTTest([]float64{1}, []float64{2}); !math.IsNaN(p) {
		t.Errorf("one pair: p = %v, want NaN", p)
	}
}

func TestPairedBootstrap(t *testing.T) {
	r := PairedBootstrap(sleepGroup1, sleepGroup2, 10000, 1)
	near(t, "delta", r.Delta, -1.58, 1e-12)
	// Every sleep difference is ≤ 0 and only one is 0, so a resample has a
	// mean ≥ 0 only if all ten draws hit that one item (probability 1e-10):
	// the p-value is the smallest the +1 correction allows, 2/(R+1).
	near(t, "p", r.P, 2.0/10001, 1e-12)
	// The percentile interval of a small sample is a little narrower than
	// the t interval (−2.46, −0.70) and lies inside the range of means.
	if !(r.CILow > -2.7 && r.CILow < -2.1 && r.CIHigh > -1.05 && r.CIHigh < -0.7) {
		t.Errorf("CI = [%v, %v], want close to the t interval [-2.46, -0.70]", r.CILow, r.CIHigh)
	}
	if again := PairedBootstrap(sleepGroup1, sleepGroup2, 10000, 1); again != r {
		t.Errorf("not deterministic: %+v vs %+v", again, r)
	}

	// No difference at all.
	same := PairedBootstrap(sleepGroup1, sleepGroup1, 1000, 3)
	if same.Delta != 0 || same.CILow != 0 || same.CIHigh != 0 || same.P != 1 {
		t.Errorf("identical inputs: %+v, want zero delta and P = 1", same)
	}

	// Symmetric differences around zero: no evidence either way.
	a := make([]float64, 200)
	b := make([]float64, 200)
	for i := range a {
		b[i] = float64(i % 7)
		a[i] = b[i] + float64(1-2*(i%2))*float64(i%5)
	}
	sym := PairedBootstrap(a, b, 2000, 9)
	if sym.Delta != 0 || sym.P < 0.8 || !(sym.CILow < 0 && sym.CIHigh > 0) {
		t.Errorf("symmetric differences: %+v, want delta 0, wide CI, large P", sym)
	}
}

func TestPairedBootstrapAgreesWithTTest(t *testing.T) {
	// For a moderately large normal sample the bootstrap p-value and
	// interval approach those of the paired t-test.
	rng := rand.New(rand.NewPCG(11, 12))
	n := 400
	a := make([]float64, n)
	b := make([]float64, n)
	for i := range a {
		b[i] = rng.NormFloat64()
		a[i] = b[i] + 0.12 + rng.NormFloat64()
	}
	r := PairedBootstrap(a, b, 20000, 5)
	p := pairedTTest(a, b)
	if math.Abs(math.Log(r.P/p)) > 0.35 {
		t.Errorf("bootstrap p = %v, t-test p = %v", r.P, p)
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = a[i] - b[i]
	}
	s := Summarize(d)
	if math.Abs(r.CILow-s.CILow) > 0.02 || math.Abs(r.CIHigh-s.CIHigh) > 0.02 {
		t.Errorf("bootstrap CI [%v, %v], t CI [%v, %v]", r.CILow, r.CIHigh, s.CILow, s.CIHigh)
	}
}

func TestMcNemar(t *testing.T) {
	// Exact binomial test, b + c < 25.
	// Reference: calcugator chi2_mcnemar example (20 teenagers, 11 changed
	// one way and 3 the other): two-tailed probability 0.05737304687500008
	// (= 2·470/2¹⁴).
	near(t, "p(11, 3)", McNemar(11, 3), 0.057373046875, 1e-12)
	near(t, "p(3, 11)", McNemar(3, 11), 0.057373046875, 1e-12)
	// Reference: stat-tools.xyz McNemar calculator, b = 12, c = 5:
	// exact p = 0.1435 (chi-square with continuity correction 2.1176,
	// p = 0.1456).
	near(t, "p(12, 5)", McNemar(12, 5), 0.1435, 5e-5)
	chi2, p := mcnemarChiSquare(12, 5)
	near(t, "chi2(12, 5)", chi2, 2.1176, 5e-5)
	near(t, "p_chi2(12, 5)", p, 0.1456, 5e-5)
	// Reference: R mcnemar.test(matrix(c(6, 14, 2, 5), nrow = 2)) as
	// printed in M. Claereboudt's R notes: McNemar's chi-squared = 7.5625,
	// df = 1, p-value = 0.00596.
	chi2, p = mcnemarChiSquare(2, 14)
	near(t, "chi2(2, 14)", chi2, 7.5625, 1e-12)
	near(t, "p_chi2(2, 14)", p, 0.00596, 5e-6)
	// Chi-square branch (b + c ≥ 25). Reference: R's mcnemar.test example,
	// Agresti (1990) p. 350, presidential approval (794, 86, 150, 570):
	// McNemar's chi-squared = 16.818, df = 1, p-value = 4.115e-05.
	chi2, _ = mcnemarChiSquare(86, 150)
	near(t, "chi2(86, 150)", chi2, 16.818, 5e-4)
	near(t, "p(86, 150)", McNemar(86, 150), 4.115e-05, 5e-9)
	// At the boundary b + c = 25 the chi-square branch is taken.
	_, p25 := mcnemarChiSquare(8, 17)
	if McNemar(8, 17) != p25 {
		t.Errorf("McNemar(8, 17) should use the chi-square test")
	}
	if McNemar(0, 0) != 1 {
		t.Errorf("McNemar(0, 0) = %v, want 1", McNemar(0, 0))
	}
	if !math.IsNaN(McNemar(-1, 3)) {
		t.Errorf("negative count should give NaN")
	}
}

func TestHolm(t *testing.T) {
	// Reference: the Wikipedia example of the Holm–Bonferroni method
	// (p = 0.01, 0.04, 0.03, 0.005 at α = 0.05 rejects H1 and H4). The
	// adjusted values are 4·0.005 = 0.02, 3·0.01 = 0.03,
	// max(0.03, 2·0.03) = 0.06 and max(0.06, 1·0.04) = 0.06 by Holm's
	// (1979) step-down definition.
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		near(t, "holm", got[i], want[i], 1e-15)
	}
	// Capped at 1, monotone, NaN kept out of m.
	got = Holm([]float64{0.5, math.NaN(), 0.2, 0.9})
	want = []float64{1, math.NaN(), 0.6, 1}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-15) {
			t.Errorf("Holm[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if len(Holm(nil)) != 0 {
		t.Errorf("Holm(nil) not empty")
	}
}

func TestMcNemarExactReferences(t *testing.T) {
	// The exact test at any number of discordant pairs. References: R
	// binom.test(5, 30) p-value = 0.0003249, binom.test(10, 40) p-value =
	// 0.002221, binom.test(40, 100) p-value = 0.05689 (two-sided, p = 0.5).
	near(t, "exact(5, 25)", McNemarExact(5, 25), 0.0003249, 5e-8)
	near(t, "exact(30, 10)", McNemarExact(30, 10), 0.002221, 5e-7)
	near(t, "exact(40, 60)", McNemarExact(40, 60), 0.05689, 5e-6)
	near(t, "exact(11, 3)", McNemarExact(11, 3), 0.057373046875, 1e-12)
	near(t, "exact(7, 7)", McNemarExact(7, 7), 1, 1e-12)
	near(t, "exact(0, 0)", McNemarExact(0, 0), 1, 0)
	if !math.IsNaN(McNemarExact(-1, 3)) {
		t.Error("McNemarExact(-1, 3) is not NaN")
	}
}

// pairedTTest, the reference of the paired tests, returns the two-sided p-value of Student's paired t-test of
// mean(a − b) = 0, where a[i] and b[i] are scores of the same item: t =
// mean(d) / (sd(d)/√n) on n − 1 degrees of freedom. With fewer than two
// pairs (or a NaN) it returns NaN. When every difference is the same the
// statistic is degenerate: p is 1 if the differences are all zero and 0
// otherwise. It panics if a and b differ in length.
func pairedTTest(a, b []float64) (p float64) {
	if len(a) != len(b) {
		panic("stats: pairedTTest: a and b differ in length")
	}
	if len(a) < 2 {
		return math.NaN()
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	mean, sd := stat.MeanStdDev(d, nil)
	if math.IsNaN(mean) || math.IsNaN(sd) {
		return math.NaN()
	}
	if sd == 0 {
		if mean == 0 {
			return 1
		}
		return 0
	}
	n := float64(len(d))
	t := mean / (sd / math.Sqrt(n))
	return math.Min(1, 2*distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Survival(math.Abs(t)))
}
