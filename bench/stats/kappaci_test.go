package stats

import (
	"math"
	"testing"
)

// TestKappaCIStata checks the Fleiss–Cohen–Everitt standard error against
// the output of Stata's kapci on a published 2×2 table (Statalist, 2009-12,
// "kappa agreement standard errors": 1395 118 / 261 158, N = 1932):
// r(kappa) = .3411969207847029, r(se) = .0262913719660408,
// r(lb_an) = .2896667786271169, r(ub_an) = .3927270629422889.
func TestKappaCIStata(t *testing.T) {
	m := ConfusionMatrix{Labels: []string{"0", "1"}, Counts: [][]int{{1395, 118}, {261, 158}}}
	k, se, lo, hi, err := m.KappaCI(0.95)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"kappa", k, .3411969207847029},
		{"se", se, .0262913719660408},
		{"lo", lo, .2896667786271169},
		{"hi", hi, .3927270629422889},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %.16f, want %.16f (Stata kapci)", c.name, c.got, c.want)
		}
	}
}

func TestKappaCIPerfect(t *testing.T) {
	m := ConfusionMatrix{Labels: []string{"0", "1"}, Counts: [][]int{{5, 0}, {0, 7}}}
	k, se, lo, hi, err := m.KappaCI(0.95)
	if err != nil || k != 1 || se != 0 || lo != 1 || hi != 1 {
		t.Fatalf("perfect agreement: kappa %v se %v [%v, %v] err %v", k, se, lo, hi, err)
	}
}

// TestMcNemarExact checks the exact test against binomial tail sums, the
// values R's binom.test(min(b, c), b + c)$p.value gives, also where McNemar
// would switch to the chi-square approximation (b + c ≥ 25).
func TestMcNemarExact(t *testing.T) {
	for _, c := range []struct {
		b, c int
		want float64
	}{
		{1, 9, 0.021484375},             // 2·11/1024
		{9, 1, 0.021484375},             // symmetric
		{10, 30, 0.0022214337732293643}, // chi-square region for McNemar
		{51, 14, 4.47522484948754e-06},
		{25, 25, 1},
		{0, 0, 1},
	} {
		if got := McNemarExact(c.b, c.c); math.Abs(got-c.want) > 1e-12*math.Max(1, c.want) && math.Abs(got-c.want)/c.want > 1e-9 {
			t.Errorf("McNemarExact(%d, %d) = %.17g, want %.17g", c.b, c.c, got, c.want)
		}
	}
	if !math.IsNaN(McNemarExact(-1, 3)) {
		t.Error("a negative count must give NaN")
	}
}
