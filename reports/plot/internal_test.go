package plot

import (
	"math"
	"slices"
	"testing"

	"github.com/mores-eval/mores/bench"
)

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 1, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}},
		{0, 6.06, []string{"0", "2", "4", "6"}},
		{-0.3, 0.5, []string{"-0.2", "0.0", "0.2", "0.4"}},
		{0, 250, []string{"0", "50", "100", "150", "200", "250"}},
	} {
		var got []string
		for _, tk := range (niceTicks{}).Ticks(c.lo, c.hi) {
			got = append(got, tk.Label)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ticks(%g, %g) = %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
	capped := cappedTicks{inner: niceTicks{}, max: 1}.Ticks(0, 1.3)
	if last := capped[len(capped)-1]; last.Value != 1 {
		t.Errorf("capped ticks end at %g", last.Value)
	}
}

func TestFileName(t *testing.T) {
	if got := fileName("metric", "my suite", "pairwise:vs=gpt/4o", "harm_prob"); got != "metric_my-suite_pairwise-vs-gpt-4o_harm_prob" {
		t.Errorf("fileName = %q", got)
	}
	if got := fileName("x", "../../etc"); got != "x_..-..-etc" {
		t.Errorf("fileName = %q", got)
	}
}

func TestWinRateMatrix(t *testing.T) {
	rows := []bench.SummaryRow{
		// a vs b over two attacks: (0.75·20 + 0.25·20) / 40 = 0.5.
		{Suite: "s", Model: "a", Attack: "none", Judge: "pairwise:vs=b", Metric: "win", N: 20, Mean: 0.75},
		{Suite: "s", Model: "a", Attack: "x", Judge: "pairwise:vs=b", Metric: "win", N: 20, Mean: 0.25},
		{Suite: "s", Model: "a", Attack: "none", Judge: "pairwise:vs=c", Metric: "win", N: 10, Mean: 0.9},
		{Suite: "s", Model: "a", Attack: "none", Judge: "pairwise:vs=c", Metric: "flip", N: 10, Mean: 0.1},
		{Suite: "other", Model: "b", Attack: "none", Judge: "pairwise:vs=c", Metric: "win", N: 10, Mean: 0.9},
	}
	rate, models, pooled := winRateMatrix(rows, "s", "pairwise")
	if !pooled || len(models) != 3 {
		t.Errorf("pooled %v, models %v", pooled, models)
	}
	want := map[[2]string]float64{{"a", "b"}: 0.5, {"b", "a"}: 0.5, {"a", "c"}: 0.9, {"c", "a"}: 0.1}
	if len(rate) != len(want) {
		t.Errorf("rates %v", rate)
	}
	for k, v := range want {
		if math.Abs(rate[k]-v) > 1e-12 {
			t.Errorf("rate %v = %g, want %g", k, rate[k], v)
		}
	}
}

func TestAttackSuccessSource(t *testing.T) {
	row := func(judge, metric string, mean, lo, hi float64) bench.SummaryRow {
		return bench.SummaryRow{Suite: "s", Model: "m", Attack: "base64", Judge: judge, Metric: metric, N: 10, Mean: mean, CILow: lo, CIHigh: hi}
	}
	refusal := row("refusal", "refusal", 0.8, 0.5, 0.9)
	asr, src, ok := attackSuccessRows([]bench.SummaryRow{refusal})
	if !ok || !src.Inverted || src.String() != "1 − refusal.refusal" {
		t.Fatalf("source %+v", src)
	}
	if r := asr[0]; math.Abs(r.Mean-0.2) > 1e-12 || math.Abs(r.CILow-0.1) > 1e-12 || math.Abs(r.CIHigh-0.5) > 1e-12 {
		t.Errorf("inverted row %+v", r)
	}
	_, src, _ = attackSuccessRows([]bench.SummaryRow{refusal, row("harm", "harmful", 0.3, 0.1, 0.5)})
	if src.String() != "harm.harmful" {
		t.Errorf("source %v, want harm.harmful", src)
	}
	_, src, _ = attackSuccessRows([]bench.SummaryRow{refusal, row("harm", "harmful", 0.3, 0.1, 0.5), row("jailbreak", "jailbroken", 0.3, 0.1, 0.5)})
	if src.String() != "jailbreak.jailbroken" {
		t.Errorf("source %v, want jailbreak.jailbroken", src)
	}
	if _, _, ok := attackSuccessRows([]bench.SummaryRow{row("choice", "accuracy", 0.3, 0.1, 0.5)}); ok {
		t.Error("accuracy taken as attack success")
	}
}
