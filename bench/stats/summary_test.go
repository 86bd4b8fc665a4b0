package stats

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/mores-eval/mores/bench/benchtest"
)

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g (±%g)", name, got, want, tol)
	}
}

// Student's sleep data (Cushny and Peebles 1905), R's `sleep` dataset:
// extra hours of sleep of 10 patients under two drugs.
var (
	sleepGroup1 = []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	sleepGroup2 = []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
)

func TestSummarizeSleep(t *testing.T) {
	// Reference: R, t.test(extra ~ group, data = sleep, paired = TRUE)
	// (R documentation of t.test / `sleep`): mean difference −1.58,
	// t = −4.0621 on 9 df, 95% CI (−2.4598858, −0.7001142). The paired t
	// interval is the one-sample t interval of the differences.
	d := make([]float64, len(sleepGroup1))
	for i := range d {
		d[i] = sleepGroup1[i] - sleepGroup2[i]
	}
	s := Summarize(d)
	if s.N != 10 {
		t.Fatalf("N = %d", s.N)
	}
	near(t, "mean", s.Mean, -1.58, 1e-12)
	near(t, "t", s.Mean/s.Stderr, -4.0621, 5e-5)
	near(t, "ci_low", s.CILow, -2.4598858, 1e-7)
	near(t, "ci_high", s.CIHigh, -0.7001142, 1e-7)
}

func TestSummarizeSmall(t *testing.T) {
	s := Summarize(nil)
	if s.N != 0 || !math.IsNaN(s.Mean) || !math.IsNaN(s.Stderr) || !math.IsNaN(s.CILow) || !math.IsNaN(s.CIHigh) {
		t.Errorf("Summarize(nil) = %+v, want NaNs", s)
	}
	s = Summarize([]float64{4.5})
	if s.N != 1 || s.Mean != 4.5 || !math.IsNaN(s.Stderr) || !math.IsNaN(s.CILow) || !math.IsNaN(s.CIHigh) {
		t.Errorf("Summarize([4.5]) = %+v, want mean 4.5 and NaN spread", s)
	}
	// Two values: mean 2, sd √2, stderr 1, t(0.975, 1 df) = 12.7062047.
	s = Summarize([]float64{1, 3})
	near(t, "stderr", s.Stderr, 1, 1e-12)
	near(t, "ci_high", s.CIHigh, 2+12.7062047, 1e-6)
}

// alpacaPreferences reads the judge preferences of an AlpacaEval
// annotations file.
func alpacaPreferences(t *testing.T, rel string) []float64 {
	t.Helper()
	raw, err := os.ReadFile(benchtest.SharedFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		Preference float64 `json:"preference"`
	}
	if err := json.Unmarshal(raw, &recs); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(recs))
	for i, r := range recs {
		out[i] = r.Preference
	}
	return out
}

func TestAlpacaEvalLeaderboard(t *testing.T) {
	// Reference: AlpacaEval leaderboards (tatsu-lab/alpaca_eval, stored in
	// the shared datasets), row alpaca-7b.
	// AlpacaEval 1 (alpaca_eval_gpt4): win_rate 26.459627329192543,
	// standard_error 1.535711469748, n_wins 205, n_wins_base 584, n_draws 16.
	prefs := alpacaPreferences(t, "alpacaeval/results/alpaca-7b/alpaca_eval_gpt4/annotations.json")
	if len(prefs) != 805 {
		t.Fatalf("%d annotations, want 805", len(prefs))
	}
	scores := make([]float64, len(prefs))
	for i, p := range prefs {
		switch p {
		case 2:
			scores[i] = 100
		case 0:
			scores[i] = 50
		case 1:
		default:
			t.Fatalf("annotation %d: preference %v", i, p)
		}
	}
	s := Summarize(scores)
	near(t, "AE1 mean", s.Mean, 26.459627329192543, 1e-9)
	near(t, "AE1 standard error", s.Stderr, 1.535711469748, 1e-9)

	// AlpacaEval 2 (weighted_alpaca_eval_gpt4_turbo): win_rate
	// 2.591450540223603, standard_error 0.4870855382635108, from the mean of
	// (preference − 1)·100.
	prefs = alpacaPreferences(t, "alpacaeval/results/alpaca-7b/weighted_alpaca_eval_gpt4_turbo/annotations.json")
	for i := range prefs {
		prefs[i] = (prefs[i] - 1) * 100
	}
	s = Summarize(prefs)
	near(t, "AE2 win rate", s.Mean, 2.591450540223603, 1e-9)
	near(t, "AE2 standard error", s.Stderr, 0.4870855382635108, 1e-9)
	// The bootstrap interval of the same mean agrees with the t interval to
	// within Monte Carlo and skewness error.
	blo, bhi := BootstrapMeanCI(prefs, 0.95, 4000, 7)
	if math.Abs(blo-s.CILow) > 0.15 || math.Abs(bhi-s.CIHigh) > 0.15 {
		t.Errorf("bootstrap CI [%v, %v], t CI [%v, %v]", blo, bhi, s.CILow, s.CIHigh)
	}
}

func TestWilsonNewcombe(t *testing.T) {
	// Reference: Newcombe (1998), "Two-sided confidence intervals for the
	// single proportion: comparison of seven methods", Statistics in
	// Medicine 17:857–872, Table II, method 3 (score interval without
	// continuity correction), to 4 decimals.
	cases := []struct {
		r, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0.0000, 0.1611},
		{1, 29, 0.0061, 0.1718},
	}
	for _, c := range cases {
		lo, hi := Wilson(c.r, c.n, 0.95)
		near(t, "lo", lo, c.lo, 5e-5)
		near(t, "hi", hi, c.hi, 5e-5)
	}
	// The interval of r/n mirrors that of (n−r)/n.
	lo1, hi1 := Wilson(3, 40, 0.9)
	lo2, hi2 := Wilson(37, 40, 0.9)
	near(t, "mirror lo", lo1, 1-hi2, 1e-12)
	near(t, "mirror hi", hi1, 1-lo2, 1e-12)
	if lo, hi := Wilson(20, 20, 0.95); hi != 1 || lo >= 1 {
		t.Errorf("Wilson(20, 20) = [%v, %v]", lo, hi)
	}
	for _, c := range [][2]int{{0, 0}, {-1, 5}, {6, 5}} {
		if lo, hi := Wilson(c[0], c[1], 0.95); !math.IsNaN(lo) || !math.IsNaN(hi) {
			t.Errorf("Wilson(%d, %d) = [%v, %v], want NaN", c[0], c[1], lo, hi)
		}
	}
}
